package org.callvault.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientTransactionsTest {

  private final FakeTimers clock = new FakeTimers();
  private final ClientTransactions table = new ClientTransactions(clock, 500);

  /** Everything the transactions sent, with the fake time it was sent at. */
  private record Sent(long at, SipRequest request) {}

  private final List<Sent> sent = new ArrayList<>();
  private final ClientTransactions.RequestSender wire = r -> sent.add(new Sent(clock.now(), r));

  /** The transaction user: what it was told, and when. */
  private final List<String> told = new ArrayList<>();

  private final List<SipResponse> answers = new ArrayList<>();
  private final ClientTransactions.Outcome user =
      new ClientTransactions.Outcome() {
        @Override
        public void answered(SipResponse response) {
          told.add(clock.now() + " answered " + response.statusCode());
          answers.add(response);
        }

        @Override
        public void timedOut() {
          told.add(clock.now() + " timed out");
        }
      };

  /** The recorder's re-INVITE in a dialog routed through two proxies. */
  private final SipRequest invite =
      SipRequest.builder("INVITE", "sip:src@192.0.2.10:5060")
          .via(Via.of("UDP", "10.0.0.9", 5060))
          .route("<sip:p1.example.com;lr>")
          .route("<sip:p2.example.com;lr>")
          .from(NameAddr.of("sip:srs@10.0.0.9").withTag("srs-tag"))
          .to(NameAddr.of("sip:src@example.com").withTag("src-tag"))
          .callId("moved-1@src.example.com")
          .cseq(42)
          .contact(NameAddr.of("sip:srs@10.0.0.9:5060").withParam("+sip.srs", ""))
          .body(ContentType.of("application/sdp"), SipTestMessages.crlf("v=0\n"))
          .build();

  private SipResponse response(int status) {
    return SipResponse.to(invite, status).build();
  }

  private List<Long> sendTimes() {
    return sent.stream().map(Sent::at).toList();
  }

  @Test
  void anUnansweredInviteIsSentAgainAtT1DoublingAndGivenUpAtTimerB() {
    table.invite(invite, wire, user);
    clock.advanceTo(60_000);
    // §17.1.1.2: Timer A starts at T1 and doubles; Timer B fires at 64·T1.
    assertEquals(List.of(0L, 500L, 1_500L, 3_500L, 7_500L, 15_500L, 31_500L), sendTimes());
    for (Sent s : sent)
      assertSame(invite, s.request(), "each time the same INVITE, the same branch");
    assertEquals(List.of("32000 timed out"), told);
    assertEquals(0, table.size());
    assertEquals(0, clock.pending(), "no timer is left behind");
    assertFalse(table.receive(response(200)), "a response after Timer B finds no transaction");
  }

  @Test
  void aProvisionalResponseStopsTheRetransmissionsAndTheFinalOneIsStillAwaited() {
    table.invite(invite, wire, user);
    clock.advanceTo(700);
    assertTrue(table.receive(response(100)));
    clock.advanceTo(20_000);
    assertEquals(List.of(0L, 500L), sendTimes(), "nothing after the 100 (Proceeding)");
    assertTrue(table.receive(response(180)));
    assertTrue(table.receive(response(200)));
    assertEquals(List.of("20000 answered 200"), told);
    assertEquals(
        List.of(0L, 500L), sendTimes(), "the ACK of a 2xx is the user's, not the transaction's");
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void timerBAlsoEndsAWaitThatOnlyEverGotAProvisional() {
    table.invite(invite, wire, user);
    assertTrue(table.receive(response(100)));
    clock.advanceTo(31_999);
    assertEquals(List.of(), told);
    clock.advanceTo(32_000);
    assertEquals(List.of("32000 timed out"), told);
    assertEquals(List.of(0L), sendTimes());
  }

  @Test
  void aFinalResponseStopsTheRetransmissions() {
    table.invite(invite, wire, user);
    clock.advanceTo(1_600);
    assertTrue(table.receive(response(200)));
    clock.advanceTo(60_000);
    assertEquals(List.of(0L, 500L, 1_500L), sendTimes());
    assertEquals(List.of("1600 answered 200"), told);
    assertFalse(
        table.receive(response(200)),
        "a retransmitted 2xx is not the transaction's (the user ACKs it)");
    assertEquals(List.of("1600 answered 200"), told, "the user is told once");
  }

  @Test
  void aRefusalIsAckedInTheInvitesTransactionAsSection17113Says() {
    table.invite(invite, wire, user);
    clock.advanceTo(600);
    SipResponse busy = SipResponse.to(invite, 486).build();
    assertTrue(table.receive(busy));
    assertEquals(List.of("600 answered 486"), told);
    assertSame(busy, answers.get(0));
    assertEquals(List.of(0L, 500L, 600L), sendTimes());
    SipRequest ack = sent.get(2).request();
    assertEquals("ACK", ack.method());
    assertEquals(invite.requestUri(), ack.requestUri());
    assertEquals(
        List.of(invite.topVia()), ack.vias(), "one Via, the INVITE's top one: the same branch");
    assertEquals(invite.from(), ack.from());
    assertEquals(busy.to(), ack.to(), "the To of the response");
    assertEquals(invite.callId(), ack.callId());
    assertEquals(new CSeq(42, "ACK"), ack.cseq());
    assertEquals(
        invite.headers().all("Route"),
        ack.headers().all("Route"),
        "the INVITE's Route header fields");
    assertEquals(70, ack.maxForwards().getAsInt());
    assertEquals(0, ack.bodyLength());
    assertTrue(ack.contacts().isEmpty());
    clock.advanceTo(10_000);
    assertEquals(3, sent.size(), "no retransmission after the final response");
  }

  @Test
  void aRetransmittedRefusalIsAckedAgainUntilTimerD() {
    table.invite(invite, wire, user);
    SipResponse busy = response(486);
    table.receive(busy);
    clock.advanceTo(4_000);
    assertTrue(table.receive(busy), "the client did not get our ACK");
    assertEquals(List.of(0L, 0L, 4_000L), sendTimes());
    assertSame(sent.get(1).request(), sent.get(2).request(), "the same ACK again");
    assertEquals(List.of("0 answered 486"), told, "the user is told once");
    clock.advanceTo(ClientTransactions.TIMER_D_MILLIS);
    assertEquals(0, table.size());
    assertFalse(table.receive(busy));
    assertEquals(3, sent.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void responsesMatchByTopViaBranchAndCSeqMethod() {
    table.invite(invite, wire, user);
    SipRequest other =
        SipRequest.builder("INVITE", invite.requestUri())
            .via(Via.of("UDP", "10.0.0.9", 5060))
            .from(invite.from())
            .to(invite.to())
            .callId(invite.callId())
            .cseq(42)
            .build();
    assertFalse(table.receive(SipResponse.to(other, 200).build()), "another branch");
    SipRequest bye =
        SipRequest.builder("BYE", invite.requestUri())
            .via(invite.topVia())
            .from(invite.from())
            .to(invite.to())
            .callId(invite.callId())
            .cseq(43)
            .build();
    assertFalse(table.receive(SipResponse.to(bye, 200).build()), "the same branch, another method");
    assertEquals(List.of(), told);
    assertEquals(1, table.size());
  }

  @Test
  void onlyInvitesWithAFreshBranchStartATransaction() {
    table.invite(invite, wire, user);
    assertThrows(
        IllegalArgumentException.class,
        () -> table.invite(invite, wire, user),
        "the same branch twice");
    SipRequest legacy =
        SipRequest.builder("INVITE", invite.requestUri())
            .via(new Via("SIP/2.0", "UDP", "10.0.0.9", 5060, java.util.Map.of("branch", "1234")))
            .from(invite.from())
            .to(invite.to())
            .callId(invite.callId())
            .cseq(1)
            .build();
    assertThrows(IllegalArgumentException.class, () -> table.invite(legacy, wire, user));
    assertEquals(1, sent.size());
  }
}
