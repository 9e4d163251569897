package org.callvault.media.rtp;

import java.util.Objects;

/**
 * One named telephone event (a DTMF key press) from an RTP payload, reused for every packet.
 *
 * <p>Payload format, <a href="https://www.rfc-editor.org/rfc/rfc4733#section-2.3">RFC 4733
 * §2.3</a>:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>A recorder needs these because digits typed during a call (card numbers, PINs) are what
 * pause-and-resume policies react to, and because the events never appear in the decoded audio. A
 * key press is sent as several packets with the same RTP timestamp and a growing duration; the one
 * with E set ends it (and is itself usually sent three times). De-duplicating them by timestamp is
 * the caller's job. Parsing allocates nothing; not thread-safe.
 */
public final class TelephoneEvent {

  /** RFC 4733 §2.3: every event block is exactly one 32-bit word. */
  static final int LENGTH = 4;

  private int event;
  private boolean end;
  private int volume;
  private int duration;

  /**
   * Parses the first event block of the payload in {@code data[offset, offset + length)}.
   *
   * <p>Returns {@code false}, leaving {@code out} as it was, when fewer than 4 bytes are given.
   * Longer payloads are accepted: RFC 4733 §2.5.1.5 lets one packet carry several event blocks (and
   * RFC 2198 redundancy wraps earlier ones), and the first block is the one this parses.
   *
   * @throws IndexOutOfBoundsException only if {@code offset}/{@code length} do not lie within
   *     {@code data}, which is a bug in the caller, not bad input from the network
   */
  public static boolean parse(byte[] data, int offset, int length, TelephoneEvent out) {
    Objects.checkFromIndexSize(offset, length, data.length);
    if (length < LENGTH) return false;
    int flags = data[offset + 1] & 0xFF;
    out.event = data[offset] & 0xFF;
    out.end = (flags & 0x80) != 0;
    // The R bit (0x40) is reserved: senders set it to 0 and receivers ignore it (§2.3).
    out.volume = flags & 0x3F;
    out.duration = RtpPacket.u16(data, offset + 2);
    return true;
  }

  /**
   * The key for a DTMF event code (RFC 4733 §3.2): 0–9 → '0'..'9', 10 → '*', 11 → '#', 12–15 →
   * 'A'..'D', and '?' for every other event (tones, line events) so a caller can log it without a
   * branch of its own.
   */
  public static char digit(int event) {
    if (event >= 0 && event <= 9) return (char) ('0' + event);
    if (event == 10) return '*';
    if (event == 11) return '#';
    if (event >= 12 && event <= 15) return (char) ('A' + event - 12);
    return '?';
  }

  /** Event code, 0..255; DTMF is 0..15. */
  public int event() {
    return event;
  }

  /** The E bit: this packet ends the event, and {@link #duration()} is final. */
  public boolean end() {
    return end;
  }

  /** Power level in -dBm0, 0..63 (larger is quieter). */
  public int volume() {
    return volume;
  }

  /** Duration so far in timestamp units (8000 per second for PCMU/PCMA), 0..65535. */
  public int duration() {
    return duration;
  }
}
