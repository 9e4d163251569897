package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
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
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A network partition: three nodes as hosts of their own (network namespaces, veth, a bridge), 20
 * two-stream calls, and node 3 cut off from the other two while it still reaches Cassandra and the
 * senders. Keep-majority: node 3 downs itself, stops its calls' entities and exits; nodes 1 and 2
 * down it and take its calls over. No call is owned twice: in every moved call's ledger, nothing of
 * node 3's comes after the majority's node bound the call, and every ledger verifies.
 */
@ResourceLock(Machine.LOCK)
class PartitionIT {

  private static final int CALLS = 20;

  @Test
  void theMinoritySideStopsItsCallsAndTheMajorityTakesThemOverWithNoCallOwnedTwice()
      throws Exception {
    try (Netns net = Netns.create("cvp", 3)) {
      net.forward(NodeProcess.cassandraPort());
      try (ClusterUnderLoad cluster = ClusterUnderLoad.start("partition", 50000, net)) {
        cluster.load("partition", CALLS, Duration.ofSeconds(35));
        Thread.sleep(7000);

        Map<String, JsonNode> before = cluster.calls();
        NodeProcess cut = cluster.nodes.get(2);
        List<String> moved = ClusterUnderLoad.callsOn(cut, before);
        System.out.println(
            "calls per node before the partition: "
                + cluster.perNode(before)
                + "; cutting off "
                + cut.name);
        assertFalse(moved.isEmpty(), "the node cut off holds calls");

        Instant cutAt = Instant.now();
        net.isolate(3);

        Map<String, Duration> recovery =
            cluster.awaitRecordingElsewhere(moved, before, cutAt, Duration.ofSeconds(40));
        // The minority downs itself and exits, so that a supervisor restarts it into the cluster.
        cut.awaitExit(Duration.ofSeconds(60));
        Duration exited = Duration.between(cutAt, Instant.now());
        String log = Files.readString(cut.log);
        assertTrue(
            log.contains("DownSelf") || log.contains("down self") || log.contains("Self downed"),
            "node 3 downed itself:\n" + cut.tail());
        cluster.checkNotices(moved, "NODE_FAILURE");

        Summary summary = cluster.load.await();
        List<Long> margins = new ArrayList<>();
        for (CallRecord sent : summary.calls()) {
          String callId = sent.callId();
          Map<String, List<JsonNode>> gaps = cluster.checkedGaps(callId);
          if (moved.contains(callId))
            margins.add(
                ownedOnceMargin(cluster, callId, ClusterUnderLoad.nodeOf(before.get(callId))));
          JsonNode timeline = cluster.api.get("/v1/calls/" + callId + "/timeline", 200);
          for (StreamRecord stream : sent.streams()) {
            short[] exported = cluster.exported(callId, stream.label());
            List<JsonNode> streamGaps = gaps.getOrDefault(stream.label(), List.of());
            if (moved.contains(callId)) {
              assertEquals(
                  1,
                  streamGaps.size(),
                  callId + "/" + stream.label() + ": one MediaGap: " + streamGaps);
              JsonNode gap = streamGaps.get(0);
              assertEquals("NODE_FAILURE", gap.path("cause").asText());
              long from = gap.path("startWallMicros").asLong();
              long to = gap.path("endWallMicros").asLong();
              Recordings.checkStream(
                  stream,
                  exported,
                  Recordings.chunksOf(timeline, stream.label()),
                  List.of(),
                  List.of(new long[] {from - 1_500_000, to + 1_000_000}));
            } else {
              assertTrue(streamGaps.isEmpty(), callId + " did not move but has a gap");
              Recordings.checkStream(
                  stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of());
            }
          }
        }
        Collections.sort(margins);
        List<Long> times = recovery.values().stream().map(Duration::toMillis).sorted().toList();
        System.out.printf(
            "partition: %d calls moved off %s; recording again after min %d ms, median %d ms, max"
                + " %d ms; %s exited %d ms after the cut; its last event came min %d ms, max %d ms"
                + " before the new owner bound the call%n",
            moved.size(),
            cut.name,
            times.get(0),
            times.get(times.size() / 2),
            times.get(times.size() - 1),
            cut.name,
            exited.toMillis(),
            margins.get(0),
            margins.get(margins.size() - 1));
      }
    }
  }

  /**
   * Checks that nothing of the old owner's follows the new owner's first event in the ledger: every
   * chunk of the old owner's epoch is listed before the new owner bound the call, and after that
   * the old owner's epoch never appears again. Returns how long before the new binding the old
   * owner's last event was, in milliseconds (the new owner lists chunks it adopts itself).
   */
  private static long ownedOnceMargin(ClusterUnderLoad cluster, String callId, String oldNode)
      throws Exception {
    JsonNode ledger = cluster.api.get("/v1/calls/" + callId + "/ledger", 200);
    long oldEpoch = -1;
    long newEpoch = -1;
    Instant newBound = null;
    Instant lastOld = null;
    for (JsonNode event : ledger.path("events")) {
      String type = event.path("type").asText();
      JsonNode details = event.path("details");
      Instant time = Instant.parse(event.path("time").asText());
      if (type.equals("MediaBound")) {
        if (details.path("node").asText().equals(oldNode)) {
          oldEpoch = event.path("seq").asLong();
          lastOld = time;
        } else if (oldEpoch > 0 && newEpoch < 0) {
          newEpoch = event.path("seq").asLong();
          newBound = time;
        }
      }
      if (type.equals("ChunkStored") && details.path("chunk").path("epoch").asLong() == oldEpoch) {
        assertTrue(
            newEpoch < 0,
            callId
                + ": a chunk of the cut-off node's epoch "
                + oldEpoch
                + " was listed after the call was bound on another node: "
                + event);
        // Adopted chunks were stored by the old owner but listed by the new one, on recovery.
        if (!details.path("adopted").asBoolean()) lastOld = time;
      }
    }
    assertTrue(
        oldEpoch > 0 && newEpoch > oldEpoch,
        callId + ": bound on " + oldNode + ", then elsewhere: " + ledger);
    return Duration.between(lastOld, newBound).toMillis();
  }
}
