package org.callvault.cluster;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Map;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * Sharding's own shard allocation with one rule added: shards move to balance the cluster only
 * while storage answers and nothing waits in the spool. A moved call is handed off make before
 * break, and the node that takes it over asks the old one to relay only once it has read the call's
 * ledger; while the journal does not answer it cannot, the old sockets' hold runs out, and what the
 * sender sends meanwhile is lost (a node that rejoined was given shards into a Cassandra restart in
 * the soak, 19,170 packets). Placing a shard that has no node (a new call, or a dead node's) is
 * never held back.
 *
 * <p>The coordinator decides on the node it runs on, so that node's storage speaks for the
 * cluster's: they share one Cassandra.
 */
final class SteadyRebalancing implements ShardCoordinator.ActorSystemDependentAllocationStrategy {

  private static final Logger log = LoggerFactory.getLogger(SteadyRebalancing.class);

  private final ShardCoordinator.ShardAllocationStrategy balancing;
  private final Supplier<CompletionStage<String>> unsteady;
  private volatile String heldFor;

  /**
   * @param balancing the allocation strategy whose rebalancing is held back
   * @param unsteady why shards must not move now (storage does not answer, chunks are spooled), or
   *     null when they may
   */
  SteadyRebalancing(
      ShardCoordinator.ShardAllocationStrategy balancing,
      Supplier<CompletionStage<String>> unsteady) {
    this.balancing = balancing;
    this.unsteady = unsteady;
  }

  @Override
  public void start(ActorSystem system) {
    if (balancing instanceof ShardCoordinator.ActorSystemDependentAllocationStrategy s)
      s.start(system);
    else if (balancing instanceof ShardCoordinator.StartableAllocationStrategy s) s.start();
  }

  @Override
  public Future<ActorRef> allocateShard(
      ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> allocations) {
    return balancing.allocateShard(requester, shardId, allocations);
  }

  @Override
  public Future<scala.collection.immutable.Set<String>> rebalance(
      Map<ActorRef, IndexedSeq<String>> allocations,
      scala.collection.immutable.Set<String> inProgress) {
    CompletionStage<Set<String>> moving =
        unsteady
            .get()
            .exceptionally(failure -> "storage check failed: " + failure)
            .thenCompose(
                reason -> {
                  if (reason != null) {
                    if (heldFor == null)
                      log.warn("rebalancing held back while storage is unsteady: {}", reason);
                    heldFor = reason;
                    return CompletableFuture.completedFuture(Set.of());
                  }
                  if (heldFor != null) log.info("storage is steady again: rebalancing resumes");
                  heldFor = null;
                  return FutureConverters.asJava(balancing.rebalance(allocations, inProgress))
                      .thenApply(CollectionConverters::asJava);
                });
    return FutureConverters.asScala(
        moving.thenApply(shards -> CollectionConverters.asScala(shards).toSet()));
  }
}
