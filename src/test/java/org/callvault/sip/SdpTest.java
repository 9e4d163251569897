package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.SDP_BODY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SdpTest {

  private static String refusal(String sdp) {
    SipParseException e = assertThrows(SipParseException.class, () -> Sdp.parse(sdp));
    assertEquals(400, e.statusCode());
    return e.reason();
  }

  private static final String HEAD =
      "v=0\no=SRC 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n";

  @Test
  void aSiprecOfferIsReadSessionAndMedia() throws Exception {
    Sdp sdp = Sdp.parse(SDP_BODY.replace("\n", "\r\n"));

    assertEquals(
        new Sdp.Origin("SRC", "2890844526", "2890844526", "IP4", "198.51.100.1"), sdp.origin());
    assertEquals("-", sdp.sessionName());
    assertEquals(Optional.of(new Sdp.Connection("IP4", "198.51.100.1")), sdp.connection());
    assertEquals(Sdp.Direction.SENDRECV, sdp.direction());
    assertEquals(2, sdp.media().size());

    Sdp.Media first = sdp.media().get(0);
    assertEquals(0, first.index());
    assertEquals("audio", first.type());
    assertEquals(12240, first.port());
    assertEquals(1, first.portCount());
    assertEquals("RTP/AVP", first.proto());
    assertEquals(List.of("0", "8", "101"), first.formats());
    assertEquals(List.of(0, 8, 101), first.payloadTypes());
    assertEquals(Optional.of(new Sdp.Connection("IP4", "198.51.100.1")), first.connection());
    assertEquals(Optional.of("1"), first.label());
    assertEquals(Sdp.Direction.SENDONLY, first.direction());
    assertEquals(Map.of(101, new Sdp.RtpMap(101, "telephone-event", 8000, 1)), first.rtpMaps());
    assertEquals(OptionalInt.of(101), first.telephoneEventPayloadType());
    assertEquals(Optional.of(new Sdp.RtpMap(0, "PCMU", 8000, 1)), first.encoding(0));
    assertEquals(Optional.of(new Sdp.RtpMap(8, "PCMA", 8000, 1)), first.encoding(8));
    assertEquals(OptionalInt.empty(), first.ptime());
    assertEquals(OptionalInt.empty(), first.rtcpPort());

    Sdp.Media second = sdp.media().get(1);
    assertEquals(1, second.index());
    assertEquals(12242, second.port());
    assertEquals(Optional.of("2"), second.label());
  }

  @Test
  void mediaLevelConnectionAndDirectionOverrideTheSessionLevel() throws Exception {
    Sdp sdp =
        Sdp.parse(
            HEAD
                + "a=sendonly\n"
                + "m=audio 5000 RTP/AVP 8\n"
                + "m=audio 5002 RTP/AVP 8\nc=IN IP6 2001:db8::2\na=inactive\n");
    assertEquals(Sdp.Direction.SENDONLY, sdp.direction());
    assertEquals(Sdp.Direction.SENDONLY, sdp.media().get(0).direction());
    assertEquals(
        Optional.of(new Sdp.Connection("IP4", "198.51.100.1")), sdp.media().get(0).connection());
    assertEquals(Sdp.Direction.INACTIVE, sdp.media().get(1).direction());
    assertEquals(
        Optional.of(new Sdp.Connection("IP6", "2001:db8::2")), sdp.media().get(1).connection());
  }

  @Test
  void ptimeRtcpFmtpAndStereoRtpmapsAreRead() throws Exception {
    Sdp.Media m =
        Sdp.parse(
                HEAD
                    + "m=audio 6000/2 RTP/AVPF 96 0 97\n"
                    + "a=rtpmap:96 opus/48000/2\n"
                    + "a=rtpmap:97 telephone-event/48000\n"
                    + "a=fmtp:97 0-15\n"
                    + "a=ptime:20\n"
                    + "a=rtcp:6005 IN IP4 198.51.100.9\n"
                    + "a=x-unknown:whatever\n")
            .media()
            .get(0);
    assertEquals(2, m.portCount());
    assertEquals(new Sdp.RtpMap(96, "opus", 48000, 2), m.rtpMaps().get(96));
    assertEquals(OptionalInt.of(20), m.ptime());
    assertEquals(OptionalInt.of(6005), m.rtcpPort());
    assertEquals(Optional.of("0-15"), m.fmtp(97));
    assertEquals(OptionalInt.of(97), m.telephoneEventPayloadType(48000));
    assertEquals(OptionalInt.empty(), m.telephoneEventPayloadType(8000));
    assertEquals(Optional.of("whatever"), m.attribute("x-unknown"));
  }

  @Test
  void aFractionalPtimeIsRounded() throws Exception {
    assertEquals(
        OptionalInt.of(30),
        Sdp.parse(HEAD + "m=audio 1 RTP/AVP 0\na=ptime:29.5\n").media().get(0).ptime());
    assertEquals(
        OptionalInt.of(20),
        Sdp.parse(HEAD + "m=audio 1 RTP/AVP 0\na=ptime:20.0\n").media().get(0).ptime());
  }

  @Test
  void aMissingSessionNameOrTimingIsTolerated() throws Exception {
    Sdp sdp = Sdp.parse("v=0\no=- 1 1 IN IP4 10.0.0.1\nc=IN IP4 10.0.0.1\nm=audio 1000 RTP/AVP 0");
    assertEquals("-", sdp.sessionName());
    assertEquals(1000, sdp.media().get(0).port());
  }

  @Test
  void aDisabledStreamNeedsNoConnectionAddress() throws Exception {
    Sdp sdp = Sdp.parse("v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nt=0 0\nm=video 0 RTP/AVP 96\n");
    assertEquals(Optional.empty(), sdp.media().get(0).connection());
  }

  @Test
  void aMulticastTtlIsStrippedFromTheAddress() throws Exception {
    Sdp sdp =
        Sdp.parse(
            "v=0\n"
                + "o=- 1 1 IN IP4 10.0.0.1\n"
                + "s=-\n"
                + "c=IN IP4 233.252.0.1/127\n"
                + "t=0 0\n"
                + "m=audio 1 RTP/AVP 0\n");
    assertEquals("233.252.0.1", sdp.connection().orElseThrow().address());
  }

  @Test
  void invalidSdpIsRefusedWithTheLineAndTheReason() {
    assertEquals("SDP does not start with a v= line", refusal("o=- 1 1 IN IP4 h\nv=0\n"));
    assertEquals("SDP does not start with a v= line", refusal(""));
    assertEquals("unsupported SDP version v=1", refusal("v=1\no=- 1 1 IN IP4 h\n"));
    assertEquals("missing o= line after v=", refusal("v=0\ns=-\no=- 1 1 IN IP4 h\n"));
    assertEquals("SDP has no m= line", refusal(HEAD));
    assertEquals(
        "SDP line 2 is not a valid o= line: \"- 1 1 IN IP4\"",
        refusal("v=0\no=- 1 1 IN IP4\nm=audio 1 RTP/AVP 0\n"));
    assertEquals(
        "SDP line 2 has unknown connection address type IP5", refusal("v=0\no=- 1 1 IN IP5 h\n"));
    assertEquals(
        "SDP line 4 has unknown connection address type IPX",
        refusal("v=0\no=- 1 1 IN IP4 h\ns=-\nc=IN IPX 10.0.0.1\nm=audio 1 RTP/AVP 0\n"));
    assertEquals(
        "SDP line 4 has unknown network type ATM",
        refusal("v=0\no=- 1 1 IN IP4 h\ns=-\nc=ATM NSAP 47.0005\nm=audio 1 RTP/AVP 0\n"));
    assertEquals(
        "SDP line 6 has a bad port \"65536\"", refusal(HEAD + "m=audio 65536 RTP/AVP 0\n"));
    assertEquals("SDP line 6 has a bad port \"-1\"", refusal(HEAD + "m=audio -1 RTP/AVP 0\n"));
    assertEquals("SDP line 6 has a bad port \"abc\"", refusal(HEAD + "m=audio abc RTP/AVP 0\n"));
    assertEquals(
        "SDP line 6 has a bad port count \"0\"", refusal(HEAD + "m=audio 5000/0 RTP/AVP 0\n"));
    assertEquals("SDP line 6 has no formats", refusal(HEAD + "m=audio 5000 RTP/AVP\n"));
    assertEquals(
        "SDP line 6 is not a valid m= line: \"audio 5000\"", refusal(HEAD + "m=audio 5000\n"));
    assertEquals(
        "SDP line 7 is not <type>=<value>: \"garbage\"",
        refusal(HEAD + "m=audio 1 RTP/AVP 0\ngarbage\n"));
    assertEquals(
        "SDP line 7 is not <type>=<value>: \"A=sendonly\"",
        refusal(HEAD + "m=audio 1 RTP/AVP 0\nA=sendonly\n"));
    assertEquals(
        "SDP line 7 has a malformed a=rtpmap \"101 telephone-event\"",
        refusal(HEAD + "m=audio 1 RTP/AVP 101\na=rtpmap:101 telephone-event\n"));
    assertEquals(
        "SDP line 7 has a malformed a=rtpmap \"200 x/8000\"",
        refusal(HEAD + "m=audio 1 RTP/AVP 0\na=rtpmap:200 x/8000\n"));
    assertEquals(
        "SDP line 7 has a malformed a=ptime \"twenty\"",
        refusal(HEAD + "m=audio 1 RTP/AVP 0\na=ptime:twenty\n"));
    assertEquals(
        "SDP line 7 has a zero a=ptime", refusal(HEAD + "m=audio 1 RTP/AVP 0\na=ptime:0\n"));
    assertEquals(
        "SDP line 7 has a malformed a=rtcp \"x\"",
        refusal(HEAD + "m=audio 1 RTP/AVP 0\na=rtcp:x\n"));
    assertEquals(
        "SDP line 7 has an empty a=label", refusal(HEAD + "m=audio 1 RTP/AVP 0\na=label:\n"));
    assertEquals(
        "SDP line 8 is a second direction attribute in m-line 1",
        refusal(HEAD + "m=audio 1 RTP/AVP 0\na=sendonly\na=recvonly\n"));
    assertEquals(
        "SDP line 7 is a second session-level direction attribute",
        refusal(HEAD + "a=sendonly\na=inactive\nm=audio 1 RTP/AVP 0\n"));
    assertEquals(
        "SDP line 6 repeats the o= line",
        refusal(HEAD + "o=- 2 2 IN IP4 h\nm=audio 1 RTP/AVP 0\n"));
    assertEquals(
        "SDP line 4 has no connection address (no c= line for it or for the session)",
        refusal("v=0\no=- 1 1 IN IP4 h\ns=-\nm=audio 5000 RTP/AVP 0\n"));
  }

  // --- answers ---

  private static Sdp offer(String media) throws SipParseException {
    return Sdp.parse(HEAD + media);
  }

  @Test
  void theAnswerToASiprecOfferReceivesBothStreamsWithTheirLabels() throws Exception {
    Sdp offer = Sdp.parse(SDP_BODY);
    SdpOrigin origin = new SdpOrigin("callvault", 3917245671L, 1);
    SdpAnswer answer =
        SdpAnswer.answer(offer, origin, "10.0.0.1", List.of(40000, 40002), SdpAnswer.G711);

    assertEquals(
        "v=0\r\n"
            + "o=callvault 3917245671 1 IN IP4 10.0.0.1\r\n"
            + "s=-\r\n"
            + "t=0 0\r\n"
            + "m=audio 40000 RTP/AVP 0 101\r\n"
            + "c=IN IP4 10.0.0.1\r\n"
            + "a=rtpmap:0 PCMU/8000\r\n"
            + "a=rtpmap:101 telephone-event/8000\r\n"
            + "a=label:1\r\n"
            + "a=recvonly\r\n"
            + "m=audio 40002 RTP/AVP 0 101\r\n"
            + "c=IN IP4 10.0.0.1\r\n"
            + "a=rtpmap:0 PCMU/8000\r\n"
            + "a=rtpmap:101 telephone-event/8000\r\n"
            + "a=label:2\r\n"
            + "a=recvonly\r\n",
        answer.text());
    assertTrue(answer.anyAccepted());
    assertEquals(
        new SdpAnswer.Stream(
            0, "1", true, 40000, 0, OptionalInt.of(101), Sdp.Direction.RECVONLY, ""),
        answer.streams().get(0));
    // The answer is itself valid SDP that maps back to the same streams.
    Sdp reparsed = Sdp.parse(answer.bytes());
    assertEquals(List.of(40000, 40002), reparsed.media().stream().map(Sdp.Media::port).toList());
    assertEquals(Sdp.Direction.RECVONLY, reparsed.media().get(1).direction());
  }

  @Test
  void theCodecIsTheFirstSupportedOneInTheOffersOrder() throws Exception {
    assertEquals(
        OptionalInt.of(8),
        SdpAnswer.chooseAudioFormat(
            offer("m=audio 1 RTP/AVP 18 8 0\n").media().get(0), SdpAnswer.G711));
    assertEquals(
        OptionalInt.of(0),
        SdpAnswer.chooseAudioFormat(
            offer("m=audio 1 RTP/AVP 9 0 8\n").media().get(0), SdpAnswer.G711));
    assertEquals(
        OptionalInt.of(0),
        SdpAnswer.chooseAudioFormat(offer("m=audio 1 RTP/AVP 8 0\n").media().get(0), List.of(0)));
    assertEquals(
        OptionalInt.empty(),
        SdpAnswer.chooseAudioFormat(
            offer("m=audio 1 RTP/AVP 18 9\n").media().get(0), SdpAnswer.G711));
    // A static number remapped by rtpmap to another codec is not G.711 any more.
    assertEquals(
        OptionalInt.of(8),
        SdpAnswer.chooseAudioFormat(
            offer("m=audio 1 RTP/AVP 0 8\na=rtpmap:0 G729/8000\n").media().get(0), SdpAnswer.G711));
  }

  @Test
  void pcmaIsChosenWhenOfferedFirstAndTheFmtpOfTelephoneEventIsEchoed() throws Exception {
    Sdp o =
        offer(
            "m=audio 5000 RTP/AVP 8 0 96\n"
                + "a=rtpmap:96 telephone-event/8000\n"
                + "a=fmtp:96 0-16\n"
                + "a=label:10\n"
                + "a=sendonly\n");
    SdpAnswer a =
        SdpAnswer.answer(o, new SdpOrigin("-", 7, 3), "10.0.0.1", List.of(41000), SdpAnswer.G711);
    assertTrue(
        a.text()
            .endsWith(
                "m=audio 41000 RTP/AVP 8 96\r\n"
                    + "c=IN IP4 10.0.0.1\r\n"
                    + "a=rtpmap:8 PCMA/8000\r\n"
                    + "a=rtpmap:96 telephone-event/8000\r\n"
                    + "a=fmtp:96 0-16\r\n"
                    + "a=label:10\r\n"
                    + "a=recvonly\r\n"),
        a.text());
    assertEquals(OptionalInt.of(96), a.streams().get(0).telephoneEventPayloadType());
  }

  @Test
  void rejectedStreamsGetPortZeroAndTheirFirstOfferedFormat() throws Exception {
    Sdp o =
        offer(
            "m=audio 5000 RTP/AVP 0\na=label:1\n"
                + "m=video 5002 RTP/AVP 96 97\na=rtpmap:96 H264/90000\n"
                + "m=audio 5004 RTP/SAVP 0\n"
                + "m=audio 5006 RTP/AVP 18 9\n"
                + "m=audio 0 RTP/AVP 0\n"
                + "m=audio 5010 RTP/AVP 8\n");
    SdpAnswer a =
        SdpAnswer.answer(
            o,
            new SdpOrigin("-", 1, 1),
            "10.0.0.1",
            List.of(40000, 40002, 40004, 40006, 40008, 0),
            SdpAnswer.G711);
    String[] lines = a.text().split("\r\n");
    List<String> mLines = java.util.Arrays.stream(lines).filter(l -> l.startsWith("m=")).toList();
    assertEquals(
        List.of(
            "m=audio 40000 RTP/AVP 0",
            "m=video 0 RTP/AVP 96",
            "m=audio 0 RTP/SAVP 0",
            "m=audio 0 RTP/AVP 18",
            "m=audio 0 RTP/AVP 0",
            "m=audio 0 RTP/AVP 8"),
        mLines);
    assertEquals(
        List.of(
            "",
            "media type video is not recorded",
            "transport RTP/SAVP is not supported",
            "no supported audio format offered",
            "disabled in the offer",
            "no port given"),
        a.streams().stream().map(SdpAnswer.Stream::reason).toList());
    assertEquals(
        List.of(true, false, false, false, false, false),
        a.streams().stream().map(SdpAnswer.Stream::accepted).toList());
    assertEquals(6, a.text().split("c=IN IP4 10.0.0.1").length - 1, "every m-line has its c=");
  }

  @Test
  void anInactiveOrRecvonlyOfferIsAnsweredInactive() throws Exception {
    Sdp o =
        offer(
            "a=inactive\n"
                + "m=audio 5000 RTP/AVP 0\n"
                + "m=audio 5002 RTP/AVP 0\n"
                + "a=recvonly\n"
                + "m=audio 5004 RTP/AVP 0\n"
                + "a=sendrecv\n");
    SdpAnswer a =
        SdpAnswer.answer(o, new SdpOrigin("-", 1, 1), "10.0.0.1", List.of(1, 2, 3), SdpAnswer.G711);
    assertEquals(
        List.of(Sdp.Direction.INACTIVE, Sdp.Direction.INACTIVE, Sdp.Direction.RECVONLY),
        a.streams().stream().map(SdpAnswer.Stream::direction).toList());
    assertTrue(a.text().contains("a=inactive\r\n"));
  }

  @Test
  void anAnswerWithNothingAcceptedSaysSo() throws Exception {
    SdpAnswer a =
        SdpAnswer.answer(
            offer("m=audio 5000 RTP/AVP 18\n"),
            new SdpOrigin("-", 1, 1),
            "10.0.0.1",
            List.of(40000),
            SdpAnswer.G711);
    assertFalse(a.anyAccepted());
  }

  @Test
  void anIpv6ServerAddressIsWrittenAsIp6() throws Exception {
    SdpAnswer a =
        SdpAnswer.answer(
            offer("m=audio 5000 RTP/AVP 0\n"),
            new SdpOrigin("-", 1, 1),
            "2001:db8::1",
            List.of(40000),
            SdpAnswer.G711);
    assertTrue(a.text().contains("o=- 1 1 IN IP6 2001:db8::1\r\n"));
    assertTrue(a.text().contains("c=IN IP6 2001:db8::1\r\n"));
  }

  @Test
  void theSessionIdStaysAndTheVersionGrowsFromOneAnswerToTheNext() throws Exception {
    Sdp o = offer("m=audio 5000 RTP/AVP 0\n");
    SdpOrigin first = SdpOrigin.create("callvault");
    SdpAnswer a1 = SdpAnswer.answer(o, first, "10.0.0.1", List.of(40000), SdpAnswer.G711);
    SdpAnswer a2 =
        SdpAnswer.answer(o, a1.origin().next(), "10.0.0.1", List.of(40010), SdpAnswer.G711);
    Sdp.Origin o1 = Sdp.parse(a1.bytes()).origin();
    Sdp.Origin o2 = Sdp.parse(a2.bytes()).origin();
    assertEquals(o1.sessionId(), o2.sessionId());
    assertEquals(Long.parseLong(o1.sessionVersion()) + 1, Long.parseLong(o2.sessionVersion()));
    assertEquals("1", o1.sessionVersion());
    assertTrue(first.sessionId() >= 0);
  }

  @Test
  void oneLocalPortIsNeededPerOfferedMLine() throws Exception {
    Sdp o = offer("m=audio 5000 RTP/AVP 0\nm=audio 5002 RTP/AVP 0\n");
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SdpAnswer.answer(
                o, new SdpOrigin("-", 1, 1), "10.0.0.1", List.of(40000), SdpAnswer.G711));
    assertThrows(IllegalArgumentException.class, () -> new SdpOrigin("a b", 1, 1));
  }
}
