package org.callvault.sip;

import java.util.HashMap;
import java.util.Map;

/**
 * Retransmits 2xx responses to INVITEs until their ACK arrives, as the UAS core must, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-13.3.1.4">RFC 3261 §13.3.1.4</a>.
 *
 * <pre>
 *   200 OK sent by the transaction     t = 0
 *   retransmit                         t = T1, then intervals 2*T1, 4*T1, ... capped at T2
 *   ACK with the same Call-ID and CSeq number: stop
 *   no ACK by t = 64*T1: stop and report, the server should end the session with BYE
 * </pre>
 *
 * <p>Unlike the non-2xx retransmissions of the INVITE transaction this runs on every transport: the
 * 2xx travels end to end, and a hop behind a TCP hop may be UDP (§13.3.1.4: "independent of
 * whatever transport protocols are used"). An ACK belongs to a 2xx when it has the same Call-ID and
 * CSeq number (it has its own branch, so transaction matching cannot find it); the dialog's tags
 * are not compared, because the recording server sends one 2xx per INVITE. Confined to the timer
 * thread, like {@link ServerTransactions}.
 */
public final class OkRetransmissions {

  /** Told when a 2xx was never acknowledged. */
  public interface Listener {
    void onNoAck(SipResponse ok);
  }

  private final SipTimers timers;
  private final long t1;
  private final long t2;
  private final int max;
  private final Listener listener;
  private final Map<String, Pending> pending = new HashMap<>();

  /**
   * @param max how many 2xx may await their ACK at once; more are sent once, not retransmitted, so
   *     a flood of INVITEs without ACK cannot grow this without bound
   */
  public OkRetransmissions(
      SipTimers timers, long t1Millis, long t2Millis, int max, Listener listener) {
    this.timers = timers;
    this.t1 = t1Millis;
    this.t2 = t2Millis;
    this.max = max;
    this.listener = listener;
  }

  private final class Pending {
    final String key;
    final SipResponse ok;
    final ServerTransactions.ResponseSender sender;
    long interval = t1;
    long wait = t1;
    long elapsed;
    SipTimers.Cancellable timer;

    Pending(String key, SipResponse ok, ServerTransactions.ResponseSender sender) {
      this.key = key;
      this.ok = ok;
      this.sender = sender;
    }

    void fire() {
      elapsed += wait;
      if (elapsed >= 64 * t1) {
        pending.remove(key, this);
        listener.onNoAck(ok);
        return;
      }
      sender.send(ok);
      interval = Math.min(2 * interval, t2);
      // The last wait is cut short so that giving up happens at exactly 64*T1.
      wait = Math.min(interval, 64 * t1 - elapsed);
      timer = timers.schedule(wait, this::fire);
    }
  }

  static String key(String callId, long cseqNumber) {
    return cseqNumber + " " + callId;
  }

  /**
   * Starts retransmitting a 2xx that was just sent once; a later 2xx for the same INVITE (same
   * Call-ID and CSeq number) replaces it.
   *
   * @return false when {@code max} 2xx are already pending and this one is not retransmitted
   */
  public boolean start(SipResponse ok, ServerTransactions.ResponseSender sender) {
    if (!ok.isSuccess() || !ok.cseq().method().equals("INVITE")) {
      throw new IllegalArgumentException(
          "only a 2xx to an INVITE is retransmitted by the core: " + ok.startLine());
    }
    String key = key(ok.callId(), ok.cseq().number());
    Pending old = pending.remove(key);
    if (old != null) old.timer.cancel();
    if (pending.size() >= max) return false;
    Pending p = new Pending(key, ok, sender);
    pending.put(key, p);
    p.timer = timers.schedule(t1, p::fire);
    return true;
  }

  /** Stops the retransmission an ACK acknowledges; true if one was pending. */
  public boolean acknowledge(SipRequest ack) {
    Pending p = pending.remove(key(ack.callId(), ack.cseq().number()));
    if (p == null) return false;
    p.timer.cancel();
    return true;
  }

  /** How many 2xx await their ACK. */
  public int size() {
    return pending.size();
  }
}
