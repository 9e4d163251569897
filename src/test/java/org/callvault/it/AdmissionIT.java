package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.callvault.api.access.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A node with no headroom left refuses new calls on both ways in, REST and SIPREC, with 503 and
 * Retry-After, and keeps nothing of them. "No headroom" is made certain here: the node is told that
 * any lag of its media event loops at all (1 ns) is too much.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class AdmissionIT {

  private static NodeProcess node;

  @BeforeAll
  static void start() throws Exception {
    String keyspace = "admission_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    node = NodeProcess.start("admission", keyspace, Map.of("CALLVAULT_ADMISSION_MAX_LAG", "1ns"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.close();
  }

  @Test
  void aNewCallOverTheApiIsRefusedWith503AndRetryAfterAndNothingOfItIsKept() throws Exception {
    Http api = new Http(node.base());
    long refusedBefore =
        api.get("/v1/health", 200).path("admission").path("refusedForHeadroom").asLong();
    String callId = "admission-" + UUID.randomUUID();
    HttpResponse<String> refused =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(node.base() + "/v1/calls"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + TestKeys.ALL)
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            """
                            {"callId":"%s","parties":[{"id":"agent","role":"AGENT"}],
                             "streams":[{"label":"agent","party":"agent","codec":"PCMU"}]}
                            """
                                .formatted(callId)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(503, refused.statusCode(), refused.body());
    assertEquals("5", refused.headers().firstValue("Retry-After").orElse(""), "Retry-After");
    assertTrue(
        refused.body().contains("takes no new call now")
            && refused.body().contains("callvault.media.admission.max-event-loop-lag"),
        refused.body());
    api.get("/v1/calls/" + callId, 404);
    long refusedAfter =
        api.get("/v1/health", 200).path("admission").path("refusedForHeadroom").asLong();
    assertTrue(
        refusedAfter > refusedBefore,
        "health counts the refusal: " + refusedBefore + " → " + refusedAfter);
  }

  @Test
  void aNewSiprecSessionIsRefusedWith503AndRetryAfter() throws Exception {
    InetSocketAddress sip = new InetSocketAddress("127.0.0.1", node.sipPort);
    byte[] answer =
        SipMessages.exchange(
                SipMessages.SIPREC_INVITE,
                sip,
                "admission-" + UUID.randomUUID(),
                Duration.ofSeconds(15))
            .orElseThrow();
    String text = new String(answer, StandardCharsets.UTF_8);
    assertEquals(503, SipMessages.status(answer), text);
    assertEquals("5", SipMessages.header(answer, "Retry-After").orElse(""), text);
    assertTrue(text.contains("takes no new call now"), text);
  }
}
