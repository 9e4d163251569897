package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MediaReInviteTest {

  /** A dialog as the ledger keeps it: the recorder never sent in it (local CSeq 0). */
  private static DialogState dialog(String remoteTarget, List<String> routeSet) {
    return new DialogState(
        "moved-1@src.example.com",
        "srs-tag",
        "src-tag",
        "sip:srs@srs.example.com",
        "sip:src@example.com",
        remoteTarget,
        routeSet,
        0,
        0);
  }

  private static final List<SdpOffer.Stream> STREAMS =
      List.of(new SdpOffer.Stream("1", 41000, 0, 101), new SdpOffer.Stream("2", 41002, 8, null));

  @Test
  void theReInviteOffersTheNewPortsInTheDialogWithTheCSeqGiven() throws Exception {
    MediaReInvite r =
        MediaReInvite.build(
            dialog("sip:src@192.0.2.10:5070;transport=udp", List.of()),
            12,
            "sip:srs@10.0.0.5:5062",
            new SdpOrigin("callvault", 7, 1),
            "10.0.0.5",
            STREAMS);
    SipRequest invite = r.request();
    assertEquals("INVITE sip:src@192.0.2.10:5070;transport=udp SIP/2.0", invite.startLine());
    assertEquals(new CSeq(12, "INVITE"), invite.cseq());
    assertEquals(12, r.dialog().localCSeq(), "the state to keep after it");
    Via via = invite.topVia();
    assertEquals("UDP", via.transport());
    assertEquals("10.0.0.5:5062", via.sentBy(), "sent by the server's Contact address");
    assertTrue(via.hasMagicCookie());
    assertEquals(NameAddr.of("sip:srs@srs.example.com").withTag("srs-tag"), invite.from());
    assertEquals(NameAddr.of("sip:src@example.com").withTag("src-tag"), invite.to());
    assertEquals(
        "<sip:srs@10.0.0.5:5062>;+sip.srs", invite.headers().first("Contact").orElseThrow());
    assertEquals("application/sdp", invite.contentType().orElseThrow().toString());
    assertEquals(
        "v=0\r\n"
            + "o=callvault 7 1 IN IP4 10.0.0.5\r\n"
            + "s=-\r\n"
            + "c=IN IP4 10.0.0.5\r\n"
            + "t=0 0\r\n"
            + "m=audio 41000 RTP/AVP 0 101\r\n"
            + "a=rtpmap:0 PCMU/8000\r\n"
            + "a=rtpmap:101 telephone-event/8000\r\n"
            + "a=label:1\r\n"
            + "a=recvonly\r\n"
            + "m=audio 41002 RTP/AVP 8\r\n"
            + "a=rtpmap:8 PCMA/8000\r\n"
            + "a=label:2\r\n"
            + "a=recvonly\r\n",
        text(invite.body()));
    assertEquals(
        new SipUri("sip", "src", "192.0.2.10", 5070),
        r.destination(),
        "without routes, to the remote target");
  }

  @Test
  void throughARouteSetItGoesToTheFirstRouteAndCarriesThemAll() throws Exception {
    MediaReInvite r =
        MediaReInvite.build(
            dialog(
                "sip:src@192.0.2.10",
                List.of("<sip:p1.example.com:5080;lr>", "<sip:p2.example.com;lr>")),
            3,
            "sip:srs@10.0.0.5",
            SdpOrigin.create("callvault"),
            "10.0.0.5",
            STREAMS);
    assertEquals(new SipUri("sip", "", "p1.example.com", 5080), r.destination());
    assertEquals(
        List.of("<sip:p1.example.com:5080;lr>", "<sip:p2.example.com;lr>"),
        r.request().headers().all("Route"));
    assertEquals("sip:src@192.0.2.10", r.request().requestUri());
    assertEquals(
        "10.0.0.5:5060", r.request().topVia().sentBy(), "a Contact without port is at 5060");
  }

  @Test
  void theAckOfTheAnswerKeepsTheCSeqNumberAndTheRouteWithABranchOfItsOwn() throws Exception {
    MediaReInvite r =
        MediaReInvite.build(
            dialog("sip:src@192.0.2.10", List.of("<sip:p1.example.com;lr>")),
            40,
            "sip:srs@10.0.0.5:5060",
            SdpOrigin.create("callvault"),
            "10.0.0.5",
            STREAMS);
    SipRequest ack = r.ack();
    assertEquals("ACK sip:src@192.0.2.10 SIP/2.0", ack.startLine());
    assertEquals(new CSeq(40, "ACK"), ack.cseq());
    assertEquals(r.request().headers().all("Route"), ack.headers().all("Route"));
    assertEquals(r.request().from(), ack.from());
    assertEquals(r.request().to(), ack.to());
    assertEquals("10.0.0.5:5060", ack.topVia().sentBy());
    assertNotEquals(
        r.request().topVia().branch(),
        ack.topVia().branch(),
        "§13.2.2.4: the ACK of a 2xx is a transaction of its own");
    assertEquals(0, ack.bodyLength());
  }

  @Test
  void anIpv6ServerIsInTheViaAsAReference() throws Exception {
    MediaReInvite r =
        MediaReInvite.build(
            dialog("sip:src@[2001:db8::10]:5070", List.of()),
            5,
            "sip:srs@[2001:db8::5]:5060",
            SdpOrigin.create("callvault"),
            "2001:db8::5",
            STREAMS);
    assertEquals("[2001:db8::5]:5060", r.request().topVia().sentBy());
    assertEquals("2001:db8::10", r.destination().address());
    assertEquals(5070, r.destination().port());
    assertTrue(text(r.request().body()).contains("c=IN IP6 2001:db8::5\r\n"));
    // What it sends parses as what it is.
    byte[] wire = r.request().toBytes();
    SipRequest parsed = (SipRequest) new SipParser().parseDatagram(wire, 0, wire.length);
    assertEquals(r.request().topVia(), parsed.topVia());
  }

  @Test
  void withoutASipAddressOnEitherSideThereIsNoReInvite() {
    SipParseException tel =
        assertThrows(
            SipParseException.class,
            () ->
                MediaReInvite.build(
                    dialog("tel:+15550100", List.of()),
                    2,
                    "sip:srs@10.0.0.5",
                    SdpOrigin.create("callvault"),
                    "10.0.0.5",
                    STREAMS));
    assertEquals(400, tel.statusCode());
    assertThrows(
        SipParseException.class,
        () ->
            MediaReInvite.build(
                dialog("sip:src@192.0.2.10", List.of()),
                2,
                "srs@10.0.0.5",
                SdpOrigin.create("callvault"),
                "10.0.0.5",
                STREAMS));
  }
}
