package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.crlf;
import static org.callvault.sip.SipTestMessages.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Responses built from requests (RFC 3261 §8.2.6) and requests the server sends (§8.1.1,
 * §12.2.1.1).
 */
class SipMessageBuildTest {

  private final SipParser parser = new SipParser();

  private SipRequest invite() throws SipParseException {
    byte[] data =
        crlf(
            """
            INVITE sip:srs@srs.example.com SIP/2.0
            Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1;received=192.0.2.4, SIP/2.0/UDP src.example.com:5070;branch=z9hG4bKs1;rport=5070
            f: "SRC" <sip:src@example.com>;tag=f-1
            To: <sip:srs@srs.example.com>
            Call-ID: build-1@src.example.com
            CSeq: 31 INVITE
            Timestamp: 54.3
            Max-Forwards: 69

            """);
    return (SipRequest) parser.parseDatagram(data, 0, data.length);
  }

  @Test
  void aResponseCopiesEveryViaFromCallIdAndCSeqAsReceivedAndTagsTheTo() throws Exception {
    SipResponse ok =
        SipResponse.to(invite(), 200)
            .toTag("srs-7")
            .header("Contact", "<sip:srs@10.0.0.1:5060>")
            .header("Require", "siprec")
            .build();

    assertEquals(
        "SIP/2.0 200 OK\r\n"
            + "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1;received=192.0.2.4\r\n"
            + "Via: SIP/2.0/UDP src.example.com:5070;branch=z9hG4bKs1;rport=5070\r\n"
            + "From: \"SRC\" <sip:src@example.com>;tag=f-1\r\n"
            + "To: <sip:srs@srs.example.com>;tag=srs-7\r\n"
            + "Call-ID: build-1@src.example.com\r\n"
            + "CSeq: 31 INVITE\r\n"
            + "Contact: <sip:srs@10.0.0.1:5060>\r\n"
            + "Require: siprec\r\n"
            + "Content-Length: 0\r\n\r\n",
        text(ok.toBytes()));
    assertEquals(Optional.of("srs-7"), ok.to().tag());
  }

  @Test
  void aBodyGetsItsContentTypeAndItsLengthInBytesNotCharacters() throws Exception {
    byte[] body = "s=Réunion ☎\r\n".getBytes(StandardCharsets.UTF_8);
    assertEquals(16, body.length); // 13 characters
    SipResponse ok =
        SipResponse.to(invite(), 200)
            .toTag("t")
            .body(ContentType.of("application/sdp"), body)
            .build();
    String wire = text(ok.toBytes());
    assertTrue(
        wire.contains(
            "\r\nContent-Type: application/sdp\r\nContent-Length: 16\r\n\r\ns=Réunion ☎\r\n"),
        wire);
    byte[] bytes = ok.toBytes();
    SipResponse again = (SipResponse) parser.parseStreamMessage(bytes, 0, bytes.length);
    assertArrayEquals(body, again.body());
    assertEquals(200, again.statusCode());
  }

  @Test
  void aRequestStampedWithItsSourceSendsReceivedAndRportBackInTheResponse() throws Exception {
    byte[] data =
        crlf(
            """
            OPTIONS sip:srs@srs.example.com SIP/2.0
            Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKnat;rport
            Via: SIP/2.0/UDP inner.example.com;branch=z9hG4bKin
            From: <sip:src@example.com>;tag=f
            To: <sip:srs@srs.example.com>
            Call-ID: nat-1
            CSeq: 1 OPTIONS

            """);
    SipRequest received = (SipRequest) parser.parseDatagram(data, 0, data.length);
    SipRequest stamped = received.withSource("203.0.113.9", 61000);
    assertEquals(
        List.of(
            "SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKnat;rport=61000;received=203.0.113.9",
            "SIP/2.0/UDP inner.example.com;branch=z9hG4bKin"),
        SipResponse.to(stamped, 200).toTag("t").build().headers().all("Via"));
    assertEquals(received.topVia().branch(), stamped.topVia().branch());
    assertEquals(received.topVia().sentBy(), stamped.topVia().sentBy());
    SipRequest direct = (SipRequest) parser.parseDatagram(data, 0, data.length);
    SipRequest sameHost = direct.withSource("203.0.113.9", 61000).withSource("203.0.113.9", 61000);
    assertEquals(stamped.headers(), sameHost.headers(), "stamping twice changes nothing more");
  }

  @Test
  void theToTagOfARequestInADialogIsKept() throws Exception {
    byte[] data =
        crlf(
            """
            BYE sip:srs@10.0.0.1 SIP/2.0
            Via: SIP/2.0/UDP src.example.com;branch=z9hG4bKb1
            From: <sip:src@example.com>;tag=f-1
            To: <sip:srs@srs.example.com>;tag=srs-7
            Call-ID: build-1@src.example.com
            CSeq: 32 BYE

            """);
    SipRequest bye = (SipRequest) parser.parseDatagram(data, 0, data.length);
    SipResponse ok = SipResponse.to(bye, 200).toTag("other").build();
    assertEquals(Optional.of("srs-7"), ok.to().tag());
  }

  @Test
  void oneHundredTryingCopiesTheTimestampAndTakesNoTag() throws Exception {
    SipResponse trying = SipResponse.to(invite(), 100).build();
    assertEquals("SIP/2.0 100 Trying", trying.startLine());
    assertEquals(Optional.of("54.3"), trying.headers().first("Timestamp"));
    assertEquals(Optional.empty(), trying.to().tag());
    assertEquals(
        Optional.empty(), SipResponse.to(invite(), 180).build().headers().first("Timestamp"));
  }

  @Test
  void reasonPhrasesDefaultByCodeAndMayBeReplaced() throws Exception {
    assertEquals(
        "SIP/2.0 488 Not Acceptable Here",
        SipResponse.to(invite(), 488).toTag("t").build().startLine());
    assertEquals(
        "SIP/2.0 499 Client Error", SipResponse.to(invite(), 499).toTag("t").build().startLine());
    assertEquals(
        "SIP/2.0 488 no PCMU or PCMA offered",
        SipResponse.to(invite(), 488).reason("no PCMU or PCMA offered").build().startLine());
    assertThrows(
        IllegalArgumentException.class, () -> SipResponse.to(invite(), 400).reason("a\r\nVia: x"));
    assertThrows(IllegalArgumentException.class, () -> SipResponse.to(invite(), 700));
    assertThrows(
        IllegalArgumentException.class,
        () -> SipResponse.to(invite(), 200).header("Content-Length", "5"));
  }

  @Test
  void aByeTheServerSendsHasEveryMandatoryHeaderAndAFreshBranch() throws Exception {
    SipRequest.Builder builder =
        SipRequest.builder("BYE", "sip:src@192.0.2.10:5060")
            .via("udp", "srs.example.com", 5060)
            .from(NameAddr.parse("<sip:srs@srs.example.com>;tag=srs-7"))
            .to(NameAddr.parse("\"SRC\" <sip:src@example.com>;tag=f-1"))
            .callId("build-1@src.example.com")
            .cseq(1)
            .contact(NameAddr.of("sip:srs@10.0.0.1:5060"))
            .routes(List.of("<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"));
    SipRequest bye = builder.build();
    String wire = text(bye.toBytes());
    String branch = bye.topVia().branch().orElseThrow();
    assertEquals(
        "BYE sip:src@192.0.2.10:5060 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP srs.example.com:5060;branch="
            + branch
            + "\r\n"
            + "Max-Forwards: 70\r\n"
            + "Route: <sip:p1.example.com;lr>\r\n"
            + "Route: <sip:p2.example.com;lr>\r\n"
            + "From: <sip:srs@srs.example.com>;tag=srs-7\r\n"
            + "To: \"SRC\" <sip:src@example.com>;tag=f-1\r\n"
            + "Call-ID: build-1@src.example.com\r\n"
            + "CSeq: 1 BYE\r\n"
            + "Contact: <sip:srs@10.0.0.1:5060>\r\n"
            + "Content-Length: 0\r\n\r\n",
        wire);
    assertTrue(branch.startsWith("z9hG4bK"));
    assertNotEquals(
        branch,
        builder.via("udp", "srs.example.com", 5060).build().topVia().branch().orElseThrow());
    byte[] bytes = bye.toBytes();
    SipRequest parsed = (SipRequest) parser.parseStreamMessage(bytes, 0, bytes.length);
    assertEquals(bye.headers(), parsed.headers());
  }

  @Test
  void aReInviteCarriesItsSdpBody() throws Exception {
    byte[] sdp =
        crlf(
            "v=0\n"
                + "o=- 1 2 IN IP4 10.0.0.1\n"
                + "s=-\n"
                + "c=IN IP4 10.0.0.1\n"
                + "t=0 0\n"
                + "m=audio 40000 RTP/AVP 0\n"
                + "a=recvonly\n");
    SipRequest reInvite =
        SipRequest.builder("INVITE", "sip:src@192.0.2.10")
            .via("tcp", "10.0.0.1", -1)
            .from(NameAddr.parse("<sip:srs@srs.example.com>;tag=srs-7"))
            .to(NameAddr.parse("<sip:src@example.com>;tag=f-1"))
            .callId("c1")
            .cseq(2)
            .header("Supported", "timer")
            .body(ContentType.of("application/sdp"), sdp)
            .build();
    String wire = text(reInvite.toBytes());
    assertTrue(
        wire.startsWith(
            "INVITE sip:src@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK"),
        wire);
    assertTrue(
        wire.endsWith(
            "CSeq: 2 INVITE\r\n"
                + "Supported: timer\r\n"
                + "Content-Type: application/sdp\r\n"
                + "Content-Length: "
                + sdp.length
                + "\r\n\r\n"
                + text(sdp)),
        wire);
  }

  @Test
  void aRequestWithoutItsMandatoryPartsIsACallerBug() {
    SipRequest.Builder b =
        SipRequest.builder("BYE", "sip:a@b").via("udp", "h", 5060).callId("c").cseq(1);
    assertThrows(IllegalStateException.class, b::build);
    b.from(NameAddr.of("sip:srs@h").withTag("1")).to(NameAddr.of("sip:a@b"));
    assertEquals("BYE", b.build().method());
    assertThrows(
        IllegalStateException.class,
        () ->
            SipRequest.builder("BYE", "not a uri")
                .via("udp", "h", 5060)
                .callId("c")
                .cseq(1)
                .from(NameAddr.of("sip:srs@h"))
                .to(NameAddr.of("sip:a@b"))
                .build());
    assertThrows(
        IllegalArgumentException.class, () -> b.header("Subject", "x\r\nBYE sip:x SIP/2.0"));
  }
}
