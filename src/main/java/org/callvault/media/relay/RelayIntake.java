package org.callvault.media.relay;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * What a stream's RTP socket does with its datagrams on the node that took a call over (the new
 * node's side of a make-before-break move): a datagram relayed by the node that handed the call off
 * is unwrapped and handed on with its sender and its time of arrival there, if it carries the
 * call's token; and while that node still relays, the sender's direct datagrams wait, because they
 * are newer than any it relays and one relayed late (a busy old node) must not find its place
 * already taken.
 *
 * <p>The wait lasts until the old node's held datagrams have come (its end-of-hold marker) and then
 * no relayed one has for {@code quiet} (the sender has moved; a sender sends every 20 ms, but a
 * leaving node can stall), or, without any word from the old node, until the deadline the hold was
 * asked with. A direct datagram is gated as it comes, not when it is handed on: one that came while
 * the gate was closed is dropped then, even if the gate has opened by the time the others are
 * handed on.
 *
 * <p>Only the socket's event loop calls it, except {@link #holdDirectUntil}.
 */
public final class RelayIntake {

  /** Where the datagrams go: the stream's recorder. */
  public interface Receiver {
    /** A datagram the sender sent here. */
    void onRtp(byte[] data, int length, InetSocketAddress sender, long nowNanos, long wallMicros);

    /**
     * A datagram the sender sent to the old node, which reached it at {@code arrivalNanos} (this
     * node's clock).
     */
    void onRelayedRtp(
        byte[] data, int length, InetSocketAddress sender, long arrivalNanos, long wallMicros);

    /**
     * A datagram that claimed to be relayed but did not carry the call's token, or was cut short.
     */
    void refuseRelay();

    /** Whether a datagram arriving now would be stored (its gate is open). */
    boolean recording();
  }

  /** Direct datagrams kept back at most; beyond, the hold ends (the old node is not relaying). */
  private static final int MAX_KEPT = 1000;

  /** A direct datagram kept back: a copy of its bytes, who sent it and when it came. */
  private record Kept(byte[] data, InetSocketAddress sender, long nanos, long wallMicros) {}

  private final Receiver receiver;
  private final long token;
  private final long quietNanos;
  private final RelayEnvelope envelope = new RelayEnvelope();
  private final byte[] payload = new byte[2048];
  private final ArrayDeque<Kept> kept = new ArrayDeque<>();
  private boolean holding;
  private boolean heldArrived;
  private long holdDeadlineNanos;
  private long lastRelayedNanos;

  /** A hold asked for from another thread, taken up by the loop at its next datagram or tick. */
  private volatile long holdRequested;

  /**
   * @param token the secret the old node must put on what it relays here
   * @param quietNanos how long without a relayed datagram ends the hold once the held ones came
   */
  public RelayIntake(Receiver receiver, long token, long quietNanos) {
    this.receiver = receiver;
    this.token = token;
    this.quietNanos = quietNanos;
  }

  /**
   * Any thread: keep direct datagrams back while the old node relays, or until {@code
   * deadlineNanos} without word from it. Taken up at once by the next datagram: the loop may handle
   * datagrams already waiting before it would run a task.
   */
  public void holdDirectUntil(long deadlineNanos) {
    holdRequested = deadlineNanos;
  }

  /**
   * One datagram of the RTP socket, in {@code data} ({@code copied} bytes of its {@code length}).
   */
  public void receive(
      byte[] data,
      int copied,
      int length,
      InetSocketAddress sender,
      long nowNanos,
      long wallMicros) {
    takeHoldRequest();
    if (RelayEnvelope.isRelayed(data, copied)) {
      relayed(data, copied, length, nowNanos, wallMicros);
    } else if (stillHolding(nowNanos)) {
      if (receiver.recording())
        kept.addLast(new Kept(Arrays.copyOf(data, copied), sender, nowNanos, wallMicros));
      else receiver.onRtp(data, length, sender, nowNanos, wallMicros);
    } else {
      if (holding) release(); // the relay has gone quiet, or never spoke: go on
      receiver.onRtp(data, length, sender, nowNanos, wallMicros);
    }
  }

  private void relayed(byte[] data, int copied, int length, long nowNanos, long wallMicros) {
    if (length > copied || !envelope.parse(data, copied) || envelope.token() != token) {
      receiver.refuseRelay();
      return;
    }
    lastRelayedNanos = nowNanos;
    if (envelope.payloadLength() == 0) {
      heldArrived = true; // the old node has sent all it held; what it relays now is live
      return;
    }
    System.arraycopy(data, envelope.payloadOffset(), payload, 0, envelope.payloadLength());
    // When it reached the old node, on this node's clock: the reorder delay and the timestamp
    // checks see the packet's own timing, not the relay's burst.
    long age = Math.max(0, wallMicros - envelope.wallMicros()) * 1000;
    receiver.onRelayedRtp(
        payload,
        envelope.payloadLength(),
        envelope.sender(),
        nowNanos - age,
        envelope.wallMicros());
  }

  /**
   * On the socket's loop: hands on what waited once the hold is over (every tick); at {@code
   * Long.MAX_VALUE}, whatever remains.
   */
  public void releaseWhenDue(long nowNanos) {
    takeHoldRequest();
    if (holding && (nowNanos == Long.MAX_VALUE || !stillHolding(nowNanos))) release();
  }

  private void takeHoldRequest() {
    long requested = holdRequested;
    if (requested == 0) return;
    holdRequested = 0;
    holding = true;
    heldArrived = false;
    holdDeadlineNanos = requested;
  }

  private boolean stillHolding(long nowNanos) {
    if (!holding || kept.size() >= MAX_KEPT) return false;
    if (heldArrived) return nowNanos - lastRelayedNanos < quietNanos;
    return nowNanos - holdDeadlineNanos < 0;
  }

  /** Hands on the direct datagrams kept back, in the order they came, each from its own copy. */
  private void release() {
    holding = false;
    while (!kept.isEmpty()) {
      Kept k = kept.pollFirst();
      receiver.onRtp(k.data(), k.data().length, k.sender(), k.nanos(), k.wallMicros());
    }
  }
}
