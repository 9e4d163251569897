package org.callvault.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.callvault.api.access.Role;
import org.callvault.api.access.TestKeys;
import org.callvault.call.Calls;
import org.callvault.call.Ledger;
import org.callvault.call.Policy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API over HTTP, on a one-node cluster with sharding and the in-memory journal: every endpoint,
 * every error status, and that a refused request changes nothing.
 */
class CallRoutesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static OneNodeApi node;
  private static ActorTestKit testKit;
  private static String base;
  private static ApiServer api;

  @BeforeAll
  static void start() throws Exception {
    node = OneNodeApi.start("CallRoutesTest");
    testKit = node.testKit;
    base = node.base;
    api = node.api;
    assertEquals(200, get("/v1/health").statusCode());
  }

  @Test
  void aBodyNestedFiveThousandLevelsDeepIsRefusedWith400AndAJsonError() {
    String deep = "{\"a\":".repeat(5000) + "1" + "}".repeat(5000);
    assertError(post("/v1/calls", deep), 400, "malformed JSON", "nesting depth");
    String callId = create("{}");
    assertError(post("/v1/calls/" + callId + "/pause", deep), 400, "malformed JSON");
    String deepArray = "[".repeat(5000) + "]".repeat(5000);
    assertError(post("/v1/calls", deepArray), 400, "malformed JSON");
  }

  /**
   * Random and mutated requests: methods, paths, headers and bodies. None is answered 5xx, every
   * refusal is the JSON {@code {"status","error"}} with the status it is sent with, and the call
   * they aim at is unchanged: each body sent to it is broken on purpose.
   */
  @Test
  void noFuzzedRequestIsAnsweredWithA5xxOrChangesACall() throws Exception {
    String callId = create("{}");
    String before = changes(callId).toString();
    java.util.Random random = new java.util.Random(10);
    String[] methods = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    String[] tails = {
      "",
      "/pause",
      "/resume",
      "/stop",
      "/consent",
      "/parties",
      "/ledger",
      "/ledger/verify",
      "/timeline",
      "/audio.wav",
      "/audio.wav?layout=stereo",
      "/audio.wav?layout=stream&label=x",
      "/audio.wav?layout=%ZZ",
      "/%00",
      "/..",
      "/pause/extra",
      "?x=" + "y".repeat(3000)
    };
    String[] ids = {
      callId, "nope", "", "%2e%2e", "a".repeat(300), "id with space", "%F0%9F%98%80", "-", "x%00y"
    };
    String valid = twoPartyCall(newId(), "{}");
    java.util.Map<Integer, Integer> statuses = new java.util.TreeMap<>();
    for (int i = 0; i < 1500; i++) {
      String method = methods[random.nextInt(methods.length)];
      String path =
          switch (random.nextInt(5)) {
            case 0 -> "/v1/calls";
            case 1 -> "/v1/health" + (random.nextBoolean() ? "" : "/x");
            case 2 -> "/" + randomText(random, 1 + random.nextInt(20)).replaceAll("[^a-z/]", "");
            default ->
                "/v1/calls/"
                    + ids[random.nextInt(ids.length)]
                    + tails[random.nextInt(tails.length)];
          };
      String body = broken(random, valid);
      HttpRequest.Builder request;
      try {
        request =
            HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.ofString(body));
      } catch (IllegalArgumentException notAUri) {
        continue; // not a request an HTTP client can send
      }
      if (random.nextBoolean())
        request.header(
            "Content-Type",
            List.of(
                    "application/json",
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "*/*;q=x")
                .get(random.nextInt(4)));
      if (random.nextInt(4) == 0) request.header("Accept", "image/png");
      switch (random.nextInt(6)) {
        case 0 -> {} // none: 401
        case 1 -> request.header("Authorization", "Bearer " + ascii(randomText(random, 40)));
        case 2 -> request.header("Authorization", ascii(randomText(random, 20)));
        case 3 -> request.header("Authorization", "Bearer " + TestKeys.SUPERVISOR);
        default -> request.header("Authorization", "Bearer " + TestKeys.ALL);
      }
      HttpResponse<byte[]> answer;
      try {
        answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (java.io.IOException closedAfterARefusal) {
        // The server may close a connection after refusing a request on it (HTTP allows it);
        // the client's next request on that connection fails and is sent again, once.
        answer = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      }
      int status = answer.statusCode();
      statuses.merge(status, 1, Integer::sum);
      String what = method + " " + path + " with " + abbreviated(body) + ": " + status;
      // This node has no audio store nor read model (both live in Cassandra): its 503s say so.
      boolean notHere =
          status == 503
              && (new String(answer.body()).contains("this node stores no audio")
                  || new String(answer.body()).contains("this node keeps no read model"));
      assertTrue(status < 500 || notHere, what + " " + new String(answer.body()));
      if (status >= 400) {
        assertEquals(
            "application/json", answer.headers().firstValue("Content-Type").orElse(""), what);
        JsonNode error = JSON.readTree(answer.body());
        assertEquals(status, error.path("status").asInt(), what + " " + error);
        assertTrue(!error.path("error").asText().isBlank(), what + " " + error);
      }
    }
    System.out.println("fuzzed requests by status: " + statuses);
    assertTrue(statuses.keySet().stream().anyMatch(s -> s == 400), "bodies were refused");
    assertTrue(statuses.keySet().stream().anyMatch(s -> s == 404), "paths were refused");
    assertEquals(before, changes(callId).toString(), "nothing but reads recorded");
  }

  /** The call's ledger but for the records of who read it (each read of the ledger adds one). */
  private static List<JsonNode> changes(String callId) {
    List<JsonNode> changes = new java.util.ArrayList<>();
    for (JsonNode e : get("/v1/calls/" + callId + "/ledger").body().path("events"))
      if (!List.of("Accessed", "ExportMade").contains(e.path("type").asText())) changes.add(e);
    return changes;
  }

  /** Text that no request takes: {@code valid} mutated until it is no JSON, or random text. */
  private static String broken(java.util.Random random, String valid) {
    return switch (random.nextInt(6)) {
      case 0 -> "";
      case 1 -> randomText(random, random.nextInt(200));
      case 2 -> valid.substring(0, random.nextInt(valid.length() - 1)); // cut short
      case 3 -> valid + "}" + randomText(random, 3); // trailing garbage
      case 4 -> "{\"a\":".repeat(2000 + random.nextInt(4000)); // deep and unterminated
      default -> {
        StringBuilder mutated = new StringBuilder(valid);
        for (int k = 0; k < 1 + random.nextInt(5); k++)
          mutated.setCharAt(
              random.nextInt(mutated.length()), "{}[]\",:x9".charAt(random.nextInt(9)));
        yield mutated + "\u0001"; // never valid JSON: a control character after the value
      }
    };
  }

  private static String randomText(java.util.Random random, int length) {
    StringBuilder text = new StringBuilder();
    for (int k = 0; k < length; k++) text.append((char) (random.nextInt(0x3000) + 1));
    return text.toString();
  }

  /** {@code text} with what a header may not carry replaced. */
  private static String ascii(String text) {
    return text.replaceAll("[^!-~]", "x");
  }

  private static String abbreviated(String body) {
    return body.length() > 80 ? body.substring(0, 80) + "…(" + body.length() + " chars)" : body;
  }

  @Test
  void aNodeWhoseSpoolHoldsChunksIsDegradedButStillTakesCalls() throws Exception {
    node.spooled = 3;
    try {
      var answer = get("/v1/health");
      assertEquals(200, answer.statusCode(), answer.body().toString());
      JsonNode health = answer.body();
      assertEquals("DEGRADED", health.path("status").asText());
      assertEquals(3, health.path("spool").path("chunks").asInt());
      assertEquals(27900, health.path("spool").path("bytes").asLong());
      assertEquals(4, health.path("spool").path("oldestAgeSeconds").asLong(), 1);
      assertTrue(health.path("reason").asText().contains("3 chunks wait in the spool"));
    } finally {
      node.spooled = 0;
    }
    JsonNode up = get("/v1/health").body();
    assertEquals("UP", up.path("status").asText());
    assertEquals(0, up.path("spool").path("chunks").asInt());
  }

  /**
   * {@code GET /metrics}: open, as health is, in Prometheus's text format: the node's numbers as
   * its status says them, the JVM's, and the API's refusals as they happen.
   */
  @Test
  void metricsAreOpenAndCarryTheNodesNumbersInPrometheusTextFormat() {
    node.spooled = 3;
    try {
      Answer scrape = get("/metrics", null);
      assertEquals(200, scrape.statusCode());
      String text = scrape.raw().body();
      assertTrue(text.contains("# TYPE callvault_packets_received_total counter"), text);
      assertEquals(3, metric(text, "callvault_spool_chunks"));
      assertEquals(27900, metric(text, "callvault_spool_bytes"));
      assertEquals(4, metric(text, "callvault_spool_oldest_age_seconds"), 1);
      assertEquals(1, metric(text, "callvault_node_up"));
      assertEquals(0, metric(text, "callvault_packets_received_total"));
      assertTrue(metric(text, "jvm_memory_used_bytes{area=\"heap\"}") > 0, "the JVM's own");

      double refused = metric(text, "callvault_auth_refused_total");
      assertEquals(401, get("/v1/calls/any", TestKeys.ALL.substring(0, 20) + "x").statusCode());
      assertEquals(
          refused + 1, metric(get("/metrics", null).raw().body(), "callvault_auth_refused_total"));
    } finally {
      node.spooled = 0;
    }
    assertEquals(0, metric(get("/metrics", null).raw().body(), "callvault_spool_chunks"));
  }

  /** The value of the sample {@code name} (with its labels, if any) in a scrape. */
  private static double metric(String scrape, String name) {
    for (String line : scrape.split("\n"))
      if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1));
    throw new AssertionError("no sample " + name + " in:\n" + scrape);
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  // -------------------------------------------------------------------------------- helpers

  record Answer(int statusCode, JsonNode body, HttpResponse<String> raw) {}

  private static Answer send(HttpRequest request) {
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      String type = response.headers().firstValue("Content-Type").orElse("");
      if (request.uri().getPath().equals("/metrics") && response.statusCode() == 200) {
        assertEquals("text/plain; charset=UTF-8", type); // Prometheus's text format
        return new Answer(response.statusCode(), JSON.nullNode(), response);
      }
      if (ConsoleRoutesTest.isPage(request.uri().getPath()) && response.statusCode() < 400)
        return new Answer(response.statusCode(), JSON.nullNode(), response); // HTML, or a redirect
      JsonNode body = response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
      assertEquals("application/json", type, response.body());
      return new Answer(response.statusCode(), body, response);
    } catch (Exception e) {
      throw new AssertionError(request.method() + " " + request.uri() + " failed", e);
    }
  }

  private static Answer get(String path) {
    return get(path, TestKeys.ALL);
  }

  /** A GET with {@code key}'s credentials, or none for null. */
  private static Answer get(String path, String key) {
    return send(authorized(HttpRequest.newBuilder(URI.create(base + path)), key).GET().build());
  }

  private static Answer post(String path, String body) {
    return post(path, body, TestKeys.ALL);
  }

  private static Answer post(String path, String body, String key) {
    return send(
        authorized(HttpRequest.newBuilder(URI.create(base + path)), key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  private static HttpRequest.Builder authorized(HttpRequest.Builder request, String key) {
    return key == null ? request : request.header("Authorization", "Bearer " + key);
  }

  private static String newId() {
    return "call-" + UUID.randomUUID();
  }

  private static String twoPartyCall(String callId, String policy) {
    return """
    {"callId":"%s","policy":%s,
     "parties":[{"id":"agent","role":"AGENT"},{"id":"customer","role":"CUSTOMER"}],
     "streams":[{"label":"agent-leg","party":"agent","codec":"PCMU"},
                {"label":"customer-leg","party":"customer","codec":"PCMA"}]}
    """
        .formatted(callId, policy);
  }

  private static String create(String policy) {
    String callId = newId();
    Answer created = post("/v1/calls", twoPartyCall(callId, policy));
    assertEquals(201, created.statusCode(), created.body().toString());
    return callId;
  }

  private static long ledgerSize(String callId) {
    return get("/v1/calls/" + callId).body().path("ledger").path("events").asLong();
  }

  private static void assertError(Answer answer, int status, String... fragments) {
    assertEquals(status, answer.statusCode(), answer.body().toString());
    assertEquals(status, answer.body().path("status").asInt());
    String error = answer.body().path("error").asText();
    for (String fragment : fragments)
      assertTrue(error.contains(fragment), "'" + error + "' should contain '" + fragment + "'");
  }

  private static List<String> gates(JsonNode call) {
    return List.of(
        call.path("streams").get(0).path("gate").asText(),
        call.path("streams").get(1).path("gate").asText());
  }

  // ---------------------------------------------------------------------------------- tests

  @Test
  void creatingACallAnswers201WithTheCallResourceAndItsLocation() {
    String callId = newId();
    Answer answer =
        post(
            "/v1/calls",
            twoPartyCall(callId, "{\"consentMode\":\"ALL_PARTY\",\"maxPauseSeconds\":60}"));
    assertEquals(201, answer.statusCode());
    assertEquals("/v1/calls/" + callId, answer.raw().headers().firstValue("Location").orElse(""));
    JsonNode call = answer.body();
    assertEquals(callId, call.path("callId").asText());
    assertEquals("AWAITING_CONSENT", call.path("state").asText());
    assertEquals("ALL_PARTY", call.path("policy").path("consentMode").asText());
    assertEquals(60, call.path("policy").path("maxPauseSeconds").asInt());
    assertEquals(
        "STOP",
        call.path("policy").path("onDecline").asText(),
        "left-out policy fields take the configured defaults");
    assertEquals(90, call.path("policy").path("retentionDays").asInt());
    assertEquals("UNKNOWN", call.path("parties").get(1).path("consent").asText());
    assertEquals(List.of("CLOSED", "CLOSED"), gates(call));
    assertEquals("PCMA", call.path("streams").get(1).path("codec").asText());
    assertEquals(1, call.path("ledger").path("events").asInt());

    assertEquals(call, get("/v1/calls/" + callId).body());
  }

  @Test
  void aCallCreatedWithoutAnIdGetsOne() {
    Answer answer =
        post("/v1/calls", "{\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"}],\"streams\":[]}");
    assertEquals(201, answer.statusCode(), answer.body().toString());
    String callId = answer.body().path("callId").asText();
    assertEquals(36, callId.length());
    assertEquals("RECORDING", get("/v1/calls/" + callId).body().path("state").asText());
  }

  @Test
  void creationIsIdempotentOnTheCallIdAndADifferentBodyConflicts() {
    String callId = newId();
    String body = twoPartyCall(callId, "{}");
    assertEquals(201, post("/v1/calls", body).statusCode());
    Answer again = post("/v1/calls", body);
    assertEquals(201, again.statusCode());
    assertTrue(again.body().path("note").asText().contains("already exists with this definition"));
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"pauseAllowed\":false}")),
        409,
        "different definition");
    assertEquals(1, ledgerSize(callId));
  }

  @Test
  void badCreationBodiesAreRefusedWith400NamingTheField() {
    String callId = newId();
    assertError(post("/v1/calls", "{\"callId\":"), 400, "malformed JSON");
    assertError(post("/v1/calls", "[1,2]"), 400, "must be a JSON object");
    assertError(
        post("/v1/calls", "{\"callId\":\"" + callId + "\"}"), 400, "field 'parties' is required");
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"pauseAllowed\":\"yes\"}")),
        400,
        "'policy.pauseAllowed' must be true or false");
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"consentMode\":\"TWO_PARTY\"}")),
        400,
        "'policy.consentMode' must be one of ONE_PARTY, ALL_PARTY, was 'TWO_PARTY'");
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"maxPauseSeconds\":0}")),
        400,
        "policy.maxPauseSeconds must be between 1");
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"maxDurationSeconds\":59}")),
        400,
        "policy.maxDurationSeconds must be between 60 and 604800, was 59");
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"noMediaSeconds\":5}")),
        400,
        "policy.noMediaSeconds must be between 10 and 86400, was 5");
    assertError(
        post("/v1/calls", twoPartyCall(callId, "{\"consentmode\":\"ALL_PARTY\"}")),
        400,
        "unknown field 'policy.consentmode'");
    assertError(
        post(
            "/v1/calls",
            "{\"callId\":\""
                + callId
                + "\",\"parties\":[{\"id\":\"a\",\"role\":\"BOSS\"}],\"streams\":[]}"),
        400,
        "'parties[0].role' must be one of AGENT, CUSTOMER, OTHER, was 'BOSS'");
    assertError(
        post(
            "/v1/calls",
            "{\"callId\":\""
                + callId
                + "\",\"parties\":[{\"id\":\"a\",\"role\":\"AGENT\"}],"
                + "\"streams\":[{\"label\":\"x\",\"party\":\"a\",\"codec\":\"PCMU\"},{\"label\":\"x\",\"party\":\"b\",\"codec\":\"PCMU\"}]}"),
        400,
        "streams[1].label 'x' is a duplicate",
        "streams[1].party 'b' is not one of the parties");
    assertError(
        post(
            "/v1/calls",
            "{\"callId\":\""
                + callId
                + "\",\"parties\":[{\"id\":\"a\",\"role\":\"AGENT\"}],\"streams\":[{\"label\":\"x\",\"party\":\"a\",\"codec\":\"OPUS\"}]}"),
        400,
        "'streams[0].codec' must be one of PCMU, PCMA, G722");
    assertError(
        post("/v1/calls", "{\"callId\":\"no spaces\",\"parties\":[],\"streams\":[]}"),
        400,
        "field 'callId' must be");
    assertError(
        post(
            "/v1/calls",
            "{\"callId\":\""
                + callId
                + "\",\"webhook\":\"ftp://x\",\"parties\":[{\"id\":\"a\",\"role\":\"AGENT\"}],\"streams\":[]}"),
        400,
        "webhook must be an http:// or https:// URL");
    assertError(get("/v1/calls/" + callId), 404, "no call with id");
  }

  @Test
  void anUnknownCallIs404AndAMalformedIdIs400() {
    String callId = newId();
    assertError(get("/v1/calls/" + callId), 404, "no call with id '" + callId + "'");
    assertError(
        post("/v1/calls/" + callId + "/pause", "{\"reason\":\"r\",\"by\":\"b\"}"), 404, "no call");
    assertError(get("/v1/calls/" + callId + "/ledger"), 404, "no call");
    assertError(get("/v1/calls/" + callId + "/ledger/verify"), 404, "no call");
    assertError(get("/v1/calls/bad%20id"), 400, "call id must be");
  }

  @Test
  void consentIsRecordedAndOpensTheGatesOfAnAllPartyCall() {
    String callId = create("{\"consentMode\":\"ALL_PARTY\"}");
    Answer agent =
        post(
            "/v1/calls/" + callId + "/consent",
            "{\"party\":\"agent\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}");
    assertEquals(200, agent.statusCode());
    assertEquals(List.of("CLOSED", "CLOSED"), gates(agent.body()));
    Answer customer =
        post(
            "/v1/calls/" + callId + "/consent",
            "{\"party\":\"customer\",\"decision\":\"GRANTED\"}");
    assertEquals("RECORDING", customer.body().path("state").asText());
    assertEquals(List.of("OPEN", "OPEN"), gates(customer.body()));
    assertEquals(
        "customer",
        customer.body().path("parties").get(1).path("consentBy").asText(),
        "by defaults to the party");
    assertEquals("ivr", customer.body().path("parties").get(0).path("consentBy").asText());
  }

  @Test
  void badConsentRequestsAreRefusedAndChangeNothing() {
    String callId = create("{\"onDecline\":\"RECORD_OTHERS\"}");
    String path = "/v1/calls/" + callId + "/consent";
    assertError(
        post(path, "{\"party\":\"boss\",\"decision\":\"GRANTED\"}"), 400, "'boss' is not a party");
    assertError(
        post(path, "{\"party\":\"agent\",\"decision\":\"MAYBE\"}"),
        400,
        "'decision' must be one of UNKNOWN, GRANTED, DECLINED, WITHDRAWN");
    assertError(
        post(path, "{\"party\":\"agent\",\"decision\":\"UNKNOWN\"}"),
        400,
        "'decision' must be one of GRANTED, DECLINED, WITHDRAWN");
    assertError(post(path, "{\"party\":\"agent\"}"), 400, "field 'decision' is required");
    assertError(
        post(path, "{\"party\":7,\"decision\":\"GRANTED\"}"),
        400,
        "field 'party' must be a string, was number 7");
    assertError(
        post(path, "{\"party\":\"agent\",\"decision\":\"WITHDRAWN\"}"),
        409,
        "only GRANTED consent can be withdrawn");
    assertEquals(1, ledgerSize(callId));
  }

  @Test
  void pauseAndResumeCloseAndReopenTheGates() {
    String callId = create("{}");
    Answer paused =
        post("/v1/calls/" + callId + "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}");
    assertEquals(200, paused.statusCode());
    assertEquals("PAUSED", paused.body().path("state").asText());
    assertEquals(List.of("CLOSED", "CLOSED"), gates(paused.body()));
    JsonNode pause = paused.body().path("pauses").get(0);
    assertEquals("card payment", pause.path("reason").asText());
    assertEquals("agent-7", pause.path("by").asText());
    assertTrue(pause.path("end").isMissingNode());

    Answer again =
        post("/v1/calls/" + callId + "/pause", "{\"reason\":\"other\",\"by\":\"agent-8\"}");
    assertEquals(200, again.statusCode());
    assertTrue(again.body().path("note").asText().contains("already paused"));

    Answer resumed = post("/v1/calls/" + callId + "/resume", "{\"by\":\"agent-7\"}");
    assertEquals("RECORDING", resumed.body().path("state").asText());
    assertEquals(List.of("OPEN", "OPEN"), gates(resumed.body()));
    assertEquals("agent-7", resumed.body().path("pauses").get(0).path("resumedBy").asText());
    assertEquals(3, ledgerSize(callId));
  }

  @Test
  void aPauseOnALineThatMustBeRecordedInFullIs409WithTheRule() {
    String callId = create("{\"pauseAllowed\":false}");
    assertError(
        post("/v1/calls/" + callId + "/pause", "{\"reason\":\"card\",\"by\":\"agent\"}"),
        409,
        "pauseAllowed=false");
    assertError(
        post("/v1/calls/" + callId + "/pause", "{\"by\":\"agent\"}"),
        400,
        "field 'reason' is required");
    assertError(post("/v1/calls/" + callId + "/resume", "{}"), 400, "field 'by' is required");
    assertEquals("RECORDING", get("/v1/calls/" + callId).body().path("state").asText());
    assertEquals(1, ledgerSize(callId));
  }

  @Test
  void afterStopEveryChangeIs409() {
    String callId = create("{}");
    Answer stopped = post("/v1/calls/" + callId + "/stop", "");
    assertEquals(200, stopped.statusCode());
    assertEquals("STOPPED", stopped.body().path("state").asText());
    assertEquals(
        "key:test", stopped.body().path("stoppedBy").asText(), "the key that asked, unless named");
    assertError(
        post("/v1/calls/" + callId + "/pause", "{\"reason\":\"r\",\"by\":\"b\"}"),
        409,
        "no change is accepted after stop");
    assertError(
        post("/v1/calls/" + callId + "/consent", "{\"party\":\"agent\",\"decision\":\"DECLINED\"}"),
        409,
        "after stop");
    assertTrue(
        post("/v1/calls/" + callId + "/stop", "{\"by\":\"crm\"}")
            .body()
            .path("note")
            .asText()
            .contains("already stopped"));
    assertEquals(
        "STOPPED",
        get("/v1/calls/" + callId).body().path("state").asText(),
        "a stopped call can still be read");
    assertEquals(2, ledgerSize(callId));
  }

  @Test
  void theLedgerListsEveryEventInOrderAndVerifies() {
    String callId = create("{\"consentMode\":\"ALL_PARTY\"}");
    post("/v1/calls/" + callId + "/consent", "{\"party\":\"agent\",\"decision\":\"GRANTED\"}");
    post("/v1/calls/" + callId + "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}");
    post("/v1/calls/" + callId + "/resume", "{\"by\":\"agent-7\"}");
    post("/v1/calls/" + callId + "/stop", "{\"by\":\"crm\"}");

    JsonNode events = get("/v1/calls/" + callId + "/ledger").body().path("events");
    assertEquals(6, events.size());
    List<String> types =
        List.of("CallCreated", "ConsentChanged", "Paused", "Resumed", "Stopped", "Accessed");
    JsonNode read = events.get(5);
    assertEquals("key:test", read.path("by").asText(), "this read of the ledger, recorded first");
    assertEquals("ledger", read.path("details").path("what").asText());
    assertEquals(
        "recorder,supervisor,compliance,admin", read.path("details").path("roles").asText());
    String prev = Ledger.GENESIS;
    for (int i = 0; i < events.size(); i++) {
      JsonNode e = events.get(i);
      assertEquals(i + 1, e.path("seq").asInt());
      assertEquals(types.get(i), e.path("type").asText());
      assertEquals(prev, e.path("prevHash").asText());
      assertEquals(64, e.path("hash").asText().length());
      assertFalse(Instant.parse(e.path("time").asText()).isAfter(Instant.now()));
      prev = e.path("hash").asText();
    }
    assertEquals("agent", events.get(1).path("details").path("party").asText());
    assertEquals("GRANTED", events.get(1).path("details").path("decision").asText());
    assertEquals("UNKNOWN", events.get(1).path("details").path("previous").asText());
    assertEquals("card payment", events.get(2).path("details").path("reason").asText());
    assertEquals("agent-7", events.get(2).path("by").asText());
    assertEquals("crm", events.get(4).path("by").asText());
    assertEquals(
        "ALL_PARTY",
        events.get(0).path("details").path("spec").path("policy").path("consentMode").asText());

    JsonNode verified = get("/v1/calls/" + callId + "/ledger/verify").body();
    assertTrue(verified.path("valid").asBoolean(), verified.toString());
    assertEquals(7, verified.path("events").asInt(), "with the two reads: the ledger's, its own");
    JsonNode after = get("/v1/calls/" + callId + "/ledger").body().path("events");
    assertEquals(prev, after.get(6).path("prevHash").asText(), "the verification's record follows");
    assertEquals("verification", after.get(6).path("details").path("what").asText());
    assertEquals(after.get(6).path("hash").asText(), verified.path("lastHash").asText());
  }

  @Test
  void verifyingATamperedLedgerSaysWhereAndWhyTheChainBreaks() {
    String callId = newId();
    node.persistTamperedLedger(callId);

    JsonNode verified = get("/v1/calls/" + callId + "/ledger/verify").body();
    assertFalse(verified.path("valid").asBoolean());
    assertEquals(4, verified.path("events").asInt(), "the three, and the verification's record");
    assertEquals(2, verified.path("brokenAt").asInt());
    assertTrue(
        verified.path("reason").asText().contains("does not match the recomputed hash"),
        verified.toString());
  }

  /**
   * Every route of the API's table, asked by each role's key and with none: without credentials 401
   * (but for the open health check), with a role the route does not name 403 with the roles it
   * needs and nothing changed, with one it names neither. A route added to the table is walked here
   * too; none can be added without its roles.
   */
  @Test
  void everyRouteAnswersEachRoleAsItsRulesSay() {
    List<RouteTable.Entry> routes = api.table().entries();
    assertTrue(routes.size() >= 10, "the table: " + routes.size() + " routes");
    for (RouteTable.Entry route : routes) {
      String callId = create("{}");
      String path =
          route
              .path()
              .replace("{id}", callId)
              .replace("{seq}", "1")
              .replace("{file}", "index.html")
              // This node: the only member, which a drain refuses (409) rather than lose.
              .replace("{address}", URLEncoder.encode(node.address(), StandardCharsets.UTF_8));
      String where = route.method().value() + " " + route.path();
      Answer anonymous = ask(route, path, null);
      if (route.access().open()) {
        assertTrue(anonymous.statusCode() < 400, where + " is open: " + anonymous.statusCode());
        continue;
      }
      assertEquals(401, anonymous.statusCode(), where + " without credentials");
      assertTrue(anonymous.body().path("error").asText().contains("needs credentials"), where);
      assertEquals(
          "Bearer realm=callvault",
          anonymous.raw().headers().firstValue("WWW-Authenticate").orElse("").replace("\"", ""));
      assertEquals(
          401, ask(route, path, TestKeys.ALL.substring(0, 20) + "x").statusCode(), "a wrong key");
      long ledger = changes(callId).size();
      for (Role role : Role.values()) {
        if (route.access().roles().contains(role)) continue;
        Answer refused = ask(route, path, TestKeys.of(role));
        assertEquals(403, refused.statusCode(), where + " as " + role);
        String error = refused.body().path("error").asText();
        for (Role needed : route.access().roles())
          assertTrue(error.contains(needed.id()), where + " names " + needed.id() + ": " + error);
        assertTrue(error.contains("key:test-" + role.id()), error);
      }
      assertEquals(ledger, changes(callId).size(), where + ": refused requests change nothing");
      for (Role role : route.access().roles()) {
        int status = ask(route, path, TestKeys.of(role)).statusCode();
        assertTrue(status != 401 && status != 403, where + " as " + role + ": " + status);
      }
    }
  }

  private static Answer ask(RouteTable.Entry route, String path, String key) {
    return switch (route.method().value()) {
      case "POST" -> post(path, "{\"by\":\"qa\",\"reason\":\"card\"}", key);
      case "DELETE" ->
          send(authorized(HttpRequest.newBuilder(URI.create(base + path)), key).DELETE().build());
      default -> get(path, key);
    };
  }

  /**
   * With a PKCS12 keystore the API speaks HTTPS: a client that trusts the certificate reads it,
   * credentials are checked as over HTTP, and plain HTTP gets no answer from it.
   */
  @Test
  void withAKeystoreTheApiSpeaksHttpsOnly(@TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path keystore =
        org.callvault.it.Certificates.selfSigned(dir.resolve("api.p12"), "changeit");
    ApiServer https =
        node.apiServer(
            new ApiServer.Settings("127.0.0.1", 0, keystore, "changeit".toCharArray()),
            node.routes);
    ServerBinding binding = https.start().toCompletableFuture().get();
    try {
      int port = binding.localAddress().getPort();
      HttpClient client =
          HttpClient.newBuilder()
              .sslContext(org.callvault.it.Certificates.trusting(keystore, "changeit"))
              .build();
      HttpResponse<String> health =
          client.send(
              HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/v1/health"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode(), health.body());
      String callId = create("{}");
      URI call = URI.create("https://127.0.0.1:" + port + "/v1/calls/" + callId);
      assertEquals(
          401,
          client
              .send(HttpRequest.newBuilder(call).build(), HttpResponse.BodyHandlers.ofString())
              .statusCode());
      HttpResponse<String> read =
          client.send(
              HttpRequest.newBuilder(call)
                  .header("Authorization", "Bearer " + TestKeys.SUPERVISOR)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, read.statusCode(), read.body());
      assertEquals(callId, JSON.readTree(read.body()).path("callId").asText());
      assertTrue(https.https());
      org.junit.jupiter.api.Assertions.assertThrows(
          java.io.IOException.class,
          () ->
              HTTP.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/health"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()),
          "plain HTTP is not answered");
      org.junit.jupiter.api.Assertions.assertThrows(
          java.io.IOException.class,
          () ->
              HttpClient.newHttpClient()
                  .send(
                      HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/v1/health"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString()),
          "a client that does not trust the certificate gets nothing");
    } finally {
      binding.unbind().toCompletableFuture().get();
    }
  }

  /**
   * A party's name and address of record reach the ledger sealed under the call's keys, the same
   * each time (so a creation sent again is the same call), and the call resource shows them opened;
   * once the keys are destroyed it shows them erased, and the ledger still verifies.
   */
  @Test
  void personalFieldsAreSealedInTheLedgerAndShownOpenedUntilTheKeysAreDestroyed() throws Exception {
    org.callvault.store.TestPersonalData personal = new org.callvault.store.TestPersonalData();
    var callvault = testKit.system().settings().config().getConfig("callvault");
    CallRoutes sealing =
        new CallRoutes(
            testKit.system(),
            new Calls(testKit.system(), callvault.getDuration("ask-timeout"), personal),
            Policy.fromConfig(callvault.getConfig("default-policy"), "callvault.default-policy"),
            callvault.getString("ledger.read-journal"),
            null,
            personal,
            null);
    ServerBinding binding = node.apiServer(sealing).start().toCompletableFuture().get();
    String saved = base;
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
    try {
      String callId = newId();
      String body =
          """
          {"callId":"%s","parties":[{"id":"agent","role":"AGENT","name":"Alice Agent",
           "aor":"sip:alice@example.com"}],
           "streams":[{"label":"agent-leg","party":"agent","codec":"PCMU"}]}
          """
              .formatted(callId);
      Answer created = post("/v1/calls", body);
      assertEquals(201, created.statusCode(), created.body().toString());
      JsonNode party = created.body().path("parties").get(0);
      assertEquals("Alice Agent", party.path("name").asText());
      assertEquals("sip:alice@example.com", party.path("aor").asText());
      assertEquals(201, post("/v1/calls", body).statusCode(), "the same body again: the same call");

      JsonNode stored =
          get("/v1/calls/" + callId + "/ledger")
              .body()
              .path("events")
              .get(0)
              .path("details")
              .path("spec")
              .path("parties")
              .get(0);
      assertTrue(stored.path("name").asText().startsWith("sealed:"), stored.toString());
      assertTrue(stored.path("aor").asText().startsWith("sealed:"), stored.toString());
      assertTrue(!stored.toString().contains("Alice") && !stored.toString().contains("alice"));

      // The SIPREC metadata that came with the call, kept sealed, served as it came.
      byte[] xml =
          ("<?xml version=\"1.0\"?>\r\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
                  + "<participant participant_id=\"p1\"><nameID aor=\"sip:alice@example.com\">"
                  + "<name>Alice Agent</name></nameID></participant></recording>")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      new Calls(testKit.system(), Duration.ofSeconds(5), personal)
          .amend(callId, List.of(), List.of(), xml, "sip:192.0.2.7")
          .toCompletableFuture()
          .get(5, java.util.concurrent.TimeUnit.SECONDS);
      JsonNode kept = null;
      for (JsonNode e : get("/v1/calls/" + callId + "/ledger").body().path("events"))
        if (e.path("type").asText().equals("MetadataReceived")) kept = e;
      assertTrue(kept != null, "the metadata is in the ledger");
      String document = kept.path("details").path("document").asText();
      assertTrue(document.startsWith("sealed:") && !document.contains("alice"), document);
      JsonNode listed = get("/v1/calls/" + callId + "/metadata").body();
      assertEquals(1, listed.path("documents").size(), listed.toString());
      JsonNode first = listed.path("documents").get(0);
      assertEquals(kept.path("seq").asLong(), first.path("seq").asLong());
      assertEquals(xml.length, first.path("bytes").asInt());
      assertEquals("sip:192.0.2.7", first.path("by").asText());
      assertEquals(
          java.util.HexFormat.of()
              .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(xml)),
          first.path("sha256").asText());
      HttpResponse<byte[]> download =
          HTTP.send(
              authorized(
                      HttpRequest.newBuilder(URI.create(base + first.path("href").asText())),
                      TestKeys.SUPERVISOR)
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, download.statusCode());
      assertEquals(
          "application/rs-metadata+xml", download.headers().firstValue("Content-Type").orElse(""));
      assertTrue(java.util.Arrays.equals(xml, download.body()), "the bytes as received");
      assertEquals(404, get("/v1/calls/" + callId + "/metadata/999").statusCode());
      assertEquals(400, get("/v1/calls/" + callId + "/metadata/latest").statusCode());

      personal.destroy(callId);
      assertEquals(
          410, get("/v1/calls/" + callId + "/metadata").statusCode(), "erased with the keys");
      JsonNode erased = get("/v1/calls/" + callId).body().path("parties").get(0);
      assertEquals("[erased]", erased.path("name").asText());
      assertEquals("[erased]", erased.path("aor").asText());
      assertTrue(get("/v1/calls/" + callId + "/ledger/verify").body().path("valid").asBoolean());
    } finally {
      base = saved;
      binding.unbind().toCompletableFuture().get();
    }
  }

  /**
   * {@code GET /v1/nodes}: every member with its status, roles and the numbers it reports of
   * itself, as its health shows them.
   */
  @Test
  void theNodeListingShowsEachMemberWithTheNumbersItReports() {
    node.calls = 7;
    node.spooled = 2;
    try {
      Answer listed = get("/v1/nodes", TestKeys.SUPERVISOR);
      assertEquals(200, listed.statusCode(), listed.body().toString());
      JsonNode nodes = listed.body().path("nodes");
      assertEquals(1, nodes.size(), nodes.toString());
      JsonNode self = nodes.get(0);
      assertEquals(node.address(), self.path("address").asText());
      assertEquals("Up", self.path("status").asText());
      assertTrue(self.path("reachable").asBoolean());
      assertEquals("[\"dc-default\"]", self.path("roles").toString());
      assertEquals(7, self.path("calls").asInt());
      assertEquals(2, self.path("spool").path("chunks").asInt());
      assertEquals(18600, self.path("spool").path("bytes").asLong());
      assertEquals(0, self.path("packets").path("received").asLong());
      JsonNode health = get("/v1/health").body();
      for (String field : List.of("calls", "rtpPortsInUse", "spool", "admission", "packets"))
        assertEquals(health.path(field), self.path(field), field + " as health shows it");
    } finally {
      node.calls = 0;
      node.spooled = 0;
    }
  }

  /**
   * A drain names its member by address (percent-encoded in the path) or host:port: 404 for one
   * that is no member, 409 for the only Up member (its calls would have nowhere to go); nothing
   * leaves.
   */
  @Test
  void aDrainOfAnUnknownAddressIs404AndOfTheOnlyUpMemberIs409() {
    String self = URLEncoder.encode(node.address(), StandardCharsets.UTF_8);
    assertError(
        post("/v1/nodes/" + self + "/drain", "", TestKeys.ADMIN), 409, "the only Up member");
    String hostPort = node.address().substring(node.address().indexOf('@') + 1);
    assertError(
        post("/v1/nodes/" + hostPort + "/drain", "", TestKeys.ADMIN), 409, "the only Up member");
    assertError(
        post("/v1/nodes/" + self.replace("127.0.0.1", "127.0.0.2") + "/drain", "", TestKeys.ADMIN),
        404,
        "no member of the cluster has the address 'pekko://CallRoutesTest@127.0.0.2:");
    assertError(
        post("/v1/nodes/" + self + "/drain", "", TestKeys.SUPERVISOR), 403, "needs the role admin");
    assertEquals("Up", get("/v1/nodes").body().path("nodes").get(0).path("status").asText());
  }

  @Test
  void unknownPathsAndWrongMethodsAnswerWithJsonErrors() {
    Answer notFound = get("/v1/nothing");
    assertEquals(404, notFound.statusCode());
    assertEquals(404, notFound.body().path("status").asInt());
    Answer wrongMethod =
        send(
            authorized(HttpRequest.newBuilder(URI.create(base + "/v1/calls")), TestKeys.ALL)
                .PUT(HttpRequest.BodyPublishers.ofString("{}"))
                .build());
    assertEquals(405, wrongMethod.statusCode());
    assertTrue(wrongMethod.body().path("error").asText().contains("POST"));
  }
}
