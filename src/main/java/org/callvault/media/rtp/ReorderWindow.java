package org.callvault.media.rtp;

import java.util.Arrays;
import java.util.Objects;

/**
 * Puts the packets of one RTP stream back in sequence order, drops duplicates and reports losses,
 * keyed by the extended sequence number from {@link SequenceUnwrapper}.
 *
 * <p>The key is the sequence number of the RTP fixed header (<a
 * href="https://www.rfc-editor.org/rfc/rfc3550#section-5.1">RFC 3550 §5.1</a>), which "may be used
 * by the receiver to detect packet loss and to restore packet sequence":
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>How it works. The window spans {@code capacity} consecutive sequence numbers starting at the
 * next one expected (one past the last emitted or skipped). Each span position has a preallocated
 * slot ({@code extSeq mod capacity}) that a packet's payload is copied into, so nothing is
 * allocated after construction. A packet is emitted as soon as it is contiguous with the last one
 * emitted. A missing packet (a gap) is given up on, and reported lost once as one run, in two cases
 * only:
 *
 * <ul>
 *   <li>the window is full: a packet arrives too far ahead to fit in the span. The gap before the
 *       oldest held packet is skipped and what follows is emitted, repeatedly, until it fits; when
 *       nothing is held, the whole gap up to the new packet is skipped at once;
 *   <li>a held packet has waited {@code maxDelayNanos} (checked by {@link #drain}): gaps are
 *       skipped until it has been emitted, which bounds the delay the window adds to any packet.
 * </ul>
 *
 * <p>Packets older than the next expected one are reported {@link Offer#DUPLICATE} if a bitmap of
 * the last {@value #HISTORY} sequence numbers says they were emitted, and {@link Offer#TOO_LATE}
 * otherwise (skipped as lost, or older than the bitmap remembers), so that network duplication and
 * excessive jitter are counted apart.
 *
 * <p>Not thread-safe: one instance per stream, driven by the thread that receives its packets and
 * by a timer on that same thread (or under the same lock). The {@link Sink} must not call back into
 * the window.
 */
public final class ReorderWindow {

  /**
   * Receives the packets in order and the runs of lost sequence numbers, on the caller's thread.
   */
  public interface Sink {
    /**
     * One packet, in sequence order. {@code buf} is the window's own storage: the bytes are valid
     * only during this call, so a sink that keeps them must copy them.
     */
    void packet(long extSeq, long extTimestamp, long arrivalNanos, byte[] buf, int off, int len);

    /**
     * {@code count} consecutive sequence numbers from {@code firstExtSeq} will never be emitted.
     */
    void lost(long firstExtSeq, long count);
  }

  /** What {@link #offer} did with a packet. */
  public enum Offer {
    /** Held or emitted. */
    ACCEPTED,
    /** This sequence number is already held or was emitted recently; dropped. */
    DUPLICATE,
    /** Older than the next expected sequence number and not known to be emitted; dropped. */
    TOO_LATE
  }

  /** Sequence numbers remembered below the next expected one; a power of two for masking. */
  static final int HISTORY = 1024;

  private final int capacity;
  private final int maxPayload;
  private final long maxDelayNanos;

  private final boolean[] used;
  private final long[] timestamps;
  private final long[] arrivals;
  private final int[] lengths;
  private final byte[] payloads;

  /** Bit {@code seq & (HISTORY - 1)} is set if {@code seq} was emitted, for seqs below next. */
  private final long[] emitted = new long[HISTORY / 64];

  private boolean started;

  /** The next sequence number to emit; every sequence number below it is emitted or lost. */
  private long next;

  private int held;

  /**
   * @param capacity how many consecutive sequence numbers the window spans, and so the most packets
   *     it holds, e.g. 32
   * @param maxPayload the largest payload accepted, e.g. 1500; must cover the receive buffer
   * @param maxDelayNanos how long a packet may wait for a missing predecessor, e.g. 60 ms
   */
  public ReorderWindow(int capacity, int maxPayload, long maxDelayNanos) {
    if (capacity < 1)
      throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
    if (maxPayload < 0) throw new IllegalArgumentException("maxPayload is negative: " + maxPayload);
    if (maxDelayNanos < 0) {
      throw new IllegalArgumentException("maxDelayNanos is negative: " + maxDelayNanos);
    }
    // Checked before allocating anything: slot offsets are ints.
    int payloadBytes = Math.multiplyExact(capacity, maxPayload);
    this.capacity = capacity;
    this.maxPayload = maxPayload;
    this.maxDelayNanos = maxDelayNanos;
    this.used = new boolean[capacity];
    this.timestamps = new long[capacity];
    this.arrivals = new long[capacity];
    this.lengths = new int[capacity];
    this.payloads = new byte[payloadBytes];
  }

  /**
   * Copies the payload into a preallocated slot, then emits whatever became contiguous.
   *
   * <p>The first packet offered, ever or after {@link #flush}, defines where the sequence starts.
   *
   * @throws IllegalArgumentException if {@code len} exceeds {@code maxPayload}: the window must be
   *     built for the largest datagram the receiver can read, so this is a configuration error
   * @throws IndexOutOfBoundsException if {@code off}/{@code len} do not lie within {@code src}
   */
  public Offer offer(
      long extSeq, long extTimestamp, long arrivalNanos, byte[] src, int off, int len, Sink sink) {
    Objects.checkFromIndexSize(off, len, src.length);
    if (len > maxPayload) {
      throw new IllegalArgumentException("payload of " + len + " bytes exceeds " + maxPayload);
    }
    if (!started) {
      started = true;
      next = extSeq;
    } else if (extSeq < next) {
      return wasEmitted(extSeq) ? Offer.DUPLICATE : Offer.TOO_LATE;
    } else if (extSeq - next < capacity && used[slot(extSeq)]) {
      // Within the span each slot can only hold its own sequence number, so "used" means "this".
      return Offer.DUPLICATE;
    }
    // Make room: a packet beyond the span means the window is full, so the oldest gap goes.
    while (extSeq - next >= capacity) {
      if (held == 0) {
        skipTo(extSeq, sink);
      } else {
        skipToOldestHeld(sink);
        emitContiguous(sink);
      }
    }
    int slot = slot(extSeq);
    used[slot] = true;
    timestamps[slot] = extTimestamp;
    arrivals[slot] = arrivalNanos;
    lengths[slot] = len;
    System.arraycopy(src, off, payloads, slot * maxPayload, len);
    held++;
    emitContiguous(sink);
    return Offer.ACCEPTED;
  }

  /**
   * Emits, in sequence order, every packet contiguous with the last emitted one, and skips gaps
   * (reporting them lost) while any held packet has waited {@code maxDelayNanos} since it arrived.
   * Call it after each {@link #offer} and on a timer, so a gap at the end of a talk spurt does not
   * hold packets back until the next one.
   */
  public void drain(long nowNanos, Sink sink) {
    emitContiguous(sink);
    while (held > 0 && nowNanos - earliestArrival() >= maxDelayNanos) {
      skipToOldestHeld(sink);
      emitContiguous(sink);
    }
  }

  /**
   * Emits everything held, reporting the gaps before and between them as lost, for the end of a
   * stream or a change of SSRC. The next offered packet then starts a fresh sequence.
   */
  public void flush(Sink sink) {
    while (held > 0) {
      skipToOldestHeld(sink);
      emitContiguous(sink);
    }
    started = false;
    Arrays.fill(emitted, 0L);
  }

  /** Packets currently held waiting for a predecessor. */
  public int held() {
    return held;
  }

  private int slot(long extSeq) {
    return Math.floorMod(extSeq, capacity);
  }

  private void emitContiguous(Sink sink) {
    while (held > 0) {
      int slot = slot(next);
      if (!used[slot]) return;
      long seq = next;
      // State first, sink second: if the sink throws, the window is still consistent, and the
      // payload bytes stay in place until a later offer reuses the slot.
      used[slot] = false;
      held--;
      markEmitted(seq, true);
      next = seq + 1;
      sink.packet(
          seq, timestamps[slot], arrivals[slot], payloads, slot * maxPayload, lengths[slot]);
    }
  }

  /** Reports the gap from {@code next} up to the lowest held sequence number as lost. */
  private void skipToOldestHeld(Sink sink) {
    // Callers guarantee held > 0, and the slot for `next` is empty after emitContiguous, so a held
    // packet lies strictly inside the span.
    for (long seq = next + 1; seq < next + capacity; seq++) {
      if (used[slot(seq)]) {
        skipTo(seq, sink);
        return;
      }
    }
    throw new IllegalStateException("held count " + held + " but no packet in the window");
  }

  /** Reports {@code [next, seq)} as lost and moves {@code next} to {@code seq}. */
  private void skipTo(long seq, Sink sink) {
    long first = next;
    long count = seq - first;
    if (count <= 0) return;
    if (count >= HISTORY) {
      Arrays.fill(emitted, 0L);
    } else {
      for (long s = first; s < seq; s++) markEmitted(s, false);
    }
    next = seq;
    sink.lost(first, count);
  }

  private void markEmitted(long seq, boolean value) {
    int bit = (int) (seq & (HISTORY - 1));
    if (value) {
      emitted[bit >>> 6] |= 1L << (bit & 63);
    } else {
      emitted[bit >>> 6] &= ~(1L << (bit & 63));
    }
  }

  private boolean wasEmitted(long seq) {
    // The bitmap only speaks for the last HISTORY sequence numbers below `next`.
    if (next - seq > HISTORY) return false;
    int bit = (int) (seq & (HISTORY - 1));
    return (emitted[bit >>> 6] & (1L << (bit & 63))) != 0;
  }

  private long earliestArrival() {
    long earliest = 0;
    boolean found = false;
    for (int i = 0; i < capacity; i++) {
      // Compare as differences, like System.nanoTime values, so a wrap of the clock is harmless.
      if (used[i] && (!found || arrivals[i] - earliest < 0)) {
        earliest = arrivals[i];
        found = true;
      }
    }
    return earliest;
  }
}
