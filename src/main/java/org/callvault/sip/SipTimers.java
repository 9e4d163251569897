package org.callvault.sip;

/**
 * Schedules the timers of the SIP transaction layer (<a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-17">RFC 3261 §17</a>: G, H, I, J, and RFC
 * 6026's L) and of the 2xx retransmission of §13.3.1.4.
 *
 * <p>An interface so the transaction code stays free of any framework: the server adapts its Netty
 * {@code EventLoop} ({@code eventLoop.schedule(task, delay, MILLISECONDS)}), whose tasks run on the
 * same thread that receives the messages, which is the threading {@link ServerTransactions}
 * expects; tests drive a fake clock and assert on exact retransmission times.
 */
public interface SipTimers {

  /** Runs {@code task} once, {@code delayMillis} from now (0 means as soon as possible). */
  Cancellable schedule(long delayMillis, Runnable task);

  /** A scheduled task that has not run yet can be cancelled; cancelling later does nothing. */
  interface Cancellable {
    void cancel();
  }
}
