package org.callvault.siprec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.callvault.call.Call;
import org.callvault.call.CallRecording;
import org.callvault.call.Calls;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.FakeBinder;
import org.callvault.call.Party;
import org.callvault.call.Phase;
import org.callvault.call.Policy;
import org.callvault.core.Codec;
import org.callvault.core.StreamSpec;
import org.callvault.sip.SipTestMessages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SIPREC server on real UDP sockets in front of real call entities (a one-node cluster, the
 * in-memory journal; media bound by a stand-in at ports 30000 + 100·b + 2·i): what each request of
 * a recording client does to its call, and what every refusal answers.
 */
class RecordingServerTest {

  private static ActorTestKit testKit;
  private static Calls calls;
  private static SipTransport open;
  private static SipTransport closed;
  private static SipTransport full;
  private static InetSocketAddress openAt;
  private static InetSocketAddress closedAt;
  private static InetSocketAddress fullAt;
  private static final Policy POLICY =
      new Policy(
          Policy.ConsentMode.ONE_PARTY,
          Policy.OnDecline.STOP,
          true,
          300,
          Policy.PauseRendering.SILENCE,
          90);

  @BeforeAll
  static void start() throws Exception {
    testKit =
        ActorTestKit.create(
            "RecordingServerTest",
            ConfigFactory.parseString(
                    """
                    pekko.actor.provider = cluster
                    pekko.actor.serialize-messages = on
                    pekko.remote.artery.canonical.port = 0
                    pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                    """)
                .withFallback(PersistenceTestKitPlugin.getInstance().config())
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.load()));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    FakeBinder binder = FakeBinder.reportingClosed();
    CallRecording.init(testKit.system(), binder, binder, null);
    calls = new Calls(testKit.system(), Duration.ofSeconds(5), null);
    open = server(Set.of("127.0.0.1"), 100);
    closed = server(Set.of("192.0.2.99"), 100);
    full = server(Set.of("127.0.0.1"), 0);
    openAt = open.bind("127.0.0.1", 0);
    closedAt = closed.bind("127.0.0.1", 0);
    fullAt = full.bind("127.0.0.1", 0);
    Instant deadline = Instant.now().plusSeconds(20);
    while (cluster.selfMember().status() != MemberStatus.up() && Instant.now().isBefore(deadline))
      Thread.sleep(50);
  }

  private static RecordingServer openServer;

  private static SipTransport server(Set<String> sources, int maxCalls) {
    RecordingServer.Settings settings =
        new RecordingServer.Settings(
            "sip:srs@127.0.0.1:5060",
            sources,
            POLICY,
            Map.of(),
            maxCalls,
            7,
            "pekko://RecordingServerTest@127.0.0.1:1",
            1800,
            1);
    return new SipTransport(
        65_535,
        (loop, client) -> {
          RecordingServer server = new RecordingServer(settings, calls, () -> 1, loop, client);
          if (openServer == null) openServer = server;
          return server;
        });
  }

  @AfterAll
  static void stop() {
    open.close();
    closed.close();
    full.close();
    testKit.shutdownTestKit();
  }

  // ------------------------------------------------------------------------------- messages

  /** An SRC: one UDP socket, messages of one dialog. */
  private static final class Src implements AutoCloseable {
    final DatagramChannel channel;
    final String callId = UUID.randomUUID() + "@src.example.com";
    final String fromTag = "src-" + UUID.randomUUID().toString().substring(0, 8);
    int cseq = 100;

    Src() throws Exception {
      channel = DatagramChannel.open();
      channel.bind(new InetSocketAddress("127.0.0.1", 0));
      channel.socket().setSoTimeout(5000);
    }

    int port() throws Exception {
      return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    void send(byte[] message, InetSocketAddress to) throws Exception {
      channel.send(ByteBuffer.wrap(message), to);
    }

    /** The next response with a final status (provisional ones are skipped). */
    String finalResponse() throws Exception {
      while (true) {
        String r = next();
        if (!r.startsWith("SIP/2.0 1")) return r;
      }
    }

    String next() throws Exception {
      ByteBuffer buf = ByteBuffer.allocate(65_536);
      channel.configureBlocking(true);
      var socket = channel.socket();
      java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[65_536], 65_536);
      try {
        socket.receive(p);
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no response within 5 s");
      }
      return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    /** An INVITE (or re-INVITE when {@code toTag} is set) with the given SDP direction and body. */
    byte[] invite(String branch, String toTag, String extraHeaders, String contentType, byte[] body)
        throws Exception {
      String head =
          "INVITE sip:srs@127.0.0.1 SIP/2.0\n"
              + "Via: SIP/2.0/UDP 127.0.0.1:"
              + port()
              + ";branch="
              + branch
              + ";rport\n"
              + "Max-Forwards: 70\n"
              + "From: \"SRC\" <sip:src@src.example.com>;tag="
              + fromTag
              + "\n"
              + "To: <sip:srs@127.0.0.1>"
              + (toTag == null ? "" : ";tag=" + toTag)
              + "\n"
              + "Call-ID: "
              + callId
              + "\n"
              + "CSeq: "
              + (++cseq)
              + " INVITE\n"
              + "Contact: <sip:src@127.0.0.1:"
              + port()
              + ">;+sip.src\n"
              + extraHeaders
              + "Content-Type: "
              + contentType
              + "\n"
              + "Content-Length: "
              + body.length
              + "\n\n";
      return SipTestMessages.concat(SipTestMessages.crlf(head), body);
    }

    byte[] siprecInvite(String branch, String toTag, String direction) throws Exception {
      return invite(
          branch, toTag, "Require: siprec\n", "multipart/mixed;boundary=foobar", body(direction));
    }

    byte[] request(String method, String branch, String toTag) throws Exception {
      return request(method, branch, toTag, "");
    }

    byte[] request(String method, String branch, String toTag, String extraHeaders)
        throws Exception {
      String head =
          method
              + " sip:srs@127.0.0.1 SIP/2.0\n"
              + "Via: SIP/2.0/UDP 127.0.0.1:"
              + port()
              + ";branch="
              + branch
              + ";rport\n"
              + "Max-Forwards: 70\n"
              + "From: <sip:src@src.example.com>;tag="
              + fromTag
              + "\n"
              + "To: <sip:srs@127.0.0.1>"
              + (toTag == null ? "" : ";tag=" + toTag)
              + "\n"
              + "Call-ID: "
              + callId
              + "\n"
              + "CSeq: "
              + (method.equals("ACK") ? cseq : ++cseq)
              + " "
              + method
              + "\n"
              + extraHeaders
              + "Content-Length: 0\n\n";
      return SipTestMessages.crlf(head);
    }

    @Override
    public void close() throws Exception {
      channel.close();
    }
  }

  private static byte[] body(String direction) {
    String sdp =
        SipTestMessages.SDP_BODY
            .replace("a=sendonly", "a=" + direction)
            .replace("198.51.100.1", "127.0.0.1");
    return SipTestMessages.crlf(
        "--foobar\nContent-Type: application/sdp\n\n"
            + sdp
            + "--foobar\n"
            + "Content-Type: application/rs-metadata+xml\n"
            + "Content-Disposition: recording-session\n\n"
            + SipTestMessages.METADATA_BODY
            + "--foobar--\n");
  }

  private static String branch() {
    return "z9hG4bK" + UUID.randomUUID().toString().replace("-", "");
  }

  private static String header(String response, String name) {
    for (String line : response.split("\r\n"))
      if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1))
        return line.substring(name.length() + 1).trim();
    return null;
  }

  private static String toTag(String response) {
    String to = header(response, "To");
    return to.substring(to.indexOf("tag=") + 4).split(";")[0];
  }

  private static Call call(String sipCallId) throws Exception {
    CallRecording.Reply reply =
        calls
            .get(RecordingServer.callIdOf(sipCallId))
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    return assertInstanceOf(CallRecording.Accepted.class, reply, reply.toString()).call();
  }

  // --------------------------------------------------------------------------------- tests

  @Test
  void aSiprecCallIsRecordedPausedByAnInactiveReInviteResumedAndStoppedByBye() throws Exception {
    try (Src src = new Src()) {
      src.send(src.siprecInvite(branch(), null, "sendonly"), openAt);
      assertTrue(src.next().startsWith("SIP/2.0 100 Trying"));
      String ok = src.finalResponse();
      assertTrue(ok.startsWith("SIP/2.0 200 OK"), ok);
      assertTrue(header(ok, "Contact").endsWith(";+sip.srs"), ok);
      assertEquals("application/sdp", header(ok, "Content-Type"));
      String tag = toTag(ok);
      // The answer: the two offered m-lines, recvonly, on the ports the call's media bound.
      Call call = call(src.callId);
      int agentPort = call.endpoints().get("1").port();
      int customerPort = call.endpoints().get("2").port();
      assertTrue(ok.contains("m=audio " + agentPort + " RTP/AVP 0 101\r\n"), ok);
      assertTrue(ok.contains("m=audio " + customerPort + " RTP/AVP 0 101\r\n"), ok);
      assertEquals(2, ok.split("a=recvonly", -1).length - 1, ok);
      assertTrue(ok.contains("c=IN IP4 127.0.0.1"), ok);
      src.send(src.request("ACK", branch(), tag), openAt);

      assertEquals(Phase.RECORDING, call.phase());
      assertEquals(src.callId, call.spec().sip().sipCallId());
      assertEquals("0PdEJ5xu2vo4cVq3ukmsQw==", call.spec().sip().metadataSessionId());
      assertEquals(tag, call.spec().sip().localTag());
      assertEquals(src.fromTag, call.spec().sip().remoteTag());
      assertEquals("127.0.0.1:" + src.port(), call.spec().sip().src());
      List<Party> parties = call.parties();
      assertEquals(List.of("alice", "bob"), parties.stream().map(Party::id).toList());
      assertEquals("sip:alice@example.com", parties.get(0).aor());
      assertEquals("Alice", parties.get(0).name());
      assertEquals(List.of("1", "2"), call.streams().stream().map(StreamSpec::label).toList());
      assertEquals("alice", call.streams().get(0).party());
      assertEquals("bob", call.streams().get(1).party());
      assertEquals(
          "127.0.0.1",
          call.streams().get(0).source(),
          "RTP only from the offer's connection address");
      assertEquals(101, call.streams().get(0).dtmfPayloadType());

      src.send(src.siprecInvite(branch(), tag, "inactive"), openAt);
      String paused = src.finalResponse();
      assertTrue(paused.startsWith("SIP/2.0 200 OK"), paused);
      assertTrue(paused.contains("m=audio " + agentPort + " "), "the same ports: " + paused);
      assertEquals(2, paused.split("a=inactive", -1).length - 1, paused);
      src.send(src.request("ACK", branch(), tag), openAt);
      call = call(src.callId);
      assertEquals(Phase.PAUSED, call.phase());
      assertEquals("SIPREC", call.openPause().orElseThrow().reason());

      src.send(src.siprecInvite(branch(), tag, "sendonly"), openAt);
      assertTrue(src.finalResponse().startsWith("SIP/2.0 200 OK"));
      src.send(src.request("ACK", branch(), tag), openAt);
      assertEquals(Phase.RECORDING, call(src.callId).phase());

      src.send(src.request("BYE", branch(), tag), openAt);
      assertTrue(src.finalResponse().startsWith("SIP/2.0 200 OK"));
      assertEquals(Phase.STOPPED, call(src.callId).phase());
    }
  }

  @Test
  void anSrcThatStopsRefreshingItsSessionTimerHasItsRecordingStopped() throws Exception {
    try (Src timed = new Src();
        Src plain = new Src()) {
      String timer = "Supported: timer\nSession-Expires: 2;refresher=uac\nRequire: siprec\n";
      timed.send(
          timed.invite(branch(), null, timer, "multipart/mixed;boundary=foobar", body("sendonly")),
          openAt);
      String ok = timed.finalResponse();
      assertTrue(ok.startsWith("SIP/2.0 200 OK"), ok);
      assertEquals("2;refresher=uac", header(ok, "Session-Expires"), ok);
      assertEquals("timer", header(ok, "Require"), ok);
      String tag = toTag(ok);
      timed.send(timed.request("ACK", branch(), tag), openAt);
      plain.send(plain.siprecInvite(branch(), null, "sendonly"), openAt);
      String plainOk = plain.finalResponse();
      assertTrue(plainOk.startsWith("SIP/2.0 200 OK"), plainOk);
      assertEquals(null, header(plainOk, "Session-Expires"), "no timer for an SRC without one");
      plain.send(plain.request("ACK", branch(), toTag(plainOk)), openAt);

      // Refreshed by UPDATE every second for four seconds: twice the interval, still recording.
      for (int i = 0; i < 4; i++) {
        Thread.sleep(1000);
        timed.send(
            timed.request("UPDATE", branch(), tag, "Session-Expires: 2;refresher=uac\n"), openAt);
        String refreshed = timed.finalResponse();
        assertTrue(refreshed.startsWith("SIP/2.0 200 OK"), refreshed);
        assertEquals("2;refresher=uac", header(refreshed, "Session-Expires"), refreshed);
      }
      assertEquals(Phase.RECORDING, call(timed.callId).phase());

      // No refresh any more: the session expires 2 s after the last one and the call stops.
      Instant deadline = Instant.now().plusSeconds(6);
      while (call(timed.callId).phase() != Phase.STOPPED && Instant.now().isBefore(deadline))
        Thread.sleep(100);
      Call stopped = call(timed.callId);
      assertEquals(Phase.STOPPED, stopped.phase());
      assertEquals("sip:session-expired", stopped.stoppedBy());
      assertEquals(Phase.RECORDING, call(plain.callId).phase(), "the call without a timer goes on");
      // A refresh after that finds no recording.
      timed.send(timed.request("UPDATE", branch(), tag, "Session-Expires: 2\n"), openAt);
      assertTrue(timed.finalResponse().startsWith("SIP/2.0 481"));
      plain.send(plain.request("BYE", branch(), toTag(plainOk)), openAt);
      assertTrue(plain.finalResponse().startsWith("SIP/2.0 200 OK"));
    }
  }

  @Test
  void aSessionIntervalUnderTheMinimumIsRefusedWith422AndTheMinimum() throws Exception {
    try (Src src = new Src()) {
      src.send(
          src.invite(
              branch(),
              null,
              "Supported: timer\nSession-Expires: 0\nRequire: siprec\n",
              "multipart/mixed;boundary=foobar",
              body("sendonly")),
          openAt);
      String refused = src.finalResponse();
      assertTrue(refused.startsWith("SIP/2.0 422"), refused);
      assertEquals("1", header(refused, "Min-SE"), refused);
      assertNoCall(src.callId);
    }
  }

  @Test
  void aReInviteWithANewMlineAndAMetadataUpdateAddsTheStreamAndItsParty() throws Exception {
    try (Src src = new Src()) {
      src.send(src.siprecInvite(branch(), null, "sendonly"), openAt);
      String ok = src.finalResponse();
      String tag = toTag(ok);
      src.send(src.request("ACK", branch(), tag), openAt);
      String sdp =
          SipTestMessages.SDP_BODY.replace("198.51.100.1", "127.0.0.1")
              + "m=audio 12244 RTP/AVP 8 101\n"
              + "a=rtpmap:101 telephone-event/8000\n"
              + "a=label:3\n"
              + "a=sendonly\n";
      String update =
          """
          <?xml version="1.0" encoding="UTF-8"?>
          <recording xmlns='urn:ietf:params:xml:ns:recording:1'>
            <datamode>partial</datamode>
            <participant participant_id="carol-id">
              <nameID aor="sip:carol@example.com"><name>Carol</name></nameID>
            </participant>
            <stream stream_id="carol-stream" session_id="0PdEJ5xu2vo4cVq3ukmsQw=="><label>3</label></stream>
            <participantstreamassoc participant_id="carol-id"><send>carol-stream</send></participantstreamassoc>
          </recording>
          """;
      byte[] body =
          SipTestMessages.crlf(
              "--foobar\nContent-Type: application/sdp\n\n"
                  + sdp
                  + "--foobar\n"
                  + "Content-Type: application/rs-metadata+xml\n"
                  + "Content-Disposition: recording-session\n\n"
                  + update
                  + "--foobar--\n");
      src.send(
          src.invite(branch(), tag, "Require: siprec\n", "multipart/mixed;boundary=foobar", body),
          openAt);
      String answer = src.finalResponse();
      assertTrue(answer.startsWith("SIP/2.0 200 OK"), answer);
      Call call = call(src.callId);
      assertEquals(List.of("1", "2", "3"), call.streams().stream().map(StreamSpec::label).toList());
      StreamSpec added = call.streams().get(2);
      assertEquals("carol", added.party());
      assertEquals(Codec.PCMA, added.codec());
      assertEquals("Carol", call.party("carol").orElseThrow().name());
      int port = call.endpoints().get("3").port();
      assertTrue(
          answer.contains("m=audio " + port + " RTP/AVP 8 101\r\n"),
          "the new m-line is answered on its port: " + answer);
      assertEquals(3, answer.split("a=recvonly", -1).length - 1, answer);
      assertEquals(Phase.RECORDING, call.phase());

      // Both documents are kept in the ledger as they came: the INVITE's, then the update.
      List<String> kept =
          org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit.create(testKit.system())
              .persistedInStorage("CallRecording|" + call.callId())
              .stream()
              .map(e -> ((org.callvault.call.Event) e).change())
              .filter(c -> c instanceof org.callvault.call.Change.MetadataReceived)
              .map(
                  c ->
                      new String(
                          java.util.Base64.getDecoder()
                              .decode(((org.callvault.call.Change.MetadataReceived) c).document()),
                          java.nio.charset.StandardCharsets.UTF_8))
              .toList();
      assertEquals(
          List.of(
              new String(
                  SipTestMessages.crlf(SipTestMessages.METADATA_BODY.stripTrailing()),
                  java.nio.charset.StandardCharsets.UTF_8),
              new String(
                  SipTestMessages.crlf(update.stripTrailing()),
                  java.nio.charset.StandardCharsets.UTF_8)),
          kept);
    }
  }

  @Test
  void whenTheMediaMovesTheServerReInvitesTheSrcFromTheDialogInTheLedgerAndAcksItsAnswer()
      throws Exception {
    try (Src src = new Src()) {
      src.send(src.siprecInvite(branch(), null, "sendonly"), openAt);
      String tag = toTag(src.finalResponse());
      src.send(src.request("ACK", branch(), tag), openAt);
      Call call = call(src.callId);

      // As the node that took the call over does, from the call's ledger alone.
      Map<String, org.callvault.core.Endpoint> moved =
          Map.of(
              "1",
              new org.callvault.core.Endpoint("127.0.0.1", 41000),
              "2",
              new org.callvault.core.Endpoint("127.0.0.1", 41002));
      long epoch = call.mediaEpoch();
      assertTrue(epoch > 0, "the call's media is bound: " + epoch);
      openServer.mediaMoved(call.spec().sip(), call.streams(), moved, epoch);
      String reInvite = src.next();
      assertTrue(
          reInvite.startsWith("INVITE sip:src@127.0.0.1:" + src.port() + " SIP/2.0\r\n"),
          "to the SRC's Contact: " + reInvite);
      assertEquals(src.callId, header(reInvite, "Call-ID"));
      assertTrue(
          header(reInvite, "From").endsWith(";tag=" + tag),
          "our tag is the From tag now: " + reInvite);
      assertTrue(header(reInvite, "To").endsWith(";tag=" + src.fromTag), reInvite);
      assertTrue(header(reInvite, "Contact").contains("+sip.srs"), reInvite);
      assertTrue(
          reInvite.contains("m=audio 41000 RTP/AVP 0 101\r\n")
              && reInvite.contains("m=audio 41002 RTP/AVP 0 101\r\n"),
          reInvite);
      assertEquals(2, reInvite.split("a=recvonly", -1).length - 1, reInvite);
      assertTrue(
          reInvite.contains("a=label:1\r\n") && reInvite.contains("a=label:2\r\n"), reInvite);

      String again = src.next(); // unanswered, it is sent again after T1 (UDP)
      assertEquals(reInvite, again);
      String via = header(reInvite, "Via");
      String cseq = header(reInvite, "CSeq");
      assertEquals(
          (1_000_000_000L + epoch) + " INVITE",
          cseq,
          "the CSeq is 10^9 plus the media epoch, the same on every node");
      assertTrue(
          via.startsWith("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK"),
          "from the server's Contact: " + via);
      String ok =
          "SIP/2.0 200 OK\r\nVia: "
              + via
              + "\r\nFrom: "
              + header(reInvite, "From")
              + "\r\nTo: "
              + header(reInvite, "To")
              + "\r\nCall-ID: "
              + src.callId
              + "\r\nCSeq: "
              + cseq
              + "\r\nContact: <sip:src@127.0.0.1:"
              + src.port()
              + ">\r\nContent-Length: 0\r\n\r\n";
      src.send(ok.getBytes(StandardCharsets.UTF_8), openAt);
      String ack = src.next();
      while (ack.startsWith("INVITE")) ack = src.next(); // a retransmission that crossed the 200
      assertTrue(ack.startsWith("ACK sip:src@127.0.0.1:" + src.port() + " SIP/2.0"), ack);
      assertEquals(cseq.split(" ")[0] + " ACK", header(ack, "CSeq"));
    }
  }

  @Test
  void aMixedOfferOfOneMlineIsRecordedAsOneStream() throws Exception {
    try (Src src = new Src()) {
      String sdp =
          """
          v=0
          o=SRC 1 1 IN IP4 127.0.0.1
          s=-
          c=IN IP4 127.0.0.1
          t=0 0
          m=audio 12240 RTP/AVP 8
          a=sendonly
          """;
      src.send(
          src.invite(
              branch(), null, "Require: siprec\n", "application/sdp", SipTestMessages.crlf(sdp)),
          openAt);
      String ok = src.finalResponse();
      assertTrue(ok.startsWith("SIP/2.0 200 OK"), ok);
      Call call = call(src.callId);
      assertEquals(1, call.streams().size());
      StreamSpec mixed = call.streams().get(0);
      assertEquals("stream-0", mixed.label(), "no a=label: named by its m-line");
      assertEquals(Codec.PCMA, mixed.codec());
      assertEquals(
          "participant-stream-0", mixed.party(), "no metadata: one party for the mixed stream");
      assertTrue(
          ok.contains("m=audio " + call.endpoints().get("stream-0").port() + " RTP/AVP 8\r\n"), ok);
    }
  }

  @Test
  void aRetransmittedInviteMakesOneCallAndGetsTheSameAnswer() throws Exception {
    try (Src src = new Src()) {
      byte[] invite = src.siprecInvite(branch(), null, "sendonly");
      src.send(invite, openAt);
      String first = src.finalResponse();
      src.send(invite, openAt); // the SRC did not see the 200 in time
      String again = src.finalResponse();
      assertTrue(first.startsWith("SIP/2.0 200 OK"), first);
      assertEquals(first, again, "the transaction answers a retransmission with its last response");
      String persistenceId = "CallRecording|" + RecordingServer.callIdOf(src.callId);
      List<Object> events =
          PersistenceTestKit.create(testKit.system()).persistedInStorage(persistenceId);
      assertEquals(
          1,
          events.stream().filter(e -> ((Event) e).change() instanceof Change.CallCreated).count());
    }
  }

  @Test
  void optionsAreAnsweredWithWhatTheServerDoes() throws Exception {
    try (Src src = new Src()) {
      src.send(src.request("OPTIONS", branch(), null), openAt);
      String ok = src.finalResponse();
      assertTrue(ok.startsWith("SIP/2.0 200 OK"), ok);
      assertEquals(Answers.ALLOW, header(ok, "Allow"));
      assertEquals("siprec", header(ok, "Supported"));
    }
  }

  @Test
  void anSrcThatIsNotConfiguredIsForbiddenAndNoCallIsCreated() throws Exception {
    try (Src src = new Src()) {
      src.send(src.siprecInvite(branch(), null, "sendonly"), closedAt);
      String answer = src.finalResponse();
      assertTrue(
          answer.startsWith(
              "SIP/2.0 403 Forbidden: 127.0.0.1 is not a configured recording client"),
          answer);
      assertNoCall(src.callId);
    }
  }

  @Test
  void overTheCallLimitAnInviteGets503WithRetryAfter() throws Exception {
    try (Src src = new Src()) {
      src.send(src.siprecInvite(branch(), null, "sendonly"), fullAt);
      String answer = src.finalResponse();
      assertTrue(answer.startsWith("SIP/2.0 503 Service Unavailable"), answer);
      assertEquals("7", header(answer, "Retry-After"));
      assertNoCall(src.callId);
    }
  }

  @Test
  void whatCannotBeHonouredIsRefusedWithItsStatusAndReason() throws Exception {
    record Case(String name, String status, String headers, String contentType, byte[] body) {}
    byte[] g729 = body("sendonly");
    String g729Text =
        new String(g729, StandardCharsets.UTF_8).replace("RTP/AVP 0 8 101", "RTP/AVP 18 101");
    List<Case> cases =
        List.of(
            new Case(
                "an unknown Require",
                "420 Bad Extension: foo",
                "Require: siprec, foo\n",
                "multipart/mixed;boundary=foobar",
                body("sendonly")),
            new Case(
                "not a recording session",
                "488 Not Acceptable Here: not a recording session",
                "X-Plain-Call: yes\n",
                "application/sdp",
                SipTestMessages.crlf(SipTestMessages.SDP_BODY)),
            new Case(
                "no codec it records",
                "488 Not Acceptable Here: no stream can be recorded",
                "Require: siprec\n",
                "multipart/mixed;boundary=foobar",
                g729Text.getBytes(StandardCharsets.UTF_8)),
            new Case(
                "a broken multipart body",
                "400 ",
                "Require: siprec\n",
                "multipart/mixed;boundary=nothere",
                body("sendonly")),
            new Case(
                "invalid metadata",
                "400 ",
                "Require: siprec\n",
                "multipart/mixed;boundary=foobar",
                new String(body("sendonly"), StandardCharsets.UTF_8)
                    .replace("</recording>", "</recordin>")
                    .getBytes(StandardCharsets.UTF_8)),
            new Case(
                "invalid SDP",
                "400 ",
                "Require: siprec\n",
                "multipart/mixed;boundary=foobar",
                new String(body("sendonly"), StandardCharsets.UTF_8)
                    .replace("m=audio 12240 RTP/AVP", "m=audio 99999999 RTP/AVP")
                    .getBytes(StandardCharsets.UTF_8)));
    for (Case c : cases) {
      try (Src src = new Src()) {
        byte[] invite = src.invite(branch(), null, c.headers(), c.contentType(), c.body());
        if (c.headers().startsWith("X-Plain-Call"))
          invite =
              new String(invite, StandardCharsets.UTF_8)
                  .replace(";+sip.src", "")
                  .getBytes(StandardCharsets.UTF_8);
        src.send(invite, openAt);
        String answer = src.finalResponse();
        assertTrue(answer.startsWith("SIP/2.0 " + c.status()), c.name() + ": " + answer);
        if (c.status().startsWith("420")) assertEquals("foo", header(answer, "Unsupported"));
        if (c.status().startsWith("488"))
          assertNotNull(header(answer, "Warning"), c.name() + ": a Warning says why: " + answer);
        assertNoCall(src.callId);
      }
    }
  }

  @Test
  void malformedMessagesAreAnsweredWithTheirReasonAndLeaveNothingBehind() throws Exception {
    try (Src src = new Src()) {
      String good =
          new String(src.siprecInvite(branch(), null, "sendonly"), StandardCharsets.UTF_8);
      List<List<String>> cases =
          List.of(
              List.of("no Call-ID", good.replaceFirst("Call-ID: [^\r]*\r\n", ""), "SIP/2.0 400 "),
              List.of("no CSeq", good.replaceFirst("CSeq: [^\r]*\r\n", ""), "SIP/2.0 400 "),
              List.of("SIP/3.0", good.replaceFirst("SIP/2.0\r\n", "SIP/3.0\r\n"), "SIP/2.0 505 "),
              List.of(
                  "Content-Length beyond the datagram",
                  good.replaceFirst("Content-Length: (\\d+)", "Content-Length: 99999"),
                  "SIP/2.0 400 "),
              List.of(
                  "CSeq method not the request's",
                  good.replaceFirst("CSeq: (\\d+) INVITE", "CSeq: $1 BYE"),
                  "SIP/2.0 400 "));
      for (List<String> c : cases) {
        src.send(c.get(1).getBytes(StandardCharsets.UTF_8), openAt);
        String answer;
        try {
          answer = src.next();
        } catch (AssertionError none) {
          throw new AssertionError(c.get(0) + ": no answer within 5 s");
        }
        assertTrue(
            answer.startsWith(c.get(2)), c.get(0) + ": expected " + c.get(2) + ", got:\n" + answer);
        assertTrue(
            answer.split("\r\n")[0].length() > c.get(2).length() + 5,
            c.get(0) + ": a reason is given: " + answer.split("\r\n")[0]);
      }
      src.send("INVITE nonsense\r\n\r\n".getBytes(StandardCharsets.UTF_8), openAt);
      src.send(src.request("OPTIONS", branch(), null), openAt);
      assertTrue(
          src.finalResponse().startsWith("SIP/2.0 200 OK"),
          "the server goes on after garbage it cannot answer");
      assertNoCall(src.callId);
      assertTrue(open.refused() >= 6, "refused messages are counted: " + open.refused());
    }
  }

  private static void assertNoCall(String sipCallId) {
    String persistenceId = "CallRecording|" + RecordingServer.callIdOf(sipCallId);
    assertTrue(
        PersistenceTestKit.create(testKit.system()).persistedInStorage(persistenceId).isEmpty(),
        "no call was created for " + sipCallId);
  }
}
