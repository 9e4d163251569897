package org.callvault.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.callvault.core.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code callvault calls list} against a server that speaks the contract of {@code GET /v1/calls}
 * (query parameters, pages by {@code pageToken}, the API's JSON error for a bad parameter), until
 * the route itself is in this tree: then its end-to-end test runs the command against the API.
 */
class CliCallListTest {

  private static final String KEY = "cvk_list_secret";

  private static HttpServer server;
  private static String base;

  /** The query of each request, in order. */
  private static final List<String> queries = new CopyOnWriteArrayList<>();

  private static final String FIRST_PAGE =
      """
      {"calls":[
        {"callId":"c-3","state":"RECORDING","createdAt":"2026-12-06T10:02:00Z","source":"api",
         "parties":[{"id":"agent","role":"AGENT","consent":"GRANTED"},
                    {"id":"customer","role":"CUSTOMER","consent":"UNKNOWN"}],
         "legalHold":false,"erased":false,"completeness":{"ratio":1.0,"complete":true}},
        {"callId":"c-2","state":"STOPPED","createdAt":"2026-12-06T10:01:00Z",
         "stoppedAt":"2026-12-06T10:05:00Z","source":"sbc1.example.com",
         "parties":[{"id":"agent","role":"AGENT","consent":"GRANTED"}],
         "legalHold":true,"erased":false,"completeness":{"ratio":0.998,"complete":false}}],
       "nextPageToken":"page-2"}
      """;

  private static final String LAST_PAGE =
      """
      {"calls":[
        {"callId":"c-1","state":"STOPPED","createdAt":"2026-12-06T10:00:00Z",
         "stoppedAt":"2026-12-06T10:00:30Z","source":"api","parties":[],
         "legalHold":false,"erased":true,"completeness":{"ratio":0.5,"complete":false}}]}
      """;

  @BeforeAll
  static void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/calls", CliCallListTest::answer);
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  private static void answer(HttpExchange exchange) throws IOException {
    String query = exchange.getRequestURI().getRawQuery();
    queries.add(query == null ? "" : query);
    int status;
    String body;
    if (!("Bearer " + KEY).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      status = 401;
      body = "{\"status\":401,\"error\":\"the request needs credentials\"}";
    } else if (query != null && query.contains("source=bad")) {
      status = 400;
      body = "{\"status\":400,\"error\":\"source must be 'api' or a host name\"}";
    } else if (query != null && query.contains("pageToken=page-2")) {
      status = 200;
      body = LAST_PAGE;
    } else {
      status = 200;
      body = FIRST_PAGE;
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private static CliTest.Run list(String... options) {
    queries.clear();
    String[] args = new String[options.length + 6];
    args[0] = "calls";
    args[1] = "list";
    System.arraycopy(options, 0, args, 2, options.length);
    args[options.length + 2] = "--url";
    args[options.length + 3] = base;
    args[options.length + 4] = "--key";
    args[options.length + 5] = KEY;
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Cli.run(new PrintWriter(out), new PrintWriter(err), false, args);
    return new CliTest.Run(status, out.toString(), err.toString());
  }

  @Test
  void theFiltersAreSentAsTheContractsQueryParameters() {
    CliTest.Run run =
        list(
            "--from",
            "2026-12-01T00:00:00Z",
            "--to",
            "2026-12-07T00:00:00Z",
            "--party",
            "sip:alice@example.com",
            "--state",
            "recording",
            "--source",
            "sbc1.example.com",
            "--incomplete",
            "--limit",
            "2");
    assertEquals(Cli.OK, run.status(), run.err());
    assertEquals(
        List.of(
            "from=2026-12-01T00%3A00%3A00Z&to=2026-12-07T00%3A00%3A00Z"
                + "&party=sip%3Aalice%40example.com&state=RECORDING&source=sbc1.example.com"
                + "&incomplete=true&limit=2"),
        queries);
  }

  @Test
  void onePageIsListedAsATableAndTheNextPageIsNamed() {
    CliTest.Run run = list();
    assertEquals(Cli.OK, run.status(), run.err());
    assertEquals(List.of(""), queries, "one request, no filter");
    String[] lines = run.out().split("\n");
    assertEquals(3, lines.length, run.out());
    assertEquals(
        List.of("CALL", "STATE", "CREATED", "SOURCE", "PARTIES", "COMPLETE", "NOTES"),
        List.of(lines[0].split("\\s{2,}")));
    assertEquals(
        List.of(
            "c-3",
            "RECORDING",
            "2026-12-06T10:02:00Z",
            "api",
            "agent:AGENT:GRANTED customer:CUSTOMER:UNKNOWN",
            "100.0%"),
        List.of(lines[1].split("\\s{2,}")));
    assertEquals(
        List.of(
            "c-2",
            "STOPPED",
            "2026-12-06T10:01:00Z",
            "sbc1.example.com",
            "agent:AGENT:GRANTED",
            "99.8%",
            "legal-hold,incomplete"),
        List.of(lines[2].split("\\s{2,}")));
    assertTrue(run.err().contains("--page-token page-2"), run.err());
  }

  @Test
  void allFollowsThePageTokensToTheLastPage() throws Exception {
    CliTest.Run run = list("--all", "--json");
    assertEquals(Cli.OK, run.status(), run.err());
    assertEquals(List.of("", "pageToken=page-2"), queries);
    JsonNode calls = Json.MAPPER.readTree(run.out()).path("calls");
    assertEquals(3, calls.size());
    assertEquals("c-1", calls.get(2).path("callId").asText());
    assertTrue(calls.get(2).path("erased").asBoolean());
    assertTrue(!Json.MAPPER.readTree(run.out()).has("nextPageToken"), "the last page has none");

    CliTest.Run page = list("--page-token", "page-2");
    assertEquals(List.of("pageToken=page-2"), queries);
    assertTrue(page.out().contains("c-1") && page.out().contains("50.0%"), page.out());
    assertEquals("", page.err(), "no page after the last");
  }

  @Test
  void aParameterTheApiRefusesIsAUsageError() {
    CliTest.Run run = list("--source", "bad");
    assertEquals(Cli.USAGE, run.status());
    assertTrue(run.err().contains("400: source must be 'api' or a host name"), run.err());
  }
}
