package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;

/**
 * The real Cassandra stopped for 30 s under three live two-stream calls on one node, and started
 * again: the calls' sockets never stop receiving, their audio waits in the node's spool and is
 * stored and listed once Cassandra is back, so every packet sent is in the export at its place and
 * the ledger has no gap. During the outage the API answers 503 and nothing else, and health says
 * UNAVAILABLE with what the spool holds.
 */
class CassandraOutageIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void aThirtySecondOutageUnderThreeLiveCallsLosesNoPacketAndLeavesNoGap() throws Exception {
    String keyspace = "outage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (NodeProcess node = NodeProcess.start("outage", keyspace, Map.of())) {
      Http api = new Http(node.base());
      LoadGenerator.Running load =
          LoadGenerator.start(
              new Options()
                  .api(node.base())
                  .prefix("outage-" + UUID.randomUUID().toString().substring(0, 8))
                  .calls(3)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(90))
                  .stopCallsAtEnd(true)
                  .stopDelay(Duration.ofMillis(500))
                  .seed(30));
      String watched = load.callIds().get(0);
      Thread.sleep(8000);

      long stoppedAt = System.nanoTime();
      ItCassandra.stop();
      Map<Integer, Integer> statuses = new TreeMap<>();
      JsonNode unavailable = null;
      while (System.nanoTime() - stoppedAt < Duration.ofSeconds(30).toNanos()) {
        HttpResponse<String> read = get(node, "/v1/calls/" + watched);
        statuses.merge(read.statusCode(), 1, Integer::sum);
        if (read.statusCode() != 200 && read.statusCode() != 503)
          throw new AssertionError("during the outage: " + read.statusCode() + " " + read.body());
        HttpResponse<String> health = get(node, "/v1/health");
        if (health.statusCode() == 503) unavailable = JSON.readTree(health.body());
        Thread.sleep(1000);
      }
      System.out.println("outage: answers to GET /v1/calls/{id} by status: " + statuses);
      assertTrue(statuses.containsKey(503), "the API says it cannot answer: " + statuses);
      assertTrue(unavailable != null, "health is 503 during the outage");
      assertEquals("UNAVAILABLE", unavailable.path("status").asText(), unavailable.toString());
      assertTrue(
          unavailable.path("spool").path("chunks").asInt() > 0,
          "the calls' audio waits in the spool: " + unavailable);

      ItCassandra.start();
      long backAt = System.nanoTime();
      long upAfter = -1;
      while (System.nanoTime() - backAt < Duration.ofSeconds(60).toNanos()) {
        HttpResponse<String> health = get(node, "/v1/health");
        JsonNode h = health.statusCode() == 0 ? null : JSON.readTree(health.body());
        if (health.statusCode() == 200
            && h.path("spool").path("chunks").asInt() == 0
            && get(node, "/v1/calls/" + watched).statusCode() == 200) {
          upAfter = (System.nanoTime() - backAt) / 1_000_000;
          break;
        }
        Thread.sleep(250);
      }
      System.out.println(
          "outage: "
              + (backAt - stoppedAt) / 1_000_000
              + " ms without Cassandra; spool empty and the call answering "
              + upAfter
              + " ms after Cassandra answered again");
      assertTrue(upAfter >= 0, "the node is UP with its spool stored within 60 s:\n" + node.tail());

      Summary summary = load.await();
      summary.requireActionsOk();
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        JsonNode call = api.get("/v1/calls/" + callId, 200);
        assertEquals("STOPPED", call.path("state").asText());
        assertTrue(
            api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
        JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
        int bindings = 0;
        for (JsonNode event : ledger.path("events")) {
          String type = event.path("type").asText();
          assertTrue(!type.equals("MediaGap"), callId + ": no gap, yet " + event);
          if (type.equals("MediaBound")) bindings++;
        }
        assertEquals(1, bindings, callId + ": the sockets were bound once and never again");
        JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
        for (StreamRecord stream : sent.streams()) {
          short[] exported =
              Recordings.pcm(
                  api.bytes(
                      "/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()),
                  1)[0];
          int present =
              Recordings.checkStream(
                  stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of());
          long sentPackets = stream.sent().stream().filter(p -> !p.duplicate()).count();
          assertEquals(
              sentPackets,
              present,
              callId + "/" + stream.label() + ": every packet sent is in the export");
          assertTrue(present > 4000, "the calls ran through the outage: " + present);
        }
      }
      node.stop();
    } finally {
      // The tests after this one share Cassandra.
      ItCassandra.start();
    }
  }

  /** A GET whose status is 0 when the node does not answer at all. */
  private static HttpResponse<String> get(NodeProcess node, String path) throws Exception {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create(node.base() + path))
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new AssertionError("the node did not answer " + path + ": " + e, e);
    }
  }
}
