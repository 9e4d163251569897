package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.crlf;
import static org.callvault.sip.SipTestMessages.siprecInvite;
import static org.callvault.sip.SipTestMessages.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DialogStateTest {

  private final SipParser parser = new SipParser();

  private SipRequest parse(String text) throws SipParseException {
    byte[] data = crlf(text);
    return (SipRequest) parser.parseDatagram(data, 0, data.length);
  }

  private static final String INVITE =
      """
      INVITE sip:srs@srs.example.com SIP/2.0
      Via: SIP/2.0/UDP sbc.example.com;branch=z9hG4bKi1
      Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
      From: "SBC" <sip:sbc@example.com>;tag=remote-1
      To: <sip:srs@srs.example.com>
      Call-ID: dlg-1@sbc.example.com
      CSeq: 10 INVITE
      Contact: <sip:sbc@192.0.2.10:5060;transport=udp>;+sip.src

      """;

  private DialogState dialog() throws SipParseException {
    return DialogState.fromInvite(parse(INVITE), "local-1");
  }

  /** An in-dialog request from the SBC. */
  private SipRequest inDialog(String method, long cseq, String extra) throws SipParseException {
    return parse(
        method
            + " sip:srs@10.0.0.1 SIP/2.0\n"
            + "Via: SIP/2.0/UDP sbc.example.com;branch=z9hG4bK"
            + method
            + cseq
            + "\n"
            + "From: <sip:sbc@example.com>;tag=remote-1\n"
            + "To: <sip:srs@srs.example.com>;tag=local-1\n"
            + "Call-ID: dlg-1@sbc.example.com\n"
            + "CSeq: "
            + cseq
            + " "
            + method
            + "\n"
            + extra
            + "\n");
  }

  @Test
  void theInviteSetsUpTheDialogAsSection1211Says() throws Exception {
    DialogState d = dialog();
    assertEquals(
        new DialogState(
            "dlg-1@sbc.example.com",
            "local-1",
            "remote-1",
            "sip:srs@srs.example.com",
            "sip:sbc@example.com",
            "sip:sbc@192.0.2.10:5060;transport=udp",
            List.of("<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"),
            0,
            10),
        d);
    assertEquals(new DialogState.DialogId("dlg-1@sbc.example.com", "local-1", "remote-1"), d.id());
  }

  @Test
  void aSiprecInviteWithoutRecordRouteHasAnEmptyRouteSet() throws Exception {
    byte[] data = siprecInvite();
    DialogState d =
        DialogState.fromInvite((SipRequest) parser.parseDatagram(data, 0, data.length), "x");
    assertEquals(List.of(), d.routeSet());
    assertEquals("sip:2000@src.example.com:5060", d.remoteTarget());
    assertEquals(101, d.remoteCSeq());
  }

  @Test
  void anInviteWithoutOneUsableContactCannotMakeADialog() throws Exception {
    SipRequest noContact =
        parse(INVITE.replace("Contact: <sip:sbc@192.0.2.10:5060;transport=udp>;+sip.src\n", ""));
    SipParseException e =
        assertThrows(SipParseException.class, () -> DialogState.fromInvite(noContact, "t"));
    assertEquals(400, e.statusCode());
    assertEquals("INVITE must have exactly one Contact with a URI", e.reason());
    SipRequest two = parse(INVITE.replace("+sip.src", "+sip.src, <sip:other@h>"));
    assertEquals(
        400,
        assertThrows(SipParseException.class, () -> DialogState.fromInvite(two, "t")).statusCode());
    SipRequest star =
        parse(INVITE.replace("<sip:sbc@192.0.2.10:5060;transport=udp>;+sip.src", "*"));
    assertEquals(
        400,
        assertThrows(SipParseException.class, () -> DialogState.fromInvite(star, "t"))
            .statusCode());
  }

  @Test
  void aClientWithoutFromTagGetsAnEmptyRemoteTag() throws Exception {
    DialogState d = DialogState.fromInvite(parse(INVITE.replace(";tag=remote-1", "")), "local-1");
    assertEquals("", d.remoteTag());
    SipRequest bye = d.newRequest("BYE", Via.of("UDP", "srs", 5060), null).request();
    assertEquals(java.util.Optional.empty(), bye.to().tag());
  }

  @Test
  void theServersByeGoesToTheRemoteTargetThroughTheRouteSetWithTheNextCSeq() throws Exception {
    DialogState d = dialog();
    Via via = Via.parse("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbye-a");
    DialogState.Outgoing out = d.newRequest("BYE", via, null);

    assertEquals(
        "BYE sip:sbc@192.0.2.10:5060;transport=udp SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbye-a\r\n"
            + "Max-Forwards: 70\r\n"
            + "Route: <sip:p1.example.com;lr>\r\n"
            + "Route: <sip:p2.example.com;lr>\r\n"
            + "From: <sip:srs@srs.example.com>;tag=local-1\r\n"
            + "To: <sip:sbc@example.com>;tag=remote-1\r\n"
            + "Call-ID: dlg-1@sbc.example.com\r\n"
            + "CSeq: 1 BYE\r\n"
            + "Content-Length: 0\r\n\r\n",
        text(out.request().toBytes()));
    assertEquals(1, out.state().localCSeq());
    assertEquals(0, d.localCSeq(), "the old state is unchanged");
    assertEquals(
        2, out.state().newRequest("BYE", Via.of("UDP", "h", 5060), null).request().cseq().number());
  }

  @Test
  void aReInviteCarriesContactAndSdpAndItsAckKeepsTheCSeqNumber() throws Exception {
    DialogState d = dialog();
    byte[] sdp =
        crlf(
            "v=0\n"
                + "o=callvault 5 6 IN IP4 10.0.0.9\n"
                + "s=-\n"
                + "t=0 0\n"
                + "m=audio 41000 RTP/AVP 0\n"
                + "c=IN IP4 10.0.0.9\n"
                + "a=recvonly\n");
    DialogState.Outgoing reInvite =
        d.newRequest(
            "INVITE",
            Via.of("UDP", "10.0.0.9", 5060),
            NameAddr.of("sip:srs@10.0.0.9:5060"),
            ContentType.of("application/sdp"),
            sdp);
    SipRequest r = reInvite.request();
    assertEquals("INVITE", r.method());
    assertEquals(new CSeq(1, "INVITE"), r.cseq());
    assertEquals("sip:srs@10.0.0.9:5060", r.contacts().get(0).uri());
    assertEquals(sdp.length, r.bodyLength());

    SipRequest ack = reInvite.state().ack(1, Via.of("UDP", "10.0.0.9", 5060));
    assertEquals(new CSeq(1, "ACK"), ack.cseq());
    assertEquals(r.requestUri(), ack.requestUri());
    assertEquals(r.routes(), ack.routes());
    assertNotEquals(r.topVia().branch(), ack.topVia().branch());
    assertThrows(
        IllegalArgumentException.class, () -> d.newRequest("ACK", Via.of("UDP", "h", 1), null));
  }

  @Test
  void aStrictRouterBecomesTheRequestUriAndTheTargetGoesLast() throws Exception {
    DialogState d =
        DialogState.fromInvite(
            parse(INVITE.replace("<sip:p1.example.com;lr>", "<sip:p1.example.com;transport=tcp>")),
            "local-1");
    SipRequest bye = d.newRequest("BYE", Via.of("UDP", "h", 5060), null).request();
    assertEquals("sip:p1.example.com;transport=tcp", bye.requestUri());
    assertEquals(
        List.of("sip:p2.example.com;lr", "sip:sbc@192.0.2.10:5060;transport=udp"),
        bye.routes().stream().map(NameAddr::uri).toList());
  }

  @Test
  void aRequestGoesToTheFirstRouteOrWithoutRoutesToTheRemoteTarget() throws Exception {
    assertEquals(new SipUri("sip", "", "p1.example.com", 5060), dialog().nextHop());
    DialogState strict =
        DialogState.fromInvite(
            parse(
                INVITE.replace(
                    "<sip:p1.example.com;lr>", "<sip:p1.example.com:5070;transport=tcp>")),
            "local-1");
    assertEquals(
        new SipUri("sip", "", "p1.example.com", 5070),
        strict.nextHop(),
        "a strict router is the Request-URI, and the next hop");
    DialogState direct =
        DialogState.fromInvite(parse(INVITE.replaceFirst("Record-Route: [^\n]*\n", "")), "local-1");
    assertEquals(new SipUri("sip", "sbc", "192.0.2.10", 5060), direct.nextHop());
    DialogState tel =
        DialogState.fromInvite(
            parse(
                INVITE
                    .replaceFirst("Record-Route: [^\n]*\n", "")
                    .replace("<sip:sbc@192.0.2.10:5060;transport=udp>", "<tel:+15550100>")),
            "local-1");
    assertEquals(
        400,
        assertThrows(SipParseException.class, tel::nextHop).statusCode(),
        "a tel: target has no address");
  }

  @Test
  void aRequestMayTakeACSeqChosenByTheCallerAboveTheLocalOne() throws Exception {
    DialogState d = dialog();
    Via via = Via.of("UDP", "10.0.0.9", 5060);
    DialogState.Outgoing out =
        d.newRequest("INVITE", 17, via, NameAddr.of("sip:srs@10.0.0.9"), null, null);
    assertEquals(new CSeq(17, "INVITE"), out.request().cseq());
    assertEquals(17, out.state().localCSeq());
    assertEquals(
        18,
        out.state().newRequest("BYE", via, null).request().cseq().number(),
        "the next one follows it");
    assertThrows(
        IllegalArgumentException.class,
        () -> out.state().newRequest("INVITE", 17, via, null, null, null),
        "not above the last");
    assertThrows(
        IllegalArgumentException.class, () -> d.newRequest("INVITE", 0, via, null, null, null));
    assertThrows(
        IllegalArgumentException.class,
        () -> d.newRequest("INVITE", CSeq.MAX_NUMBER + 1, via, null, null, null));
    assertThrows(
        IllegalArgumentException.class, () -> d.newRequest("ACK", 5, via, null, null, null));
  }

  @Test
  void looseRoutesAreRecognisedByTheirLrParameterOnly() {
    assertTrue(DialogState.isLooseRoute("<sip:p.example.com;lr>"));
    assertTrue(DialogState.isLooseRoute("<sip:p.example.com;LR;transport=tcp>"));
    assertTrue(DialogState.isLooseRoute("<sip:p.example.com;lr=on>"));
    assertFalse(DialogState.isLooseRoute("<sip:p.example.com;lrx>"));
    assertFalse(DialogState.isLooseRoute("<sip:lr.example.com>"));
  }

  @Test
  void aRequestWithALowerCSeqIsRefusedWith500() throws Exception {
    DialogState d = dialog().acceptRemoteRequest(inDialog("INFO", 12, ""));
    assertEquals(12, d.remoteCSeq());
    SipParseException e =
        assertThrows(SipParseException.class, () -> d.acceptRemoteRequest(inDialog("BYE", 11, "")));
    assertEquals(500, e.statusCode());
    assertEquals("CSeq 11 is lower than 12 already received in this dialog", e.reason());
    assertEquals(12, d.acceptRemoteRequest(inDialog("BYE", 12, "")).remoteCSeq());
    assertEquals(13, d.acceptRemoteRequest(inDialog("BYE", 13, "")).remoteCSeq());
  }

  @Test
  void ackAndCancelKeepTheInvitesCSeqAndChangeNothing() throws Exception {
    DialogState d =
        dialog().acceptRemoteRequest(inDialog("INVITE", 12, "Contact: <sip:sbc@192.0.2.10>\n"));
    assertSame(d, d.acceptRemoteRequest(inDialog("ACK", 10, "")));
  }

  @Test
  void aReInviteWithANewContactMovesTheRemoteTargetAndOtherRequestsDoNot() throws Exception {
    DialogState d = dialog();
    DialogState moved =
        d.acceptRemoteRequest(inDialog("INVITE", 11, "Contact: <sip:sbc@198.51.100.77:5070>\n"));
    assertEquals("sip:sbc@198.51.100.77:5070", moved.remoteTarget());
    assertEquals(
        "sip:sbc@198.51.100.77:5070",
        moved.newRequest("BYE", Via.of("UDP", "h", 5060), null).request().requestUri());
    DialogState notMoved =
        moved.acceptRemoteRequest(inDialog("INFO", 12, "Contact: <sip:elsewhere@h>\n"));
    assertEquals("sip:sbc@198.51.100.77:5070", notMoved.remoteTarget());
  }

  @Test
  void requestsOfAnotherDialogDoNotMatch() throws Exception {
    DialogState d = dialog();
    assertTrue(d.matches(inDialog("BYE", 11, "")));
    SipRequest otherTag =
        parse(text(inDialog("BYE", 11, "").toBytes()).replace("tag=local-1", "tag=local-2"));
    assertFalse(d.matches(otherTag));
    assertEquals(
        new DialogState.DialogId("dlg-1@sbc.example.com", "local-2", "remote-1"),
        DialogState.DialogId.ofIncoming(otherTag));
    assertThrows(IllegalArgumentException.class, () -> d.acceptRemoteRequest(otherTag));
  }

  @Test
  void theStateHoldsOnlyStringsLongsAndAListOfStringsSoTheLedgerCanKeepIt() throws Exception {
    Set<Class<?>> allowed = Set.of(String.class, long.class, List.class);
    for (RecordComponent c : DialogState.class.getRecordComponents()) {
      assertTrue(allowed.contains(c.getType()), c.getName() + " is " + c.getType());
    }
    assertEquals(
        List.of(
            "callId",
            "localTag",
            "remoteTag",
            "localUri",
            "remoteUri",
            "remoteTarget",
            "routeSet",
            "localCSeq",
            "remoteCSeq"),
        Arrays.stream(DialogState.class.getRecordComponents())
            .map(RecordComponent::getName)
            .toList());
    DialogState d = dialog();
    DialogState copy =
        new DialogState(
            d.callId(),
            d.localTag(),
            d.remoteTag(),
            d.localUri(),
            d.remoteUri(),
            d.remoteTarget(),
            List.copyOf(d.routeSet()),
            d.localCSeq(),
            d.remoteCSeq());
    assertEquals(d, copy);
    // A node that rebuilt the state from the ledger sends exactly what the first node would have.
    Via via = Via.parse("SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKsame");
    assertEquals(
        text(d.newRequest("BYE", via, null).request().toBytes()),
        text(copy.newRequest("BYE", via, null).request().toBytes()));
  }
}
