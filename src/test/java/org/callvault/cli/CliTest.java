package org.callvault.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.callvault.api.OneNodeApi;
import org.callvault.api.access.TestKeys;
import org.callvault.core.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operators' command line against the real API of a one-node cluster in this JVM ({@link
 * OneNodeApi}): what each command prints, and the exit status scripts rely on.
 */
class CliTest {

  private static OneNodeApi node;

  @BeforeAll
  static void start() throws Exception {
    node = OneNodeApi.start("CliTest");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  /** One run of the command line: its exit status and what it printed. */
  record Run(int status, String out, String err) {
    JsonNode json() throws Exception {
      return Json.MAPPER.readTree(out);
    }
  }

  /** Runs {@code args} against the node's API, as {@code key}. */
  static Run as(String key, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", node.base, "--key", key));
    return run(all.toArray(String[]::new));
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Cli.run(new PrintWriter(out), new PrintWriter(err), false, args);
    return new Run(status, out.toString(), err.toString());
  }

  /** Creates an all-party call of an agent and a customer; the agent has consented. */
  private static String callWithConsentFromTheAgent() throws Exception {
    String callId = "cli-" + UUID.randomUUID();
    post(
        "/v1/calls",
        """
        {"callId":"%s","policy":{"consentMode":"ALL_PARTY"},
         "parties":[{"id":"agent","role":"AGENT"},{"id":"customer","role":"CUSTOMER"}],
         "streams":[{"label":"agent-leg","party":"agent","codec":"PCMU"},
                    {"label":"customer-leg","party":"customer","codec":"PCMA"}]}
        """
            .formatted(callId),
        201);
    post("/v1/calls/" + callId + "/consent", "{\"party\":\"agent\",\"decision\":\"GRANTED\"}", 200);
    return callId;
  }

  private static void post(String path, String body, int expected) throws Exception {
    HttpResponse<String> answer =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(node.base + path))
                    .header("Authorization", "Bearer " + TestKeys.RECORDER)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(expected, answer.statusCode(), answer.body());
  }

  /** The cells of the table row of {@code out} that starts with {@code first}. */
  private static List<String> row(String out, String first) {
    for (String line : out.split("\n")) {
      List<String> cells = List.of(line.trim().split("\\s{2,}"));
      if (cells.get(0).equals(first)) return cells;
    }
    throw new AssertionError("no row " + first + " in:\n" + out);
  }

  @Test
  void callsShowPrintsTheCallsStateAndItsPartiesConsent() throws Exception {
    String callId = callWithConsentFromTheAgent();
    Run shown = as(TestKeys.SUPERVISOR, "calls", "show", callId);
    assertEquals(Cli.OK, shown.status(), shown.err());
    assertEquals(List.of("call", callId), row(shown.out(), "call"));
    assertEquals(List.of("state", "AWAITING_CONSENT"), row(shown.out(), "state"));
    assertEquals(List.of("agent", "AGENT", "GRANTED", "-", "-"), row(shown.out(), "agent"));
    assertEquals(
        List.of("customer", "CUSTOMER", "UNKNOWN", "-", "-"), row(shown.out(), "customer"));
    List<String> stream = row(shown.out(), "customer-leg");
    assertEquals(List.of("customer-leg", "customer", "PCMA", "CLOSED"), stream.subList(0, 4));
    assertEquals(List.of("0", "0", "0", "0"), stream.subList(stream.size() - 4, stream.size()));

    Run json = as(TestKeys.SUPERVISOR, "calls", "show", callId, "--json");
    assertEquals(Cli.OK, json.status(), json.err());
    assertEquals(callId, json.json().path("callId").asText());
    assertEquals("GRANTED", json.json().path("parties").get(0).path("consent").asText());
  }

  @Test
  void ledgerVerifyExitsZeroOnAnIntactLedgerAndFiveOnATamperedOne() throws Exception {
    String callId = callWithConsentFromTheAgent();
    Run intact = as(TestKeys.COMPLIANCE, "ledger", "verify", callId);
    assertEquals(Cli.OK, intact.status(), intact.err());
    // Created, consent (no media on this node), and this verification's own record of the read.
    assertTrue(intact.out().contains("verifies: 3 events"), intact.out());

    String tampered = "cli-tampered-" + UUID.randomUUID();
    node.persistTamperedLedger(tampered);
    Run broken = as(TestKeys.COMPLIANCE, "ledger", "verify", tampered, "--json");
    assertEquals(Cli.LEDGER_BROKEN, broken.status(), broken.err());
    assertFalse(broken.json().path("valid").asBoolean());
    assertEquals(2, broken.json().path("brokenAt").asInt());
  }

  @Test
  void exitStatusesTellNotFoundDeniedUnreachableAndUsage() throws Exception {
    Run unknown = as(TestKeys.ALL, "calls", "show", "no-such-call");
    assertEquals(Cli.NOT_FOUND, unknown.status());
    assertTrue(unknown.err().contains("404: no call with id 'no-such-call'"), unknown.err());
    assertEquals(Cli.NOT_FOUND, as(TestKeys.ALL, "ledger", "verify", "no-such-call").status());

    Run badKey = as("cvk_test_not-a-key", "calls", "show", "no-such-call");
    assertEquals(Cli.DENIED, badKey.status());
    assertTrue(badKey.err().startsWith("callvault: 401: "), badKey.err());
    Run wrongRole = as(TestKeys.RECORDER, "ledger", "verify", callWithConsentFromTheAgent());
    assertEquals(Cli.DENIED, wrongRole.status());
    assertTrue(wrongRole.err().contains("needs the role compliance"), wrongRole.err());

    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort(); // nothing listens there once it is closed
    }
    Run unreachable = run("nodes", "--url", "http://127.0.0.1:" + closed, "--key", TestKeys.ALL);
    assertEquals(Cli.UNREACHABLE, unreachable.status());
    assertTrue(unreachable.err().contains("no CallVault API answers at"), unreachable.err());

    assertEquals(Cli.USAGE, as(TestKeys.ALL, "calls", "show").status(), "no id");
    assertEquals(Cli.USAGE, as(TestKeys.ALL, "calls", "export", "x").status(), "no --out");
    assertEquals(Cli.USAGE, as(TestKeys.ALL, "calls", "list", "--limit", "501").status());
    assertEquals(Cli.USAGE, as(TestKeys.ALL, "calls", "list", "--from", "yesterday").status());
    assertEquals(Cli.USAGE, as(TestKeys.ALL, "nodes", "--colour").status());
    assertEquals(Cli.USAGE, run("nodes", "--url", "ftp://127.0.0.1").status());
  }

  @Test
  void nodesListsTheOneUpMemberWithTheCallsItReports() throws Exception {
    node.calls = 4;
    try {
      Run listed = as(TestKeys.ADMIN, "nodes");
      assertEquals(Cli.OK, listed.status(), listed.err());
      List<String> member = row(listed.out(), node.address());
      assertEquals(
          List.of(node.address(), "Up", "dc-default", "4", "0", "0", "0", "0", "0", "0"), member);
      assertEquals(2, listed.out().split("\n").length, "a header and one member");

      Run json = as(TestKeys.SUPERVISOR, "nodes", "--json");
      assertEquals(4, json.json().path("nodes").get(0).path("calls").asInt());
      assertTrue(json.json().path("nodes").get(0).path("reachable").asBoolean());
    } finally {
      node.calls = 0;
    }
  }

  @Test
  void drainIsForAdminsAndRefusesTheOnlyMemberAndUnknownAddresses() {
    Run notAdmin = as(TestKeys.SUPERVISOR, "drain", node.address());
    assertEquals(Cli.DENIED, notAdmin.status());
    assertTrue(notAdmin.err().contains("403: POST /v1/nodes/{address}/drain needs the role admin"));

    Run only = as(TestKeys.ADMIN, "drain", node.address());
    assertEquals(Cli.FAILED, only.status());
    assertTrue(only.err().contains("409: ") && only.err().contains("the only Up member"));

    Run unknown = as(TestKeys.ADMIN, "drain", "127.0.0.2:25520");
    assertEquals(Cli.NOT_FOUND, unknown.status());
    assertTrue(
        unknown.err().contains("no member of the cluster has the address '127.0.0.2:25520'"));
    // Up, with its numbers or, on a machine too busy to answer within the listing's patience,
    // "Up (no answer)": either way the refused drains left it a member.
    String status = row(as(TestKeys.ADMIN, "nodes").out(), node.address()).get(1);
    assertTrue(status.startsWith("Up"), "it is still Up: " + status);
  }

  @Test
  void completionPrintsABashScriptThatCompletesTheCommands() {
    Run script = run("completion");
    assertEquals(Cli.OK, script.status(), script.err());
    assertTrue(script.out().startsWith("#!/usr/bin/env bash"), script.out().substring(0, 40));
    assertTrue(
        script.out().contains("complete -F _complete_callvault -o default callvault"),
        "completes callvault");
    assertTrue(
        script.out().endsWith("complete -F _complete_callvault -o default ops/callvault\n"),
        "and ops/callvault");
    for (String command : List.of("calls", "ledger", "nodes", "drain", "keys", "completion"))
      assertTrue(script.out().contains(command), command);
    assertTrue(script.out().contains("--layout") && script.out().contains("--stream"));
  }

  @Test
  void progressShowsTheShareOfTheContentLengthReceived() {
    assertEquals(
        "[###############...............]  50%  5.0 of 10.0 MB",
        Progress.line(5_000_000, 10_000_000));
    assertEquals(
        "[##############################] 100%  27.1 of 27.1 MB",
        Progress.line(27_100_000, 27_100_000));
    assertEquals(
        "[..............................]   0%  0.0 of 0.3 MB", Progress.line(1_000, 300_000));
  }

  @Test
  void anExportWithoutAudioStoredHereFailsAndLeavesNoFile(@TempDir Path dir) throws Exception {
    // This node stores no audio (media is off): the API answers 503, and no file is left behind.
    String callId = callWithConsentFromTheAgent();
    Path wav = dir.resolve("call.wav");
    Run export =
        as(
            TestKeys.SUPERVISOR,
            "calls",
            "export",
            callId,
            "--out",
            wav.toString(),
            "--layout",
            "mono");
    assertEquals(Cli.FAILED, export.status());
    assertTrue(export.err().contains("503: this node stores no audio"), export.err());
    try (var left = Files.list(dir)) {
      assertEquals(List.of(), left.toList(), "nothing written");
    }
    Run both =
        as(
            TestKeys.SUPERVISOR,
            "calls",
            "export",
            callId,
            "--out",
            wav.toString(),
            "--layout",
            "mono",
            "--stream",
            "agent-leg");
    assertEquals(Cli.USAGE, both.status());
  }

  @Test
  void anAddressIsSentAsOnePathSegment() {
    assertEquals(
        "pekko%3A%2F%2Fcallvault%40127.0.0.1%3A25520",
        CallsCommand.segment("pekko://callvault@127.0.0.1:25520"));
    assertEquals(
        URLEncoder.encode("a b", StandardCharsets.UTF_8).replace("+", "%20"),
        CallsCommand.segment("a b"));
  }
}
