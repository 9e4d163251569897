package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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

  @Test
  void aCallsStateAndLedgerSurviveANodeRestartOnTheSameCassandra() throws Exception {
    String keyspace = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String finished = "finished-" + UUID.randomUUID();
    String active = "active-" + UUID.randomUUID();
    String parties = "\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"},{\"id\":\"customer\",\"role\":\"CUSTOMER\"}],"
        + "\"streams\":[{\"label\":\"a\",\"party\":\"agent\",\"codec\":\"PCMU\"},{\"label\":\"c\",\"party\":\"customer\",\"codec\":\"PCMU\"}]";

    JsonNode finishedBefore, finishedLedgerBefore, activeBefore;
    try (NodeProcess first = NodeProcess.start("restart-first", keyspace, Map.of())) {
      Http api = new Http(first.base());
      api.post("/v1/calls", "{\"callId\":\"" + finished + "\",\"policy\":{\"consentMode\":\"ALL_PARTY\"}," + parties + "}", 201);
      api.post("/v1/calls/" + finished + "/consent", "{\"party\":\"agent\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}", 200);
      JsonNode granted = api.post("/v1/calls/" + finished + "/consent", "{\"party\":\"customer\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}", 200);
      assertEquals("RECORDING", granted.path("state").asText());
      api.post("/v1/calls/" + finished + "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}", 200);
      api.post("/v1/calls/" + finished + "/resume", "{\"by\":\"agent-7\"}", 200);
      JsonNode stopped = api.post("/v1/calls/" + finished + "/stop", "{\"by\":\"crm\"}", 200);
      assertEquals("STOPPED", stopped.path("state").asText());

      api.post("/v1/calls", "{\"callId\":\"" + active + "\",\"policy\":{\"onDecline\":\"RECORD_OTHERS\"}," + parties + "}", 201);
      api.post("/v1/calls/" + active + "/consent", "{\"party\":\"customer\",\"decision\":\"DECLINED\"}", 200);
      api.post("/v1/calls/" + active + "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}", 200);

      finishedBefore = api.get("/v1/calls/" + finished, 200);
      finishedLedgerBefore = api.get("/v1/calls/" + finished + "/ledger", 200);
      activeBefore = api.get("/v1/calls/" + active, 200);
      first.stop();
    }

    try (NodeProcess second = NodeProcess.start("restart-second", keyspace, Map.of())) {
      Http api = new Http(second.base());
      assertEquals(finishedBefore, api.get("/v1/calls/" + finished, 200));
      assertEquals(finishedLedgerBefore, api.get("/v1/calls/" + finished + "/ledger", 200));
      JsonNode verified = api.get("/v1/calls/" + finished + "/ledger/verify", 200);
      assertTrue(verified.path("valid").asBoolean(), verified.toString());
      assertEquals(6, verified.path("events").asInt());
      assertEquals(finishedLedgerBefore.path("events").get(5).path("hash").asText(), verified.path("lastHash").asText());
      assertEquals(
          "no change is accepted after stop",
          api.post("/v1/calls/" + finished + "/pause", "{\"reason\":\"r\",\"by\":\"b\"}", 409).path("error").asText().replaceAll(".*: ", ""));

      JsonNode activeAfter = api.get("/v1/calls/" + active, 200);
      assertEquals(activeBefore, activeAfter);
      assertEquals("PAUSED", activeAfter.path("state").asText());
      JsonNode resumed = api.post("/v1/calls/" + active + "/resume", "{\"by\":\"agent-7\"}", 200);
      assertEquals("OPEN", resumed.path("streams").get(0).path("gate").asText());
      assertEquals("CLOSED", resumed.path("streams").get(1).path("gate").asText(), "the customer declined under RECORD_OTHERS");
      assertTrue(api.get("/v1/calls/" + active + "/ledger/verify", 200).path("valid").asBoolean());

      second.kill();
    }

    // After a crash (SIGKILL), a third node reads the same ledger: every acknowledged change is there.
    try (NodeProcess third = NodeProcess.start("restart-third", keyspace, Map.of())) {
      JsonNode ledger = new Http(third.base()).get("/v1/calls/" + active + "/ledger", 200);
      assertEquals(4, ledger.path("events").size());
      assertEquals("Resumed", ledger.path("events").get(3).path("type").asText());
      assertEquals("RECORDING", new Http(third.base()).get("/v1/calls/" + active, 200).path("state").asText());
      third.stop();
    }
  }
}
