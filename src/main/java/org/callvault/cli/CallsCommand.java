package org.callvault.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.callvault.call.Phase;
import org.callvault.core.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code callvault calls}: find calls, read one, export its audio. */
@Command(
    name = "calls",
    description = "List calls, show one, export its audio.",
    subcommands = {
      CallsCommand.ListCalls.class,
      CallsCommand.Show.class,
      CallsCommand.Export.class
    })
final class CallsCommand {

  /** The most calls one page of {@code GET /v1/calls} holds. */
  static final int MAX_LIMIT = 500;

  /** A path segment: the text percent-encoded, a space as %20. */
  static String segment(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Command(
      name = "list",
      description = {
        "Lists calls, newest first.",
        "GET /v1/calls: one page, or every page with --all.",
        "Needs the role supervisor or compliance."
      })
  static final class ListCalls implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Option(
        names = "--from",
        paramLabel = "INSTANT",
        description = "Created at or after, ISO-8601 (2026-12-01T00:00:00Z).")
    Instant from;

    @Option(names = "--to", paramLabel = "INSTANT", description = "Created before, ISO-8601.")
    Instant to;

    @Option(
        names = "--party",
        paramLabel = "PARTY",
        description = "With this party: its id or address of record.")
    String party;

    @Option(
        names = "--state",
        paramLabel = "STATE",
        description = "In this state: ${COMPLETION-CANDIDATES}.")
    Phase state;

    @Option(
        names = "--source",
        paramLabel = "SOURCE",
        description = "Created by: 'api' (REST), or the SIPREC client's host.")
    String source;

    @Option(names = "--incomplete", description = "Only calls whose recording misses audio.")
    boolean incomplete;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "Calls per page, 1-" + MAX_LIMIT + " (the API's default: 50).")
    Integer limit;

    @Option(names = "--all", description = "Follow the pages to the last.")
    boolean all;

    @Option(
        names = "--page-token",
        paramLabel = "TOKEN",
        description = "The page after an earlier answer's nextPageToken.")
    String pageToken;

    @Override
    public Integer call() {
      if (limit != null && (limit < 1 || limit > MAX_LIMIT))
        throw new ParameterException(
            api.command.commandLine(), "--limit must be 1 to " + MAX_LIMIT + ", was " + limit);
      ApiClient client = api.api();
      ArrayNode calls = Json.MAPPER.createArrayNode();
      String token = pageToken;
      String next;
      do {
        JsonNode page = client.get("/v1/calls" + query(token));
        page.path("calls").forEach(calls::add);
        next = page.hasNonNull("nextPageToken") ? page.path("nextPageToken").asText() : null;
        token = next;
      } while (all && next != null);
      if (api.json) {
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.set("calls", calls);
        if (next != null) answer.put("nextPageToken", next);
        api.printJson(answer);
        return Cli.OK;
      }
      Table table = new Table("CALL", "STATE", "CREATED", "SOURCE", "PARTIES", "COMPLETE", "NOTES");
      for (JsonNode call : calls) {
        List<String> parties = new ArrayList<>();
        for (JsonNode p : call.path("parties"))
          parties.add(
              p.path("id").asText()
                  + ":"
                  + p.path("role").asText()
                  + ":"
                  + p.path("consent").asText());
        List<String> notes = new ArrayList<>();
        if (call.path("legalHold").asBoolean()) notes.add("legal-hold");
        if (call.path("erased").asBoolean()) notes.add("erased");
        JsonNode completeness = call.path("completeness");
        if (completeness.has("complete") && !completeness.path("complete").asBoolean())
          notes.add("incomplete");
        table.row(
            call.path("callId").asText(),
            call.path("state").asText(),
            call.path("createdAt").asText(),
            call.path("source").asText("-"),
            String.join(" ", parties),
            completeness.has("ratio") ? percent(completeness.path("ratio").asDouble()) : "-",
            String.join(",", notes));
      }
      if (table.isEmpty()) api.out().println("No calls.");
      else table.print(api.out());
      if (next != null)
        api.err().println("More calls: --all, or --page-token " + next + " for the next page.");
      return Cli.OK;
    }

    private String query(String token) {
      List<String> params = new ArrayList<>();
      if (from != null) params.add("from=" + segment(from.toString()));
      if (to != null) params.add("to=" + segment(to.toString()));
      if (party != null) params.add("party=" + segment(party));
      if (state != null) params.add("state=" + state.name());
      if (source != null) params.add("source=" + segment(source));
      if (incomplete) params.add("incomplete=true");
      if (limit != null) params.add("limit=" + limit);
      if (token != null) params.add("pageToken=" + segment(token));
      return params.isEmpty() ? "" : "?" + String.join("&", params);
    }

    private static String percent(double ratio) {
      return String.format(Locale.ROOT, "%.1f%%", ratio * 100);
    }
  }

  @Command(
      name = "show",
      description = {
        "Shows one call.",
        "GET /v1/calls/{id}: its state, parties and their consent, streams and their counters,"
            + " pauses.",
        "Needs the role recorder, supervisor or compliance."
      })
  static final class Show implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(index = "0", paramLabel = "ID", description = "The call's id.")
    String id;

    @Override
    public Integer call() {
      JsonNode call = api.api().get("/v1/calls/" + segment(id));
      if (api.json) {
        api.printJson(call);
        return Cli.OK;
      }
      var out = api.out();
      Table about = new Table("call", call.path("callId").asText());
      about.row("state", call.path("state").asText());
      about.row("created", call.path("createdAt").asText());
      if (call.has("stoppedAt"))
        about.row(
            "stopped", call.path("stoppedAt").asText() + " by " + call.path("stoppedBy").asText());
      JsonNode policy = call.path("policy");
      about.row(
          "policy",
          policy.path("consentMode").asText()
              + " consent, on decline "
              + policy.path("onDecline").asText()
              + ", pauses "
              + policy.path("pauseRendering").asText()
              + ", retention "
              + policy.path("retentionDays").asText()
              + " days");
      if (call.has("media"))
        about.row(
            "media",
            call.path("media").path("node").asText()
                + (call.path("media").has("released")
                    ? " (released: " + call.path("media").path("released").asText() + ")"
                    : ""));
      about.row(
          "ledger",
          call.path("ledger").path("events").asText()
              + " events, last hash "
              + call.path("ledger").path("lastHash").asText());
      about.print(out);
      out.println();
      Table parties = new Table("PARTY", "ROLE", "CONSENT", "NAME", "AOR");
      for (JsonNode p : call.path("parties"))
        parties.row(
            p.path("id").asText(),
            p.path("role").asText(),
            p.path("consent").asText(),
            p.path("name").asText(null),
            p.path("aor").asText(null));
      parties.print(out);
      out.println();
      Table streams =
          new Table(
              "STREAM", "PARTY", "CODEC", "GATE", "RTP", "RECEIVED", "STORED", "LOST", "GATED");
      for (JsonNode s : call.path("streams")) {
        JsonNode stats = s.path("stats");
        JsonNode rtp = s.path("rtp");
        streams.row(
            s.path("label").asText(),
            s.path("party").asText(),
            s.path("codec").asText(),
            s.path("gate").asText(),
            rtp.has("port") ? rtp.path("host").asText() + ":" + rtp.path("port").asText() : null,
            stats.path("received").asLong(),
            stats.path("stored").asLong(),
            stats.path("lost").asLong(),
            stats.path("droppedByGate").asLong());
      }
      streams.print(out);
      if (!call.path("pauses").isEmpty()) {
        out.println();
        Table pauses = new Table("PAUSED", "RESUMED", "REASON");
        for (JsonNode p : call.path("pauses"))
          pauses.row(
              p.path("start").asText(), p.path("end").asText(null), p.path("reason").asText(null));
        pauses.print(out);
      }
      return Cli.OK;
    }
  }

  /** How the export lays out the streams. */
  enum Layout {
    /** The first two streams on the left and right channels. */
    STEREO,
    /** Every stream mixed into one channel. */
    MONO
  }

  @Command(
      name = "export",
      description = {
        "Exports the call's recording to a WAV file.",
        "GET /v1/calls/{id}/audio.wav, recorded in the call's ledger with the file's SHA-256;"
            + " the bytes received are checked against it. Shows its progress on a terminal.",
        "Needs the role supervisor or compliance."
      })
  static final class Export implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(index = "0", paramLabel = "ID", description = "The call's id.")
    String id;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "FILE",
        description = "Where to write the WAV; written whole or not at all.")
    Path out;

    @Option(
        names = "--layout",
        paramLabel = "LAYOUT",
        description = "${COMPLETION-CANDIDATES} (default: stereo).")
    Layout layout;

    @Option(
        names = "--stream",
        paramLabel = "LABEL",
        description = "Only this stream, alone (instead of --layout).")
    String stream;

    @Override
    public Integer call() throws IOException {
      if (layout != null && stream != null)
        throw new ParameterException(
            api.command.commandLine(), "--layout and --stream exclude each other");
      String query =
          stream != null
              ? "?layout=stream&label=" + segment(stream)
              : "?layout="
                  + (layout == null ? Layout.STEREO : layout).name().toLowerCase(Locale.ROOT);
      ApiClient client = api.api();
      Path parent = out.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path partial = Files.createTempFile(parent, out.getFileName().toString(), ".part");
      Progress progress = new Progress(api.err());
      ApiClient.Download download;
      try {
        try (OutputStream file = Files.newOutputStream(partial)) {
          download =
              client.download(
                  "/v1/calls/" + segment(id) + "/audio.wav" + query,
                  file,
                  total -> {
                    if (api.interactive()) progress.total(total);
                  },
                  progress::at);
        } finally {
          progress.done();
        }
        Files.move(
            partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(partial);
      }
      if (api.json) {
        ObjectNode json = Json.MAPPER.createObjectNode();
        json.put("callId", id);
        json.put("file", out.toString());
        json.put("bytes", download.bytes());
        json.put("sha256", download.sha256());
        if (download.ledgerHash() != null) json.put("ledgerHash", download.ledgerHash());
        api.printJson(json);
      } else {
        api.out()
            .println(
                "Wrote "
                    + out
                    + ": "
                    + download.bytes()
                    + " bytes, SHA-256 "
                    + download.sha256()
                    + (download.ledgerHash() == null
                        ? ""
                        : "; the call's ledger records the export (up to event hash "
                            + download.ledgerHash()
                            + ")."));
      }
      return Cli.OK;
    }
  }
}
