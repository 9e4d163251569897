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
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A call driven through consent, pause, resume and stop on a node backed by the real Cassandra;
 * the node is stopped, a new one starts on the same Cassandra, and every call reads back the same,
 * with a ledger that verifies. A call still active at the stop is recovered by remembered
 * entities and still obeys its rules.
 */
class CallRecordingIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static JsonNode call(String base, String method, String path, String body, int expectedStatus) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    request = method.equals("GET") ? request.GET() : request.method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
    HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(expectedStatus, response.statusCode(), method + " " + path + " answered " + response.body());
    return JSON.readTree(response.body());
  }

  @Test
  void aCallsStateAndLedgerSurviveANodeRestartOnTheSameCassandra() throws Exception {
    String keyspace = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String finished = "finished-" + UUID.randomUUID();
    String active = "active-" + UUID.randomUUID();
    String parties = "\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"},{\"id\":\"customer\",\"role\":\"CUSTOMER\"}],"
        + "\"streams\":[{\"label\":\"a\",\"party\":\"agent\",\"codec\":\"PCMU\"},{\"label\":\"c\",\"party\":\"customer\",\"codec\":\"PCMU\"}]";

    JsonNode finishedBefore, finishedLedgerBefore, activeBefore;
    try (NodeProcess first = NodeProcess.start("restart-first", keyspace, Map.of())) {
      String base = first.base();
      call(base, "POST", "/v1/calls", "{\"callId\":\"" + finished + "\",\"policy\":{\"consentMode\":\"ALL_PARTY\"}," + parties + "}", 201);
      call(base, "POST", "/v1/calls/" + finished + "/consent", "{\"party\":\"agent\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}", 200);
      JsonNode granted = call(base, "POST", "/v1/calls/" + finished + "/consent", "{\"party\":\"customer\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}", 200);
      assertEquals("RECORDING", granted.path("state").asText());
      call(base, "POST", "/v1/calls/" + finished + "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}", 200);
      call(base, "POST", "/v1/calls/" + finished + "/resume", "{\"by\":\"agent-7\"}", 200);
      JsonNode stopped = call(base, "POST", "/v1/calls/" + finished + "/stop", "{\"by\":\"crm\"}", 200);
      assertEquals("STOPPED", stopped.path("state").asText());

      call(base, "POST", "/v1/calls", "{\"callId\":\"" + active + "\",\"policy\":{\"onDecline\":\"RECORD_OTHERS\"}," + parties + "}", 201);
      call(base, "POST", "/v1/calls/" + active + "/consent", "{\"party\":\"customer\",\"decision\":\"DECLINED\"}", 200);
      call(base, "POST", "/v1/calls/" + active + "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}", 200);

      finishedBefore = call(base, "GET", "/v1/calls/" + finished, null, 200);
      finishedLedgerBefore = call(base, "GET", "/v1/calls/" + finished + "/ledger", null, 200);
      activeBefore = call(base, "GET", "/v1/calls/" + active, null, 200);
      first.stop();
    }

    try (NodeProcess second = NodeProcess.start("restart-second", keyspace, Map.of())) {
      String base = second.base();
      assertEquals(finishedBefore, call(base, "GET", "/v1/calls/" + finished, null, 200));
      assertEquals(finishedLedgerBefore, call(base, "GET", "/v1/calls/" + finished + "/ledger", null, 200));
      JsonNode verified = call(base, "GET", "/v1/calls/" + finished + "/ledger/verify", null, 200);
      assertTrue(verified.path("valid").asBoolean(), verified.toString());
      assertEquals(6, verified.path("events").asInt());
      assertEquals(finishedLedgerBefore.path("events").get(5).path("hash").asText(), verified.path("lastHash").asText());
      assertEquals(
          "no change is accepted after stop",
          call(base, "POST", "/v1/calls/" + finished + "/pause", "{\"reason\":\"r\",\"by\":\"b\"}", 409).path("error").asText().replaceAll(".*: ", ""));

      JsonNode activeAfter = call(base, "GET", "/v1/calls/" + active, null, 200);
      assertEquals(activeBefore, activeAfter);
      assertEquals("PAUSED", activeAfter.path("state").asText());
      JsonNode resumed = call(base, "POST", "/v1/calls/" + active + "/resume", "{\"by\":\"agent-7\"}", 200);
      assertEquals("OPEN", resumed.path("streams").get(0).path("gate").asText());
      assertEquals("CLOSED", resumed.path("streams").get(1).path("gate").asText(), "the customer declined under RECORD_OTHERS");
      assertTrue(call(base, "GET", "/v1/calls/" + active + "/ledger/verify", null, 200).path("valid").asBoolean());

      second.kill();
    }

    // After a crash (SIGKILL), a third node reads the same ledger: every acknowledged change is there.
    try (NodeProcess third = NodeProcess.start("restart-third", keyspace, Map.of())) {
      JsonNode ledger = call(third.base(), "GET", "/v1/calls/" + active + "/ledger", null, 200);
      assertEquals(4, ledger.path("events").size());
      assertEquals("Resumed", ledger.path("events").get(3).path("type").asText());
      assertEquals("RECORDING", call(third.base(), "GET", "/v1/calls/" + active, null, 200).path("state").asText());
      third.stop();
    }
  }
}
