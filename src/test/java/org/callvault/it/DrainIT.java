package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.callvault.bench.CallRecord;
import org.callvault.bench.SentPacket;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The drain of a node for an upgrade, as {@code ops/node drain} does it (SIGTERM: the node hands
 * its calls off and leaves the cluster): three node processes, 20 two-stream calls, the busiest
 * node drained. Every call it held records on another node, its ledger showing the handoff from the
 * drained node and the binding on the new one, and every packet the load generator sent is in the
 * recording: listed once in the ledger's chunks and in place in the export. The old node relayed
 * what reached it until the sender had moved. Prints how long the drain took.
 */
@ResourceLock(Machine.LOCK)
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
      System.out.println(
          "calls per node before the drain: "
              + cluster.perNode(before)
              + "; draining "
              + drained.name);
      assertFalse(moved.isEmpty(), "the drained node holds calls");

      Instant drainedAt = Instant.now();
      drained.stop(); // returns once the node has exited: after its relays ended
      Duration drainTime = Duration.between(drainedAt, Instant.now());

      cluster.awaitRecordingElsewhere(moved, before, drainedAt, Duration.ofSeconds(30));
      cluster.checkNotices(moved, "HANDOFF");

      Summary summary = cluster.load.await();
      long storedOnDrained = 0;
      long storedAfterHandoff = 0;
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        Map<String, List<JsonNode>> gaps = cluster.checkedGaps(callId);
        JsonNode call = cluster.api.get("/v1/calls/" + callId, 200);
        JsonNode ledger = cluster.api.get("/v1/calls/" + callId + "/ledger", 200);
        JsonNode timeline = cluster.api.get("/v1/calls/" + callId + "/timeline", 200);
        String what = callId + (moved.contains(callId) ? " (moved)" : "");
        long handedOffAt =
            moved.contains(callId)
                ? checkHandoff(
                    what,
                    ledger,
                    ClusterUnderLoad.nodeOf(before.get(callId)),
                    ClusterUnderLoad.nodeOf(call))
                : Long.MAX_VALUE;
        for (StreamRecord stream : sent.streams()) {
          // Every packet sent is listed once: the chunks follow one another from the first packet
          // sent to the last, across the handoff, with no sequence number missing or listed twice.
          long[] split = checkChunksHoldEverySequenceNumberOnce(what, stream, ledger, handedOffAt);
          storedOnDrained += split[0];
          storedAfterHandoff += split[1];
          // And it is in the export, in place; silence everywhere else.
          int present;
          try {
            present =
                Recordings.checkStream(
                    stream,
                    cluster.exported(callId, stream.label()),
                    Recordings.chunksOf(timeline, stream.label()),
                    List.of());
          } catch (AssertionError e) {
            throw new AssertionError(what + ": " + e.getMessage() + "\nledger: " + ledger, e);
          }
          long stored =
              Recordings.streamOf(call, stream.label()).path("stats").path("stored").asLong();
          assertEquals(
              present,
              stored,
              what + "/" + stream.label() + ": the stored count is what the export holds");
        }
        assertTrue(gaps.isEmpty(), what + ": no gap in the ledger: " + gaps);
      }
      System.out.printf(
          "drain of %s with %d calls took %d ms (SIGTERM to exit, relays included); the moved"
              + " calls' packets stored on %s: %d, after the handoff: %d%n",
          drained.name,
          moved.size(),
          drainTime.toMillis(),
          drained.name,
          storedOnDrained,
          storedAfterHandoff);

      drainTheOtherThroughTheApi(cluster, drained);
    }
  }

  /**
   * The same drain asked of the API, with the command line ({@code callvault drain --wait}) at node
   * 1, of the node left besides it, with calls on it: the member leaves in order, its calls move to
   * node 1 with the handoff, no gap and every packet sent listed once, and its process exits by
   * itself with status 0, as after {@code ops/node drain}.
   */
  private static void drainTheOtherThroughTheApi(
      ClusterUnderLoad cluster, NodeProcess drainedBefore) throws Exception {
    NodeProcess seed = cluster.nodes.get(0);
    NodeProcess other =
        cluster.nodes.get(1) == drainedBefore ? cluster.nodes.get(2) : cluster.nodes.get(1);
    cluster.load("api-drain", 6, Duration.ofSeconds(20));
    Thread.sleep(5000);
    Map<String, JsonNode> before = cluster.calls();
    List<String> moved = ClusterUnderLoad.callsOn(other, before);
    System.out.println(
        "calls per node before the drain through the API: " + cluster.perNode(before));
    assertFalse(moved.isEmpty(), "the node to drain holds calls: " + cluster.perNode(before));

    Instant drainedAt = Instant.now();
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    int status =
        org.callvault.cli.Cli.run(
            new java.io.PrintWriter(out),
            new java.io.PrintWriter(err),
            false,
            "drain",
            "127.0.0.1:" + other.remotePort,
            "--wait",
            "--url",
            seed.base(),
            "--key",
            org.callvault.api.access.TestKeys.ADMIN);
    assertEquals(0, status, "callvault drain: " + out + err);
    assertTrue(out.toString().contains("has left the cluster"), out.toString());
    assertEquals(
        0, other.awaitExit(Duration.ofSeconds(60)), "it exits by itself:\n" + other.tail());
    String log = java.nio.file.Files.readString(other.log);
    assertTrue(
        log.contains("ClusterLeavingReason"), "its coordinated shutdown ran:\n" + other.tail());
    assertTrue(log.contains("Successfully shut down"), other.tail());
    Duration drainTime = Duration.between(drainedAt, Instant.now());

    cluster.awaitRecordingElsewhere(moved, before, drainedAt, Duration.ofSeconds(30));
    long packets = 0;
    for (CallRecord sent : cluster.load.await().calls()) {
      String callId = sent.callId();
      if (!moved.contains(callId)) continue;
      JsonNode call = cluster.api.get("/v1/calls/" + callId, 200);
      assertEquals(
          "pekko://callvault@127.0.0.1:" + seed.remotePort,
          ClusterUnderLoad.nodeOf(call),
          callId + " records on node 1 now");
      JsonNode ledger = cluster.api.get("/v1/calls/" + callId + "/ledger", 200);
      long handedOffAt =
          checkHandoff(
              callId,
              ledger,
              ClusterUnderLoad.nodeOf(before.get(callId)),
              ClusterUnderLoad.nodeOf(call));
      // As after a SIGTERM: every packet sent is listed once, across the handoff.
      for (StreamRecord stream : sent.streams()) {
        long[] split = checkChunksHoldEverySequenceNumberOnce(callId, stream, ledger, handedOffAt);
        packets += split[0] + split[1];
      }
      Map<String, List<JsonNode>> gaps = cluster.checkedGaps(callId);
      assertTrue(gaps.isEmpty(), callId + ": no gap in the ledger: " + gaps);
    }
    JsonNode nodes = cluster.api.get("/v1/nodes", 200).path("nodes");
    assertEquals(1, nodes.size(), "node 1 alone: " + nodes);
    System.out.printf(
        "drain through the API of %s with %d calls took %d ms (request to exit); their %d packets"
            + " sent are each listed once%n",
        other.name, moved.size(), drainTime.toMillis(), packets);
  }

  /**
   * A moved call's ledger: its sockets on the drained node were released once, for a handoff
   * ({@code MediaReleased} with reason {@code HANDOFF}, recorded there), and the next sockets bound
   * were on the node that holds the call now. Returns the seq of the release.
   */
  private static long checkHandoff(
      String what, JsonNode ledger, String drainedNode, String newNode) {
    assertNotEquals(drainedNode, newNode, what + ": moved to another node");
    JsonNode released = null;
    JsonNode boundBefore = null;
    JsonNode boundAfter = null;
    for (JsonNode event : ledger.path("events")) {
      String type = event.path("type").asText();
      if (type.equals("MediaReleased")
          && event.path("details").path("reason").asText().equals("HANDOFF")) {
        assertNull(released, what + ": one handoff: " + ledger);
        released = event;
      }
      if (type.equals("MediaBound")) {
        if (released == null) boundBefore = event;
        else if (boundAfter == null) boundAfter = event;
      }
    }
    assertNotNull(released, what + ": the handoff is in the ledger: " + ledger);
    assertNotNull(boundBefore, what + ": bound before the handoff: " + ledger);
    assertNotNull(boundAfter, what + ": bound after the handoff: " + ledger);
    assertEquals(
        drainedNode,
        boundBefore.path("details").path("node").asText(),
        what + ": received on the drained node before");
    assertEquals(
        drainedNode,
        released.path("details").path("node").asText(),
        what + ": released by the drained node");
    assertEquals(
        newNode,
        boundAfter.path("details").path("node").asText(),
        what + ": bound next on the node that holds it now");
    return released.path("seq").asLong();
  }

  /**
   * One stream's chunks in ledger order: each holds one packet per sequence number from its first
   * to its last, and each starts at the number after the last of the one before, from the first
   * packet the load generator sent to the last, so every packet sent is listed exactly once. Chunks
   * before {@code handedOffAt} (a ledger seq) came in on the drained node, those after on the new
   * one. Returns the packets stored before and after it.
   */
  private static long[] checkChunksHoldEverySequenceNumberOnce(
      String what, StreamRecord stream, JsonNode ledger, long handedOffAt) {
    List<SentPacket> sent =
        stream.sent().stream()
            .filter(p -> !p.duplicate())
            .sorted(Comparator.comparingLong(SentPacket::index))
            .toList();
    long[] split = new long[2];
    JsonNode previous = null;
    long previousEpoch = 0;
    for (JsonNode event : ledger.path("events")) {
      JsonNode chunk = event.path("details").path("chunk");
      if (!event.path("type").asText().equals("ChunkStored")
          || !chunk.path("label").asText().equals(stream.label())) continue;
      String where =
          what
              + "/"
              + stream.label()
              + ": chunk "
              + chunk
              + (previous == null ? "" : " after " + previous);
      long first = chunk.path("firstSeq").asLong();
      long last = chunk.path("lastSeq").asLong();
      assertEquals(
          last - first + 1,
          chunk.path("packets").asLong(),
          "one packet per sequence number: " + where);
      if (previous == null)
        assertEquals(
            sent.get(0).seq(),
            first & 0xFFFF,
            "the first chunk starts with the first packet sent: " + where);
      else
        assertEquals(
            0,
            (first - previous.path("lastSeq").asLong() - 1) & 0xFFFF,
            "no sequence number skipped or listed twice: " + where);
      boolean afterHandoff = event.path("seq").asLong() > handedOffAt;
      if (previous != null && chunk.path("epoch").asLong() != previousEpoch)
        assertTrue(
            afterHandoff && previousEpoch < chunk.path("epoch").asLong(),
            "a new epoch only after the handoff: " + where);
      split[afterHandoff ? 1 : 0] += chunk.path("packets").asLong();
      previous = chunk;
      previousEpoch = chunk.path("epoch").asLong();
    }
    assertNotNull(previous, what + "/" + stream.label() + ": chunks listed");
    assertEquals(
        sent.get(sent.size() - 1).seq(),
        previous.path("lastSeq").asLong() & 0xFFFF,
        what + "/" + stream.label() + ": the last chunk ends with the last packet sent");
    assertEquals(
        sent.size(),
        split[0] + split[1],
        what + "/" + stream.label() + ": every packet sent is listed once");
    if (handedOffAt != Long.MAX_VALUE)
      assertTrue(
          split[0] > 0 && split[1] > 0,
          what
              + "/"
              + stream.label()
              + ": audio stored on both nodes: "
              + split[0]
              + ", "
              + split[1]);
    return handedOffAt == Long.MAX_VALUE ? new long[2] : split;
  }
}
