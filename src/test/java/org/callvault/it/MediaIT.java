package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Calls driven by the RTP load generator into a node on the real Cassandra, and the exported WAV
 * compared sample by sample with what was sent: every packet sent while the gate was open is at its
 * exact position, every lost or paused span is as the policy says, and nothing else is in the file
 * (no foreign or malformed packet, no duplicate).
 */
@ResourceLock(Machine.LOCK)
class MediaIT {

  private static NodeProcess node;
  private static Http api;

  @BeforeAll
  static void start() throws Exception {
    node =
        NodeProcess.start(
            "media",
            "media_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12),
            Map.of());
    api = new Http(node.base());
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.stop();
  }

  private static Options load(String prefix, String policy) {
    return new Options()
        .apiKey(TestKeys.ALL)
        .api(node.base())
        .prefix(prefix + "-" + UUID.randomUUID().toString().substring(0, 8))
        .calls(1)
        .codec(Codec.PCMU)
        .policy(policy)
        .stopCallsAtEnd(true)
        .stopDelay(Duration.ofMillis(300))
        .failOnActionError(true);
  }

  @Test
  void impairedCallWithAPauseExportsEveryAllowedSampleInPlaceWhenPausesAreSilence()
      throws Exception {
    impairedCallWithAPause("SILENCE");
  }

  @Test
  void impairedCallWithAPauseExportsEveryAllowedSampleInPlaceWhenPausesAreSkipped()
      throws Exception {
    impairedCallWithAPause("SKIP");
  }

  private void impairedCallWithAPause(String rendering) throws Exception {
    String[] counted = {
      "callvault_packets_received_total",
      "callvault_packets_stored_total",
      "callvault_packets_dropped_by_gate_total",
      "callvault_packets_rejected_total{reason=\"FOREIGN_SOURCE\"}",
      "callvault_chunk_write_seconds_count"
    };
    double[] before = new double[counted.length];
    for (int i = 0; i < counted.length; i++) before[i] = metric(counted[i]);
    Options options =
        load("impaired-" + rendering.toLowerCase(), "{\"pauseRendering\":\"" + rendering + "\"}");
    // During the call the export holds what is stored so far.
    java.util.concurrent.atomic.AtomicReference<byte[]> duringCall =
        new java.util.concurrent.atomic.AtomicReference<>();
    options.at(
        1.7,
        () -> {
          try {
            duringCall.set(
                api.bytes("/v1/calls/" + options.callId(1) + "/audio.wav?layout=stereo"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    Summary summary =
        LoadGenerator.run(
            options
                .duration(Duration.ofSeconds(7))
                .loss(0.03)
                .reorder(0.03)
                .duplicate(0.03)
                .malformed(0.02)
                .foreign(0.02)
                .seed(rendering.hashCode())
                .postToEachCall(2.0, "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}")
                .postToEachCall(4.0, "/resume", "{\"by\":\"agent-7\"}"));
    summary.requireActionsOk();
    CallRecord sent = summary.calls().get(0);
    String callId = sent.callId();

    JsonNode call = api.get("/v1/calls/" + callId, 200);
    assertEquals("STOPPED", call.path("state").asText());
    JsonNode pause = call.path("pauses").get(0);
    long pausedAt = Instant.parse(pause.path("start").asText()).toEpochMilli() * 1000;
    long resumedAt = Instant.parse(pause.path("end").asText()).toEpochMilli() * 1000;
    assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());

    JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
    assertEquals(rendering, timeline.path("pauseRendering").asText());
    Map<String, short[]> channels = new TreeMap<>();
    for (StreamRecord stream : sent.streams()) {
      short[] exported =
          Recordings.pcm(
              api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()),
              1)[0];
      assertEquals(timeline.path("samples").asLong(), exported.length);
      JsonNode stats = Recordings.streamOf(call, stream.label()).path("stats");
      int present =
          Recordings.checkStream(
              stream,
              exported,
              Recordings.chunksOf(timeline, stream.label()),
              List.of(new long[] {pausedAt, resumedAt}));
      assertEquals(
          present,
          stats.path("stored").asLong(),
          stream.label() + ": every stored packet is in the export once: " + stats);
      assertEquals(
          stream.foreign(),
          stats.path("rejected").path("FOREIGN_SOURCE").asLong(),
          stats.toString());
      long malformedRejected = 0;
      for (var reason :
          (Iterable<Map.Entry<String, JsonNode>>) () -> stats.path("rejected").fields())
        if (!reason.getKey().equals("FOREIGN_SOURCE"))
          malformedRejected += reason.getValue().asLong();
      assertEquals(
          stream.malformed(),
          malformedRejected,
          "every malformed packet is refused, by reason: " + stats);
      assertTrue(
          stats.path("droppedByGate").asLong() >= 90,
          "two seconds of pause are dropped by the gate: " + stats);
      channels.put(stream.label(), exported);
    }

    byte[] stereoWav = api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stereo");
    short[][] stereo = Recordings.pcm(stereoWav, 2);
    short[][] early = Recordings.pcm(duringCall.get(), 2);
    assertTrue(
        early[0].length >= 8000 && early[0].length < stereo[0].length,
        "during the call: " + early[0].length + " frames");
    // Up to a packet before its end (where one stream's next chunk may begin before the other's
    // stored audio ends), what was stored during the call is the start of the recording.
    int common = early[0].length - 160;
    for (int c = 0; c < 2; c++)
      assertArrayEquals(
          java.util.Arrays.copyOf(early[c], common),
          java.util.Arrays.copyOf(stereo[c], common),
          "channel " + c + " during the call");
    assertArrayEquals(channels.get("agent"), stereo[0], "left is the agent's stream");
    assertArrayEquals(channels.get("customer"), stereo[1], "right is the customer's stream");
    short[] mono =
        Recordings.pcm(api.bytes("/v1/calls/" + callId + "/audio.wav?layout=mono"), 1)[0];
    for (int i = 0; i < mono.length; i++) {
      int mixed = Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, stereo[0][i] + stereo[1][i]));
      if (mono[i] != mixed)
        throw new AssertionError(
            "mono sample " + i + " is " + mono[i] + ", the mix of both streams is " + mixed);
    }

    // The command line's exports are the API's, byte for byte, and recorded in the ledger.
    exportedByTheCommandLine(callId, stereoWav, 2);
    String label = sent.streams().get(1).label();
    exportedByTheCommandLine(
        callId,
        api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + label),
        1,
        "--stream",
        label);

    // Each channel loses its removed spans; the axis is as long as the longest channel.
    long longest = 0;
    for (StreamRecord stream : sent.streams()) {
      long removed = 0;
      for (JsonNode span : Recordings.streamOf(timeline, stream.label()).path("removed"))
        removed += span.path("endMicros").asLong() - span.path("startMicros").asLong();
      if (rendering.equals("SKIP")) {
        // The span cut is where this stream's gated packets were by its RTP clock. The load
        // generator's blocking actions (the export fetched during the call, the pause and resume
        // requests) hold its sender back while its RTP clock does not move, so the pause spans
        // less RTP time than wall-clock time, by up to that much.
        long shift = summary.pacing().timelineShiftNanos() / 1000;
        long paused = resumedAt - pausedAt;
        assertTrue(
            removed <= paused + 40_000 && removed > paused - shift - 100_000,
            stream.label()
                + ": removed "
                + removed
                + " µs of a pause of "
                + paused
                + " (sender held back "
                + shift
                + " µs)");
      } else {
        assertEquals(0, removed);
      }
      long end = 0;
      for (JsonNode chunk : Recordings.chunksOf(timeline, stream.label()))
        end = Math.max(end, chunk.path("endWallMicros").asLong());
      longest =
          Math.max(
              longest,
              Math.round((end - timeline.path("startMicros").asLong() - removed) * 8000 / 1e6));
    }
    assertEquals(longest, timeline.path("samples").asLong(), 1.0);

    // The node's metrics counted what the call's streams did, once its sockets were released.
    long deadline = System.nanoTime() + 10_000_000_000L;
    JsonNode released = api.get("/v1/calls/" + callId, 200);
    while (!released.path("media").has("released") && System.nanoTime() < deadline) {
      Thread.sleep(200);
      released = api.get("/v1/calls/" + callId, 200);
    }
    assertTrue(released.path("media").has("released"), released.toString());
    long[] streams = new long[counted.length];
    for (StreamRecord stream : sent.streams()) {
      JsonNode stats = Recordings.streamOf(released, stream.label()).path("stats");
      streams[0] += stats.path("received").asLong();
      streams[1] += stats.path("stored").asLong();
      streams[2] += stats.path("droppedByGate").asLong();
      streams[3] += stats.path("rejected").path("FOREIGN_SOURCE").asLong();
      streams[4] += stats.path("chunksStored").asLong(); // each chunk written once, and timed
    }
    assertTrue(streams[0] > 300 && streams[2] > 50 && streams[3] > 0, Arrays.toString(streams));
    for (int i = 0; i < counted.length; i++) {
      while (metric(counted[i]) - before[i] != streams[i] && System.nanoTime() < deadline)
        Thread.sleep(200);
      assertEquals(streams[i], metric(counted[i]) - before[i], counted[i] + " on /metrics");
    }
  }

  /**
   * {@code callvault calls export} of the call, with {@code options}, against the node: it exits 0
   * having written the file the API serves ({@code viaApi}): the same bytes and samples, with the
   * SHA-256 it prints, which the call's ledger records as an export made.
   */
  private static void exportedByTheCommandLine(
      String callId, byte[] viaApi, int channels, String... options) throws Exception {
    java.nio.file.Path wav = java.nio.file.Files.createTempFile("callvault-cli-export", ".wav");
    try {
      java.util.List<String> args =
          new java.util.ArrayList<>(
              List.of(
                  "calls",
                  "export",
                  callId,
                  "--out",
                  wav.toString(),
                  "--url",
                  node.base(),
                  "--key",
                  TestKeys.SUPERVISOR));
      args.addAll(List.of(options));
      java.io.StringWriter out = new java.io.StringWriter();
      java.io.StringWriter err = new java.io.StringWriter();
      int status =
          org.callvault.cli.Cli.run(
              new java.io.PrintWriter(out),
              new java.io.PrintWriter(err),
              false,
              args.toArray(String[]::new));
      assertEquals(0, status, "callvault " + args + ": " + err);
      byte[] written = java.nio.file.Files.readAllBytes(wav);
      assertEquals(viaApi.length, written.length, "the bytes of " + args);
      assertEquals(
          Recordings.pcm(viaApi, channels)[0].length,
          Recordings.pcm(written, channels)[0].length,
          "the samples of " + args);
      assertArrayEquals(viaApi, written, "the file of " + args);
      String sha =
          java.util.HexFormat.of()
              .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(written));
      assertTrue(
          out.toString().contains(written.length + " bytes, SHA-256 " + sha), out.toString());
      assertTrue(
          api.get("/v1/calls/" + callId + "/exports/verify?sha256=" + sha, 200)
              .path("made")
              .asBoolean());
      // The API's export above was the same file: the command line's is a record of its own.
      long recorded = 0;
      for (JsonNode e : api.get("/v1/calls/" + callId + "/ledger", 200).path("events"))
        if (e.path("type").asText().equals("ExportMade")
            && e.path("by").asText().equals("key:test-supervisor")
            && e.path("details").path("sha256").asText().equals(sha)) recorded++;
      assertEquals(1, recorded, "the ledger records the command line's export once");
    } finally {
      java.nio.file.Files.deleteIfExists(wav);
    }
  }

  /** A sample of the node's {@code GET /metrics}; 0 for one it does not have yet. */
  private double metric(String sample) throws Exception {
    String scrape = new String(api.bytes("/metrics"), java.nio.charset.StandardCharsets.UTF_8);
    for (String line : scrape.split("\n"))
      if (line.startsWith(sample + " "))
        return Double.parseDouble(line.substring(sample.length() + 1));
    return 0;
  }

  @Test
  void anAllPartyCallStoresNothingUntilTheLastConsent() throws Exception {
    Summary summary =
        LoadGenerator.run(
            load("all-party", "{\"consentMode\":\"ALL_PARTY\"}")
                .duration(Duration.ofSeconds(5))
                .seed(11)
                .postToEachCall(1.0, "/consent", "{\"party\":\"agent\",\"decision\":\"GRANTED\"}")
                .postToEachCall(
                    2.5, "/consent", "{\"party\":\"customer\",\"decision\":\"GRANTED\"}"));
    summary.requireActionsOk();
    String callId = summary.calls().get(0).callId();
    long lastConsent = consentTime(callId, "customer");
    JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
    JsonNode call = api.get("/v1/calls/" + callId, 200);
    for (StreamRecord stream : summary.calls().get(0).streams()) {
      for (JsonNode chunk : Recordings.chunksOf(timeline, stream.label()))
        assertTrue(
            chunk.path("startWallMicros").asLong() >= lastConsent - 20_000,
            stream.label() + ": audio stored before the last consent: " + chunk);
      short[] exported =
          Recordings.pcm(
              api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()),
              1)[0];
      int present =
          Recordings.checkStream(
              stream,
              exported,
              Recordings.chunksOf(timeline, stream.label()),
              List.of(new long[] {0, lastConsent}));
      JsonNode stats = Recordings.streamOf(call, stream.label()).path("stats");
      assertEquals(present, stats.path("stored").asLong());
      assertTrue(stats.path("droppedByGate").asLong() >= 110, "2.5 s held for consent: " + stats);
    }
  }

  @Test
  void recordOthersKeepsOnlyTheConsentingPartysStreamAfterADecline() throws Exception {
    Summary summary =
        LoadGenerator.run(
            load("record-others", "{\"onDecline\":\"RECORD_OTHERS\"}")
                .duration(Duration.ofSeconds(5))
                .seed(12)
                .postToEachCall(
                    2.0, "/consent", "{\"party\":\"customer\",\"decision\":\"DECLINED\"}"));
    summary.requireActionsOk();
    CallRecord sent = summary.calls().get(0);
    long declined = consentTime(sent.callId(), "customer");
    JsonNode timeline = api.get("/v1/calls/" + sent.callId() + "/timeline", 200);
    JsonNode call = api.get("/v1/calls/" + sent.callId(), 200);
    for (StreamRecord stream : sent.streams()) {
      boolean customer = stream.label().equals("customer");
      short[] exported =
          Recordings.pcm(
              api.bytes(
                  "/v1/calls/"
                      + sent.callId()
                      + "/audio.wav?layout=stream&label="
                      + stream.label()),
              1)[0];
      List<long[]> closed = customer ? List.of(new long[] {declined, Long.MAX_VALUE}) : List.of();
      int present =
          Recordings.checkStream(
              stream, exported, Recordings.chunksOf(timeline, stream.label()), closed);
      JsonNode stats = Recordings.streamOf(call, stream.label()).path("stats");
      assertEquals(present, stats.path("stored").asLong());
      if (customer) {
        for (JsonNode chunk : Recordings.chunksOf(timeline, stream.label()))
          assertTrue(
              chunk.path("endWallMicros").asLong() <= declined + 20_000,
              "customer audio stored after the decline: " + chunk);
        assertTrue(stats.path("droppedByGate").asLong() >= 140, stats.toString());
      } else {
        assertEquals(250, present, "the agent's stream is recorded whole");
        assertEquals(0, stats.path("droppedByGate").asLong());
      }
    }
  }

  /** When the ledger recorded the party's last consent decision, in wall-clock microseconds. */
  private static long consentTime(String callId, String party) throws Exception {
    long at = -1;
    for (JsonNode event : api.get("/v1/calls/" + callId + "/ledger", 200).path("events")) {
      if (event.path("type").asText().equals("ConsentChanged")
          && event.path("details").path("party").asText().equals(party))
        at = Instant.parse(event.path("time").asText()).toEpochMilli() * 1000;
    }
    assertTrue(at > 0, "no consent of " + party + " in the ledger of " + callId);
    return at;
  }
}
