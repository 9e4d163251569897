package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A call driven through consent, pause, resume and stop on a node backed by the real Cassandra; the
 * node is stopped, a new one starts on the same Cassandra, and every call reads back the same, with
 * a ledger that verifies. A call still active at the stop is recovered by remembered entities and
 * still obeys its rules.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class CallRecordingIT {

  /**
   * The ledger once its last event is of {@code type}: a stopped call's sockets close just after
   * the stop.
   */
  private static List<JsonNode> ledgerEndingWith(Http api, String callId, String type)
      throws Exception {
    java.time.Instant deadline = java.time.Instant.now().plusSeconds(10);
    while (true) {
      List<JsonNode> changes = changes(api, callId);
      if (changes.get(changes.size() - 1).path("type").asText().equals(type)) return changes;
      if (java.time.Instant.now().isAfter(deadline))
        throw new AssertionError(
            "the ledger of " + callId + " does not end with " + type + ": " + changes);
      Thread.sleep(100);
    }
  }

  /** The call's ledger but for the records of its reads (each read of the ledger adds one). */
  private static List<JsonNode> changes(Http api, String callId) throws Exception {
    List<JsonNode> changes = new java.util.ArrayList<>();
    for (JsonNode e : api.get("/v1/calls/" + callId + "/ledger", 200).path("events"))
      if (!e.path("type").asText().equals("Accessed")) changes.add(e);
    return changes;
  }

  /**
   * The call resource without what a restart rightly changes: its media node, endpoints, counters
   * and ledger length.
   */
  private static JsonNode withoutMedia(JsonNode call) {
    com.fasterxml.jackson.databind.node.ObjectNode copy = call.deepCopy();
    copy.remove("ledger");
    copy.remove("media");
    copy.path("streams")
        .forEach(
            s -> {
              ((com.fasterxml.jackson.databind.node.ObjectNode) s).remove("rtp");
              ((com.fasterxml.jackson.databind.node.ObjectNode) s).remove("stats");
            });
    return copy;
  }

  @Test
  void aCallsStateAndLedgerSurviveANodeRestartOnTheSameCassandra() throws Exception {
    String keyspace = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String finished = "finished-" + UUID.randomUUID();
    String active = "active-" + UUID.randomUUID();
    String parties =
        "\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"},{\"id\":\"customer\",\"role\":\"CUSTOMER\"}],"
            + "\"streams\":[{\"label\":\"a\",\"party\":\"agent\",\"codec\":\"PCMU\"},{\"label\":\"c\",\"party\":\"customer\",\"codec\":\"PCMU\"}]";

    JsonNode finishedBefore, activeBefore;
    List<JsonNode> finishedLedgerBefore;
    try (NodeProcess first = NodeProcess.start("restart-first", keyspace, Map.of())) {
      Http api = new Http(first.base());
      api.post(
          "/v1/calls",
          "{\"callId\":\""
              + finished
              + "\",\"policy\":{\"consentMode\":\"ALL_PARTY\"},"
              + parties
              + "}",
          201);
      api.post(
          "/v1/calls/" + finished + "/consent",
          "{\"party\":\"agent\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}",
          200);
      JsonNode granted =
          api.post(
              "/v1/calls/" + finished + "/consent",
              "{\"party\":\"customer\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}",
              200);
      assertEquals("RECORDING", granted.path("state").asText());
      api.post(
          "/v1/calls/" + finished + "/pause",
          "{\"reason\":\"card payment\",\"by\":\"agent-7\"}",
          200);
      api.post("/v1/calls/" + finished + "/resume", "{\"by\":\"agent-7\"}", 200);
      JsonNode stopped = api.post("/v1/calls/" + finished + "/stop", "{\"by\":\"crm\"}", 200);
      assertEquals("STOPPED", stopped.path("state").asText());

      api.post(
          "/v1/calls",
          "{\"callId\":\""
              + active
              + "\",\"policy\":{\"onDecline\":\"RECORD_OTHERS\"},"
              + parties
              + "}",
          201);
      api.post(
          "/v1/calls/" + active + "/consent",
          "{\"party\":\"customer\",\"decision\":\"DECLINED\"}",
          200);
      api.post(
          "/v1/calls/" + active + "/pause",
          "{\"reason\":\"card payment\",\"by\":\"agent-7\"}",
          200);

      finishedBefore = api.get("/v1/calls/" + finished, 200);
      finishedLedgerBefore = ledgerEndingWith(api, finished, "MediaReleased");
      activeBefore = api.get("/v1/calls/" + active, 200);
      first.stop();
    }

    try (NodeProcess second = NodeProcess.start("restart-second", keyspace, Map.of())) {
      Http api = new Http(second.base());
      assertEquals(
          withoutMedia(finishedBefore), withoutMedia(api.get("/v1/calls/" + finished, 200)));
      assertEquals(finishedLedgerBefore, changes(api, finished));
      assertEquals(
          8,
          finishedLedgerBefore.size(),
          "created, media bound, two consents, pause, resume, stop, media released");
      JsonNode verified = api.get("/v1/calls/" + finished + "/ledger/verify", 200);
      assertTrue(verified.path("valid").asBoolean(), verified.toString());
      JsonNode all = api.get("/v1/calls/" + finished + "/ledger", 200).path("events");
      assertEquals(
          all.get(verified.path("events").asInt() - 1).path("hash").asText(),
          verified.path("lastHash").asText(),
          "the chain verifies up to the verification's own record");
      assertEquals(
          "no change is accepted after stop",
          api.post("/v1/calls/" + finished + "/pause", "{\"reason\":\"r\",\"by\":\"b\"}", 409)
              .path("error")
              .asText()
              .replaceAll(".*: ", ""));

      JsonNode activeAfter = api.get("/v1/calls/" + active, 200);
      assertEquals(withoutMedia(activeBefore), withoutMedia(activeAfter));
      assertTrue(
          activeAfter.path("streams").get(0).path("rtp").path("port").asInt() > 0,
          "the recovered call bound its sockets again");
      assertEquals("PAUSED", activeAfter.path("state").asText());
      JsonNode resumed = api.post("/v1/calls/" + active + "/resume", "{\"by\":\"agent-7\"}", 200);
      assertEquals("OPEN", resumed.path("streams").get(0).path("gate").asText());
      assertEquals(
          "CLOSED",
          resumed.path("streams").get(1).path("gate").asText(),
          "the customer declined under RECORD_OTHERS");
      assertTrue(api.get("/v1/calls/" + active + "/ledger/verify", 200).path("valid").asBoolean());

      second.kill();
    }

    // After a crash (SIGKILL), a third node reads the same ledger: every acknowledged change is
    // there.
    try (NodeProcess third = NodeProcess.start("restart-third", keyspace, Map.of())) {
      JsonNode ledger = new Http(third.base()).get("/v1/calls/" + active + "/ledger", 200);
      java.util.List<String> changes = new java.util.ArrayList<>();
      for (JsonNode event : ledger.path("events")) {
        String type = event.path("type").asText();
        if (!List.of("MediaBound", "MediaReleased", "Accessed").contains(type)) changes.add(type);
      }
      assertEquals(List.of("CallCreated", "ConsentChanged", "Paused", "Resumed"), changes);
      assertEquals(
          "RECORDING",
          new Http(third.base()).get("/v1/calls/" + active, 200).path("state").asText());
      third.stop();
    }
  }
}
