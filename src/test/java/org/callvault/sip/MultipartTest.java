package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.METADATA_BODY;
import static org.callvault.sip.SipTestMessages.SDP_BODY;
import static org.callvault.sip.SipTestMessages.crlf;
import static org.callvault.sip.SipTestMessages.siprecBody;
import static org.callvault.sip.SipTestMessages.siprecInvite;
import static org.callvault.sip.SipTestMessages.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MultipartTest {

  private static final ContentType FOOBAR =
      ContentType.of("multipart/mixed").withParam("boundary", "foobar");

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** What a part's body is: its text without the CRLF that belongs to the next delimiter. */
  private static byte[] withoutLastCrlf(String text) {
    byte[] b = crlf(text);
    return java.util.Arrays.copyOf(b, b.length - 2);
  }

  private static String refusal(ContentType type, byte[] body) {
    SipParseException e = assertThrows(SipParseException.class, () -> Multipart.parse(type, body));
    assertEquals(400, e.statusCode());
    return e.reason();
  }

  @Test
  void aSiprecBodySplitsIntoTheSdpAndTheMetadataByteForByte() throws Exception {
    Multipart m = Multipart.parse(FOOBAR, siprecBody());
    assertEquals(2, m.parts().size());

    Multipart.Part sdp = m.parts().get(0);
    assertEquals("application/sdp", sdp.contentType().mediaType());
    assertEquals(Optional.empty(), sdp.contentDisposition());
    // The CRLF before "--foobar" belongs to the delimiter (RFC 2046 §5.1.1), not to the SDP.
    assertArrayEquals(withoutLastCrlf(SDP_BODY), sdp.body());

    Multipart.Part metadata = m.parts().get(1);
    assertEquals("application/rs-metadata+xml", metadata.contentType().mediaType());
    assertEquals("recording-session", metadata.contentDisposition().orElseThrow().type());
    assertArrayEquals(withoutLastCrlf(METADATA_BODY), metadata.body());
    assertEquals(Optional.of(sdp), m.first("APPLICATION/SDP"));
  }

  @Test
  void aQuotedBoundaryWithSpacesAndPunctuationWorks() throws Exception {
    ContentType type =
        ContentType.parse("multipart/mixed; boundary=\"simple boundary:'()+_,-./=?\"");
    byte[] body =
        crlf(
            "--simple boundary:'()+_,-./=?\n"
                + "Content-Type: text/plain\n\n"
                + "hello\n"
                + "--simple boundary:'()+_,-./=?--\n");
    assertArrayEquals(ascii("hello"), Multipart.parse(type, body).parts().get(0).body());
  }

  @Test
  void thePreambleAndTheEpilogueAreIgnored() throws Exception {
    byte[] body =
        crlf(
            """
            This is the preamble.  It is to be ignored.
            --foobar
            Content-Type: text/plain

            first
            --foobar
            Content-Type: text/plain

            second
            --foobar--
            This is the epilogue.  It is also to be ignored.
            --foobar
            """);
    Multipart m = Multipart.parse(FOOBAR, body);
    assertEquals(List.of("first", "second"), m.parts().stream().map(p -> text(p.body())).toList());
  }

  @Test
  void bareLfLineEndsAreAccepted() throws Exception {
    byte[] body =
        ascii(
            "--foobar\n"
                + "Content-Type: application/sdp\n\n"
                + "v=0\n\n"
                + "--foobar\n"
                + "content-type: text/plain\n\n"
                + "x\n"
                + "--foobar--");
    Multipart m = Multipart.parse(FOOBAR, body);
    assertArrayEquals(ascii("v=0\n"), m.parts().get(0).body());
    assertArrayEquals(ascii("x"), m.parts().get(1).body());
  }

  @Test
  void aPartWithoutHeadersIsPlainText() throws Exception {
    Multipart m = Multipart.parse(FOOBAR, crlf("--foobar\n\nno headers here\n--foobar--"));
    Multipart.Part p = m.parts().get(0);
    assertEquals("text/plain", p.contentType().mediaType());
    assertEquals(0, p.headers().size());
    assertArrayEquals(ascii("no headers here"), p.body());
  }

  @Test
  void theBoundaryInsideALineOrAsPrefixOfALongerLineDoesNotSplitAPart() throws Exception {
    String text =
        "--foobar\n"
            + "Content-Type: text/plain\n\n"
            + "see --foobar here\n"
            + "--foobarbaz is not it\n"
            + "--foobar--\n";
    Multipart m = Multipart.parse(FOOBAR, crlf(text));
    assertEquals(1, m.parts().size());
    assertEquals("see --foobar here\r\n--foobarbaz is not it", text(m.parts().get(0).body()));
  }

  @Test
  void transportPaddingAfterADelimiterIsSkipped() throws Exception {
    Multipart m =
        Multipart.parse(FOOBAR, crlf("--foobar  \t\nContent-Type: text/plain\n\nx\n--foobar-- \n"));
    assertArrayEquals(ascii("x"), m.parts().get(0).body());
  }

  @Test
  void partHeadersMayBeFoldedAndCarryAHandlingParameter() throws Exception {
    byte[] body =
        crlf(
            "--foobar\n"
                + "Content-Type: application/vnd.example\n"
                + "Content-Disposition: render;\n"
                + "  handling=optional\n\n"
                + "x\n"
                + "--foobar--");
    Multipart.Part p = Multipart.parse(FOOBAR, body).parts().get(0);
    assertEquals("render", p.contentDisposition().orElseThrow().type());
    assertTrue(p.contentDisposition().orElseThrow().isOptional());
  }

  @Test
  void anEmptyPartIsAPartWithNoHeadersAndNoBytes() throws Exception {
    Multipart m =
        Multipart.parse(
            FOOBAR, crlf("--foobar\n--foobar\nContent-Type: text/plain\n\ny\n--foobar--"));
    assertEquals(2, m.parts().size());
    assertEquals(0, m.parts().get(0).body().length);
  }

  @Test
  void brokenMultipartBodiesAreRefusedWithTheReason() {
    assertEquals(
        "multipart Content-Type has no boundary parameter",
        refusal(ContentType.of("multipart/mixed"), crlf("--foobar\n\nx\n--foobar--")));
    assertEquals(
        "multipart boundary \"other\" does not occur in the body",
        refusal(FOOBAR.withParam("boundary", "other"), siprecBody()));
    assertEquals(
        "multipart body has no close delimiter \"--foobar--\"",
        refusal(FOOBAR, crlf("--foobar\nContent-Type: text/plain\n\nx\n")));
    assertEquals(
        "multipart body has no close delimiter \"--foobar--\"",
        refusal(FOOBAR, crlf("--foobar\nContent-Type: text/plain\n\nx\n--foobar\n")));
    assertEquals("multipart body has no parts", refusal(FOOBAR, crlf("preamble\n--foobar--\n")));
    assertEquals(
        "multipart part 1 has a malformed header line \"v=0\"",
        refusal(FOOBAR, crlf("--foobar\nv=0\no=- 1 1 IN IP4 h\n--foobar--")));
    assertEquals(
        "multipart part 2: malformed Content-Type \"sdp\"",
        refusal(FOOBAR, crlf("--foobar\n\nx\n--foobar\nContent-Type: sdp\n\ny\n--foobar--")));
    assertEquals(
        "Content-Type application/sdp is not multipart",
        refusal(ContentType.of("application/sdp"), crlf("v=0\n")));
    assertEquals(
        "malformed multipart boundary \"" + "b".repeat(71) + "\"",
        refusal(FOOBAR.withParam("boundary", "b".repeat(71)), crlf("x")));
    assertEquals(
        "multipart boundary \"foobar\" does not occur in the body", refusal(FOOBAR, new byte[0]));
  }

  @Test
  void aBuiltBodyParsesBackIntoTheSameParts() throws Exception {
    Multipart m =
        new Multipart(
            List.of(
                Multipart.Part.of(
                    ContentType.of("application/sdp"), crlf("v=0\nm=audio 0 RTP/AVP 0\n")),
                Multipart.Part.of(
                    ContentType.of("application/rs-metadata+xml"), ascii("<recording/>"))));
    byte[] wire = m.toBytes("b-1");
    assertEquals(
        "--b-1\r\n"
            + "Content-Type: application/sdp\r\n\r\n"
            + "v=0\r\n"
            + "m=audio 0 RTP/AVP 0\r\n\r\n"
            + "--b-1\r\n"
            + "Content-Type: application/rs-metadata+xml\r\n\r\n"
            + "<recording/>\r\n"
            + "--b-1--\r\n",
        text(wire));
    assertEquals(m, Multipart.parse(Multipart.contentType("b-1"), wire));
  }

  @Test
  void aBoundaryThatOccursInAPartCannotBeUsed() {
    Multipart m =
        new Multipart(
            List.of(Multipart.Part.of(ContentType.of("text/plain"), crlf("a\n--b-1 oops"))));
    assertThrows(IllegalArgumentException.class, () -> m.toBytes("b-1"));
    assertThrows(IllegalArgumentException.class, () -> m.toBytes("bad\"boundary"));
  }

  // --- SIPREC bodies ---

  private static SipRequest request(String contentType, byte[] body) throws SipParseException {
    SipRequest.Builder b =
        SipRequest.builder("INVITE", "sip:srs@h")
            .via("udp", "h", 5060)
            .from(NameAddr.of("sip:src@h").withTag("1"))
            .to(NameAddr.of("sip:srs@h"))
            .callId("c")
            .cseq(1);
    if (contentType != null) b.body(ContentType.parse(contentType), body);
    return b.build();
  }

  @Test
  void aSiprecInviteYieldsItsSdpAndItsMetadata() throws Exception {
    byte[] data = siprecInvite();
    SipMessage invite = new SipParser().parseDatagram(data, 0, data.length);
    SiprecBody body = SiprecBody.of(invite);
    assertArrayEquals(withoutLastCrlf(SDP_BODY), body.sdp().orElseThrow());
    assertArrayEquals(withoutLastCrlf(METADATA_BODY), body.metadata().orElseThrow());
  }

  @Test
  void aReInviteMayCarryOnlySdpOrOnlyMetadataUnderEitherName() throws Exception {
    assertArrayEquals(
        ascii("v=0"), SiprecBody.of(request("application/sdp", ascii("v=0"))).sdp().orElseThrow());
    SiprecBody rs = SiprecBody.of(request("application/rs-metadata", ascii("<recording/>")));
    assertEquals(Optional.empty(), rs.sdp());
    assertArrayEquals(ascii("<recording/>"), rs.metadata().orElseThrow());
    SiprecBody none = SiprecBody.of(request(null, null));
    assertEquals(Optional.empty(), none.sdp());
    assertEquals(Optional.empty(), none.metadata());
  }

  @Test
  void anUnknownRequiredPartIsRefusedWith415AndAnOptionalOneIsSkipped() throws Exception {
    byte[] required =
        crlf(
            "--b\n"
                + "Content-Type: application/sdp\n\n"
                + "v=0\n"
                + "--b\n"
                + "Content-Type: application/x-unknown\n\n"
                + "z\n"
                + "--b--");
    SipParseException e =
        assertThrows(
            SipParseException.class,
            () -> SiprecBody.of(request("multipart/mixed;boundary=b", required)));
    assertEquals(415, e.statusCode());
    assertEquals(
        "body of type application/x-unknown is not supported by the recording server", e.reason());

    byte[] optional =
        crlf(
            "--b\n"
                + "Content-Type: application/sdp\n\n"
                + "v=0\n"
                + "--b\n"
                + "Content-Type: application/x-unknown\n"
                + "Content-Disposition: render;handling=optional\n\n"
                + "z\n"
                + "--b--");
    assertArrayEquals(
        ascii("v=0"),
        SiprecBody.of(request("multipart/mixed;boundary=b", optional)).sdp().orElseThrow());

    assertEquals(
        415,
        assertThrows(
                SipParseException.class, () -> SiprecBody.of(request("text/html", ascii("<p>"))))
            .statusCode());
  }

  @Test
  void twoSdpPartsAreRefused() {
    byte[] two =
        crlf(
            "--b\n"
                + "Content-Type: application/sdp\n\n"
                + "v=0\n"
                + "--b\n"
                + "Content-Type: application/sdp\n\n"
                + "v=0\n"
                + "--b--");
    SipParseException e =
        assertThrows(
            SipParseException.class,
            () -> SiprecBody.of(request("multipart/mixed;boundary=b", two)));
    assertEquals("more than one application/sdp part", e.reason());
  }
}
