package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import org.callvault.bench.Codec;
import org.callvault.siprec.RecordingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The SIPREC server of a node on the real Cassandra, driven by sipp as the recording client (SRC):
 * a two-stream call with metadata, paused and resumed by re-INVITE, ended by BYE, with the audio of
 * both streams checked sample by sample, each packet at its place; OPTIONS; CANCEL; a retransmitted
 * INVITE; and the malformed messages, each answered with its status and leaving no call behind.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class SipIT {

  private static NodeProcess node;
  private static Http api;
  private static InetSocketAddress sip;

  @BeforeAll
  static void start() throws Exception {
    String keyspace = "sip_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    node = NodeProcess.start("sip", keyspace, Map.of());
    api = new Http(node.base());
    sip = new InetSocketAddress("127.0.0.1", node.sipPort);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.close();
  }

  @Test
  void aTwoStreamSiprecCallIsRecordedWithItsPartiesLabelsPauseAndAudio() throws Exception {
    // Label 1 is sipp's RTP stream (a known pattern it plays from a file); label 2 is sent here.
    SippAudio one = new SippAudio(101, 250);
    SippAudio two = new SippAudio(202, 250);
    Path file = one.writeRaw(Sipp.LOGS.resolve("sip-it-label1.ulaw"));
    String prefix = "sipit-" + UUID.randomUUID().toString().substring(0, 8);
    Sipp run =
        Sipp.client("siprec-call", "127.0.0.1", node.sipPort)
            .name("sip-it-call")
            .callIdPrefix(prefix)
            .rtpAudio(file, 1);
    String sipCallId = run.callId(1);
    Sipp.Running running = run.start();
    List<Long> label2Sends = new ArrayList<>();
    try (running;
        DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      Matcher media = running.awaitEvent("srs-media (\\S+) (\\d+) (\\d+)", Duration.ofSeconds(15));
      InetSocketAddress label2 =
          new InetSocketAddress(media.group(1), Integer.parseInt(media.group(3)));
      // The SRC forks both directions at once: label 2 is sent for as long as label 1, across the
      // pause (while paused, the recorder must drop it).
      CompletableFuture<Void> sending =
          CompletableFuture.runAsync(
              () -> {
                try {
                  two.sendRtp(socket, label2, 0x2222_0000L, 200);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      Sipp.Result result = running.await();
      sending.join();
      assertEquals(1, result.successfulCalls(), result.describe());
    }

    String callId = RecordingServer.callIdOf(sipCallId);
    JsonNode call = awaitState(callId, "STOPPED");
    assertEquals(sipCallId, call.path("sip").path("sipCallId").asText(), call.toString());
    JsonNode parties = call.path("parties");
    assertEquals(2, parties.size(), call.toString());
    assertEquals("alice", parties.get(0).path("id").asText());
    assertEquals("sip:alice@example.com", parties.get(0).path("aor").asText());
    assertEquals("Alice Agent", parties.get(0).path("name").asText());
    assertEquals("bob", parties.get(1).path("id").asText());
    assertEquals("1", call.path("streams").get(0).path("label").asText());
    assertEquals("alice", call.path("streams").get(0).path("party").asText());
    assertEquals("2", call.path("streams").get(1).path("label").asText());
    assertEquals("bob", call.path("streams").get(1).path("party").asText());
    JsonNode pauses = call.path("pauses");
    assertEquals(1, pauses.size(), "the re-INVITE with a=inactive paused the call once: " + call);
    assertEquals("SIPREC", pauses.get(0).path("reason").asText());
    assertTrue(pauses.get(0).path("by").asText().startsWith("sip:127.0.0.1"), pauses.toString());
    assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());

    // The INVITE's metadata is kept as it came, and downloads as those bytes.
    JsonNode documents = api.get("/v1/calls/" + callId + "/metadata", 200).path("documents");
    assertTrue(documents.size() >= 1, documents.toString());
    byte[] xml = api.bytes(documents.get(0).path("href").asText());
    assertEquals(documents.get(0).path("bytes").asInt(), xml.length);
    assertEquals(
        documents.get(0).path("sha256").asText(),
        java.util.HexFormat.of()
            .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(xml)));
    String text = new String(xml, java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(
        text.contains("urn:ietf:params:xml:ns:recording:1")
            && text.contains("sip:alice@example.com"),
        text);

    // Both streams: every stored packet is in the export at the sample its RTP timestamp gives it,
    // silence everywhere else; while the call was paused nothing was stored (sipp sent nothing on
    // label 1; label 2 was dropped).
    JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
    assertEquals(
        "SILENCE",
        timeline.path("pauseRendering").asText(),
        "the pause stays in the export as silence, so nothing is cut");
    List<Long> stored1 = placed(callId, timeline, "1", one);
    List<Long> stored2 = placed(callId, timeline, "2", two);
    long pausedMillis =
        Duration.between(
                Instant.parse(pauses.get(0).path("start").asText()),
                Instant.parse(pauses.get(0).path("end").asText()))
            .toMillis();
    System.out.printf(
        "SIPREC call %s: label 1 (sipp) %d packets stored, label 2 %d of 200 stored, paused %d"
            + " ms%n",
        callId, stored1.size(), stored2.size(), pausedMillis);
    assertTrue(stored1.size() >= 100, "sipp played about 3 s on label 1: " + stored1.size());
    assertTrue(pausedMillis >= 500, "the pause lasted about a second: " + pausedMillis);
    assertTrue(
        stored2.size() < 200 - pausedMillis / 20 + 10 && stored2.size() > 100,
        "label 2 lost the paused span and nothing else: " + stored2.size());
    assertEquals(1, holes(stored2), "label 2 lost one run of packets, the paused span: " + stored2);

    // Label 2 has one clock from its first packet to its last (its timestamps are 160·k, no RTCP
    // re-anchors it), and a paused span rendered as silence shifts nothing: packet k is at the
    // same sample base + 160·k before and after the pause.
    List<JsonNode> chunks2 = Recordings.chunksOf(timeline, "2");
    long base = chunks2.get(0).path("position").asLong() - chunks2.get(0).path("firstTs").asLong();
    for (JsonNode chunk : chunks2) {
      assertEquals(
          160 * chunk.path("firstSeq").asLong(),
          chunk.path("firstTs").asLong(),
          "label 2 was sent with timestamp 160·seq: " + chunk);
      assertEquals(
          base,
          chunk.path("position").asLong() - chunk.path("firstTs").asLong(),
          "label 2: packet k at base + 160·k in every chunk: " + chunk);
    }
  }

  /**
   * Checks the export of {@code label} sample for sample: each packet of each chunk in the timeline
   * holds the pattern's packet of its sequence number (sipp and {@link SippAudio#sendRtp} both
   * number from 0 and play the pattern in order) and starts at its chunk's position plus its
   * distance in RTP samples from the chunk's first packet; every other sample is silence. Returns
   * the sequence numbers stored, in order, as many as the stream's stored count.
   *
   * <p>A packet's timestamp follows from its chunk: nothing is lost on loopback, so a chunk holds
   * every sequence number from its first to its last, each packet 20 ms (160 samples) after the one
   * before. The one jump is sipp's resume, whose clock ran on through the pause (a second or more):
   * a chunk ends as soon as it spans a second, so a packet after such a jump is the last of its
   * chunk and ends where the chunk ends.
   */
  private static List<Long> placed(String callId, JsonNode timeline, String label, SippAudio audio)
      throws Exception {
    short[] pcm =
        Recordings.pcm(
            api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + label), 1)[0];
    assertEquals(
        timeline.path("samples").asLong(),
        pcm.length,
        label + ": the export is as long as the timeline");
    short[] expected = new short[pcm.length];
    List<Long> seqs = new ArrayList<>();
    long lastEnd = Long.MIN_VALUE;
    for (JsonNode chunk : Recordings.chunksOf(timeline, label)) {
      long firstSeq = chunk.path("firstSeq").asLong();
      long lastSeq = chunk.path("lastSeq").asLong();
      long firstTs = chunk.path("firstTs").asLong();
      long endTs = chunk.path("endTs").asLong();
      long position = chunk.path("position").asLong();
      assertEquals(
          lastSeq - firstSeq + 1,
          chunk.path("packets").asLong(),
          label + ": nothing lost within a chunk: " + chunk);
      for (long seq = firstSeq; seq <= lastSeq; seq++) {
        long ts = seq < lastSeq ? firstTs + 160 * (seq - firstSeq) : endTs - 160;
        long at = position + (ts - firstTs);
        assertTrue(
            at >= lastEnd && at + 160 <= pcm.length,
            label
                + ": packet "
                + seq
                + " at "
                + at
                + " overlaps the one before or lies outside the export: "
                + chunk);
        short[] samples =
            org.callvault.bench.Pattern.samples(Codec.PCMU, audio.seed(), seq % audio.packets());
        System.arraycopy(samples, 0, expected, (int) at, samples.length);
        lastEnd = at + 160;
        seqs.add(seq);
      }
    }
    for (int i = 0; i < pcm.length; i++) {
      if (pcm[i] != expected[i])
        throw new AssertionError(
            label
                + ": sample "
                + i
                + " is "
                + pcm[i]
                + " where "
                + expected[i]
                + " belongs ("
                + (expected[i] == 0 ? "silence" : "a stored packet")
                + ")");
    }
    JsonNode stream = Recordings.streamOf(api.get("/v1/calls/" + callId, 200), label);
    assertEquals(
        stream.path("stats").path("stored").asLong(),
        seqs.size(),
        label + ": every stored packet is in the export, in place: " + stream);
    // Between the packets, silence: the export holds nothing else.
    int nonSilent = 0;
    for (short sample : pcm) if (sample != 0) nonSilent++;
    assertTrue(
        nonSilent >= seqs.size() * 160 * 9 / 10 && nonSilent <= seqs.size() * 160,
        label + ": " + nonSilent + " non-silent samples for " + seqs.size() + " packets");
    return seqs;
  }

  /**
   * How many runs of sequence numbers are missing between the first and the last of {@code seqs}.
   */
  private static int holes(List<Long> seqs) {
    int holes = 0;
    for (int i = 1; i < seqs.size(); i++) if (seqs.get(i) != seqs.get(i - 1) + 1) holes++;
    return holes;
  }

  private static JsonNode awaitState(String callId, String state) throws Exception {
    Instant deadline = Instant.now().plusSeconds(15);
    while (true) {
      JsonNode call = api.send("GET", "/v1/calls/" + callId, null, Http.ANY_OK);
      if (call != null && call.path("state").asText().equals(state)) return call;
      if (Instant.now().isAfter(deadline))
        throw new AssertionError(callId + " is not " + state + ": " + call);
      Thread.sleep(100);
    }
  }

  @Test
  void optionsAreAnswered() throws Exception {
    Sipp.Result result =
        Sipp.client("options", "127.0.0.1", node.sipPort).name("sip-it-options").run();
    assertEquals(1, result.successfulCalls(), result.describe());
  }

  /**
   * sipp sends the CANCEL as soon as the 100 Trying comes, as early as RFC 3261 §9.1 allows. The
   * server sends that 100 before it even asks for the call, and can send the 200 only once the
   * call's entity has recovered from the journal, persisted its creation in Cassandra and bound its
   * sockets: the CANCEL, one loopback datagram behind the 100, comes first. So the INVITE is
   * answered 487 and the call it set up meanwhile is stopped at once, by {@code sip:CANCEL}, with
   * nothing recorded. (cancel.xml also takes the other order, so that if it ever happened this test
   * would say so rather than sipp failing.)
   */
  @Test
  void aCancelledInviteIsAnswered487AndItsCallStoppedAtOnceWithNothingRecorded() throws Exception {
    String prefix = "sipcancel-" + UUID.randomUUID().toString().substring(0, 8);
    Sipp run =
        Sipp.client("cancel", "127.0.0.1", node.sipPort).name("sip-it-cancel").callIdPrefix(prefix);
    Sipp.Running running = run.start();
    Sipp.Result result;
    try (running) {
      Matcher outcome = running.awaitEvent("cancel-outcome (\\S+)", Duration.ofSeconds(15));
      result = running.await();
      assertEquals(1, result.successfulCalls(), result.describe());
      assertEquals(
          "487",
          outcome.group(1),
          "the CANCEL came before the call was set up: " + result.describe());
    }
    // What sipp saw: the 100, the CANCEL's 200, the INVITE's 487 (the transactions send those two
    // in that order), and never a 200 to the INVITE; what it sent: no BYE, as there is no dialog.
    List<String> received = new ArrayList<>();
    List<String> sent = new ArrayList<>();
    for (Sipp.TracedMessage m : result.messages()) {
      String cseq =
          m.text()
              .lines()
              .filter(l -> l.regionMatches(true, 0, "CSeq:", 0, 5))
              .findFirst()
              .orElse("CSeq: ?")
              .substring(5)
              .trim();
      List<String> list = m.received() ? received : sent;
      String entry =
          m.received()
              ? m.startLine().replaceFirst("^SIP/2.0 (\\d+).*", "$1")
                  + " "
                  + cseq.replaceFirst("^\\d+ ", "")
              : m.startLine().split(" ")[0];
      if (list.isEmpty() || !list.get(list.size() - 1).equals(entry))
        list.add(entry); // a retransmission is the same message
    }
    assertEquals(
        List.of("100 INVITE", "200 CANCEL", "487 INVITE"),
        received.subList(0, Math.min(3, received.size())),
        "received: " + received);
    assertTrue(received.stream().noneMatch(r -> r.equals("200 INVITE")), "received: " + received);
    assertEquals(
        List.of("INVITE", "CANCEL", "ACK"),
        sent.subList(0, Math.min(3, sent.size())),
        "sent: " + sent);
    assertTrue(sent.stream().noneMatch(m -> m.equals("BYE")), "sent: " + sent);

    String callId = RecordingServer.callIdOf(run.callId(1));
    JsonNode call = awaitState(callId, "STOPPED");
    assertEquals("sip:CANCEL", call.path("stoppedBy").asText(), call.toString());
    for (JsonNode stream : call.path("streams"))
      assertEquals(0, stream.path("stats").path("stored").asLong(), "nothing recorded: " + call);
    JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
    List<String> types = new ArrayList<>();
    for (JsonNode e : ledger.path("events")) types.add(e.path("type").asText());
    assertEquals("CallCreated", types.get(0), ledger.toString());
    assertEquals(1, types.stream().filter(t -> t.equals("Stopped")).count(), ledger.toString());
    assertTrue(types.stream().noneMatch(t -> t.equals("ChunkStored")), ledger.toString());
    for (JsonNode e : ledger.path("events"))
      if (e.path("type").asText().equals("Stopped"))
        assertEquals("sip:CANCEL", e.path("by").asText(), ledger.toString());
    assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
  }

  @Test
  void aRetransmittedInviteMakesOneCall() throws Exception {
    String id = "retransmit-" + UUID.randomUUID().toString().substring(0, 8);
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      byte[] invite =
          SipMessages.SIPREC_INVITE.bytes(
              (InetSocketAddress) socket.getLocalSocketAddress(), sip, id);
      socket.send(new java.net.DatagramPacket(invite, invite.length, sip));
      socket.send(
          new java.net.DatagramPacket(
              invite, invite.length, sip)); // the same bytes, the same branch
      String first =
          new String(
              SipMessages.receiveFinal(socket, Duration.ofSeconds(10)).orElseThrow(),
              StandardCharsets.UTF_8);
      String second =
          new String(
              SipMessages.receiveFinal(socket, Duration.ofSeconds(10)).orElseThrow(),
              StandardCharsets.UTF_8);
      assertTrue(first.startsWith("SIP/2.0 200"), first);
      assertEquals(first, second, "the retransmission is answered with the same 200");
    }
    String callId = RecordingServer.callIdOf(id + "@sipmessages");
    JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
    long created = 0;
    for (JsonNode e : ledger.path("events"))
      if (e.path("type").asText().equals("CallCreated")) created++;
    assertEquals(1, created, "one call: " + ledger);
  }

  @Test
  void malformedMessagesAreAnsweredWithTheirStatusAndLeaveNoCall() throws Exception {
    List<String> failures = new ArrayList<>();
    for (SipMessages.Message m : SipMessages.MALFORMED) {
      String id = "malformed-" + UUID.randomUUID().toString().substring(0, 8);
      Optional<byte[]> answer =
          SipMessages.exchange(
              m, sip, id, Duration.ofSeconds(m.expectedStatus() == SipMessages.NO_ANSWER ? 1 : 5));
      String text = answer.map(a -> new String(a, StandardCharsets.UTF_8)).orElse(null);
      int status = text == null ? SipMessages.NO_ANSWER : Integer.parseInt(text.substring(8, 11));
      if (status != m.expectedStatus())
        failures.add(
            m + ": answered " + (text == null ? "nothing" : text.lines().findFirst().orElse("")));
      else if (text != null && text.lines().findFirst().orElse("").length() < 16)
        failures.add(m + ": no reason given: " + text.lines().findFirst().orElse(""));
      if (api.send(
              "GET",
              "/v1/calls/" + RecordingServer.callIdOf(id + "@sipmessages"),
              null,
              Http.ANY_OK)
          != null) failures.add(m + ": a call was created");
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
    assertEquals(
        1,
        Sipp.client("options", "127.0.0.1", node.sipPort)
            .name("sip-it-after-malformed")
            .run()
            .successfulCalls(),
        "the node answers as before");
    assertTrue(api.get("/v1/health", 200).path("status").asText().equals("UP"));
  }
}
