package org.callvault.sip;

import java.util.Objects;
import java.util.Optional;

/**
 * One server transaction: a request the recording server received and the responses it sends to it,
 * with the retransmission handling of <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-17.2">RFC 3261 §17.2</a>.
 *
 * <pre>
 * INVITE (§17.2.1, with the Accepted state of RFC 6026 §7.1):
 *
 *                |INVITE: pass to TU, send 100 Trying
 *                V
 *          +-----------+  INVITE: resend last 1xx
 *          |Proceeding |  1xx from TU: send
 *          +-----------+
 *       2xx |       | 300-699 from TU: send, Timer G (T1, UDP only), Timer H (64*T1)
 *      send |       V
 *  Timer L  |  +-----------+  INVITE: resend final;  Timer G: resend, G = min(2G, T2)
 *  (64*T1)  |  | Completed |  Timer H: give up (TU told: no ACK)
 *           |  +-----------+
 *           V        | ACK: Timer I (T4 on UDP, 0 on TCP)
 *  +----------+      V
 *  | Accepted |  +-----------+  ACK, INVITE: absorbed
 *  +----------+  | Confirmed |
 *   INVITE:      +-----------+
 *   absorbed;         | Timer I
 *   ACK: to TU        V
 *           Terminated (removed from the table)
 *
 * non-INVITE (§17.2.2):  Trying --1xx--&gt; Proceeding --final--&gt; Completed --Timer J--&gt; Terminated
 *   request retransmission: Trying: absorbed; Proceeding: resend last 1xx; Completed: resend final
 *   Timer J: 64*T1 on UDP, 0 on TCP
 * </pre>
 *
 * <p>The 2xx to an INVITE is retransmitted by the UAS core, not the transaction (§13.3.1.4); the
 * table does that with {@link OkRetransmissions}. The Accepted state keeps the transaction alive
 * for 64*T1 after the 2xx so that a retransmitted INVITE is absorbed instead of reaching the
 * application a second time (RFC 6026 fixes exactly that gap of RFC 3261).
 *
 * <p>Created by {@link ServerTransactions}; confined to its thread.
 */
public final class ServerTransaction {

  /** The states of §17.2.1/§17.2.2 and RFC 6026. */
  public enum State {
    /** non-INVITE, no response yet. */
    TRYING,
    PROCEEDING,
    COMPLETED,
    /** INVITE, ACK received for a non-2xx final response. */
    CONFIRMED,
    /** INVITE, 2xx sent (RFC 6026 §7.1). */
    ACCEPTED,
    TERMINATED
  }

  private final ServerTransactions table;
  private final String key;
  private final SipRequest request;
  private final boolean reliable;
  private final ServerTransactions.ResponseSender sender;
  private State state;
  private SipResponse lastProvisional;
  private SipResponse finalResponse;
  private String localTag;
  private long timerGInterval;
  private SipTimers.Cancellable timerG;
  private SipTimers.Cancellable timerEnd; // H, I, J or L: whichever ends the current state
  private SipTimers.Cancellable answerGuard;

  ServerTransaction(
      ServerTransactions table,
      String key,
      SipRequest request,
      boolean reliable,
      ServerTransactions.ResponseSender sender) {
    this.table = table;
    this.key = key;
    this.request = request;
    this.reliable = reliable;
    this.sender = sender;
    this.state = isInvite() ? State.PROCEEDING : State.TRYING;
  }

  /** The request that created the transaction. */
  public SipRequest request() {
    return request;
  }

  public State state() {
    return state;
  }

  public boolean isInvite() {
    return request.isMethod("INVITE");
  }

  /** Whether the request came over TCP or TLS, which switches retransmission timers off. */
  public boolean reliable() {
    return reliable;
  }

  /** The To tag of the responses sent so far, if one had a tag. */
  public Optional<String> localTag() {
    return Optional.ofNullable(localTag);
  }

  /** The final response sent, if any. */
  public Optional<SipResponse> finalResponse() {
    return Optional.ofNullable(finalResponse);
  }

  String key() {
    return key;
  }

  /** Sends a response again on the transaction's path (the UAS core's 2xx retransmissions). */
  void resend(SipResponse response) {
    sender.send(response);
  }

  /**
   * Sends a response to the request through this transaction: provisional responses any number of
   * times before the final one, then exactly one final response.
   *
   * @throws IllegalStateException if a final response was already sent: the application answered
   *     twice
   * @throws IllegalArgumentException if the response is not for this request (Call-ID or CSeq
   *     differ)
   */
  public void respond(SipResponse response) {
    Objects.requireNonNull(response);
    if (!response.callId().equals(request.callId()) || !response.cseq().equals(request.cseq())) {
      throw new IllegalArgumentException(
          "response " + response.cseq() + " is not for request " + request.cseq());
    }
    if (finalResponse != null || state == State.TERMINATED) {
      throw new IllegalStateException("a final response was already sent in state " + state);
    }
    response.to().tag().ifPresent(t -> localTag = t);
    if (response.isProvisional()) {
      lastProvisional = response;
      if (state == State.TRYING) state = State.PROCEEDING;
      sender.send(response);
      return;
    }
    finalResponse = response;
    cancel(answerGuard);
    sender.send(response);
    if (isInvite() && response.isSuccess()) {
      state = State.ACCEPTED;
      timerEnd = table.schedule(64 * table.config().t1Millis(), this::terminate); // Timer L
      table.okSent(this, response);
    } else if (isInvite()) {
      state = State.COMPLETED;
      if (!reliable) {
        timerGInterval = table.config().t1Millis();
        timerG = table.schedule(timerGInterval, this::timerG);
      }
      timerEnd = table.schedule(64 * table.config().t1Millis(), this::timerH);
    } else {
      state = State.COMPLETED;
      if (reliable) terminate(); // Timer J is 0 on a reliable transport
      else timerEnd = table.schedule(64 * table.config().t1Millis(), this::terminate);
    }
  }

  /** A retransmission of the request arrived (§17.2.1, §17.2.2). */
  void retransmissionReceived() {
    switch (state) {
      case PROCEEDING -> {
        if (lastProvisional != null) sender.send(lastProvisional);
      }
      case COMPLETED -> sender.send(finalResponse);
      default -> {
        // Trying: the request is being worked on and there is nothing to resend yet.
        // Accepted: the 2xx retransmissions of the UAS core cover it (RFC 6026 §7.1).
        // Confirmed: the ACK has arrived, the request is a late duplicate.
      }
    }
  }

  /** An ACK matched this INVITE transaction; true when it was absorbed here. */
  boolean ackReceived() {
    if (state == State.ACCEPTED) return false; // RFC 6026 §7.1: the ACK for a 2xx goes to the TU
    if (state == State.COMPLETED) {
      state = State.CONFIRMED;
      cancel(timerG);
      cancel(timerEnd);
      if (reliable) terminate(); // Timer I is 0 on a reliable transport
      else timerEnd = table.schedule(table.config().t4Millis(), this::terminate);
    }
    return true;
  }

  void startAnswerGuard() {
    answerGuard = table.schedule(table.config().answerTimeoutMillis(), this::answerTimeout);
  }

  private void timerG() {
    if (state != State.COMPLETED) return;
    sender.send(finalResponse);
    timerGInterval = Math.min(2 * timerGInterval, table.config().t2Millis());
    timerG = table.schedule(timerGInterval, this::timerG);
  }

  private void timerH() {
    if (state != State.COMPLETED) return;
    terminate();
    table.user().onTimeout(this, ServerTransactions.Timeout.NO_ACK);
  }

  /**
   * The application never answered: answer for it, so the table cannot fill up with stuck entries.
   */
  private void answerTimeout() {
    if (finalResponse != null || state == State.TERMINATED) return;
    respond(table.response(this, 500, "the recording server did not answer in time"));
    table.user().onTimeout(this, ServerTransactions.Timeout.NO_ANSWER);
  }

  /** Sends 487 for a CANCEL if no final response was sent; true if it did (§9.2). */
  boolean cancelled() {
    if (!isInvite() || finalResponse != null) return false;
    respond(table.response(this, 487, null));
    return true;
  }

  void terminate() {
    if (state == State.TERMINATED) return;
    state = State.TERMINATED;
    cancel(timerG);
    cancel(timerEnd);
    cancel(answerGuard);
    table.remove(this);
  }

  private static void cancel(SipTimers.Cancellable c) {
    if (c != null) c.cancel();
  }

  @Override
  public String toString() {
    return "ServerTransaction[" + request.method() + " " + request.cseq() + ", " + state + "]";
  }
}
