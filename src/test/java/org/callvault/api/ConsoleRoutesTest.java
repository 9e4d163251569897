package org.callvault.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.callvault.api.access.TestKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The console's routes over HTTP: its files from the jar with their content types and caching, the
 * redirects to it, nothing outside its folder, and {@code GET /v1/me}.
 */
class ConsoleRoutesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static ActorTestKit testKit;
  private static String base;

  /** Whether {@code path} is one of the console's pages or its redirects (not JSON). */
  static boolean isPage(String path) {
    return path.equals("/") || path.equals("/console") || path.startsWith("/console/");
  }

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("ConsoleRoutesTest");
    RouteTable table =
        new RouteTable(new ConsoleRoutes().entries(), TestKeys.authenticator(Integer.MAX_VALUE));
    ServerBinding binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(table.route())
            .toCompletableFuture()
            .get();
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).GET();
    if (headers.length > 0) request.headers(headers);
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theConsolesFilesAreServedWithTheirContentTypesWithoutCredentials() throws Exception {
    for (var file :
        List.of(
            List.of("index.html", "text/html; charset=UTF-8", "<title>CallVault console</title>"),
            List.of("call.html", "text/html; charset=UTF-8", "id=\"ledger\""),
            List.of("console.css", "text/css; charset=UTF-8", "--pause"),
            List.of("console.js", "application/javascript; charset=UTF-8", "Authorization"),
            List.of("timeline.js", "application/javascript; charset=UTF-8", "audioMs"))) {
      HttpResponse<String> page = get("/console/" + file.get(0));
      assertEquals(200, page.statusCode(), file.get(0));
      assertEquals(file.get(1), page.headers().firstValue("Content-Type").orElse(""), file.get(0));
      assertTrue(page.body().contains(file.get(2)), file.get(0));
      assertEquals("no-cache", page.headers().firstValue("Cache-Control").orElse(""));
      assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));
      assertTrue(
          page.headers()
              .firstValue("Content-Security-Policy")
              .orElse("")
              .contains("default-src 'self'"));
    }
  }

  @Test
  void anUnchangedFileIsAnswered304ToItsEntityTag() throws Exception {
    HttpResponse<String> first = get("/console/call.js");
    String tag = first.headers().firstValue("ETag").orElseThrow();
    HttpResponse<String> again = get("/console/call.js", "If-None-Match", tag);
    assertEquals(304, again.statusCode());
    assertEquals("", again.body());
    assertEquals(200, get("/console/call.js", "If-None-Match", "\"another\"").statusCode());
  }

  @Test
  void theRootAndTheConsolesFolderLeadToItsFirstPage() throws Exception {
    for (String path : List.of("/", "/console", "/console/")) {
      HttpResponse<String> answer = get(path);
      assertEquals(302, answer.statusCode(), path);
      assertEquals("/console/index.html", answer.headers().firstValue("Location").orElse(""), path);
    }
  }

  @Test
  void anUnknownFileIs404InJson() throws Exception {
    for (String name : List.of("nothing.html", "index.htm", "index", "INDEX.HTML", "call.html~")) {
      HttpResponse<String> answer = get("/console/" + name);
      assertEquals(404, answer.statusCode(), name);
      assertEquals("application/json", answer.headers().firstValue("Content-Type").orElse(""));
      JsonNode error = JSON.readTree(answer.body());
      assertEquals(404, error.path("status").asInt());
    }
  }

  /**
   * Nothing outside the console's folder is served, however the path is spelled: the service's
   * configuration and classes are on the same classpath.
   */
  @Test
  void noPathLeavesTheConsolesFolder() throws Exception {
    for (String path :
        List.of(
            "/console/../application.conf",
            "/console/..%2Fapplication.conf",
            "/console/%2e%2e%2fapplication.conf",
            "/console/%2e%2e/reference.conf",
            "/console/..%5Creference.conf",
            "/console/.%2e/logback.xml",
            "/console/x/../../logback.xml",
            "/console/%2Fetc%2Fpasswd",
            "/console/.hidden.js",
            "/console/org%2Fcallvault%2Fapi%2FApiServer.class")) {
      HttpResponse<String> answer = get(path, "Authorization", "Bearer " + TestKeys.ALL);
      assertTrue(
          answer.statusCode() == 404 || answer.statusCode() == 400,
          path + ": " + answer.statusCode() + " " + answer.body());
      assertFalse(answer.body().contains("callvault {"), path);
      assertFalse(answer.body().contains("<configuration"), path);
      assertFalse(answer.body().contains("root:"), path);
    }
  }

  @Test
  void meTellsACredentialWhoItIsAndItsRoles() throws Exception {
    HttpResponse<String> supervisor =
        get("/v1/me", "Authorization", "Bearer " + TestKeys.SUPERVISOR);
    assertEquals(200, supervisor.statusCode());
    JsonNode who = JSON.readTree(supervisor.body());
    assertEquals("key:test-supervisor", who.path("principal").asText());
    assertEquals(List.of("supervisor"), roles(who));
    JsonNode all = JSON.readTree(get("/v1/me", "Authorization", "Bearer " + TestKeys.ALL).body());
    assertEquals(List.of("recorder", "supervisor", "compliance", "admin"), roles(all));
    HttpResponse<String> nobody = get("/v1/me");
    assertEquals(401, nobody.statusCode());
    assertTrue(JSON.readTree(nobody.body()).path("error").asText().contains("credentials"));
  }

  private static List<String> roles(JsonNode who) {
    List<String> roles = new java.util.ArrayList<>();
    who.path("roles").forEach(r -> roles.add(r.asText()));
    return roles;
  }
}
