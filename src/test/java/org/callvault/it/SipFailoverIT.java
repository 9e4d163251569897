package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import org.callvault.siprec.RecordingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A SIPREC call whose node dies: three nodes, sipp as the SRC calling node 1, {@code kill -9} of
 * the node whose sockets receive the call. The node that takes the call over re-INVITEs the SRC
 * from the dialog kept in the call's ledger, with its new ports; sipp answers, its RTP follows, and
 * the recording goes on there until the BYE, with the gap recorded as a NODE_FAILURE.
 */
@ResourceLock(Machine.LOCK)
class SipFailoverIT {

  @Test
  void theNodeThatTakesASiprecCallOverReInvitesTheSrcAndTheRecordingGoesOn() throws Exception {
    try (ClusterUnderLoad cluster = ClusterUnderLoad.start("sipfail", 52000)) {
      Path audio = new SippAudio(404, 250).writeRaw(Sipp.LOGS.resolve("sip-failover.ulaw"));
      NodeProcess entry = cluster.nodes.get(0);
      // sipp sends every message of a call to the address it called, not where a request's Via
      // says (RFC 3261 §18.2.2): its 200 to the re-INVITE reaches the SRS only if the node it
      // called is alive. So the node killed must not be that one: a call that sharding placed on
      // the called node is stopped and another placed, until one lands elsewhere.
      Sipp.Running running = null;
      String callId = null;
      String oldNode = null;
      for (int attempt = 1; attempt <= 8 && running == null; attempt++) {
        Sipp candidate =
            Sipp.client("siprec-failover", "127.0.0.1", entry.sipPort)
                .name("sip-failover-" + attempt)
                .callIdPrefix("sipfail-" + UUID.randomUUID().toString().substring(0, 8))
                .rtpAudio(audio, -1)
                .receiveTimeout(Duration.ofSeconds(70))
                .timeout(Duration.ofSeconds(120));
        Sipp.Running started = candidate.start();
        started.awaitEvent("srs-media", Duration.ofSeconds(15));
        String id = RecordingServer.callIdOf(candidate.callId(1));
        String node = ClusterUnderLoad.nodeOf(cluster.api.get("/v1/calls/" + id, 200));
        if (node.endsWith(":" + entry.remotePort)) {
          started.close();
          cluster.api.post("/v1/calls/" + id + "/stop", "{}", 200);
          continue;
        }
        running = started;
        callId = id;
        oldNode = node;
      }
      assertTrue(
          running != null, "no call landed on a node other than the one sipp called in 8 tries");
      try (Sipp.Running sipp = running) {
        Thread.sleep(3000); // audio stored on the first node
        NodeProcess victim = null;
        for (NodeProcess n : cluster.nodes) if (oldNode.endsWith(":" + n.remotePort)) victim = n;
        Http api = cluster.api; // node 1 stays up
        Instant killed = Instant.now();
        victim.kill();

        Matcher moved = sipp.awaitEvent("moved (\\d+) (\\d+)", Duration.ofSeconds(60));
        Duration reInvited = Duration.between(killed, Instant.now());
        Sipp.Result result = sipp.await();
        assertEquals(1, result.successfulCalls(), result.describe());

        JsonNode call = api.get("/v1/calls/" + callId, 200);
        assertEquals(
            "STOPPED", call.path("state").asText(), "the BYE to the new node stopped it: " + call);
        assertTrue(!ClusterUnderLoad.nodeOf(call).equals(oldNode), "the call moved: " + call);
        JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
        assertTrue(
            api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
        List<Long> epochs = new ArrayList<>();
        long storedAfter = 0;
        JsonNode gap = null;
        for (JsonNode e : ledger.path("events")) {
          String type = e.path("type").asText();
          if (type.equals("MediaBound")) {
            epochs.add(e.path("seq").asLong());
            int port1 = e.path("details").path("endpoints").path("1").path("port").asInt();
            if (epochs.size() == 2)
              assertEquals(
                  Integer.parseInt(moved.group(1)),
                  port1,
                  "the re-INVITE offered the new binding's port");
          }
          if (type.equals("ChunkStored")
              && epochs.size() >= 2
              && e.path("details").path("chunk").path("epoch").asLong() == epochs.get(1))
            storedAfter += e.path("details").path("chunk").path("packets").asLong();
          if (type.equals("MediaGap") && e.path("details").path("label").asText().equals("1"))
            gap = e.path("details");
        }
        assertEquals(
            2,
            epochs.size(),
            "bound on the first node, then on the one that took it over: " + ledger);
        assertTrue(
            gap != null && gap.path("cause").asText().equals("NODE_FAILURE"),
            "the gap is recorded: " + ledger);
        assertTrue(
            storedAfter >= 100,
            "sipp's RTP followed the re-INVITE: "
                + storedAfter
                + " packets stored on the new node");
        System.out.printf(
            "SIPREC failover of %s: re-INVITE %d ms after the kill, gap %d ms (%d packets), %d"
                + " packets stored on the new node%n",
            callId,
            reInvited.toMillis(),
            (gap.path("endWallMicros").asLong() - gap.path("startWallMicros").asLong()) / 1000,
            gap.path("packets").asLong(),
            storedAfter);
      }
    }
  }
}
