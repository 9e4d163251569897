package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.callvault.siprec.RecordingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * SIPREC under a steady load: sipp places calls at a fixed rate for two minutes against one node on
 * the real Cassandra, each with RTP on its first stream; every call is recorded once, stopped by
 * its BYE, with audio stored, and no call exists twice. Prints the rate and the result.
 */
@ResourceLock(Machine.LOCK)
class SipLoadIT {

  private static final double RATE = 2.0; // calls per second
  private static final int CALLS = 240; // two minutes
  private static final Duration CALL_LENGTH = Duration.ofSeconds(6);

  @Test
  void everyCallOfASteadyLoadIsRecordedOnce() throws Exception {
    String keyspace = "sipload_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (NodeProcess node = NodeProcess.start("sip-load", keyspace, Map.of())) {
      Http api = new Http(node.base());
      Path audio = new SippAudio(303, 500).writeRaw(Sipp.LOGS.resolve("sip-load.ulaw"));
      String prefix = "sipload-" + UUID.randomUUID().toString().substring(0, 8);
      Sipp run =
          Sipp.client("load", "127.0.0.1", node.sipPort)
              .name("sip-load")
              .callIdPrefix(prefix)
              .calls(CALLS)
              .rate(RATE)
              .callLength(CALL_LENGTH)
              .rtpAudio(audio, -1)
              .timeout(Duration.ofMinutes(4));
      Instant started = Instant.now();
      Sipp.Result result = run.run();
      Duration took = Duration.between(started, Instant.now());
      assertEquals(CALLS, result.successfulCalls(), result.describe());
      assertEquals(0, result.failedCalls(), result.describe());

      long packets = 0;
      long minPackets = Long.MAX_VALUE;
      for (int n = 1; n <= CALLS; n++) {
        String callId = RecordingServer.callIdOf(run.callId(n));
        JsonNode call = api.get("/v1/calls/" + callId, 200);
        assertEquals("STOPPED", call.path("state").asText(), callId + ": " + call);
        assertTrue(
            call.path("stoppedBy").asText().startsWith("sip:"), "stopped by its BYE: " + call);
        long stored = Recordings.streamOf(call, "1").path("stats").path("stored").asLong();
        assertTrue(stored > 0, callId + " has audio: " + call);
        packets += stored;
        minPackets = Math.min(minPackets, stored);
      }
      long ledgers = 0;
      try (CqlSession session = NodeProcess.cassandra()) {
        for (var row :
            session.execute("SELECT persistence_id FROM " + keyspace + ".all_persistence_ids"))
          if (row.getString(0).startsWith("CallRecording|sip-" + prefix)) ledgers++;
      }
      System.out.printf(
          "SIPREC load: %d calls at %.1f/s (%d s each) in %d s: %d succeeded, %d failed in sipp; %d"
              + " recorded, %d ledgers in Cassandra; %d packets stored on label 1 (min %d per"
              + " call)%n",
          CALLS,
          RATE,
          CALL_LENGTH.toSeconds(),
          took.toSeconds(),
          result.successfulCalls(),
          result.failedCalls(),
          CALLS,
          ledgers,
          packets,
          minPackets);
      assertEquals(CALLS, ledgers, "one ledger per call: none missing, none twice");
    }
  }
}
