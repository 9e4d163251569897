package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The custody of a recording on a real node and Cassandra: an export carries the SHA-256 of its
 * bytes and the ledger hash it was made from, the ledger records who made it, and the digest is
 * verified later; reads of the ledger are recorded; a legal hold refuses erasure; an erasure
 * destroys the recording's keys and deletes its audio rows, after which its audio answers 410, its
 * parties' names show erased, and its ledger, which keeps the facts, still verifies.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class CustodyIT {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static HttpResponse<byte[]> send(String method, String url, String key) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void anExportIsProvableAndAnErasureLeavesNothingReadableButTheFacts() throws Exception {
    String keyspace = "custody_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (NodeProcess node = NodeProcess.start("custody", keyspace, Map.of())) {
      Http api = node.api();
      Summary summary =
          LoadGenerator.start(
                  new Options()
                      .apiKey(TestKeys.ALL)
                      .api(node.base())
                      .prefix("custody-" + UUID.randomUUID().toString().substring(0, 8))
                      .calls(1)
                      .codec(Codec.PCMU)
                      .duration(Duration.ofSeconds(4))
                      .stopCallsAtEnd(true)
                      .seed(40))
              .await();
      CallRecord sent = summary.calls().get(0);
      String callId = sent.callId();
      String call = node.base() + "/v1/calls/" + callId;

      // An export, as a supervisor downloads it.
      HttpResponse<byte[]> wav =
          send("GET", call + "/audio.wav?layout=stereo", TestKeys.SUPERVISOR);
      assertEquals(200, wav.statusCode());
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(wav.body());
      assertEquals(
          "sha-256=:" + Base64.getEncoder().encodeToString(sha) + ":",
          wav.headers().firstValue("Repr-Digest").orElse(""),
          "the digest of the bytes sent");
      String ledgerHash = wav.headers().firstValue("CallVault-Ledger-Hash").orElse("");
      String hex = HexFormat.of().formatHex(sha);
      JsonNode events = api.get("/v1/calls/" + callId + "/ledger", 200).path("events");
      JsonNode made = null;
      boolean hashInLedger = false;
      for (JsonNode e : events) {
        if (e.path("hash").asText().equals(ledgerHash)) hashInLedger = true;
        if (e.path("type").asText().equals("ExportMade")) made = e;
      }
      assertTrue(hashInLedger, "the export was made from this ledger, up to " + ledgerHash);
      assertEquals(hex, made.path("details").path("sha256").asText());
      assertEquals("key:test-supervisor", made.path("by").asText());
      assertEquals(wav.body().length, made.path("details").path("bytes").asLong());
      JsonNode last = events.get(events.size() - 1);
      assertEquals("Accessed", last.path("type").asText(), "this very read of the ledger");
      assertEquals("ledger", last.path("details").path("what").asText());

      JsonNode verified = api.get("/v1/calls/" + callId + "/exports/verify?sha256=" + hex, 200);
      assertTrue(verified.path("made").asBoolean());
      assertEquals("key:test-supervisor", verified.path("by").asText());
      assertEquals(ledgerHash, verified.path("ledgerHash").asText());
      api.get("/v1/calls/" + callId + "/exports/verify?sha256=" + "0".repeat(64), 404);

      // A legal hold refuses the erasure; lifted, the erasure is done.
      api.post("/v1/calls/" + callId + "/legal-hold", "{\"on\":true,\"reason\":\"case 17\"}", 200);
      HttpResponse<byte[]> refused = send("DELETE", call, TestKeys.COMPLIANCE);
      assertEquals(409, refused.statusCode());
      assertTrue(new String(refused.body()).contains("case 17"), new String(refused.body()));
      assertEquals(
          403, send("DELETE", call, TestKeys.SUPERVISOR).statusCode(), "compliance's alone");
      api.post("/v1/calls/" + callId + "/legal-hold", "{\"on\":false}", 200);
      assertTrue(rows(keyspace, callId) > 0, "audio rows before the erasure");
      HttpResponse<byte[]> erased =
          send("DELETE", call + "?reason=GDPR%20Art.%2017", TestKeys.COMPLIANCE);
      assertEquals(200, erased.statusCode(), new String(erased.body()));

      assertEquals(410, send("GET", call + "/audio.wav", TestKeys.SUPERVISOR).statusCode());
      assertEquals(0, rows(keyspace, callId), "its audio rows are deleted");
      try (CqlSession session = NodeProcess.cassandra()) {
        assertEquals(
            0,
            session
                .execute(
                    "SELECT call_id FROM " + keyspace + ".recording_keys WHERE call_id = ?", callId)
                .all()
                .size(),
            "its keys are destroyed");
      }
      JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200).path("events");
      JsonNode erasure = null;
      for (JsonNode e : ledger) if (e.path("type").asText().equals("RecordingErased")) erasure = e;
      assertEquals("GDPR Art. 17", erasure.path("details").path("reason").asText());
      assertEquals("key:test-compliance", erasure.path("by").asText());
      assertTrue(
          api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean(),
          "the ledger still verifies");
      node.stop();
    }
  }

  private static long rows(String keyspace, String callId) {
    try (CqlSession session = NodeProcess.cassandra()) {
      return session
          .execute(
              "SELECT n FROM " + keyspace + ".audio_chunks WHERE call_id = ? ALLOW FILTERING",
              callId)
          .all()
          .size();
    }
  }
}
