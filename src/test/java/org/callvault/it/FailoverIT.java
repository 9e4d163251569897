package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.callvault.bench.CallRecord;
import org.callvault.bench.SentPacket;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Three node processes on the real Cassandra, 20 two-stream calls from the load generator, and
 * {@code kill -9} of the node holding the most calls: every call records again on a survivor, the
 * audio stored before the kill is sample-exact, each moved stream's gap is in its ledger with its
 * cause, from the last audio stored before it to the first after, counting exactly the packets the
 * load generator sent in between, no chunk is listed twice, and every ledger verifies.
 */
@ResourceLock(Machine.LOCK)
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
      System.out.println(
          "calls per node before the kill: "
              + cluster.perNode(before)
              + "; killing "
              + victim.name);
      assertFalse(moved.isEmpty(), "the killed node holds calls");

      Instant killed = Instant.now();
      long killedAt = ChronoUnit.MICROS.between(Instant.EPOCH, killed);
      victim.kill(); // returns once the process has exited
      long goneAt = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());

      Map<String, Duration> recovery =
          cluster.awaitRecordingElsewhere(moved, before, killed, Duration.ofSeconds(40));
      cluster.checkNotices(moved, "NODE_FAILURE");
      System.out.println(cluster.phases(victim, killed, recovery));

      Summary summary = cluster.load.await();
      List<Double> gaps = new ArrayList<>();
      List<Long> lost = new ArrayList<>();
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        Map<String, List<JsonNode>> gapsOf = cluster.checkedGaps(callId);
        JsonNode ledger = cluster.api.get("/v1/calls/" + callId + "/ledger", 200);
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
            // It runs from the end of the last audio stored before it to the start of the first
            // after.
            JsonNode[] around = Recordings.chunksAroundGap(ledger, stream.label());
            JsonNode last = around[0];
            JsonNode next = around[1];
            String where =
                callId
                    + "/"
                    + stream.label()
                    + ": gap "
                    + gap
                    + " between "
                    + last
                    + " and "
                    + next;
            assertEquals(
                last.path("endWallMicros").asLong(),
                from,
                "the gap starts where the last stored audio ends: " + where);
            assertEquals(
                next.path("startWallMicros").asLong(),
                to,
                "the gap ends where the next stored audio starts: " + where);
            assertTrue(
                next.path("epoch").asLong() > last.path("epoch").asLong(),
                "the audio after the gap came in on the new node: " + where);
            // It spans the kill: the last packet stored before it left the sender before the node
            // was gone, the first stored after it once the kill had begun. (The gap's own start is
            // where the last stored packet's audio ends, which may be after the kill.)
            SentPacket lastStored =
                Recordings.sentWith(
                    stream, last.path("ssrc").asLong(), last.path("lastSeq").asLong());
            SentPacket nextStored =
                Recordings.sentWith(
                    stream, next.path("ssrc").asLong(), next.path("firstSeq").asLong());
            assertTrue(
                lastStored.sendWallMicros() < goneAt,
                "sent "
                    + (goneAt - lastStored.sendWallMicros())
                    + " µs before the node was gone: "
                    + where);
            assertTrue(
                nextStored.sendWallMicros() > killedAt && to > killedAt,
                "sent "
                    + (nextStored.sendWallMicros() - killedAt)
                    + " µs after the kill: "
                    + where);
            // Its packets are those the load generator sent in between: what the dead node held
            // in memory (its last second) and what was sent to it after it died.
            List<SentPacket> missing =
                Recordings.sentBetween(stream, lastStored.index(), nextStored.index());
            assertFalse(missing.isEmpty(), where);
            assertEquals(
                missing.size(),
                gap.path("packets").asLong(),
                "the packets sent between the two (send errors "
                    + stream.counts().sendErrors()
                    + "): "
                    + where);
            gaps.add((to - from) / 1000.0);
            lost.add(gap.path("packets").asLong());
            // Those packets are not in the export; every other packet sent is, in place.
            long[] sentMissing = {
              missing.get(0).sendWallMicros(), missing.get(missing.size() - 1).sendWallMicros() + 1
            };
            int present =
                Recordings.checkStream(
                    stream,
                    exported,
                    Recordings.chunksOf(timeline, stream.label()),
                    List.of(),
                    List.of(sentMissing));
            assertEquals(stream.sentIndices().cardinality() - missing.size(), present, where);
          } else {
            assertTrue(streamGaps.isEmpty(), callId + " did not move but has a gap");
            Recordings.checkStream(
                stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of());
          }
        }
      }
      Collections.sort(gaps);
      Collections.sort(lost);
      List<Long> times = recovery.values().stream().map(Duration::toMillis).sorted().toList();
      System.out.printf(
          "failover of %d calls: gaps min %.0f ms, median %.0f ms, max %.0f ms; packets lost per"
              + " stream min %d, median %d, max %d; recording again after min %d ms, median %d ms,"
              + " max %d ms%n",
          moved.size(),
          gaps.get(0),
          gaps.get(gaps.size() / 2),
          gaps.get(gaps.size() - 1),
          lost.get(0),
          lost.get(lost.size() / 2),
          lost.get(lost.size() - 1),
          times.get(0),
          times.get(times.size() / 2),
          times.get(times.size() - 1));
    }
  }
}
