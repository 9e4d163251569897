package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The recording.* webhooks on a node on the real Cassandra: a call started, paused, resumed and
 * stopped while its receiver refuses every notice; the node is killed with the notices undelivered;
 * a node started again delivers each of them, with the id it was first tried with, signed as
 * Standard Webhooks asks (checked here with the JDK's HMAC), once the receiver takes them.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class WebhooksIT {

  private static final String SECRET = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";

  /** One POST the receiver got: its headers, body, whether its signature checked out. */
  private record Received(String id, JsonNode body, boolean signed, boolean taken) {}

  @Test
  void noticesRefusedBeforeANodeIsKilledAreDeliveredAfterItsRestartWithTheirIds() throws Exception {
    String keyspace = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String callId = "hooks-" + UUID.randomUUID();
    List<Received> received = new ArrayList<>();
    AtomicBoolean taking = new AtomicBoolean(false);
    HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/hooks",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          var h = exchange.getRequestHeaders();
          boolean taken = taking.get();
          synchronized (received) {
            received.add(
                new Received(
                    h.getFirst("webhook-id"),
                    new ObjectMapper().readTree(body),
                    signed(
                        h.getFirst("webhook-id"),
                        h.getFirst("webhook-timestamp"),
                        h.getFirst("webhook-signature"),
                        body),
                    taken));
          }
          exchange.sendResponseHeaders(taken ? 204 : 503, -1);
          exchange.close();
        });
    receiver.start();
    Map<String, String> env =
        Map.of(
            "CALLVAULT_WEBHOOK_URL",
            "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hooks",
            "CALLVAULT_WEBHOOK_SECRET",
            "whsec_" + SECRET);
    try {
      List<String> expected =
          List.of(
              "recording.started", "recording.paused", "recording.resumed", "recording.stopped");
      Map<String, Long> seqs = new HashMap<>();
      try (NodeProcess first = NodeProcess.start("hooks-1", keyspace, env)) {
        Http api = first.api();
        api.post(
            "/v1/calls",
            "{\"callId\":\""
                + callId
                + "\",\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"}],"
                + "\"streams\":[{\"label\":\"a\",\"party\":\"agent\",\"codec\":\"PCMU\"}]}",
            201);
        api.post(
            "/v1/calls/" + callId + "/pause",
            "{\"reason\":\"card payment\",\"by\":\"agent-7\"}",
            200);
        api.post("/v1/calls/" + callId + "/resume", "{\"by\":\"agent-7\"}", 200);
        api.post("/v1/calls/" + callId + "/stop", "{\"by\":\"crm\"}", 200);
        for (JsonNode e : api.get("/v1/calls/" + callId + "/ledger", 200).path("events"))
          seqs.putIfAbsent(e.path("type").asText(), e.path("seq").asLong());
        // Every notice was tried, and refused, before the kill.
        await(() -> events(received, false).containsAll(expected), received, 60);
        String metrics = new String(first.api().bytes("/metrics"), StandardCharsets.UTF_8);
        assertTrue(
            metrics.contains(
                "callvault_webhook_attempts_total{event=\"recording.paused\",outcome=\"failed\"}"),
            "failed attempts are counted");
        first.kill();
      }
      int refused;
      synchronized (received) {
        refused = received.size();
      }
      taking.set(true);
      try (NodeProcess second = NodeProcess.start("hooks-2", keyspace, env)) {
        await(() -> events(received, true).containsAll(expected), received, 120);
        synchronized (received) {
          for (Received r : received) {
            assertTrue(r.signed(), "signed as Standard Webhooks asks: " + r);
            assertEquals(callId, r.body().path("callId").asText());
          }
          for (String event : expected) {
            String type =
                switch (event) {
                  case "recording.started" -> "CallCreated";
                  case "recording.paused" -> "Paused";
                  case "recording.resumed" -> "Resumed";
                  default -> "Stopped";
                };
            List<Received> attempts =
                received.stream()
                    .filter(r -> r.body().path("event").asText().equals(event))
                    .toList();
            String id = "msg_" + callId + "_" + seqs.get(type);
            for (Received r : attempts)
              assertEquals(id, r.id(), event + ": every attempt carries the notice's one id");
            assertTrue(attempts.stream().anyMatch(Received::taken), event + " delivered");
            assertEquals(seqs.get(type).longValue(), attempts.get(0).body().path("seq").asLong());
          }
          JsonNode paused =
              received.stream()
                  .filter(r -> r.body().path("event").asText().equals("recording.paused"))
                  .findFirst()
                  .orElseThrow()
                  .body();
          assertEquals("card payment", paused.path("reason").asText());
          assertEquals("agent-7", paused.path("by").asText());
          assertEquals("PAUSED", paused.path("state").asText());
        }
        System.out.println(
            "WebhooksIT: "
                + refused
                + " attempts refused before the kill, all four delivered after");
        String metrics = new String(second.api().bytes("/metrics"), StandardCharsets.UTF_8);
        assertTrue(
            metrics.contains(
                "callvault_webhook_attempts_total{event=\"recording.stopped\",outcome=\"delivered\"}"
                    + " 1.0"),
            metrics.lines().filter(l -> l.contains("webhook")).toList().toString());
        second.stop();
      }
    } finally {
      receiver.stop(0);
    }
  }

  private static List<String> events(List<Received> received, boolean taken) {
    synchronized (received) {
      return received.stream()
          .filter(r -> r.taken() == taken)
          .map(r -> r.body().path("event").asText())
          .toList();
    }
  }

  private static void await(
      java.util.function.BooleanSupplier done, List<Received> received, int seconds)
      throws Exception {
    Instant deadline = Instant.now().plusSeconds(seconds);
    while (!done.getAsBoolean()) {
      if (Instant.now().isAfter(deadline))
        synchronized (received) {
          throw new AssertionError("the notices did not come: " + received);
        }
      Thread.sleep(200);
    }
  }

  /** Whether {@code signature} is v1's HMAC-SHA256 of id.timestamp.body under the secret. */
  private static boolean signed(String id, String timestamp, String signature, byte[] body) {
    if (id == null || timestamp == null || signature == null) return false;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(SECRET), "HmacSHA256"));
      mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return signature.equals("v1," + Base64.getEncoder().encodeToString(mac.doFinal(body)));
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }
}
