package org.callvault.siprec;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.callvault.sip.SessionTimer;
import org.callvault.sip.SipParseException;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;

/**
 * The session timers (RFC 4028) of the dialogs this node answers: what each request is granted, and
 * the expiry of each dialog whose client refreshes, started again by every answered request. When
 * one runs out the SRC is taken for gone and {@code expired} is told the dialog's SIP Call-ID and
 * call id. Expiries run on the SIP loop.
 */
final class SessionExpiries {

  private final long maxSeconds;
  private final long minSeconds;
  private final ScheduledExecutorService loop;
  private final BiConsumer<String, String> expired;
  private final Map<String, ScheduledFuture<?>> bySipCallId = new ConcurrentHashMap<>();

  SessionExpiries(
      long maxSeconds,
      long minSeconds,
      ScheduledExecutorService loop,
      BiConsumer<String, String> expired) {
    this.maxSeconds = maxSeconds;
    this.minSeconds = minSeconds;
    this.loop = loop;
    this.expired = expired;
  }

  /** The timer {@code request} is granted; empty when its sender does not support timers. */
  Optional<SessionTimer> negotiate(SipRequest request) throws SipParseException {
    return SessionTimer.answer(request, maxSeconds, minSeconds);
  }

  /**
   * {@code ok} with the dialog's session timer, which starts again from now. Without a timer (the
   * SRC does not support them, or left it out of this request) {@code ok} unchanged, and the dialog
   * has none from now on (each answered request negotiates it again, §9).
   */
  SipResponse answered(
      SipRequest request, String callId, Optional<SessionTimer> timer, SipResponse ok) {
    if (!ok.isSuccess()) return ok;
    String sipCallId = request.callId();
    end(sipCallId);
    if (timer.isEmpty()) return ok;
    SessionTimer t = timer.get();
    SipResponse answer = ok.withHeader("Session-Expires", t.value());
    if (!t.clientRefreshes()) return answer;
    bySipCallId.put(
        sipCallId,
        loop.schedule(
            () -> {
              bySipCallId.remove(sipCallId);
              expired.accept(sipCallId, callId);
            },
            t.seconds(),
            TimeUnit.SECONDS));
    return answer.withHeader("Require", SessionTimer.TAG);
  }

  /** The dialog ended (BYE, no ACK): its timer with it. */
  void end(String sipCallId) {
    ScheduledFuture<?> expiry = bySipCallId.remove(sipCallId);
    if (expiry != null) expiry.cancel(false);
  }
}
