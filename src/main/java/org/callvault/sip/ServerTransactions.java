package org.callvault.sip;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The recording server's table of live server transactions: matches each received request to its
 * transaction, absorbs retransmissions, and hands every new request to the application exactly
 * once, <a href="https://www.rfc-editor.org/rfc/rfc3261#section-17.2">RFC 3261 §17.2</a>.
 *
 * <p>Matching (§17.2.3). A request whose top Via branch starts with {@code z9hG4bK} matches by
 * branch, sent-by and method, where an ACK counts as INVITE (it acknowledges the INVITE's non-2xx
 * response in the same transaction). A CANCEL has its own transaction and finds the INVITE it
 * cancels by the same branch and sent-by with method INVITE (§9.2). Requests from pre-RFC 3261
 * clients (branch without the magic cookie, or none) match by Request-URI, From tag, Call-ID, CSeq
 * number, top Via and method, which is §17.2.3's rule except that an ACK's To tag is not compared
 * with the tag of the response: with one response per INVITE there is nothing it could confuse.
 *
 * <p>What the table does on its own, so that every application gets them right: it sends 100 Trying
 * for every new INVITE at once (§17.2.1 allows waiting 200 ms; answering at once stops the client's
 * INVITE retransmissions soonest); it answers a CANCEL with 200 and the cancelled INVITE with 487
 * when that has no final response yet, and an unmatched CANCEL with 481 (§9.2); it retransmits
 * every 2xx to an INVITE until the ACK ({@link OkRetransmissions}); it answers 500 for the
 * application when a transaction has had no final response for {@link Config#answerTimeoutMillis()}
 * (no RFC timer does this on the server side, but without it a stuck request would hold its entry
 * forever); and when {@link Config#maxTransactions()} are live it answers new requests 503 with
 * Retry-After without creating a transaction.
 *
 * <p>Not thread-safe. Call {@link #receive} and {@link ServerTransaction#respond} from one thread
 * and give a {@link SipTimers} that runs its tasks on that thread (a Netty event loop does both).
 */
public final class ServerTransactions {

  /**
   * Timer values and limits.
   *
   * @param t1Millis RTT estimate, 500 ms by default (§17.1.1.1)
   * @param t2Millis maximum retransmission interval, 4 s by default
   * @param t4Millis maximum time a message stays in the network, 5 s by default
   * @param maxTransactions live transactions (and pending 2xx) beyond which new requests get 503
   * @param answerTimeoutMillis how long a request may wait for the application's final response
   */
  public record Config(
      long t1Millis, long t2Millis, long t4Millis, int maxTransactions, long answerTimeoutMillis) {

    /**
     * T1 500 ms, T2 4 s, T4 5 s; 16,384 transactions (a few per call for thousands of calls); 64*T1
     * to answer.
     */
    public static final Config DEFAULT = new Config(500, 4_000, 5_000, 16_384, 32_000);

    public Config {
      if (t1Millis <= 0
          || t2Millis < t1Millis
          || t4Millis <= 0
          || maxTransactions <= 0
          || answerTimeoutMillis <= 0) {
        throw new IllegalArgumentException("bad transaction config");
      }
    }
  }

  /** Sends a response to where its request came from; the server binds channel and address. */
  @FunctionalInterface
  public interface ResponseSender {
    void send(SipResponse response);
  }

  /** Why a transaction ended without the outcome the protocol wanted. */
  public enum Timeout {
    /** Timer H: the ACK for a non-2xx final response never came (§17.2.1). */
    NO_ACK,
    /** The application gave no final response in time; the table answered 500. */
    NO_ANSWER
  }

  /** The application above the transactions (the transaction user of §17). */
  public interface TransactionUser {
    /** A new request, delivered exactly once; answer it with {@link ServerTransaction#respond}. */
    void onRequest(ServerTransaction transaction);

    /**
     * An ACK that no INVITE transaction absorbed: the ACK for a 2xx (§13.3.1.4), already used to
     * stop that 2xx's retransmissions. The dialog is confirmed.
     */
    void onAck(SipRequest ack);

    /** A CANCEL ended this INVITE transaction: 487 has been sent, the call will not be set up. */
    void onCancelled(ServerTransaction invite, SipRequest cancel);

    /** A transaction ended without its expected outcome. */
    void onTimeout(ServerTransaction transaction, Timeout timeout);

    /**
     * A 2xx to an INVITE got no ACK for 64*T1: the session should be ended with BYE (§13.3.1.4).
     */
    void onNoAckFor2xx(SipResponse ok);
  }

  /** What {@link #receive} did with a request, for counting. */
  public enum Disposition {
    /** A new transaction; the application has it. */
    NEW,
    /** A retransmission, absorbed or answered with the last response again. */
    RETRANSMISSION,
    /** An ACK for a non-2xx response, absorbed by its INVITE transaction. */
    ACK_ABSORBED,
    /** An ACK passed to the application (the ACK for a 2xx). */
    ACK_TO_APPLICATION,
    /** A CANCEL that ended a pending INVITE with 487. */
    CANCELLED,
    /** A CANCEL for an INVITE that already had its final response; answered 200, no effect. */
    CANCEL_TOO_LATE,
    /** A CANCEL that matched no INVITE transaction; answered 481. */
    CANCEL_UNMATCHED,
    /** The table was full; answered 503. */
    REFUSED_TABLE_FULL
  }

  private final SipTimers timers;
  private final TransactionUser user;
  private final Config config;
  private final Map<String, ServerTransaction> live = new HashMap<>();
  private final OkRetransmissions oks;

  public ServerTransactions(SipTimers timers, TransactionUser user, Config config) {
    this.timers = Objects.requireNonNull(timers);
    this.user = Objects.requireNonNull(user);
    this.config = Objects.requireNonNull(config);
    this.oks =
        new OkRetransmissions(
            timers,
            config.t1Millis(),
            config.t2Millis(),
            config.maxTransactions(),
            user::onNoAckFor2xx);
  }

  /**
   * Takes a parsed request from the transport.
   *
   * @param reliable whether it came over TCP/TLS (no retransmission timers, Timers I and J are 0)
   * @param sender where responses to it go
   */
  public Disposition receive(SipRequest request, boolean reliable, ResponseSender sender) {
    String method = request.method();
    if (method.equals("ACK")) {
      ServerTransaction invite = live.get(key(request, "INVITE"));
      if (invite != null && invite.isInvite() && invite.ackReceived())
        return Disposition.ACK_ABSORBED;
      oks.acknowledge(request);
      user.onAck(request);
      return Disposition.ACK_TO_APPLICATION;
    }
    String key = key(request, method);
    ServerTransaction existing = live.get(key);
    if (existing != null) {
      existing.retransmissionReceived();
      return Disposition.RETRANSMISSION;
    }
    if (live.size() >= config.maxTransactions()) {
      sender.send(
          SipResponse.to(request, 503).toTag(SipIds.newTag()).header("Retry-After", "5").build());
      return Disposition.REFUSED_TABLE_FULL;
    }
    ServerTransaction tx = new ServerTransaction(this, key, request, reliable, sender);
    live.put(key, tx);
    if (method.equals("CANCEL")) return cancel(tx);
    tx.startAnswerGuard();
    if (tx.isInvite()) tx.respond(SipResponse.to(request, 100).build());
    user.onRequest(tx);
    return Disposition.NEW;
  }

  private Disposition cancel(ServerTransaction cancelTx) {
    SipRequest cancel = cancelTx.request();
    ServerTransaction invite = live.get(key(cancel, "INVITE"));
    if (invite == null || !invite.isInvite()) {
      cancelTx.respond(response(cancelTx, 481, null));
      return Disposition.CANCEL_UNMATCHED;
    }
    // §9.2: the To tag of the 200 to the CANCEL should equal the one of the INVITE's response.
    cancelTx.respond(
        SipResponse.to(cancel, 200).toTag(invite.localTag().orElseGet(SipIds::newTag)).build());
    if (!invite.cancelled()) return Disposition.CANCEL_TOO_LATE;
    user.onCancelled(invite, cancel);
    return Disposition.CANCELLED;
  }

  /**
   * The transaction key of §17.2.3 for a request, as if its method were {@code method} (INVITE for
   * an ACK or for the INVITE a CANCEL cancels).
   */
  static String key(SipRequest request, String method) {
    Via top = request.topVia();
    if (top.hasMagicCookie()) {
      return top.branch().orElseThrow() + "|" + top.sentBy() + "|" + method;
    }
    return "legacy|"
        + request.requestUri()
        + "|"
        + request.from().tag().orElse("")
        + "|"
        + request.callId()
        + "|"
        + request.cseq().number()
        + "|"
        + top
        + "|"
        + method;
  }

  /** How many transactions are live. */
  public int size() {
    return live.size();
  }

  /** How many 2xx await their ACK. */
  public int pendingOks() {
    return oks.size();
  }

  Config config() {
    return config;
  }

  TransactionUser user() {
    return user;
  }

  SipTimers.Cancellable schedule(long delayMillis, Runnable task) {
    return timers.schedule(delayMillis, task);
  }

  void okSent(ServerTransaction tx, SipResponse ok) {
    oks.start(ok, tx::resend);
  }

  void remove(ServerTransaction tx) {
    live.remove(tx.key(), tx);
  }

  /** A response the table sends for the application, with the transaction's To tag or a new one. */
  SipResponse response(ServerTransaction tx, int status, String reason) {
    SipResponse.Builder b =
        SipResponse.to(tx.request(), status).toTag(tx.localTag().orElseGet(SipIds::newTag));
    if (reason != null) b.reason(reason);
    return b.build();
  }
}
