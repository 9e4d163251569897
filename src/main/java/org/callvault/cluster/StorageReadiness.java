package org.callvault.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * A readiness check of pekko-management ({@code GET /ready} on the management port, where a node
 * runs it: with the cluster bootstrap, as in production): ready only while this node's journal and
 * audio store answer, as its {@code /v1/health} asks them. pekko-management's own
 * cluster-membership check adds that the node is an Up member.
 */
public final class StorageReadiness implements Supplier<CompletionStage<Boolean>> {

  /** What the node tells the check: why its storage does not answer now, or null. */
  static final class Probe implements Extension {
    private volatile Supplier<CompletionStage<String>> storageProblem;

    void set(Supplier<CompletionStage<String>> storageProblem) {
      this.storageProblem = storageProblem;
    }
  }

  static final ExtensionId<Probe> PROBE =
      new ExtensionId<>() {
        @Override
        public Probe createExtension(org.apache.pekko.actor.typed.ActorSystem<?> system) {
          return new Probe();
        }
      };

  private final Probe probe;

  /** Made by pekko-management, with the node's (classic) actor system. */
  public StorageReadiness(ActorSystem system) {
    this.probe = PROBE.apply(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    Supplier<CompletionStage<String>> ask = probe.storageProblem;
    if (ask == null) return CompletableFuture.completedFuture(false); // the node is still starting
    return ask.get().thenApply(problem -> problem == null);
  }
}
