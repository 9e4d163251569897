package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.callvault.bench.CallRecord;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;

/**
 * Three node processes on the real Cassandra, 20 two-stream calls from the load generator, and
 * {@code kill -9} of the node holding the most calls: every call records again on a survivor,
 * the audio stored before the kill is sample-exact, each call's gap is in its ledger with its
 * cause, no chunk is listed twice, and every ledger verifies.
 */
class FailoverIT {

  private static final int CALLS = 20;

  @Test
  void theCallsOfAKilledNodeRecordAgainOnTheSurvivorsWithTheirGapsRecorded() throws Exception {
    try (ClusterUnderLoad cluster = ClusterUnderLoad.start("failover", 44000)) {
      cluster.load("failover", CALLS, Duration.ofSeconds(40));
      Thread.sleep(7000);

      Map<String, JsonNode> before = cluster.calls();
      NodeProcess victim = cluster.busiest(before);
      List<String> moved = ClusterUnderLoad.callsOn(victim, before);
      System.out.println("calls per node before the kill: " + cluster.perNode(before) + "; killing " + victim.name);
      assertFalse(moved.isEmpty(), "the killed node holds calls");

      Instant killed = Instant.now();
      long killedAt = killed.toEpochMilli() * 1000;
      victim.kill();

      Map<String, Duration> recovery = cluster.awaitRecordingElsewhere(moved, before, killed, Duration.ofSeconds(40));
      cluster.checkNotices(moved, "NODE_FAILURE");

      Summary summary = cluster.load.await();
      List<Double> gaps = new ArrayList<>();
      List<Long> lost = new ArrayList<>();
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        Map<String, List<JsonNode>> gapsOf = cluster.checkedGaps(callId);
        JsonNode timeline = cluster.api.get("/v1/calls/" + callId + "/timeline", 200);
        for (StreamRecord stream : sent.streams()) {
          short[] exported = cluster.exported(callId, stream.label());
          List<JsonNode> streamGaps = gapsOf.getOrDefault(stream.label(), List.of());
          if (moved.contains(callId)) {
            assertEquals(1, streamGaps.size(), callId + "/" + stream.label() + ": one MediaGap");
            JsonNode gap = streamGaps.get(0);
            assertEquals("NODE_FAILURE", gap.path("cause").asText());
            long from = gap.path("startWallMicros").asLong();
            long to = gap.path("endWallMicros").asLong();
            assertTrue(from <= killedAt && to > killedAt, "the gap spans the kill: " + gap);
            assertTrue(gap.path("packets").asLong() > 0, "the packets lost are counted: " + gap);
            gaps.add((to - from) / 1000.0);
            lost.add(gap.path("packets").asLong());
            // What a dead node held in memory (its last second) is lost; everything stored is in place.
            Recordings.checkStream(stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of(), List.of(new long[] {from - 1_500_000, to + 1_000_000}));
          } else {
            assertTrue(streamGaps.isEmpty(), callId + " did not move but has a gap");
            Recordings.checkStream(stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of());
          }
        }
      }
      Collections.sort(gaps);
      Collections.sort(lost);
      List<Long> times = recovery.values().stream().map(Duration::toMillis).sorted().toList();
      System.out.printf(
          "failover of %d calls: gaps min %.0f ms, median %.0f ms, max %.0f ms; packets lost per stream min %d, median %d, max %d;"
              + " recording again after min %d ms, median %d ms, max %d ms%n",
          moved.size(), gaps.get(0), gaps.get(gaps.size() / 2), gaps.get(gaps.size() - 1), lost.get(0), lost.get(lost.size() / 2), lost.get(lost.size() - 1),
          times.get(0), times.get(times.size() / 2), times.get(times.size() - 1));
    }
  }
}
