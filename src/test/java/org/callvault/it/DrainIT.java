package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.callvault.bench.CallRecord;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;

/**
 * The drain of a node for an upgrade, as {@code ops/node drain} does it (SIGTERM: the node hands
 * its calls off and leaves the cluster): three node processes, 20 two-stream calls, the busiest
 * node drained. Every call it held records on another node, and every packet the load generator
 * sent is in the recording, in place: the old node relayed what reached it until the sender had
 * moved. Prints the packets lost per call.
 */
class DrainIT {

  private static final int CALLS = 20;

  @Test
  void aDrainedNodesCallsMoveWithoutLosingAPacket() throws Exception {
    try (ClusterUnderLoad cluster = ClusterUnderLoad.start("drain", 47000)) {
      cluster.load("drain", CALLS, Duration.ofSeconds(30));
      Thread.sleep(7000);

      Map<String, JsonNode> before = cluster.calls();
      NodeProcess drained = cluster.busiest(before);
      List<String> moved = ClusterUnderLoad.callsOn(drained, before);
      System.out.println("calls per node before the drain: " + cluster.perNode(before) + "; draining " + drained.name);
      assertFalse(moved.isEmpty(), "the drained node holds calls");

      Instant drainedAt = Instant.now();
      drained.stop(); // returns once the node has exited: after its relays ended
      Duration drainTime = Duration.between(drainedAt, Instant.now());

      cluster.awaitRecordingElsewhere(moved, before, drainedAt, Duration.ofSeconds(30));
      cluster.checkNotices(moved, "HANDOFF");

      Summary summary = cluster.load.await();
      Map<String, Long> lostPerCall = new TreeMap<>();
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        Map<String, List<JsonNode>> gaps = cluster.checkedGaps(callId);
        JsonNode call = cluster.api.get("/v1/calls/" + callId, 200);
        JsonNode timeline = cluster.api.get("/v1/calls/" + callId + "/timeline", 200);
        long lost = 0;
        for (StreamRecord stream : sent.streams()) {
          for (JsonNode gap : gaps.getOrDefault(stream.label(), List.of())) lost += gap.path("packets").asLong();
          // Every packet sent is in the export, in place; silence everywhere else.
          int present;
          try {
            present = Recordings.checkStream(stream, cluster.exported(callId, stream.label()), Recordings.chunksOf(timeline, stream.label()), List.of());
          } catch (AssertionError e) {
            throw new AssertionError(callId + (moved.contains(callId) ? " (moved)" : "") + ": " + e.getMessage() + "\nledger: " + cluster.api.get("/v1/calls/" + callId + "/ledger", 200), e);
          }
          long stored = Recordings.streamOf(call, stream.label()).path("stats").path("stored").asLong();
          assertEquals(present, stored, callId + "/" + stream.label() + ": the stored count is what the export holds");
        }
        if (moved.contains(callId)) lostPerCall.put(callId, lost);
        assertTrue(gaps.isEmpty(), callId + ": no gap in the ledger: " + gaps);
      }
      System.out.printf(
          "drain of %s with %d calls took %d ms (SIGTERM to exit, relays included); packets lost per moved call: %s%n",
          drained.name, moved.size(), drainTime.toMillis(), lostPerCall.values());
      assertEquals(moved.size(), lostPerCall.size());
      assertTrue(lostPerCall.values().stream().allMatch(l -> l == 0), "packets lost per call: " + lostPerCall);
    }
  }
}
