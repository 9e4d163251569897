package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.concat;
import static org.callvault.sip.SipTestMessages.crlf;
import static org.callvault.sip.SipTestMessages.siprecBody;
import static org.callvault.sip.SipTestMessages.siprecInvite;
import static org.callvault.sip.SipTestMessages.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SipParserTest {

  private final SipParser parser = new SipParser();

  private SipMessage parse(byte[] data) throws SipParseException {
    return parser.parseDatagram(data, 0, data.length);
  }

  private SipRequest request(String text) throws SipParseException {
    return assertInstanceOf(SipRequest.class, parse(crlf(text)));
  }

  private SipParseException refused(String text) {
    byte[] data = crlf(text);
    return assertThrows(SipParseException.class, () -> parser.parseDatagram(data, 0, data.length));
  }

  private static final String BYE =
      """
      BYE sip:recorder@srs.example.com SIP/2.0
      Via: SIP/2.0/UDP src.example.com;branch=z9hG4bK776asdhds
      From: <sip:2000@src.example.com>;tag=abc
      To: <sip:recorder@srs.example.com>;tag=xyz
      Call-ID: call-1@src.example.com
      CSeq: 102 BYE
      Max-Forwards: 70

      """;

  /** BYE with one header line removed, for the missing-header tests. */
  private static String byeWithout(String headerName) {
    StringBuilder out = new StringBuilder();
    for (String line : BYE.split("\n", -1)) {
      if (!line.startsWith(headerName + ":")) out.append(line).append('\n');
    }
    return out.substring(0, out.length() - 1);
  }

  @Test
  void aSiprecInviteIsReadWithEveryTypedHeader() throws Exception {
    byte[] data = siprecInvite();
    SipRequest invite = assertInstanceOf(SipRequest.class, parse(data));

    assertEquals("INVITE", invite.method());
    assertEquals("sip:recorder@srs.example.com", invite.requestUri());
    assertEquals(1, invite.vias().size());
    Via via = invite.topVia();
    assertEquals("UDP", via.transport());
    assertEquals("src.example.com", via.host());
    assertEquals(5060, via.port());
    assertEquals(Optional.of("z9hG4bKdf6b622b648d9"), via.branch());
    assertTrue(via.hasRport());
    assertEquals("SRC", invite.from().displayName());
    assertEquals("sip:2000@src.example.com", invite.from().uri());
    assertEquals(Optional.of("35e195d2-947d-4585-946f-09839247"), invite.from().tag());
    assertEquals(Optional.empty(), invite.to().tag());
    assertEquals("d253c800-b0d1ea39-4a7dd-3f0e20a", invite.callId());
    assertEquals(new CSeq(101, "INVITE"), invite.cseq());
    assertEquals(OptionalInt.of(70), invite.maxForwards());
    assertEquals(List.of("siprec"), invite.require());
    assertEquals(List.of("timer", "replaces"), invite.supported());
    assertEquals(1, invite.contacts().size());
    assertTrue(invite.contacts().get(0).hasParam("+sip.src"));
    assertEquals("sip:2000@src.example.com:5060", invite.contacts().get(0).uri());
    ContentType type = invite.contentType().orElseThrow();
    assertTrue(type.is("multipart/mixed"));
    assertEquals(Optional.of("foobar"), type.boundary());
    assertArrayEquals(siprecBody(), invite.body());
    assertEquals(
        List.of("application/sdp", "application/rs-metadata+xml"), invite.headers().all("Accept"));
    assertEquals(
        Optional.of("ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000"),
        invite.headers().first("session-id"));
  }

  @Test
  void theMessageIsReadFromTheGivenRangeOfALargerArray() throws Exception {
    byte[] message = crlf(BYE);
    byte[] data =
        concat("garbage".getBytes(StandardCharsets.US_ASCII), message, new byte[] {'x', 'y'});
    SipMessage m = parser.parseDatagram(data, 7, message.length);
    assertEquals("call-1@src.example.com", m.callId());
    assertEquals(0, m.bodyLength());
  }

  @Test
  void compactHeaderNamesAreExpandedToTheirFullNames() throws Exception {
    SipRequest r =
        request(
            """
            INVITE sip:srs@example.com SIP/2.0
            v: SIP/2.0/TCP a.example.com;branch=z9hG4bK1
            f: <sip:a@example.com>;tag=1
            t: <sip:srs@example.com>
            i: compact-1
            CSeq: 1 INVITE
            m: <sip:a@a.example.com>
            k: siprec
            s: a subject, with a comma
            e: gzip
            o: refer
            r: <sip:c@example.com>
            u: talk
            c: application/sdp
            l: 4

            v=0
            """);

    assertEquals("compact-1", r.callId());
    assertEquals("a.example.com", r.topVia().host());
    assertEquals(Optional.of("1"), r.from().tag());
    assertEquals("sip:srs@example.com", r.to().uri());
    assertEquals("sip:a@a.example.com", r.contacts().get(0).uri());
    assertEquals(List.of("siprec"), r.supported());
    assertEquals(Optional.of("a subject, with a comma"), r.headers().first("Subject"));
    assertEquals(Optional.of("gzip"), r.headers().first("Content-Encoding"));
    assertEquals(Optional.of("refer"), r.headers().first("Event"));
    assertEquals(Optional.of("<sip:c@example.com>"), r.headers().first("Refer-To"));
    assertEquals(Optional.of("talk"), r.headers().first("Allow-Events"));
    assertTrue(r.contentType().orElseThrow().is("application/sdp"));
    assertEquals("v=0\r", new String(r.body(), StandardCharsets.US_ASCII).substring(0, 4));
    assertEquals(4, r.bodyLength());
    // Canonical names, so the headers serialise with their full spelling.
    assertEquals(
        List.of(
            "Via",
            "From",
            "To",
            "Call-ID",
            "CSeq",
            "Contact",
            "Supported",
            "Subject",
            "Content-Encoding",
            "Event",
            "Refer-To",
            "Allow-Events",
            "Content-Type"),
        r.headers().fields().stream().map(Headers.Field::name).toList());
  }

  @Test
  void headerNamesAreMatchedWithoutRegardToCase() throws Exception {
    SipRequest r =
        request(
            """
            OPTIONS sip:srs@example.com SIP/2.0
            VIA: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
            from: <sip:a@example.com>;tag=1
            tO: <sip:srs@example.com>
            CALL-ID: case-1
            cseq: 7 OPTIONS
            max-forwards: 10

            """);
    assertEquals("case-1", r.callId());
    assertEquals(7, r.cseq().number());
    assertEquals(OptionalInt.of(10), r.maxForwards());
    assertEquals(Optional.of("case-1"), r.headers().first("call-id"));
    assertEquals(Optional.of("case-1"), r.headers().first("i"));
  }

  @Test
  void foldedHeaderLinesAreJoinedWithOneSpace() throws Exception {
    SipRequest r =
        request(
            """
            OPTIONS sip:srs@example.com SIP/2.0
            Via: SIP/2.0/UDP a.example.com
              ;branch=z9hG4bK1
            From: <sip:a@example.com>
            \t;tag=1
            To: <sip:srs@example.com>
            Subject: I know you're there,
                     pick up the phone
            Call-ID: fold-1
            CSeq: 1 OPTIONS

            """);
    assertEquals(Optional.of("z9hG4bK1"), r.topVia().branch());
    assertEquals(Optional.of("1"), r.from().tag());
    assertEquals(
        Optional.of("I know you're there, pick up the phone"), r.headers().first("Subject"));
  }

  @Test
  void viasOnSeveralLinesAndCommaSeparatedOnOneLineGiveTheSameHops() throws Exception {
    String separate =
        """
        OPTIONS sip:srs@example.com SIP/2.0
        Via: SIP/2.0/UDP first.example.com;branch=z9hG4bK1
        Via: SIP/2.0/TCP second.example.com:5070;branch=z9hG4bK2, SIP/2.0/TLS third.example.com;branch=z9hG4bK3
        From: <sip:a@example.com>;tag=1
        To: <sip:srs@example.com>
        Call-ID: via-1
        CSeq: 1 OPTIONS

        """;
    String oneLine = separate.replace("z9hG4bK1\nVia:", "z9hG4bK1,");
    for (String text : List.of(separate, oneLine)) {
      SipRequest r = request(text);
      assertEquals(
          List.of("first.example.com", "second.example.com", "third.example.com"),
          r.vias().stream().map(Via::host).toList());
      assertEquals(List.of("UDP", "TCP", "TLS"), r.vias().stream().map(Via::transport).toList());
      assertEquals(5070, r.vias().get(1).port());
      assertEquals(3, r.headers().all("Via").size());
    }
  }

  @Test
  void commasInsideQuotesAndAngleBracketsDoNotSplitAList() throws Exception {
    SipRequest r =
        request(
            """
            INVITE sip:srs@example.com SIP/2.0
            Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
            From: "Doe, John" <sip:john@example.com>;tag=1
            To: <sip:srs@example.com>
            Call-ID: comma-1
            CSeq: 1 INVITE
            Contact: "Smith, Jane" <sip:jane@a.example.com>, <sip:b@b.example.com;x=a,b>
            Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
            Record-Route: <sip:p3.example.com;lr>
            Route: <sip:r1.example.com;lr>,<sip:r2.example.com;lr>

            """);
    assertEquals("Doe, John", r.from().displayName());
    assertEquals(2, r.contacts().size());
    assertEquals("Smith, Jane", r.contacts().get(0).displayName());
    assertEquals("sip:b@b.example.com;x=a,b", r.contacts().get(1).uri());
    assertEquals(
        List.of("sip:p1.example.com;lr", "sip:p2.example.com;lr", "sip:p3.example.com;lr"),
        r.recordRoutes().stream().map(NameAddr::uri).toList());
    assertEquals(
        List.of("sip:r1.example.com;lr", "sip:r2.example.com;lr"),
        r.routes().stream().map(NameAddr::uri).toList());
  }

  @Test
  void optionTagListsAreCollectedFromEveryLine() throws Exception {
    SipRequest r =
        request(
            """
            INVITE sip:srs@example.com SIP/2.0
            Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
            From: <sip:a@example.com>;tag=1
            To: <sip:srs@example.com>
            Call-ID: tags-1
            CSeq: 1 INVITE
            Require: siprec
            Require: timer,100rel
            Supported: replaces , norefersub
            Allow: INVITE, ACK, BYE
            Allow: CANCEL

            """);
    assertEquals(List.of("siprec", "timer", "100rel"), r.require());
    assertEquals(List.of("replaces", "norefersub"), r.supported());
    assertEquals(List.of("INVITE", "ACK", "BYE", "CANCEL"), r.headers().all("Allow"));
  }

  @Test
  void keepAliveCrlfsBeforeTheStartLineAreSkipped() throws Exception {
    byte[] data = concat(crlf("\n\n\n"), crlf(BYE));
    assertEquals(6, SipParser.keepAliveLength(data, 0, data.length));
    assertEquals("call-1@src.example.com", parse(data).callId());
  }

  @Test
  void aDatagramOfOnlyCrlfsIsAKeepAliveAndNotAMessage() {
    byte[] ping = crlf("\n\n");
    assertEquals(4, SipParser.keepAliveLength(ping, 0, ping.length));
    SipParseException e = assertThrows(SipParseException.class, () -> parse(ping));
    assertEquals(400, e.statusCode());
    assertEquals("empty message", e.reason());
  }

  @Test
  void bareLfLineEndsAreAccepted() throws Exception {
    byte[] data =
        "BYE sip:srs@example.com SIP/2.0\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:srs@example.com>;tag=2\nCall-ID: lf-1\nCSeq: 2 BYE\nContent-Type: text/plain\nContent-Length: 3\n\nabc"
            .getBytes(StandardCharsets.US_ASCII);
    SipMessage m = parse(data);
    assertEquals("lf-1", m.callId());
    assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), m.body());
  }

  @Test
  void whitespaceBeforeTheColonOfAHeaderIsAllowed() throws Exception {
    SipRequest r = request(BYE.replace("Call-ID: ", "Call-ID \t: "));
    assertEquals("call-1@src.example.com", r.callId());
  }

  @Test
  void maxForwardsMayBeAbsentAtTheRecordingServer() throws Exception {
    SipRequest r = request(byeWithout("Max-Forwards"));
    assertEquals(OptionalInt.empty(), r.maxForwards());
  }

  @Test
  void onUdpAContentLengthSmallerThanTheDatagramDiscardsTheExtraBytes() throws Exception {
    byte[] data =
        crlf(
            BYE.replace("Max-Forwards: 70\n", "Content-Type: text/plain\nContent-Length: 5\n")
                + "hello, and trailing junk");
    SipMessage m = parse(data);
    assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), m.body());
  }

  @Test
  void onUdpWithoutContentLengthTheBodyIsTheRestOfTheDatagram() throws Exception {
    byte[] data = crlf(BYE.replace("Max-Forwards: 70\n", "Content-Type: text/plain\n") + "rest");
    assertArrayEquals("rest".getBytes(StandardCharsets.US_ASCII), parse(data).body());
  }

  @Test
  void onUdpAContentLengthLargerThanWhatArrivedIsRefusedWithBothNumbers() {
    byte[] body = new byte[120];
    Arrays.fill(body, (byte) 'a');
    byte[] data =
        concat(
            crlf(
                BYE.replace(
                    "Max-Forwards: 70\n", "Content-Type: text/plain\nContent-Length: 500\n")),
            body);
    SipParseException e = assertThrows(SipParseException.class, () -> parse(data));
    assertEquals(400, e.statusCode());
    assertEquals("Content-Length 500 exceeds the 120 bytes received", e.reason());
  }

  @Test
  void theBodyKeepsItsBytesExactlyEvenWhenTheyAreNotUtf8() throws Exception {
    byte[] body = {(byte) 0xFF, 0x00, (byte) 0xC3, 0x28, '\r', '\n'};
    byte[] data =
        concat(
            crlf(
                BYE.replace(
                    "Max-Forwards: 70\n",
                    "Content-Type: application/octet-stream\nContent-Length: 6\n")),
            body);
    assertArrayEquals(body, parse(data).body());
  }

  @Test
  void aResponseIsReadWithItsStatusAndReasonPhrase() throws Exception {
    SipResponse r =
        assertInstanceOf(
            SipResponse.class,
            parse(
                crlf(
                    """
                    SIP/2.0 481 Call/Transaction Does Not Exist
                    Via: SIP/2.0/UDP srs.example.com;branch=z9hG4bKbye1
                    From: <sip:recorder@srs.example.com>;tag=xyz
                    To: <sip:2000@src.example.com>;tag=abc
                    Call-ID: call-1@src.example.com
                    CSeq: 2 BYE
                    Content-Length: 0

                    """)));
    assertEquals(481, r.statusCode());
    assertEquals("Call/Transaction Does Not Exist", r.reasonPhrase());
    assertEquals(new CSeq(2, "BYE"), r.cseq());
    assertFalse(r.isSuccess());
  }

  @Test
  void aStatusLineWithoutReasonPhraseIsAccepted() throws Exception {
    SipResponse r =
        assertInstanceOf(
            SipResponse.class,
            parse(
                crlf(
                    "SIP/2.0 200\n"
                        + "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                        + "From: <sip:a@h>;tag=1\n"
                        + "To: <sip:b@h>;tag=2\n"
                        + "Call-ID: c\n"
                        + "CSeq: 1 BYE\n\n")));
    assertEquals(200, r.statusCode());
    assertEquals("", r.reasonPhrase());
  }

  // --- refusals ---

  @Test
  void eachMissingMandatoryHeaderIsNamedAndTheAnswerCarriesTheOthers() {
    for (String name : List.of("Via", "From", "To", "Call-ID", "CSeq")) {
      SipParseException e = refused(byeWithout(name));
      assertEquals(400, e.statusCode(), name);
      assertEquals("missing " + name + " header", e.reason());
      assertEquals(Optional.of("BYE"), e.requestMethod());
      assertFalse(e.partialHeaders().contains(name), name);
      for (String other : List.of("Via", "From", "To", "Call-ID", "CSeq")) {
        if (!other.equals(name))
          assertTrue(e.partialHeaders().contains(other), other + " without " + name);
      }
      if (name.equals("Via")) {
        assertEquals(Optional.empty(), e.answer("t1"), "no Via: nowhere to answer along");
      } else {
        String answer =
            new String(e.answer("t1").orElseThrow(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(answer.startsWith("SIP/2.0 400 missing " + name + " header\r\n"), answer);
        assertFalse(
            answer.contains("\r\n" + name + ":"), "answered with the headers it has: " + answer);
      }
    }
  }

  @Test
  void aMalformedStartLineIsRefusedButTheRequestCanStillBeAnswered() throws Exception {
    for (String startLine :
        List.of(
            "INVITE sip:srs@example.com",
            "INVITE  sip:srs@example.com SIP/2.0",
            "INVITE sip:srs@example.com SIP/2.0 extra",
            "INVITE sip:srs@example.com HTTP/1.1",
            "INVITE sip:srs@example.com SIP/2")) {
      SipParseException e =
          refused(BYE.replace("BYE sip:recorder@srs.example.com SIP/2.0", startLine));
      assertEquals(400, e.statusCode(), startLine);
      assertEquals("malformed start line \"" + startLine + "\"", e.reason());
      assertEquals(Optional.of("INVITE"), e.requestMethod());
      String answer = text(e.answer("srs1").orElseThrow());
      assertTrue(answer.startsWith("SIP/2.0 400 malformed start line"), answer);
    }
  }

  @Test
  void aRequestUriWithoutSchemeIsRefused() {
    SipParseException e =
        refused(BYE.replace("BYE sip:recorder@srs.example.com", "BYE recorder@srs.example.com"));
    assertEquals(400, e.statusCode());
    assertEquals("malformed Request-URI \"recorder@srs.example.com\"", e.reason());
  }

  @Test
  void aSipVersionOtherThanTwoIsRefusedWith505() {
    SipParseException e = refused(BYE.replace("SIP/2.0\n", "SIP/3.0\n"));
    assertEquals(505, e.statusCode());
    assertEquals("SIP version SIP/3.0 is not supported", e.reason());
    assertTrue(text(e.answer("t").orElseThrow()).startsWith("SIP/2.0 505 "));
  }

  @Test
  void aDatagramOverTheSizeLimitIsRefusedWith513() {
    SipParser small = new SipParser(200);
    byte[] data =
        crlf(BYE.replace("Max-Forwards: 70\n", "Content-Type: text/plain\n") + "x".repeat(100));
    assertTrue(data.length > 200);
    SipParseException e =
        assertThrows(SipParseException.class, () -> small.parseDatagram(data, 0, data.length));
    assertEquals(513, e.statusCode());
    assertEquals("message of " + data.length + " bytes exceeds the limit of 200 bytes", e.reason());
    assertTrue(e.partialHeaders().contains("Call-ID"));
  }

  @Test
  void theDefaultSizeLimitIsTheLargestUdpPayload() throws Exception {
    assertEquals(65_535, new SipParser().maxMessageSize());
    String head = BYE.replace("Max-Forwards: 70\n", "Content-Type: text/plain\n");
    int headLength = crlf(head).length;
    byte[] fits = crlf(head + "x".repeat(65_535 - headLength));
    assertEquals(65_535, fits.length);
    assertEquals(65_535 - headLength, parse(fits).bodyLength());
    byte[] tooBig = crlf(head + "x".repeat(65_536 - headLength));
    assertEquals(513, assertThrows(SipParseException.class, () -> parse(tooBig)).statusCode());
  }

  @Test
  void aCSeqMethodThatIsNotTheRequestMethodIsRefused() {
    SipParseException e = refused(BYE.replace("CSeq: 102 BYE", "CSeq: 102 INVITE"));
    assertEquals(400, e.statusCode());
    assertEquals("CSeq method INVITE does not match request method BYE", e.reason());
  }

  @Test
  void aRepeatedSingleValuedHeaderIsRefused() {
    for (String name : List.of("Call-ID", "CSeq", "From", "To", "Max-Forwards")) {
      String line =
          Arrays.stream(BYE.split("\n"))
              .filter(l -> l.startsWith(name + ":"))
              .findFirst()
              .orElseThrow();
      SipParseException e = refused(BYE.replace(line, line + "\n" + line));
      assertEquals("more than one " + name + " header", e.reason(), name);
    }
    SipParseException e = refused(BYE.replace("Max-Forwards: 70", "Content-Length: 0\nl: 0"));
    assertEquals("more than one Content-Length header", e.reason());
  }

  @Test
  void malformedContentLengthsAreRefused() {
    for (String value : List.of("-1", "abc", "1 2", "12x", "9999999999")) {
      SipParseException e = refused(BYE.replace("Max-Forwards: 70", "Content-Length: " + value));
      assertEquals("malformed Content-Length \"" + value + "\"", e.reason(), value);
    }
  }

  @Test
  void malformedHeaderLinesAreRefused() {
    assertEquals(
        "malformed header line \"this line has no colon\"",
        refused(BYE.replace("Max-Forwards: 70", "this line has no colon")).reason());
    assertEquals(
        "malformed header line \"Bad Name: x\"",
        refused(BYE.replace("Max-Forwards: 70", "Bad Name: x")).reason());
    assertEquals(
        "malformed header line \": no name\"",
        refused(BYE.replace("Max-Forwards: 70", ": no name")).reason());
    assertEquals(
        "header section starts with a continuation line",
        refused(
                BYE.replace(
                    "BYE sip:recorder@srs.example.com SIP/2.0\n",
                    "BYE sip:recorder@srs.example.com SIP/2.0\n  folded\n"))
            .reason());
    assertEquals(
        "control character in header line \"Subject: a b\"",
        refused(BYE.replace("Max-Forwards: 70", "Subject: a\rb")).reason());
  }

  @Test
  void aHeaderSectionWithoutTheEmptyLineIsRefused() {
    byte[] data = crlf(BYE.substring(0, BYE.length() - 1)); // the final empty line removed
    SipParseException e = assertThrows(SipParseException.class, () -> parse(data));
    assertEquals("no empty line after the header section", e.reason());
    assertTrue(e.answer("t").isPresent());
  }

  @Test
  void malformedTypedHeadersAreRefusedWithTheHeaderNamed() {
    assertEquals(
        "malformed Via sent-by in \"SIP/2.0/UDP ;branch=z9hG4bK1\"",
        refused(
                BYE.replace(
                    "Via: SIP/2.0/UDP src.example.com;branch=z9hG4bK776asdhds",
                    "Via: SIP/2.0/UDP ;branch=z9hG4bK1"))
            .reason());
    assertEquals(
        "malformed From header: malformed address \"<sip:2000@src.example.com;tag=abc\": missing"
            + " '>'",
        refused(
                BYE.replace(
                    "From: <sip:2000@src.example.com>;tag=abc",
                    "From: <sip:2000@src.example.com;tag=abc"))
            .reason());
    assertEquals(
        "CSeq number \"2147483648\" is not a number below 2^31",
        refused(BYE.replace("CSeq: 102 BYE", "CSeq: 2147483648 BYE")).reason());
    assertEquals(
        "malformed CSeq \"BYE\"", refused(BYE.replace("CSeq: 102 BYE", "CSeq: BYE")).reason());
    assertEquals(
        "Max-Forwards \"256\" is not 0-255",
        refused(BYE.replace("Max-Forwards: 70", "Max-Forwards: 256")).reason());
    assertEquals(
        "malformed Call-ID \"a b\"",
        refused(BYE.replace("Call-ID: call-1@src.example.com", "Call-ID: a b")).reason());
    assertEquals(
        "empty element in the Via list",
        refused(BYE.replace("branch=z9hG4bK776asdhds", "branch=z9hG4bK776asdhds,,SIP/2.0/UDP b"))
            .reason());
    assertEquals(
        "malformed option tag \"a/b\" in Require",
        refused(BYE.replace("Max-Forwards: 70", "Require: a/b")).reason());
  }

  @Test
  void aBodyWithoutContentTypeIsRefused() {
    byte[] data = crlf(BYE.replace("Max-Forwards: 70\n", "Content-Length: 3\n") + "abc");
    SipParseException e = assertThrows(SipParseException.class, () -> parse(data));
    assertEquals("message has a body but no Content-Type header", e.reason());
  }

  @Test
  void aMalformedResponseIsAnErrorThatIsNeverAnswered() {
    for (String text :
        List.of(
            "SIP/2.0 99 Too Low\n"
                + "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                + "From: <sip:a@h>;tag=1\n"
                + "To: <sip:b@h>\n"
                + "Call-ID: c\n"
                + "CSeq: 1 BYE\n\n",
            "SIP/2.0 2000 OK\n"
                + "Via: SIP/2.0/UDP h;branch=z9hG4bK1\n"
                + "From: <sip:a@h>;tag=1\n"
                + "To: <sip:b@h>\n"
                + "Call-ID: c\n"
                + "CSeq: 1 BYE\n\n",
            "SIP/2.0 200 OK\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: c\nCSeq: 1 BYE\n\n")) {
      SipParseException e = refused(text);
      assertEquals(400, e.statusCode());
      assertEquals(Optional.empty(), e.requestMethod());
      assertEquals(Optional.empty(), e.answer("t"));
    }
  }

  @Test
  void theAnswerToAMalformedRequestEchoesTheHeadersAsReceivedAndAddsAToTag() {
    String text =
        """
        INVITE sip:srs@example.com SIP/2.0
        Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport, SIP/2.0/TCP b.example.com;branch=z9hG4bK2
        From: "A" <sip:a@example.com>;tag=f1
        To: <sip:srs@example.com>
        Call-ID: answer-1
        CSeq: 5 BYE

        """;
    SipParseException e = refused(text);
    assertEquals("CSeq method BYE does not match request method INVITE", e.reason());
    assertEquals(
        "SIP/2.0 400 CSeq method BYE does not match request method INVITE\r\n"
            + "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;rport\r\n"
            + "Via: SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
            + "From: \"A\" <sip:a@example.com>;tag=f1\r\n"
            + "To: <sip:srs@example.com>;tag=srs9\r\n"
            + "Call-ID: answer-1\r\n"
            + "CSeq: 5 BYE\r\n"
            + "Content-Length: 0\r\n\r\n",
        text(e.answer("srs9").orElseThrow()));
  }

  @Test
  void aMalformedToIsEchoedAsReceivedInTheAnswer() {
    SipParseException e =
        refused(BYE.replace("To: <sip:recorder@srs.example.com>;tag=xyz", "To: <sip:recorder@srs"));
    assertTrue(text(e.answer("t").orElseThrow()).contains("\r\nTo: <sip:recorder@srs\r\n"));
  }

  @Test
  void anAckIsNeverAnsweredEvenWhenMalformed() {
    SipParseException e =
        refused(BYE.replace("BYE", "ACK").replace("CSeq: 102 ACK", "CSeq: 102 INVITE"));
    assertEquals(Optional.of("ACK"), e.requestMethod());
    assertEquals(Optional.empty(), e.answer("t"));
  }

  @Test
  void garbageIsRefusedWithoutAnAnswer() {
    byte[] noise = {0x16, 0x03, 0x01, 0x00, (byte) 0xA5, '\r', '\n', '\r', '\n'};
    SipParseException e = assertThrows(SipParseException.class, () -> parse(noise));
    assertEquals(400, e.statusCode());
    assertEquals(Optional.empty(), e.answer("t"));
  }

  @Test
  void aRangeOutsideTheArrayIsACallerBugAndThrows() {
    byte[] data = new byte[10];
    assertThrows(IndexOutOfBoundsException.class, () -> parser.parseDatagram(data, 5, 6));
    assertThrows(IndexOutOfBoundsException.class, () -> parser.streamMessageLength(data, -1, 2));
  }

  // --- streams ---

  @Test
  void onAStreamTheMessageEndsContentLengthBytesAfterTheEmptyLine() throws Exception {
    byte[] first = siprecInvite();
    byte[] second = crlf(BYE.replace("Max-Forwards: 70", "Content-Length: 0"));
    byte[] stream = concat(first, second);

    int length = parser.streamMessageLength(stream, 0, stream.length);
    assertEquals(first.length, length);
    SipMessage m = parser.parseStreamMessage(stream, 0, length);
    assertArrayEquals(siprecBody(), m.body());

    assertEquals(second.length, parser.streamMessageLength(stream, length, stream.length - length));
    assertEquals(
        "BYE", ((SipRequest) parser.parseStreamMessage(stream, length, second.length)).method());
  }

  @Test
  void aStreamMessageIsIncompleteUntilItsLastByteArrives() throws Exception {
    byte[] message = siprecInvite();
    for (int have = 0; have < message.length; have++) {
      assertEquals(-1, parser.streamMessageLength(message, 0, have), "with " + have + " bytes");
    }
    assertEquals(message.length, parser.streamMessageLength(message, 0, message.length));
  }

  @Test
  void keepAliveCrlfsOnAStreamAreCountedIntoTheFrame() throws Exception {
    byte[] data = concat(crlf("\n\n"), crlf(BYE.replace("Max-Forwards: 70", "l: 0")));
    assertEquals(data.length, parser.streamMessageLength(data, 0, data.length));
    assertEquals(-1, parser.streamMessageLength(data, 0, 4));
    assertEquals("BYE", ((SipRequest) parser.parseStreamMessage(data, 0, data.length)).method());
  }

  @Test
  void aStreamMessageWithoutContentLengthCannotBeFramed() {
    byte[] data = crlf(BYE);
    SipParseException e =
        assertThrows(
            SipParseException.class, () -> parser.streamMessageLength(data, 0, data.length));
    assertEquals(400, e.statusCode());
    assertEquals("missing Content-Length header, required on a stream transport", e.reason());
    assertTrue(e.answer("t").isPresent());
    SipParseException parsed =
        assertThrows(
            SipParseException.class, () -> parser.parseStreamMessage(data, 0, data.length));
    assertEquals(e.reason(), parsed.reason());
  }

  @Test
  void aStreamMessageWithBytesBeyondItsContentLengthIsRefused() {
    byte[] data =
        crlf(
            BYE.replace("Max-Forwards: 70\n", "Content-Type: text/plain\nContent-Length: 2\n")
                + "abcd");
    SipParseException e =
        assertThrows(
            SipParseException.class, () -> parser.parseStreamMessage(data, 0, data.length));
    assertEquals("2 bytes follow the body of Content-Length 2", e.reason());
  }

  @Test
  void aStreamHeaderSectionThatNeverEndsIsRefusedWith513AtTheLimit() throws Exception {
    SipParser small = new SipParser(300);
    byte[] data = crlf(BYE.replace("\n\n", "\nX-Filler: " + "y".repeat(400) + "\n"));
    assertEquals(-1, small.streamMessageLength(data, 0, 299));
    SipParseException e =
        assertThrows(
            SipParseException.class, () -> small.streamMessageLength(data, 0, data.length));
    assertEquals(513, e.statusCode());
    assertEquals("header section exceeds the limit of 300 bytes", e.reason());
  }

  @Test
  void aStreamMessageWhoseContentLengthGoesOverTheLimitIsRefusedBeforeItsBodyArrives() {
    byte[] head =
        crlf(BYE.replace("Max-Forwards: 70", "Content-Type: text/plain\nContent-Length: 70000"));
    SipParseException e =
        assertThrows(
            SipParseException.class, () -> parser.streamMessageLength(head, 0, head.length));
    assertEquals(513, e.statusCode());
    assertEquals(
        "message of " + (head.length + 70000) + " bytes exceeds the limit of 65535 bytes",
        e.reason());
  }

  @Test
  void onlyCrlfsOnAStreamAreNotYetAMessage() throws Exception {
    byte[] ping = crlf("\n\n");
    assertEquals(-1, parser.streamMessageLength(ping, 0, ping.length));
  }

  @Test
  void partialHeadersKeepOnlyWhatAnAnswerNeeds() {
    SipParseException e =
        refused(BYE.replace("Max-Forwards: 70", "Max-Forwards: x\nUser-Agent: test"));
    assertEquals(
        List.of("Via", "From", "To", "Call-ID", "CSeq"),
        e.partialHeaders().fields().stream().map(Headers.Field::name).toList());
  }
}
