package org.callvault.media.rtp;

/**
 * Extends a wrapping RTP counter, the 16-bit sequence number or the 32-bit timestamp, to a {@code
 * long} that keeps counting across wrap-around, so that ordering, gaps and durations downstream are
 * plain {@code long} arithmetic.
 *
 * <p>The fields it extends, from the fixed header of <a
 * href="https://www.rfc-editor.org/rfc/rfc3550#section-5.1">RFC 3550 §5.1</a>:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |  16 bits
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |  32 bits
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>The idea is that of <a href="https://www.rfc-editor.org/rfc/rfc3550#appendix-A.1">RFC 3550
 * Appendix A.1</a> (a cycle count above the 16 bits): each value gets the extension nearest to the
 * highest one seen so far, so a late packet from just before a wrap gets the smaller value and a
 * packet just after it gets one more cycle. A value exactly half the range away counts as older.
 * The first value after construction or {@link #reset()} is taken as is (cycle 0), so a packet that
 * was sent before the first one received, across a wrap, gets a negative value; that is still
 * ordered correctly.
 *
 * <p>A jump of more than half the range, for instance a sender that restarts its sequence without
 * changing SSRC, would be read as a very late packet from then on. Appendix A.1 detects that by
 * seeing two consecutive packets far from {@link #highest()}; the receiver, which also owns the
 * SSRC, is where that belongs, and it answers with {@link #reset()} here and {@link
 * ReorderWindow#flush} there.
 *
 * <p>One class for both widths (see {@link #forSequenceNumbers()} and {@link #forTimestamps()});
 * allocation-free and not thread-safe, one instance per stream.
 */
public final class SequenceUnwrapper {

  private final int bits;
  private final long mask;
  private boolean started;
  private long highest;

  private SequenceUnwrapper(int bits) {
    this.bits = bits;
    this.mask = (1L << bits) - 1;
  }

  /** For the 16-bit RTP sequence number. */
  public static SequenceUnwrapper forSequenceNumbers() {
    return new SequenceUnwrapper(16);
  }

  /** For the 32-bit RTP timestamp. */
  public static SequenceUnwrapper forTimestamps() {
    return new SequenceUnwrapper(32);
  }

  /** The width of the counter this extends: 16 or 32. */
  public int bits() {
    return bits;
  }

  /**
   * The extended value of {@code value}. Only its low {@link #bits()} bits are used, so an {@code
   * int} sequence number and a {@code long} timestamp from {@link RtpPacket} can be passed as is.
   */
  public long unwrap(long value) {
    long extended = peek(value);
    if (!started || extended > highest) highest = extended;
    started = true;
    return extended;
  }

  /** What {@link #unwrap} would return, without remembering it: for checking a value first. */
  public long peek(long value) {
    value &= mask;
    if (!started) return value;
    // The difference modulo 2^bits, read as a signed number of bits width: the shortest way
    // from `highest` to `value`, forwards (positive) or backwards (negative).
    int unused = 64 - bits;
    long delta = ((value - highest) << unused) >> unused;
    return highest + delta;
  }

  /** Whether a value was unwrapped since the start or the last {@link #reset}. */
  public boolean started() {
    return started;
  }

  /**
   * The highest extended value returned since the start; meaningless before the first {@link
   * #unwrap}.
   */
  public long highest() {
    return highest;
  }

  /** Forgets everything, for a new SSRC: the next value starts afresh at cycle 0. */
  public void reset() {
    started = false;
    highest = 0;
  }
}
