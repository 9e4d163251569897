package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.crlf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.callvault.sip.ServerTransaction.State;
import org.callvault.sip.ServerTransactions.Disposition;
import org.callvault.sip.ServerTransactions.Timeout;
import org.junit.jupiter.api.Test;

class ServerTransactionsTest {

  private static final boolean UDP = false;
  private static final boolean TCP = true;

  private final FakeTimers clock = new FakeTimers();
  private final Recorder app = new Recorder();
  private final ServerTransactions table =
      new ServerTransactions(clock, app, ServerTransactions.Config.DEFAULT);

  /** Everything the table sent, with the fake time it was sent at. */
  private record Sent(long at, SipResponse response) {}

  private final List<Sent> sent = new ArrayList<>();
  private final ServerTransactions.ResponseSender wire = r -> sent.add(new Sent(clock.now(), r));

  /** The application: records what it is told and answers as the test says. */
  private static final class Recorder implements ServerTransactions.TransactionUser {
    final List<ServerTransaction> requests = new ArrayList<>();
    final List<SipRequest> acks = new ArrayList<>();
    final List<ServerTransaction> cancelled = new ArrayList<>();
    final List<Timeout> timeouts = new ArrayList<>();
    final List<SipResponse> noAck = new ArrayList<>();
    Consumer<ServerTransaction> answer = tx -> {};

    @Override
    public void onRequest(ServerTransaction transaction) {
      requests.add(transaction);
      answer.accept(transaction);
    }

    @Override
    public void onAck(SipRequest ack) {
      acks.add(ack);
    }

    @Override
    public void onCancelled(ServerTransaction invite, SipRequest cancel) {
      cancelled.add(invite);
    }

    @Override
    public void onTimeout(ServerTransaction transaction, Timeout timeout) {
      timeouts.add(timeout);
    }

    @Override
    public void onNoAckFor2xx(SipResponse ok) {
      noAck.add(ok);
    }
  }

  private static SipRequest request(
      String method, String branch, long cseq, String cseqMethod, String toTag)
      throws SipParseException {
    String text =
        method
            + " sip:srs@srs.example.com SIP/2.0\n"
            + "Via: SIP/2.0/UDP src.example.com:5060;branch="
            + branch
            + "\n"
            + "From: <sip:src@example.com>;tag=f1\n"
            + "To: <sip:srs@srs.example.com>"
            + (toTag == null ? "" : ";tag=" + toTag)
            + "\n"
            + "Call-ID: tx-1@src.example.com\n"
            + "CSeq: "
            + cseq
            + " "
            + cseqMethod
            + "\n"
            + "Max-Forwards: 70\n\n";
    byte[] data = crlf(text);
    return (SipRequest) new SipParser().parseDatagram(data, 0, data.length);
  }

  private static SipRequest invite() throws SipParseException {
    return request("INVITE", "z9hG4bKinv1", 1, "INVITE", null);
  }

  private static SipRequest ackForNon2xx(String toTag) throws SipParseException {
    return request(
        "ACK", "z9hG4bKinv1", 1, "ACK", toTag); // same branch: same transaction (§17.1.1.3)
  }

  private static SipRequest ackFor2xx(String toTag) throws SipParseException {
    return request("ACK", "z9hG4bKack9", 1, "ACK", toTag); // new branch: end to end (§13.2.2.4)
  }

  private static SipResponse answer(ServerTransaction tx, int status) {
    return SipResponse.to(tx.request(), status).toTag("srs1").build();
  }

  private List<Long> sendTimes(int status) {
    return sent.stream().filter(s -> s.response().statusCode() == status).map(Sent::at).toList();
  }

  private List<Integer> statuses() {
    return sent.stream().map(s -> s.response().statusCode()).toList();
  }

  // --- INVITE ---

  @Test
  void aNewInviteGets100TryingAndReachesTheApplicationOnlyOnce() throws Exception {
    assertEquals(Disposition.NEW, table.receive(invite(), UDP, wire));
    assertEquals(List.of(100), statuses());
    assertEquals(Optional.empty(), sent.get(0).response().to().tag());
    assertEquals(1, app.requests.size());

    clock.advance(500);
    assertEquals(Disposition.RETRANSMISSION, table.receive(invite(), UDP, wire));
    assertEquals(List.of(100, 100), statuses());

    app.requests.get(0).respond(answer(app.requests.get(0), 180));
    assertEquals(Disposition.RETRANSMISSION, table.receive(invite(), UDP, wire));
    assertEquals(List.of(100, 100, 180, 180), statuses(), "the last provisional is sent again");
    assertEquals(1, app.requests.size(), "the retransmissions never reached the application");
    assertEquals(State.PROCEEDING, app.requests.get(0).state());
  }

  @Test
  void aNon2xxFinalIsRetransmittedFromT1DoublingToT2UntilTheAck() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 486));
    table.receive(invite(), UDP, wire);
    ServerTransaction tx = app.requests.get(0);
    assertEquals(State.COMPLETED, tx.state());

    clock.advanceTo(12_000);
    // Timer G: 500, then intervals of 1 s, 2 s and then T2 = 4 s.
    assertEquals(List.of(0L, 500L, 1_500L, 3_500L, 7_500L, 11_500L), sendTimes(486));

    assertEquals(Disposition.ACK_ABSORBED, table.receive(ackForNon2xx("srs1"), UDP, wire));
    assertEquals(State.CONFIRMED, tx.state());
    assertEquals(
        List.of(), app.acks, "the ACK of a non-2xx is the transaction's, not the application's");
    clock.advanceTo(16_999);
    assertEquals(6, sendTimes(486).size(), "no retransmission after the ACK");
    assertEquals(Disposition.ACK_ABSORBED, table.receive(ackForNon2xx("srs1"), UDP, wire));
    assertEquals(1, table.size());

    clock.advanceTo(17_000); // Timer I = T4 after the ACK
    assertEquals(State.TERMINATED, tx.state());
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void aRetransmittedInviteInCompletedGetsTheFinalResponseAgain() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 488));
    table.receive(invite(), UDP, wire);
    clock.advance(100);
    assertEquals(Disposition.RETRANSMISSION, table.receive(invite(), UDP, wire));
    assertEquals(List.of(100, 488, 488), statuses());
    assertEquals(1, app.requests.size());
  }

  @Test
  void timerHGivesUpAt64TimesT1WithoutAck() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 603));
    table.receive(invite(), UDP, wire);
    clock.advanceTo(31_999);
    assertEquals(
        List.of(
            0L, 500L, 1_500L, 3_500L, 7_500L, 11_500L, 15_500L, 19_500L, 23_500L, 27_500L, 31_500L),
        sendTimes(603));
    assertEquals(List.of(), app.timeouts);
    clock.advanceTo(32_000);
    assertEquals(List.of(Timeout.NO_ACK), app.timeouts);
    assertEquals(0, table.size());
    clock.advanceTo(100_000);
    assertEquals(11, sendTimes(603).size());
    assertEquals(0, clock.pending());
  }

  @Test
  void overTcpTheFinalResponseIsSentOnceAndTheAckEndsTheTransactionAtOnce() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 486));
    table.receive(invite(), TCP, wire);
    clock.advanceTo(20_000);
    assertEquals(List.of(0L), sendTimes(486));
    assertEquals(Disposition.ACK_ABSORBED, table.receive(ackForNon2xx("srs1"), TCP, wire));
    assertEquals(0, table.size(), "Timer I is 0 on a reliable transport");
    assertEquals(0, clock.pending());
  }

  // --- 2xx to INVITE ---

  @Test
  void a2xxIsRetransmittedByTheCoreUntilItsAckAndTheAckReachesTheApplication() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 200));
    table.receive(invite(), UDP, wire);
    ServerTransaction tx = app.requests.get(0);
    assertEquals(State.ACCEPTED, tx.state());
    assertEquals(1, table.pendingOks());

    clock.advanceTo(4_000);
    assertEquals(List.of(0L, 500L, 1_500L, 3_500L), sendTimes(200));
    assertEquals(Disposition.ACK_TO_APPLICATION, table.receive(ackFor2xx("srs1"), UDP, wire));
    assertEquals(1, app.acks.size());
    assertEquals(0, table.pendingOks());
    clock.advanceTo(31_999);
    assertEquals(4, sendTimes(200).size(), "the ACK stopped the retransmissions");

    // RFC 6026 Accepted: a late INVITE retransmission is absorbed, the application never sees it.
    assertEquals(Disposition.RETRANSMISSION, table.receive(invite(), UDP, wire));
    assertEquals(1, app.requests.size());
    assertEquals(1, table.size());
    clock.advanceTo(32_000); // Timer L
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
    assertEquals(List.of(), app.noAck);
  }

  @Test
  void a2xxWithoutAckIsRetransmittedFor64T1AndThenReportedForBye() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 200));
    table.receive(invite(), UDP, wire);
    clock.advanceTo(31_999);
    assertEquals(
        List.of(
            0L, 500L, 1_500L, 3_500L, 7_500L, 11_500L, 15_500L, 19_500L, 23_500L, 27_500L, 31_500L),
        sendTimes(200));
    assertEquals(List.of(), app.noAck);
    clock.advanceTo(32_000);
    assertEquals(1, app.noAck.size());
    assertEquals("tx-1@src.example.com", app.noAck.get(0).callId());
    assertEquals(0, table.pendingOks());
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void a2xxIsRetransmittedOverTcpToo() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 200));
    table.receive(invite(), TCP, wire);
    clock.advanceTo(2_000);
    assertEquals(List.of(0L, 500L, 1_500L), sendTimes(200));
  }

  @Test
  void onlyAnAckWithTheSameCallIdAndCSeqStopsA2xx() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 200));
    table.receive(invite(), UDP, wire);
    assertEquals(
        Disposition.ACK_TO_APPLICATION,
        table.receive(request("ACK", "z9hG4bKx", 2, "ACK", "srs1"), UDP, wire));
    assertEquals(1, table.pendingOks());
    table.receive(ackFor2xx("srs1"), UDP, wire);
    assertEquals(0, table.pendingOks());
  }

  @Test
  void anAckMatchingNothingStillReachesTheApplication() throws Exception {
    assertEquals(Disposition.ACK_TO_APPLICATION, table.receive(ackFor2xx("srs1"), UDP, wire));
    assertEquals(1, app.acks.size());
    assertEquals(0, table.size());
    assertEquals(List.of(), sent);
  }

  // --- non-INVITE ---

  @Test
  void aNonInviteRetransmissionIsAbsorbedUntilAnsweredThenGetsTheLastResponse() throws Exception {
    SipRequest bye = request("BYE", "z9hG4bKbye1", 2, "BYE", "srs1");
    assertEquals(Disposition.NEW, table.receive(bye, UDP, wire));
    assertEquals(List.of(), sent, "no 100 Trying for a non-INVITE");
    ServerTransaction tx = app.requests.get(0);
    assertEquals(State.TRYING, tx.state());
    assertEquals(Disposition.RETRANSMISSION, table.receive(bye, UDP, wire));
    assertEquals(List.of(), sent);

    tx.respond(SipResponse.to(bye, 200).build());
    assertEquals(State.COMPLETED, tx.state());
    clock.advance(1_000);
    assertEquals(Disposition.RETRANSMISSION, table.receive(bye, UDP, wire));
    assertEquals(List.of(0L, 1_000L), sendTimes(200));
    assertEquals(1, app.requests.size());

    clock.advanceTo(31_999);
    assertEquals(1, table.size());
    clock.advanceTo(32_000); // Timer J = 64*T1 on UDP
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void aNonInviteInProceedingGetsItsLastProvisionalAgain() throws Exception {
    SipRequest options = request("OPTIONS", "z9hG4bKopt1", 3, "OPTIONS", null);
    table.receive(options, UDP, wire);
    ServerTransaction tx = app.requests.get(0);
    tx.respond(SipResponse.to(options, 100).build());
    assertEquals(State.PROCEEDING, tx.state());
    table.receive(options, UDP, wire);
    assertEquals(List.of(100, 100), statuses());
  }

  @Test
  void overTcpANonInviteTransactionEndsWithItsFinalResponse() throws Exception {
    app.answer = tx -> tx.respond(SipResponse.to(tx.request(), 200).build());
    table.receive(request("BYE", "z9hG4bKbye1", 2, "BYE", "srs1"), TCP, wire);
    assertEquals(0, table.size(), "Timer J is 0 on a reliable transport");
    assertEquals(0, clock.pending());
  }

  // --- CANCEL ---

  @Test
  void aCancelOfAPendingInviteIsAnswered200AndTheInvite487WithTheSameTag() throws Exception {
    table.receive(invite(), UDP, wire);
    ServerTransaction inv = app.requests.get(0);
    inv.respond(answer(inv, 180));

    SipRequest cancel = request("CANCEL", "z9hG4bKinv1", 1, "CANCEL", null);
    assertEquals(Disposition.CANCELLED, table.receive(cancel, UDP, wire));
    assertEquals(List.of(100, 180, 200, 487), statuses());
    SipResponse okToCancel = sent.get(2).response();
    assertEquals("CANCEL", okToCancel.cseq().method());
    assertEquals(Optional.of("srs1"), okToCancel.to().tag());
    SipResponse terminated = sent.get(3).response();
    assertEquals("INVITE", terminated.cseq().method());
    assertEquals(Optional.of("srs1"), terminated.to().tag());
    assertSame(inv, app.cancelled.get(0));
    assertEquals(State.COMPLETED, inv.state());
    assertEquals(1, app.requests.size(), "the CANCEL is handled by the table");

    assertEquals(Disposition.RETRANSMISSION, table.receive(cancel, UDP, wire));
    assertEquals(200, sent.get(sent.size() - 1).response().statusCode());
    assertEquals(Disposition.ACK_ABSORBED, table.receive(ackForNon2xx("srs1"), UDP, wire));
    clock.advanceTo(40_000);
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void aCancelAfterTheFinalResponseHasNoEffect() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 200));
    table.receive(invite(), UDP, wire);
    assertEquals(
        Disposition.CANCEL_TOO_LATE,
        table.receive(request("CANCEL", "z9hG4bKinv1", 1, "CANCEL", null), UDP, wire));
    assertEquals(200, sent.get(sent.size() - 1).response().statusCode());
    assertEquals("CANCEL", sent.get(sent.size() - 1).response().cseq().method());
    assertEquals(State.ACCEPTED, app.requests.get(0).state());
    assertEquals(List.of(), app.cancelled);
  }

  @Test
  void aCancelThatMatchesNoInviteIsAnswered481() throws Exception {
    assertEquals(
        Disposition.CANCEL_UNMATCHED,
        table.receive(request("CANCEL", "z9hG4bKnone", 1, "CANCEL", null), UDP, wire));
    assertEquals(List.of(481), statuses());
    assertTrue(sent.get(0).response().to().tag().isPresent());
    assertEquals(List.of(), app.requests);
  }

  // --- matching ---

  @Test
  void theSameBranchFromAnotherSentByIsAnotherTransaction() throws Exception {
    table.receive(invite(), UDP, wire);
    SipRequest other = request("INVITE", "z9hG4bKinv1", 1, "INVITE", null);
    byte[] moved =
        crlf(
            new String(other.toBytes(), java.nio.charset.StandardCharsets.UTF_8)
                .replace("src.example.com:5060", "other.example.com:5060"));
    SipRequest fromElsewhere = (SipRequest) new SipParser().parseDatagram(moved, 0, moved.length);
    assertEquals(Disposition.NEW, table.receive(fromElsewhere, UDP, wire));
    assertEquals(2, table.size());
  }

  @Test
  void requestsWithoutTheMagicCookieAreMatchedByTheirDialogFields() throws Exception {
    app.answer = tx -> tx.respond(answer(tx, 486));
    SipRequest old = request("INVITE", "1234", 1, "INVITE", null);
    assertEquals(Disposition.NEW, table.receive(old, UDP, wire));
    assertEquals(
        Disposition.RETRANSMISSION,
        table.receive(request("INVITE", "1234", 1, "INVITE", null), UDP, wire));
    assertEquals(
        Disposition.ACK_ABSORBED,
        table.receive(request("ACK", "1234", 1, "ACK", "srs1"), UDP, wire));
    assertEquals(
        Disposition.NEW, table.receive(request("INVITE", "1234", 2, "INVITE", null), UDP, wire));
    assertEquals(2, app.requests.size());
  }

  // --- limits and application errors ---

  @Test
  void aFullTableAnswers503WithoutBotheringTheApplicationAndEmptiesItself() throws Exception {
    ServerTransactions small =
        new ServerTransactions(
            clock, app, new ServerTransactions.Config(500, 4_000, 5_000, 2, 32_000));
    app.answer = tx -> tx.respond(SipResponse.to(tx.request(), 200).build());
    small.receive(request("BYE", "z9hG4bK1", 2, "BYE", "t"), UDP, wire);
    small.receive(request("BYE", "z9hG4bK2", 3, "BYE", "t"), UDP, wire);
    assertEquals(
        Disposition.REFUSED_TABLE_FULL,
        small.receive(request("BYE", "z9hG4bK3", 4, "BYE", "t"), UDP, wire));
    SipResponse refusal = sent.get(sent.size() - 1).response();
    assertEquals(503, refusal.statusCode());
    assertEquals(Optional.of("5"), refusal.headers().first("Retry-After"));
    assertEquals(2, app.requests.size());

    clock.advanceTo(32_000);
    assertEquals(0, small.size());
    assertEquals(
        Disposition.NEW, small.receive(request("BYE", "z9hG4bK3", 4, "BYE", "t"), UDP, wire));
  }

  @Test
  void aRequestTheApplicationNeverAnswersIsAnswered500AfterTheTimeout() throws Exception {
    table.receive(invite(), UDP, wire);
    clock.advanceTo(31_999);
    assertEquals(List.of(100), statuses());
    clock.advanceTo(32_000);
    assertEquals(List.of(Timeout.NO_ANSWER), app.timeouts);
    SipResponse r = sent.get(1).response();
    assertEquals(500, r.statusCode());
    assertEquals("the recording server did not answer in time", r.reasonPhrase());
    assertTrue(r.to().tag().isPresent());
    table.receive(ackForNon2xx(r.to().tag().get()), UDP, wire);
    clock.advanceTo(40_000);
    assertEquals(0, table.size());
    assertEquals(0, clock.pending());
  }

  @Test
  void answeringTwiceOrAnotherRequestIsAnApplicationBug() throws Exception {
    table.receive(invite(), UDP, wire);
    ServerTransaction tx = app.requests.get(0);
    tx.respond(answer(tx, 486));
    assertThrows(IllegalStateException.class, () -> tx.respond(answer(tx, 200)));
    SipRequest other = request("BYE", "z9hG4bKb", 9, "BYE", "t");
    assertThrows(
        IllegalArgumentException.class, () -> tx.respond(SipResponse.to(other, 200).build()));
  }
}
