package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A node on a three-node Cassandra (its own loopback addresses, keyspaces with three replicas,
 * {@code LOCAL_QUORUM}) under two live calls. One replica killed: nothing is refused (a pause and a
 * resume are answered 200, health stays UP, nothing waits in the spool) and nothing is lost. A
 * second killed: writes cannot reach a quorum, the spool takes the audio, and when both come back
 * it is stored and listed: every packet sent is in the export at its place, no gap, and each ledger
 * verifies.
 */
@ResourceLock(Machine.LOCK)
class CassandraReplicasIT {

  /** The load generators a test started: one left sending would reach the next test's ports. */
  private final List<LoadGenerator.Running> running = new ArrayList<>();

  @AfterEach
  void stopLoads() {
    running.forEach(LoadGenerator.Running::close);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void oneReplicaLostRefusesNothingTwoLostSpoolUntilTheyReturnAndNothingIsLost() throws Exception {
    String keyspace = "replicas_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (CassandraRing ring = CassandraRing.start()) {
      applySchema(ring, keyspace);
      try (NodeProcess node =
          NodeProcess.start(
              "replicas", keyspace, Map.of("CASSANDRA_CONTACT_POINTS", ring.contactPoints()))) {
        Http api = new Http(node.base());
        LoadGenerator.Running load =
            LoadGenerator.start(
                new Options()
                    .apiKey(TestKeys.ALL)
                    .api(node.base())
                    .prefix("replicas-" + UUID.randomUUID().toString().substring(0, 8))
                    .calls(2)
                    .codec(Codec.PCMU)
                    .duration(Duration.ofSeconds(70))
                    .stopCallsAtEnd(true)
                    .stopDelay(Duration.ofMillis(500))
                    .seed(33));
        running.add(load); // stopped after the test, pass or fail
        String paused = load.callIds().get(1);
        Thread.sleep(6000);

        // One replica lost.
        ring.kill(2);
        // Right after the kill the other replicas do not know yet that it died: twelve reads of
        // health at once, each a quorum read of the ledger, some of them through the dead one.
        var burst = java.util.concurrent.Executors.newFixedThreadPool(12);
        Map<String, Integer> atOnce = new TreeMap<>();
        try {
          List<java.util.concurrent.Future<JsonNode>> looks = new ArrayList<>();
          for (int i = 0; i < 12; i++) looks.add(burst.submit(() -> health(node)));
          for (var look : looks) atOnce.merge(look.get().path("status").asText(), 1, Integer::sum);
        } finally {
          burst.shutdownNow();
        }
        System.out.println("replicas: health right after one replica was lost: " + atOnce);
        assertEquals(Map.of("UP", 12), atOnce, "health is UP right after one replica was lost");
        Map<String, Integer> health = new TreeMap<>();
        int spooledWithOne = 0;
        for (int i = 0; i < 24; i++) {
          if (i == 4)
            assertEquals(
                200,
                CassandraOutageIT.send(
                        node,
                        "/v1/calls/" + paused + "/pause",
                        "{\"reason\":\"card\",\"by\":\"qa\"}")
                    .statusCode(),
                "a pause with one replica lost");
          if (i == 10)
            assertEquals(
                200,
                CassandraOutageIT.send(node, "/v1/calls/" + paused + "/resume", "{\"by\":\"qa\"}")
                    .statusCode(),
                "a resume with one replica lost");
          JsonNode h = health(node);
          health.merge(h.path("status").asText(), 1, Integer::sum);
          spooledWithOne = Math.max(spooledWithOne, h.path("spool").path("chunks").asInt());
          Thread.sleep(500);
        }
        System.out.println("replicas: health with one replica lost, by status: " + health);
        assertEquals(Map.of("UP", 24), health, "health stays UP with one replica lost");
        assertEquals(0, spooledWithOne, "nothing waits in the spool with one replica lost");

        // Two replicas lost: no quorum.
        ring.kill(1);
        int spooledWithTwo = 0;
        for (int i = 0; i < 20 && spooledWithTwo == 0; i++) {
          Thread.sleep(500);
          spooledWithTwo = health(node).path("spool").path("chunks").asInt();
        }
        Thread.sleep(8000);
        spooledWithTwo =
            Math.max(spooledWithTwo, health(node).path("spool").path("chunks").asInt());
        System.out.println("replicas: with two replicas lost the spool holds " + spooledWithTwo);
        assertTrue(spooledWithTwo > 0, "the spool takes the audio with two replicas lost");

        long back = System.nanoTime();
        ring.start(1);
        ring.start(2);
        long drained = -1;
        long startedAt = System.nanoTime();
        while (System.nanoTime() - startedAt < Duration.ofSeconds(60).toNanos()) {
          JsonNode h = health(node);
          if (h.path("status").asText().equals("UP")
              && h.path("spool").path("chunks").asInt() == 0) {
            drained = (System.nanoTime() - startedAt) / 1_000_000;
            break;
          }
          Thread.sleep(250);
        }
        System.out.println(
            "replicas: both back after "
                + (startedAt - back) / 1_000_000
                + " ms of restarts; spool stored "
                + drained
                + " ms after");
        assertTrue(drained >= 0, "the spool is stored once the replicas are back:\n" + node.tail());

        Summary summary = load.await();
        summary.requireActionsOk();
        for (CallRecord sent : summary.calls()) CassandraOutageIT.assertRecordedWhole(api, sent);
        node.stop();
      }
    }
  }

  private static JsonNode health(NodeProcess node) throws Exception {
    HttpResponse<String> health = CassandraOutageIT.get(node, "/v1/health");
    return JSON.readTree(health.body());
  }

  /** {@code ops/schema} with three replicas, as an operator runs it. */
  private static void applySchema(CassandraRing ring, String keyspace) throws Exception {
    ProcessBuilder schema = new ProcessBuilder("ops/schema").redirectErrorStream(true);
    schema.environment().put("CASSANDRA_CONTACT_POINTS", ring.contactPoints());
    schema.environment().put("CASSANDRA_REPLICATION", "'datacenter1': 3");
    schema.environment().put("CALLVAULT_JOURNAL_KEYSPACE", keyspace);
    schema.environment().put("CALLVAULT_SNAPSHOT_KEYSPACE", keyspace + "_snapshot");
    Process p = schema.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
    assertEquals(0, p.exitValue(), "ops/schema:\n" + out);
  }
}
