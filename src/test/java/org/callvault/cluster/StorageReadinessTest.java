package org.callvault.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The readiness check pekko-management runs: not ready while the node has not said how to ask its
 * storage, nor while storage does not answer; ready when it does.
 */
class StorageReadinessTest {

  private static final ActorTestKit kit =
      ActorTestKit.create(
          ConfigFactory.parseString("pekko.actor.provider = local")
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private static boolean ready(StorageReadiness check) throws Exception {
    return check.get().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void readyOnlyWhileTheNodesStorageAnswers() throws Exception {
    StorageReadiness check = new StorageReadiness(Adapter.toClassic(kit.system()));
    assertFalse(ready(check), "not before the node has started its API");

    StorageReadiness.PROBE
        .apply(kit.system())
        .set(() -> CompletableFuture.completedFuture("storage does not answer: timeout"));
    assertFalse(ready(check), "not while storage does not answer");

    StorageReadiness.PROBE.apply(kit.system()).set(() -> CompletableFuture.completedFuture(null));
    assertTrue(ready(check), "ready once it does");
  }
}
