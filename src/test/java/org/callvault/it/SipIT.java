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

/**
 * The SIPREC server of a node on the real Cassandra, driven by sipp as the recording client
 * (SRC): a two-stream call with metadata, paused and resumed by re-INVITE, ended by BYE, with the
 * audio of both streams checked sample by sample; OPTIONS; CANCEL; a retransmitted INVITE; and the
 * malformed messages, each answered with its status and leaving no call behind.
 */
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
    Sipp run = Sipp.client("siprec-call", "127.0.0.1", node.sipPort).name("sip-it-call").callIdPrefix(prefix).rtpAudio(file, 1);
    String sipCallId = run.callId(1);
    Sipp.Running running = run.start();
    List<Long> label2Sends = new ArrayList<>();
    try (running; DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      Matcher media = running.awaitEvent("srs-media (\\S+) (\\d+) (\\d+)", Duration.ofSeconds(15));
      InetSocketAddress label2 = new InetSocketAddress(media.group(1), Integer.parseInt(media.group(3)));
      // The SRC forks both directions at once: label 2 is sent for as long as label 1, across the
      // pause (while paused, the recorder must drop it).
      CompletableFuture<Void> sending =
          CompletableFuture.runAsync(() -> {
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

    // Both streams: every stored packet is in the export, in order, sample for sample; while the
    // call was paused nothing was stored (sipp sent nothing on label 1; label 2 was dropped).
    int stored1 = inOrder(callId, "1", one);
    int stored2 = inOrder(callId, "2", two);
    long pausedMillis = Duration.between(Instant.parse(pauses.get(0).path("start").asText()), Instant.parse(pauses.get(0).path("end").asText())).toMillis();
    System.out.printf("SIPREC call %s: label 1 (sipp) %d packets stored, label 2 %d of 200 stored, paused %d ms%n", callId, stored1, stored2, pausedMillis);
    assertTrue(stored1 >= 100, "sipp played about 3 s on label 1: " + stored1);
    assertTrue(pausedMillis >= 500, "the pause lasted about a second: " + pausedMillis);
    assertTrue(stored2 < 200 - pausedMillis / 20 + 10 && stored2 > 100, "label 2 lost the paused span and nothing else: " + stored2);
  }

  /**
   * Finds the export of {@code label} to hold the pattern's packets one after another, each in
   * full, in increasing order; returns how many, which must equal the stream's stored count.
   */
  private static int inOrder(String callId, String label, SippAudio audio) throws Exception {
    short[] pcm = Recordings.pcm(api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + label), 1)[0];
    int position = 0;
    int found = 0;
    long k = 0;
    for (; k < audio.packets() && position < pcm.length; k++) {
      short[] expected = org.callvault.bench.Pattern.samples(Codec.PCMU, audio.seed(), k % audio.packets());
      int at = indexOf(pcm, expected, position);
      if (at < 0) continue; // not stored (before the stream started, or while paused)
      found++;
      position = at + expected.length;
    }
    JsonNode stream = Recordings.streamOf(api.get("/v1/calls/" + callId, 200), label);
    assertEquals(stream.path("stats").path("stored").asLong(), found, label + ": every stored packet is in the export, in order: " + stream);
    // Between the packets, silence: the export holds nothing else.
    int nonSilent = 0;
    for (short sample : pcm) if (sample != 0) nonSilent++;
    assertTrue(nonSilent >= found * 160 * 9 / 10 && nonSilent <= found * 160, label + ": " + nonSilent + " non-silent samples for " + found + " packets");
    return found;
  }

  private static int indexOf(short[] haystack, short[] needle, int from) {
    outer:
    for (int i = from; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  private static JsonNode awaitState(String callId, String state) throws Exception {
    Instant deadline = Instant.now().plusSeconds(15);
    while (true) {
      JsonNode call = api.send("GET", "/v1/calls/" + callId, null, Http.ANY_OK);
      if (call != null && call.path("state").asText().equals(state)) return call;
      if (Instant.now().isAfter(deadline)) throw new AssertionError(callId + " is not " + state + ": " + call);
      Thread.sleep(100);
    }
  }

  @Test
  void optionsAreAnswered() throws Exception {
    Sipp.Result result = Sipp.client("options", "127.0.0.1", node.sipPort).name("sip-it-options").run();
    assertEquals(1, result.successfulCalls(), result.describe());
  }

  @Test
  void aCancelledInviteLeavesNoRecording() throws Exception {
    String prefix = "sipcancel-" + UUID.randomUUID().toString().substring(0, 8);
    Sipp run = Sipp.client("cancel", "127.0.0.1", node.sipPort).name("sip-it-cancel").callIdPrefix(prefix);
    Sipp.Running running = run.start();
    Matcher outcome;
    try (running) {
      outcome = running.awaitEvent("cancel-outcome (\\S+)", Duration.ofSeconds(15));
      Sipp.Result result = running.await();
      assertEquals(1, result.successfulCalls(), result.describe());
    }
    String callId = RecordingServer.callIdOf(run.callId(1));
    // Whichever won the race, nothing is being recorded: a cancelled INVITE whose call was set up
    // meanwhile is stopped at once (by "sip:CANCEL"); one answered first was ended by the BYE.
    JsonNode call = api.send("GET", "/v1/calls/" + callId, null, Http.ANY_OK);
    if (call != null) {
      awaitState(callId, "STOPPED");
      System.out.println("CANCEL: " + outcome.group(1) + "; the call exists, stopped by " + api.get("/v1/calls/" + callId, 200).path("stoppedBy").asText());
    } else {
      System.out.println("CANCEL: " + outcome.group(1) + "; no call was created");
    }
  }

  @Test
  void aRetransmittedInviteMakesOneCall() throws Exception {
    String id = "retransmit-" + UUID.randomUUID().toString().substring(0, 8);
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      byte[] invite = SipMessages.SIPREC_INVITE.bytes((InetSocketAddress) socket.getLocalSocketAddress(), sip, id);
      socket.send(new java.net.DatagramPacket(invite, invite.length, sip));
      socket.send(new java.net.DatagramPacket(invite, invite.length, sip)); // the same bytes, the same branch
      String first = new String(SipMessages.receiveFinal(socket, Duration.ofSeconds(10)).orElseThrow(), StandardCharsets.UTF_8);
      String second = new String(SipMessages.receiveFinal(socket, Duration.ofSeconds(10)).orElseThrow(), StandardCharsets.UTF_8);
      assertTrue(first.startsWith("SIP/2.0 200"), first);
      assertEquals(first, second, "the retransmission is answered with the same 200");
    }
    String callId = RecordingServer.callIdOf(id + "@sipmessages");
    JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
    long created = 0;
    for (JsonNode e : ledger.path("events")) if (e.path("type").asText().equals("CallCreated")) created++;
    assertEquals(1, created, "one call: " + ledger);
  }

  @Test
  void malformedMessagesAreAnsweredWithTheirStatusAndLeaveNoCall() throws Exception {
    List<String> failures = new ArrayList<>();
    for (SipMessages.Message m : SipMessages.MALFORMED) {
      String id = "malformed-" + UUID.randomUUID().toString().substring(0, 8);
      Optional<byte[]> answer = SipMessages.exchange(m, sip, id, Duration.ofSeconds(m.expectedStatus() == SipMessages.NO_ANSWER ? 1 : 5));
      String text = answer.map(a -> new String(a, StandardCharsets.UTF_8)).orElse(null);
      int status = text == null ? SipMessages.NO_ANSWER : Integer.parseInt(text.substring(8, 11));
      if (status != m.expectedStatus()) failures.add(m + ": answered " + (text == null ? "nothing" : text.lines().findFirst().orElse("")));
      else if (text != null && text.lines().findFirst().orElse("").length() < 16) failures.add(m + ": no reason given: " + text.lines().findFirst().orElse(""));
      if (api.send("GET", "/v1/calls/" + RecordingServer.callIdOf(id + "@sipmessages"), null, Http.ANY_OK) != null) failures.add(m + ": a call was created");
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
    assertEquals(1, Sipp.client("options", "127.0.0.1", node.sipPort).name("sip-it-after-malformed").run().successfulCalls(), "the node answers as before");
    assertTrue(api.get("/v1/health", 200).path("status").asText().equals("UP"));
  }
}
