package org.callvault.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SipUriTest {

  private static SipUri parse(String uri) throws SipParseException {
    return SipUri.parse(uri);
  }

  @Test
  void theHostAndPortAreReadAndAbsentPortsAre5060() throws Exception {
    assertEquals(new SipUri("sip", "src", "192.0.2.10", 5070), parse("sip:src@192.0.2.10:5070"));
    assertEquals(new SipUri("sip", "src", "192.0.2.10", 5060), parse("sip:src@192.0.2.10"));
    assertEquals(new SipUri("sip", "", "sbc.example.com", 5060), parse("sip:sbc.example.com"));
    assertEquals(
        new SipUri("sips", "", "sbc.example.com", 5060),
        parse("sips:sbc.example.com"),
        "UDP's default, not TLS's");
    assertEquals(
        new SipUri("sip", "", "p1.example.com", 5060),
        parse("SIP:p1.example.com;lr"),
        "the scheme has no case");
  }

  @Test
  void parametersAndHeadersEndTheHostport() throws Exception {
    assertEquals(
        new SipUri("sip", "src", "10.0.0.7", 5080),
        parse("sip:src@10.0.0.7:5080;transport=udp;lr"));
    assertEquals(
        new SipUri("sip", "src", "10.0.0.7", 5060), parse("sip:src@10.0.0.7;maddr=10.0.0.8"));
    assertEquals(
        new SipUri("sip", "src", "10.0.0.7", 5090),
        parse("sip:src@10.0.0.7:5090?subject=project%20x&priority=urgent"));
    assertEquals(new SipUri("sip", "", "10.0.0.7", 5060), parse("sip:10.0.0.7?x=y"));
  }

  @Test
  void theFirstAtEndsTheUserinfoWhateverTheUserHolds() throws Exception {
    // RFC 3261 §19.1.3: a user part may hold ';' (and '?', '&', '=' ...); only '@' ends it.
    assertEquals(
        new SipUri("sip", "alice;day=tuesday", "atlanta.com", 5060),
        parse("sip:alice;day=tuesday@atlanta.com"));
    assertEquals(
        new SipUri("sip", "alice", "atlanta.com", 5060),
        parse("sip:alice:secretword@atlanta.com;transport=tcp"),
        "the password is not the user");
    assertEquals(
        new SipUri("sip", "+1-212-555-1212", "gateway.com", 5060),
        parse("sip:+1-212-555-1212:1234@gateway.com;user=phone"));
    assertEquals(
        new SipUri("sip", "a%40b", "h.example.com", 5062),
        parse("sip:a%40b@h.example.com:5062"),
        "an escaped @ stays in the user");
  }

  @Test
  void anIpv6ReferenceKeepsItsBracketsAndItsColonsAreNotAPort() throws Exception {
    SipUri v6 = parse("sip:src@[2001:db8::10]:5071;transport=udp");
    assertEquals(new SipUri("sip", "src", "[2001:db8::10]", 5071), v6);
    assertEquals("2001:db8::10", v6.address(), "a socket address takes it without brackets");
    assertEquals(new SipUri("sip", "", "[::1]", 5060), parse("sip:[::1]"));
    assertEquals(
        new SipUri("sips", "", "[2001:db8::192.0.2.1]", 5060),
        parse("sips:[2001:db8::192.0.2.1];lr"));
    assertEquals(
        "192.0.2.10", parse("sip:192.0.2.10").address(), "other hosts are their own address");
  }

  @Test
  void whatIsNotASipUriWithAHostIsRefusedWith400() {
    for (String bad :
        List.of(
            "tel:+1-201-555-0123",
            "mailto:a@b.example.com",
            "sip:",
            "sip:@host.example.com",
            "sip:src@",
            "sip:src@:5060",
            "sip:host.example.com:",
            "sip:host.example.com:0",
            "sip:host.example.com:65536",
            "sip:host.example.com:50a0",
            "sip:host.example.com:5060:5061",
            "sip:[2001:db8::10",
            "sip:[2001:db8::10]5060",
            "sip:[zz::1]",
            "sip:ho st.example.com",
            "sip:host_name.example.com",
            "sip:src@h<.example.com",
            "no scheme")) {
      SipParseException e = assertThrows(SipParseException.class, () -> SipUri.parse(bad), bad);
      assertEquals(400, e.statusCode(), bad);
      assertTrue(e.reason().startsWith("malformed SIP URI"), bad + ": " + e.reason());
    }
  }
}
