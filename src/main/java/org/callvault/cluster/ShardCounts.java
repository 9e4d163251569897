package org.callvault.cluster;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.callvault.call.CallRecording;

/**
 * The calls' shards and entities on this node, for {@code /metrics}: read from the node's shard
 * region every five seconds (a scrape reads the last reading; it never waits on sharding).
 */
final class ShardCounts {

  private static final Duration EVERY = Duration.ofSeconds(5);

  /** Shards, then entities, as last read; -1 before the first reading. */
  private final AtomicLongArray last = new AtomicLongArray(new long[] {-1, -1});

  private ShardCounts() {}

  /** Starts reading the region of this node's calls; the gauges of what it read. */
  static List<GaugeWithCallback> start(ActorSystem<?> system) {
    ShardCounts counts = new ShardCounts();
    system
        .scheduler()
        .scheduleWithFixedDelay(EVERY, EVERY, () -> counts.read(system), system.executionContext());
    return List.of(
        GaugeWithCallback.builder()
            .name("callvault_shards")
            .help("Shards of calls this node holds (-1 before the first reading)")
            .callback(callback -> callback.call(counts.last.get(0)))
            .build(),
        GaugeWithCallback.builder()
            .name("callvault_entities")
            .help("Call entities running on this node (-1 before the first reading)")
            .callback(callback -> callback.call(counts.last.get(1)))
            .build());
  }

  private void read(ActorSystem<?> system) {
    AskPattern
        .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
            ShardRegion.CurrentShardRegionState>
            ask(
                ClusterSharding.get(system).shardState(),
                replyTo -> new GetShardRegionState(CallRecording.ENTITY_TYPE_KEY, replyTo),
                EVERY,
                system.scheduler())
        .thenAccept(
            state -> {
              last.set(0, state.getShards().size());
              last.set(1, state.getShards().stream().mapToLong(s -> s.getEntityIds().size()).sum());
            });
  }
}
