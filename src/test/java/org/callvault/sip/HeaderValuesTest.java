package org.callvault.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The typed header values: Via, name-addr, CSeq, Content-Type, Content-Disposition, Headers. */
class HeaderValuesTest {

  private static String refusal(ThrowingParse parse) {
    return assertThrows(SipParseException.class, parse::run).reason();
  }

  private interface ThrowingParse {
    void run() throws SipParseException;
  }

  // --- Via ---

  @Test
  void aViaIsReadIntoTransportSentByAndParameters() throws Exception {
    Via v =
        Via.parse(
            "SIP/2.0/UDP"
                + " pc33.example.com:5061;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5062");
    assertEquals("SIP/2.0", v.protocol());
    assertEquals("UDP", v.transport());
    assertEquals("pc33.example.com", v.host());
    assertEquals(5061, v.port());
    assertEquals("pc33.example.com:5061", v.sentBy());
    assertEquals(Optional.of("z9hG4bK776asdhds"), v.branch());
    assertTrue(v.hasMagicCookie());
    assertEquals(Optional.of("192.0.2.1"), v.received());
    assertEquals(OptionalInt.of(5062), v.rport());
  }

  @Test
  void whitespaceAroundTheSlashesAndSemicolonsOfAViaIsAllowed() throws Exception {
    Via v = Via.parse("SIP / 2.0 / tcp   Host.Example.COM ; branch = z9hG4bKabc ; rport");
    assertEquals("TCP", v.transport());
    assertEquals("Host.Example.COM", v.host());
    assertEquals(-1, v.port());
    assertEquals("host.example.com", v.sentBy());
    assertEquals(Optional.of("z9hG4bKabc"), v.branch());
    assertTrue(v.hasRport());
    assertEquals(OptionalInt.empty(), v.rport());
  }

  @Test
  void anIpv6SentByKeepsItsBrackets() throws Exception {
    Via v = Via.parse("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKx");
    assertEquals("[2001:db8::9:1]", v.host());
    assertEquals(5070, v.port());
    assertEquals("[2001:db8::9:1]:5070", v.sentBy());
  }

  @Test
  void aBranchWithoutTheMagicCookieIsAnOldStyleBranch() throws Exception {
    assertFalse(Via.parse("SIP/2.0/UDP h;branch=1234").hasMagicCookie());
    assertFalse(Via.parse("SIP/2.0/UDP h").hasMagicCookie());
    assertEquals(Optional.empty(), Via.parse("SIP/2.0/UDP h").branch());
  }

  @Test
  void malformedViasAreRefusedWithThePartNamed() {
    assertEquals(
        "malformed Via sent-protocol in \"SIP/2.0 host\"",
        refusal(() -> Via.parse("SIP/2.0 host")));
    assertEquals(
        "malformed Via sent-by in \"SIP/2.0/UDP\"", refusal(() -> Via.parse("SIP/2.0/UDP")));
    assertEquals(
        "malformed Via port in \"SIP/2.0/UDP h:0\"", refusal(() -> Via.parse("SIP/2.0/UDP h:0")));
    assertEquals(
        "malformed Via port in \"SIP/2.0/UDP h:65536\"",
        refusal(() -> Via.parse("SIP/2.0/UDP h:65536")));
    assertEquals(
        "malformed Via port in \"SIP/2.0/UDP h:x\"", refusal(() -> Via.parse("SIP/2.0/UDP h:x")));
    assertEquals(
        "malformed Via sent-by host in \"SIP/2.0/UDP h_st\"",
        refusal(() -> Via.parse("SIP/2.0/UDP h_st")));
    assertEquals(
        "malformed Via IPv6 reference in \"SIP/2.0/UDP [::1\"",
        refusal(() -> Via.parse("SIP/2.0/UDP [::1")));
    assertEquals(
        "malformed Via port in \"SIP/2.0/UDP h;rport=99999\"",
        refusal(() -> Via.parse("SIP/2.0/UDP h;rport=99999")));
    assertEquals(
        "empty parameter in Via", refusal(() -> Via.parse("SIP/2.0/UDP h;;branch=z9hG4bK1")));
    assertEquals(
        "parameter branch in Via has an empty value",
        refusal(() -> Via.parse("SIP/2.0/UDP h;branch=")));
  }

  @Test
  void aReceivedHopIsStampedWithItsSourceAsRfc3581Asks() throws Exception {
    Via asked = Via.parse("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport");
    assertEquals(
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=40001;received=203.0.113.7",
        asked.stampedWithSource("203.0.113.7", 40001).toString());
    Via notAsked = Via.parse("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1");
    assertEquals(
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=203.0.113.7",
        notAsked.stampedWithSource("203.0.113.7", 40001).toString());
    Via sameHost = Via.parse("SIP/2.0/UDP 203.0.113.7;branch=z9hG4bK1");
    assertEquals(sameHost, sameHost.stampedWithSource("203.0.113.7", 5060));
  }

  @Test
  void aNewViaHasAFreshBranchWithTheMagicCookie() {
    Via a = Via.of("udp", "srs.example.com", 5060);
    Via b = Via.of("udp", "srs.example.com", 5060);
    assertTrue(a.hasMagicCookie());
    assertEquals(7 + 24, a.branch().orElseThrow().length());
    assertFalse(a.branch().equals(b.branch()));
    assertTrue(a.toString().startsWith("SIP/2.0/UDP srs.example.com:5060;branch=z9hG4bK"));
  }

  // --- name-addr ---

  @Test
  void aQuotedDisplayNameMayHoldEscapedQuotesCommasAndAngleBrackets() throws Exception {
    NameAddr a = NameAddr.parse("\"Bob \\\"the <builder>\\\", Jr\" <sip:bob@example.com>;tag=b1");
    assertEquals("Bob \"the <builder>\", Jr", a.displayName());
    assertEquals("sip:bob@example.com", a.uri());
    assertEquals(Optional.of("b1"), a.tag());
    assertEquals("\"Bob \\\"the <builder>\\\", Jr\" <sip:bob@example.com>;tag=b1", a.toString());
  }

  @Test
  void anUnquotedDisplayNameOfTokensIsAccepted() throws Exception {
    NameAddr a = NameAddr.parse("Alice Smith <sip:alice@example.com>");
    assertEquals("Alice Smith", a.displayName());
  }

  @Test
  void withoutAngleBracketsTheParametersBelongToTheHeaderNotTheUri() throws Exception {
    NameAddr bare = NameAddr.parse("sip:alice@example.com;tag=88sja8x");
    assertEquals("sip:alice@example.com", bare.uri());
    assertEquals(Optional.of("88sja8x"), bare.tag());
    NameAddr bracketed = NameAddr.parse("<sip:alice@example.com;transport=tcp>;tag=88sja8x");
    assertEquals("sip:alice@example.com;transport=tcp", bracketed.uri());
    assertEquals(Map.of("tag", "88sja8x"), bracketed.params());
  }

  @Test
  void contactFeatureParametersAreKeptAsFlagsOrQuotedValues() throws Exception {
    NameAddr c =
        NameAddr.parse(
            "<sip:src@192.0.2.10>;+sip.src;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";Expires=60");
    assertTrue(c.hasParam("+sip.src"));
    assertEquals(Optional.of(""), c.param("+sip.src"));
    assertEquals(
        Optional.of("\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""),
        c.param("+sip.instance"));
    assertEquals(Optional.of("60"), c.param("expires"));
    assertEquals(
        "<sip:src@192.0.2.10>;+sip.src;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";expires=60",
        c.toString());
  }

  @Test
  void aTagIsAddedOrReplacedWithoutTouchingTheRest() throws Exception {
    NameAddr to = NameAddr.parse("\"Recorder\" <sip:srs@example.com>;x=1");
    assertEquals("\"Recorder\" <sip:srs@example.com>;x=1;tag=abc", to.withTag("abc").toString());
    assertEquals(
        "<sip:srs@example.com>;tag=2",
        NameAddr.parse("sip:srs@example.com;tag=1").withTag("2").toString());
  }

  @Test
  void malformedAddressesAreRefused() {
    assertEquals(
        "malformed address \"<sip:a@b\": missing '>'", refusal(() -> NameAddr.parse("<sip:a@b")));
    assertEquals(
        "malformed address \"alice@example.com\": not a URI",
        refusal(() -> NameAddr.parse("alice@example.com")));
    assertEquals("malformed address \"<>\": not a URI", refusal(() -> NameAddr.parse("<>")));
    assertEquals(
        "malformed address \"\"Bob <sip:b@h>\": unterminated quoted display name",
        refusal(() -> NameAddr.parse("\"Bob <sip:b@h>")));
    assertEquals(
        "malformed address \"<sip:b@h> junk\": text after '>'",
        refusal(() -> NameAddr.parse("<sip:b@h> junk")));
    assertEquals(
        "malformed address \"B@b <sip:b@h>\": display name must be quoted",
        refusal(() -> NameAddr.parse("B@b <sip:b@h>")));
    assertEquals(
        "unterminated quoted value of x in address",
        refusal(() -> NameAddr.parse("<sip:b@h>;x=\"abc")));
  }

  @Test
  void theContactStarIsKeptAsIs() throws Exception {
    assertEquals("*", NameAddr.parse(" * ").uri());
    assertEquals("*", NameAddr.parse("*").toString());
  }

  // --- CSeq ---

  @Test
  void aCSeqIsReadAsNumberAndMethod() throws Exception {
    assertEquals(new CSeq(4711, "INVITE"), CSeq.parse(" 4711   INVITE "));
    assertEquals(new CSeq(2147483647L, "BYE"), CSeq.parse("2147483647 BYE"));
    assertEquals(new CSeq(0, "ACK"), CSeq.parse("0\tACK"));
    assertEquals("4711 INVITE", new CSeq(4711, "INVITE").toString());
  }

  @Test
  void malformedCSeqsAreRefused() {
    assertEquals("malformed CSeq \"1\"", refusal(() -> CSeq.parse("1")));
    assertEquals("malformed CSeq \"1 INVITE x\"", refusal(() -> CSeq.parse("1 INVITE x")));
    assertEquals(
        "CSeq number \"-1\" is not a number below 2^31", refusal(() -> CSeq.parse("-1 INVITE")));
    assertEquals(
        "CSeq number \"99999999999\" is not a number below 2^31",
        refusal(() -> CSeq.parse("99999999999 INVITE")));
    assertEquals("malformed CSeq method \"IN/VITE\"", refusal(() -> CSeq.parse("1 IN/VITE")));
    assertThrows(IllegalArgumentException.class, () -> new CSeq(1L << 31, "BYE"));
  }

  // --- Content-Type, Content-Disposition ---

  @Test
  void aBoundaryIsTheSameWhetherQuotedOrNot() throws Exception {
    ContentType quoted = ContentType.parse("Multipart/Mixed; Boundary=\"unique boundary;1\"");
    assertEquals("multipart/mixed", quoted.mediaType());
    assertEquals(Optional.of("unique boundary;1"), quoted.boundary());
    assertEquals("multipart/mixed;boundary=\"unique boundary;1\"", quoted.toString());
    ContentType plain = ContentType.parse("multipart/mixed;boundary=foobar");
    assertEquals(Optional.of("foobar"), plain.boundary());
    assertTrue(plain.is("MULTIPART/mixed"));
    assertEquals("multipart/mixed;boundary=foobar", plain.toString());
  }

  @Test
  void malformedContentTypesAreRefused() {
    assertEquals("malformed Content-Type \"sdp\"", refusal(() -> ContentType.parse("sdp")));
    assertEquals(
        "malformed Content-Type \"application/\"",
        refusal(() -> ContentType.parse("application/")));
    assertEquals(
        "unterminated quoted value of boundary in Content-Type",
        refusal(() -> ContentType.parse("multipart/mixed;boundary=\"abc")));
  }

  @Test
  void contentDispositionHandlingDefaultsToRequired() throws Exception {
    ContentDisposition d = ContentDisposition.parse("Recording-Session");
    assertEquals("recording-session", d.type());
    assertEquals("required", d.handling());
    assertFalse(d.isOptional());
    ContentDisposition o = ContentDisposition.parse("session; handling=Optional");
    assertTrue(o.isOptional());
    assertEquals("session;handling=Optional", o.toString());
    assertEquals(
        "malformed Content-Disposition \"a b\"", refusal(() -> ContentDisposition.parse("a b")));
  }

  // --- Headers ---

  @Test
  void compactAndWellKnownNamesAreCanonicalAndUnknownNamesAreKept() {
    assertEquals("Call-ID", Headers.canonicalName("i"));
    assertEquals("Call-ID", Headers.canonicalName("CALL-id"));
    assertEquals("CSeq", Headers.canonicalName("cseq"));
    assertEquals("WWW-Authenticate", Headers.canonicalName("www-authenticate"));
    assertEquals("X-Custom-thing", Headers.canonicalName("X-Custom-thing"));
    assertEquals("Content-Length", Headers.canonicalName("L"));
    assertTrue(Headers.isListHeader("v"));
    assertTrue(Headers.isListHeader("record-route"));
    assertFalse(Headers.isListHeader("Date"));
  }

  @Test
  void aHeaderValueWithALineBreakCannotBeAdded() {
    assertThrows(
        IllegalArgumentException.class, () -> Headers.builder().add("Subject", "a\r\nBYE: x"));
    assertThrows(IllegalArgumentException.class, () -> Headers.builder().add("Bad Name", "x"));
  }

  @Test
  void setReplacesEveryFieldOfThatName() {
    Headers h =
        Headers.builder().add("Via", "a").add("v", "b").add("To", "t").set("VIA", "c").build();
    assertEquals(List.of("c"), h.all("Via"));
    assertEquals(List.of(new Headers.Field("To", "t"), new Headers.Field("Via", "c")), h.fields());
  }
}
