package org.callvault.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.junit.jupiter.api.Test;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Map;
import scala.concurrent.Await;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

class SteadyRebalancingTest {

  /** Sharding's strategy as seen from outside: it would move s1 and s2, and places shards. */
  private static final class Balancing
      implements ShardCoordinator.ActorSystemDependentAllocationStrategy {
    final AtomicInteger started = new AtomicInteger();
    final List<String> allocated = new ArrayList<>();

    @Override
    public void start(ActorSystem system) {
      started.incrementAndGet();
    }

    @Override
    public Future<ActorRef> allocateShard(
        ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> allocations) {
      allocated.add(shardId);
      return Future.successful(requester);
    }

    @Override
    public Future<scala.collection.immutable.Set<String>> rebalance(
        Map<ActorRef, IndexedSeq<String>> allocations,
        scala.collection.immutable.Set<String> inProgress) {
      return Future.successful(CollectionConverters.asScala(Set.of("s1", "s2")).toSet());
    }
  }

  private static Set<String> moved(SteadyRebalancing strategy) throws Exception {
    var shards =
        Await.result(
            strategy.rebalance(
                scala.collection.immutable.Map$.MODULE$.empty(),
                scala.collection.immutable.Set$.MODULE$.empty()),
            scala.concurrent.duration.Duration.fromNanos(Duration.ofSeconds(5).toNanos()));
    return CollectionConverters.asJava(shards);
  }

  @Test
  void shardsMoveOnlyWhileStorageAnswersAndTheSpoolIsEmpty() throws Exception {
    AtomicReference<String> unsteady = new AtomicReference<>();
    SteadyRebalancing strategy =
        new SteadyRebalancing(
            new Balancing(), () -> CompletableFuture.completedFuture(unsteady.get()));

    assertEquals(Set.of("s1", "s2"), moved(strategy));
    unsteady.set("storage does not answer: no answer within 3 s");
    assertEquals(Set.of(), moved(strategy));
    unsteady.set("12 chunks wait in the spool");
    assertEquals(Set.of(), moved(strategy));
    unsteady.set(null);
    assertEquals(Set.of("s1", "s2"), moved(strategy));
  }

  @Test
  void aFailedStorageCheckHoldsRebalancingBack() throws Exception {
    SteadyRebalancing strategy =
        new SteadyRebalancing(
            new Balancing(),
            () -> CompletableFuture.failedFuture(new IllegalStateException("session closed")));
    assertEquals(Set.of(), moved(strategy));
  }

  @Test
  void shardsWithoutANodeArePlacedWhateverStorageDoes() throws Exception {
    Balancing balancing = new Balancing();
    SteadyRebalancing strategy =
        new SteadyRebalancing(
            balancing, () -> CompletableFuture.completedFuture("storage does not answer"));
    strategy.start(null);
    ActorRef requester = ActorRef.noSender();
    Future<ActorRef> placed =
        strategy.allocateShard(requester, "s7", scala.collection.immutable.Map$.MODULE$.empty());
    assertSame(
        requester, Await.result(placed, scala.concurrent.duration.Duration.fromNanos(1_000_000)));
    assertEquals(List.of("s7"), balancing.allocated);
    assertEquals(1, balancing.started.get(), "the strategy it wraps is started with it");
  }
}
