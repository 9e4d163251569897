package org.callvault.media.rtp;

import java.util.Objects;

/**
 * The sender information of the first Sender Report in a compound RTCP packet, reused for every
 * packet of a stream.
 *
 * <p>Sender Report, <a href="https://www.rfc-editor.org/rfc/rfc3550#section-6.4.1">RFC 3550
 * §6.4.1</a>:
 *
 * <pre>
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_1 (SSRC of first source)                 |
 * block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   1    :               ... 24 bytes per block, RC blocks ...           :
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * </pre>
 *
 * <p>A compound packet (<a href="https://www.rfc-editor.org/rfc/rfc3550#section-6.1">RFC 3550
 * §6.1</a>) is several such packets back to back, each with the 4-byte common header above whose
 * length field counts 32-bit words minus one. The SR is what lets a recording line up the RTP
 * timestamps of a stream with wall-clock time, and the two legs of a call with each other.
 *
 * <p>Like {@link RtpPacket} this is a mutable holder allocated once per stream: parsing allocates
 * nothing and returns {@code false} for malformed input instead of throwing. Not thread-safe.
 */
public final class RtcpSenderReport {

  /** RFC 3550 §12.1. */
  static final int PT_SR = 200;

  /** Common header + sender SSRC + 20 bytes of sender info. */
  static final int SR_MIN_LENGTH = 28;

  /** RFC 3550 §6.4.1: each reception report block is six 32-bit words. */
  static final int REPORT_BLOCK_LENGTH = 24;

  /** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01): 70 years, 17 leap. */
  static final long NTP_TO_UNIX_SECONDS = 2_208_988_800L;

  private long ssrc;
  private long ntpTimestamp;
  private long rtpTimestamp;
  private long packetCount;
  private long octetCount;

  /**
   * Walks the compound RTCP packet in {@code data[offset, offset + length)} and fills {@code out}
   * from its first SR.
   *
   * <p>Returns {@code false}, leaving {@code out} as it was, if the compound packet is malformed
   * (an empty buffer, a version other than 2, a length field that runs past the end or leaves
   * trailing bytes, an SR too short for its report blocks) or holds no SR. The whole compound
   * packet is checked, not only the part up to the SR, because RFC 3550 Appendix A.2 validates the
   * compound packet as a unit: lengths that do not add up mean the SR itself may be misparsed.
   *
   * <p>Deliberately not enforced from Appendix A.2: that the first packet is an SR or RR, and that
   * only the last packet is padded, since reduced-size RTCP (RFC 5506) starts with feedback packets
   * and some gateways pad carelessly; neither affects where the SR's fields are.
   *
   * @throws IndexOutOfBoundsException only if {@code offset}/{@code length} do not lie within
   *     {@code data}, which is a bug in the caller, not bad input from the network
   */
  public static boolean parse(byte[] data, int offset, int length, RtcpSenderReport out) {
    Objects.checkFromIndexSize(offset, length, data.length);
    if (length < 4) return false;
    int end = offset + length;
    int srAt = -1;
    int at = offset;
    while (at < end) {
      if (end - at < 4) return false;
      int b0 = data[at] & 0xFF;
      if ((b0 >>> 6) != 2) return false;
      // Length in 32-bit words minus one, so the header alone is length 0 and no packet is empty.
      int packetLength = 4 * (RtpPacket.u16(data, at + 2) + 1);
      if (packetLength > end - at) return false;
      int packetType = data[at + 1] & 0xFF;
      if (packetType == PT_SR && srAt < 0) {
        int reportCount = b0 & 0x1F;
        if (packetLength < SR_MIN_LENGTH + REPORT_BLOCK_LENGTH * reportCount) return false;
        srAt = at;
      }
      at += packetLength;
    }
    if (srAt < 0) return false;

    out.ssrc = RtpPacket.u32(data, srAt + 4);
    out.ntpTimestamp = (RtpPacket.u32(data, srAt + 8) << 32) | RtpPacket.u32(data, srAt + 12);
    out.rtpTimestamp = RtpPacket.u32(data, srAt + 16);
    out.packetCount = RtpPacket.u32(data, srAt + 20);
    out.octetCount = RtpPacket.u32(data, srAt + 24);
    return true;
  }

  /**
   * Converts a 64-bit NTP timestamp (32.32 fixed point seconds since 1900) to microseconds since
   * the Unix epoch, truncating the fraction.
   *
   * <p>The 32-bit seconds field wraps on 2036-02-07. Following <a
   * href="https://www.rfc-editor.org/rfc/rfc4330#section-3">RFC 4330 §3</a>, a seconds value with
   * the top bit clear is taken to be in the era after that wrap, which makes the conversion valid
   * from 1968 to 2104 instead of failing in 2036.
   */
  public static long ntpToUnixMicros(long ntp) {
    long seconds = ntp >>> 32;
    long fraction = ntp & 0xFFFF_FFFFL;
    if ((seconds & 0x8000_0000L) == 0) seconds += 1L << 32;
    // fraction < 2^32 and 10^6 < 2^20, so the product fits a long with room to spare.
    return (seconds - NTP_TO_UNIX_SECONDS) * 1_000_000L + ((fraction * 1_000_000L) >>> 32);
  }

  /** SSRC of the sender, 0..2^32-1. */
  public long ssrc() {
    return ssrc;
  }

  /** The raw 64-bit NTP timestamp, as needed to echo it back in a receiver report's LSR field. */
  public long ntpTimestamp() {
    return ntpTimestamp;
  }

  /**
   * {@link #ntpTimestamp()} as microseconds since the Unix epoch. Meaningless when {@link
   * #hasWallClock()} is false.
   */
  public long wallClockMicros() {
    return ntpToUnixMicros(ntpTimestamp);
  }

  /**
   * Whether the sender filled in the NTP timestamp: RFC 3550 §6.4.1 lets a sender with no notion of
   * wall-clock time send zero, which must not be read as a date.
   */
  public boolean hasWallClock() {
    return ntpTimestamp != 0;
  }

  /** The RTP timestamp corresponding to {@link #ntpTimestamp()}, 0..2^32-1. */
  public long rtpTimestamp() {
    return rtpTimestamp;
  }

  /** RTP data packets sent by this SSRC since it started, 0..2^32-1 (wraps). */
  public long packetCount() {
    return packetCount;
  }

  /** Payload octets sent by this SSRC since it started, 0..2^32-1 (wraps). */
  public long octetCount() {
    return octetCount;
  }
}
