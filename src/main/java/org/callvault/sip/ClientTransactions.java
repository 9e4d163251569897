package org.callvault.sip;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The INVITE client transactions of the requests the recording server sends itself (the re-INVITE
 * after a call's media moved), over an unreliable transport, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1">RFC 3261 §17.1.1</a>.
 *
 * <pre>
 * state       enters on                     does
 * Calling     the INVITE sent               Timer A: send again after T1, 2·T1, 4·T1, ...
 * Proceeding  a 1xx                         no more retransmissions (§17.1.1.2)
 * Completed   a 300-699                     ACK sent (§17.1.1.3) and again for each retransmission
 *                                           of that response, until Timer D (32 s)
 * Terminated  a 2xx, Timer B (64·T1), D     the entry is gone
 * </pre>
 *
 * <p>Two choices where the RFC leaves room. Timer B also ends a transaction in Proceeding:
 * §17.1.1.2 stops it there, but without it a client that sent a 1xx and no final response would
 * hold the entry forever, and a recording client answers a re-INVITE in well under 32 s. A 2xx ends
 * the transaction at once, as in RFC 3261 (not RFC 6026's Accepted state): its ACK is the dialog's,
 * so the transaction user sends it (§13.2.2.4), and a retransmitted 2xx matches no transaction.
 *
 * <p>Responses match a transaction by the branch of their top Via and their CSeq method (§17.1.3).
 * Not thread-safe, as {@link ServerTransactions}: call {@link #invite} and {@link #receive} from
 * one thread and give a {@link SipTimers} that runs its tasks on that thread.
 */
public final class ClientTransactions {

  /**
   * Sends a request to where its transaction's requests go; the transport binds socket and address.
   */
  @FunctionalInterface
  public interface RequestSender {
    void send(SipRequest request);
  }

  /**
   * What the transaction user learns of an INVITE it sent. Called once, on the transactions'
   * thread.
   */
  public interface Outcome {
    /** The final response: a 2xx, for the user to ACK, or a 300-699 that is ACKed already. */
    void answered(SipResponse response);

    /** Timer B fired: no final response came within 64·T1. */
    void timedOut();
  }

  /** Timer D over an unreliable transport: "at least 32 seconds" (§17.1.1.2). */
  static final long TIMER_D_MILLIS = 32_000;

  private enum State {
    CALLING,
    PROCEEDING,
    COMPLETED
  }

  private final SipTimers timers;
  private final long t1Millis;
  private final Map<String, Invite> live = new HashMap<>();

  /**
   * @param t1Millis the RTT estimate T1 (§17.1.1.1), as the server transactions use it
   */
  public ClientTransactions(SipTimers timers, long t1Millis) {
    if (t1Millis <= 0) throw new IllegalArgumentException("T1 " + t1Millis);
    this.timers = Objects.requireNonNull(timers);
    this.t1Millis = t1Millis;
  }

  /**
   * Sends {@code invite} now and runs its transaction.
   *
   * @param invite an INVITE whose top Via has a fresh branch with the magic cookie ({@link Via#of})
   * @param sender sends it, its retransmissions and the ACK of a non-2xx response
   * @throws IllegalArgumentException when {@code invite} is not an INVITE or its branch is already
   *     in use: a caller bug
   */
  public void invite(SipRequest invite, RequestSender sender, Outcome outcome) {
    if (!invite.isMethod("INVITE"))
      throw new IllegalArgumentException("not an INVITE: " + invite.method());
    if (!invite.topVia().hasMagicCookie())
      throw new IllegalArgumentException("the INVITE's branch lacks " + Via.MAGIC_COOKIE);
    String key = key(invite.topVia().branch().orElseThrow(), "INVITE");
    if (live.containsKey(key)) throw new IllegalArgumentException("branch already in use: " + key);
    Invite tx =
        new Invite(key, invite, Objects.requireNonNull(sender), Objects.requireNonNull(outcome));
    live.put(key, tx);
    sender.send(invite);
    tx.timerA = timers.schedule(t1Millis, () -> tx.retransmit(t1Millis));
    tx.timerB = timers.schedule(64 * t1Millis, tx::timerB);
  }

  /**
   * Hands a received response to its transaction.
   *
   * @return whether it belonged to a live transaction; one that did not is a 2xx retransmitted
   *     after its transaction ended, a response too late for Timer B or D, or not for this server
   */
  public boolean receive(SipResponse response) {
    Invite tx = live.get(key(response.topVia().branch().orElse(""), response.cseq().method()));
    if (tx == null) return false;
    tx.response(response);
    return true;
  }

  /** How many transactions are live. */
  public int size() {
    return live.size();
  }

  private static String key(String branch, String method) {
    return branch + "|" + method;
  }

  /** One INVITE and what its transaction has done. */
  private final class Invite {
    final String key;
    final SipRequest request;
    final RequestSender sender;
    final Outcome outcome;
    State state = State.CALLING;
    SipTimers.Cancellable timerA;
    SipTimers.Cancellable timerB;
    SipRequest ack;

    Invite(String key, SipRequest request, RequestSender sender, Outcome outcome) {
      this.key = key;
      this.request = request;
      this.sender = sender;
      this.outcome = outcome;
    }

    /** Timer A: the INVITE again, and the timer again at twice the interval (§17.1.1.2). */
    void retransmit(long interval) {
      if (state != State.CALLING) return;
      sender.send(request);
      timerA = timers.schedule(2 * interval, () -> retransmit(2 * interval));
    }

    void timerB() {
      end();
      outcome.timedOut();
    }

    void response(SipResponse response) {
      if (state == State.COMPLETED) {
        if (!response.isProvisional() && !response.isSuccess())
          sender.send(ack); // our ACK was lost
        return;
      }
      if (response.isProvisional()) {
        state = State.PROCEEDING;
        timerA.cancel();
        return;
      }
      if (response.isSuccess()) {
        end();
        outcome.answered(response);
        return;
      }
      state = State.COMPLETED;
      timerA.cancel();
      timerB.cancel();
      ack = ackFor(response);
      sender.send(ack);
      timers.schedule(TIMER_D_MILLIS, () -> live.remove(key, this));
      outcome.answered(response);
    }

    private void end() {
      timerA.cancel();
      timerB.cancel();
      live.remove(key, this);
    }

    /**
     * The ACK of a non-2xx final response, part of the INVITE's transaction (§17.1.1.3): the
     * INVITE's Request-URI, Call-ID, From, CSeq number and Route header fields, its top Via alone,
     * and the To of the response (with the tag the answering side chose).
     */
    private SipRequest ackFor(SipResponse response) {
      return SipRequest.builder("ACK", request.requestUri())
          .via(request.topVia())
          .routes(request.headers().all("Route"))
          .from(request.from())
          .to(response.to())
          .callId(request.callId())
          .cseq(request.cseq().number())
          .build();
    }
  }
}
