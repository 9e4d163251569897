package org.callvault.media.rtp;

import java.util.Objects;

/**
 * One parsed RTP data packet header, reused for every packet of a stream.
 *
 * <p>Fixed header, <a href="https://www.rfc-editor.org/rfc/rfc3550#section-5.1">RFC 3550 §5.1</a>:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>Header extension when X is set, <a
 * href="https://www.rfc-editor.org/rfc/rfc3550#section-5.3.1">RFC 3550 §5.3.1</a> (length counts
 * 32-bit words after this 4-byte preamble):
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |
 * |                             ....                              |
 * </pre>
 *
 * <p>The media path parses 100,000 packets per second per node, so this is a mutable holder that
 * the receiver allocates once and passes to {@link #parse} for every datagram: parsing allocates
 * nothing, boxes nothing and reports bad input as an {@link RtpProblem} instead of an exception.
 * Unsigned 32-bit fields are returned as {@code long} so callers never see a negative SSRC or
 * timestamp. Not thread-safe; one instance per receiving thread.
 */
public final class RtpPacket {

  /** RFC 3550 §5.1: the fixed part that every RTP packet carries. */
  static final int FIXED_HEADER_LENGTH = 12;

  /** CC is a 4-bit field. */
  static final int MAX_CSRC = 15;

  private int version;
  private boolean padding;
  private boolean extension;
  private int csrcCount;
  private boolean marker;
  private int payloadType;
  private int sequenceNumber;
  private long timestamp;
  private long ssrc;
  private final long[] csrcs = new long[MAX_CSRC];
  private int extensionProfile;
  private int extensionOffset;
  private int extensionLength;
  private int payloadOffset;
  private int payloadLength;

  /**
   * Parses the RTP packet in {@code data[offset, offset + length)} into {@code out}.
   *
   * <p>On success {@code out} describes the packet and its payload indices point into {@code data}
   * (nothing is copied). On any problem {@code out} is left exactly as it was, so a caller that
   * ignores the result cannot mistake half-written fields for a packet.
   *
   * @throws IndexOutOfBoundsException only if {@code offset}/{@code length} do not lie within
   *     {@code data}, which is a bug in the caller, not bad input from the network
   */
  public static RtpProblem parse(byte[] data, int offset, int length, RtpPacket out) {
    Objects.checkFromIndexSize(offset, length, data.length);
    // An RTCP header is 4 bytes, so an empty RR (8 bytes) on a muxed port is still recognised as
    // RTCP below rather than lumped in with truncated RTP.
    if (length < 4) return RtpProblem.TOO_SHORT;
    int b0 = data[offset] & 0xFF;
    int b1 = data[offset + 1] & 0xFF;
    int version = b0 >>> 6;
    // Appendix A.1: a version other than 2 is the cheapest sign of a misaddressed packet.
    if (version != 2) return RtpProblem.BAD_VERSION;
    // RFC 5761 §4: with RTP and RTCP on one port the second octet tells them apart. RTCP packet
    // types 192..223 (SR=200 .. APP=204, and the feedback/XR types 205..207 that reduced-size
    // RTCP may send first) read as marker=1 with payload types 64..95, which RFC 5761 forbids for
    // RTP on a muxed port. Checked before the length so short RTCP is not counted as truncated RTP.
    if (b1 >= 192 && b1 <= 223) return RtpProblem.RTCP_ON_RTP_PORT;
    if (length < FIXED_HEADER_LENGTH) return RtpProblem.TOO_SHORT;

    int csrcCount = b0 & 0x0F;
    int headerLength = FIXED_HEADER_LENGTH + 4 * csrcCount;
    if (headerLength > length) return RtpProblem.CSRC_BEYOND_PACKET;

    boolean hasExtension = (b0 & 0x10) != 0;
    int extensionProfile = 0;
    int extensionOffset = 0;
    int extensionLength = 0;
    if (hasExtension) {
      if (headerLength + 4 > length) return RtpProblem.EXTENSION_BEYOND_PACKET;
      int at = offset + headerLength;
      extensionProfile = u16(data, at);
      // Length is in 32-bit words and excludes the 4-byte preamble; at most 65535 * 4, so the
      // int arithmetic below cannot overflow.
      extensionLength = 4 * u16(data, at + 2);
      extensionOffset = at + 4;
      headerLength += 4 + extensionLength;
      if (headerLength > length) return RtpProblem.EXTENSION_BEYOND_PACKET;
    }

    boolean hasPadding = (b0 & 0x20) != 0;
    int payloadLength = length - headerLength;
    if (hasPadding) {
      // §5.1: the last octet counts the padding octets including itself, so 0 is impossible, and
      // padding cannot eat into the header.
      int paddingCount = data[offset + length - 1] & 0xFF;
      if (paddingCount == 0 || paddingCount > payloadLength) return RtpProblem.BAD_PADDING;
      payloadLength -= paddingCount;
    }
    // A packet with nothing to play (header only, or all padding) carries no audio; counting it
    // as a problem keeps "packets received" equal to "audio frames received".
    if (payloadLength == 0) return RtpProblem.EMPTY_PAYLOAD;

    // Only now touch `out`, so that a refused packet leaves it untouched.
    out.version = version;
    out.padding = hasPadding;
    out.extension = hasExtension;
    out.csrcCount = csrcCount;
    out.marker = (b1 & 0x80) != 0;
    out.payloadType = b1 & 0x7F;
    out.sequenceNumber = u16(data, offset + 2);
    out.timestamp = u32(data, offset + 4);
    out.ssrc = u32(data, offset + 8);
    for (int i = 0; i < csrcCount; i++) {
      out.csrcs[i] = u32(data, offset + FIXED_HEADER_LENGTH + 4 * i);
    }
    out.extensionProfile = extensionProfile;
    out.extensionOffset = extensionOffset;
    out.extensionLength = extensionLength;
    out.payloadOffset = offset + headerLength;
    out.payloadLength = payloadLength;
    return RtpProblem.NONE;
  }

  public static int u16(byte[] data, int at) {
    return ((data[at] & 0xFF) << 8) | (data[at + 1] & 0xFF);
  }

  public static long u32(byte[] data, int at) {
    return ((long) (data[at] & 0xFF) << 24)
        | ((data[at + 1] & 0xFF) << 16)
        | ((data[at + 2] & 0xFF) << 8)
        | (data[at + 3] & 0xFF);
  }

  /** Always 2 after a successful parse. */
  public int version() {
    return version;
  }

  /** Whether the P bit was set; the padding is already excluded from {@link #payloadLength()}. */
  public boolean padding() {
    return padding;
  }

  /** Whether the X bit was set; see {@link #extensionOffset()}. */
  public boolean extension() {
    return extension;
  }

  /** Number of CSRC identifiers, 0..15. */
  public int csrcCount() {
    return csrcCount;
  }

  public boolean marker() {
    return marker;
  }

  /** 0..127. */
  public int payloadType() {
    return payloadType;
  }

  /** 0..65535. */
  public int sequenceNumber() {
    return sequenceNumber;
  }

  /** 0..2^32-1. */
  public long timestamp() {
    return timestamp;
  }

  /** 0..2^32-1. */
  public long ssrc() {
    return ssrc;
  }

  /**
   * The CSRC at {@code index} (0..{@link #csrcCount()}-1), 0..2^32-1. Copied at parse time so it
   * stays valid after the receive buffer is reused.
   */
  public long csrc(int index) {
    Objects.checkIndex(index, csrcCount);
    return csrcs[index];
  }

  /** The 16-bit "defined by profile" field of the header extension; 0 without one. */
  public int extensionProfile() {
    return extensionProfile;
  }

  /** Absolute index in the parsed array of the extension data after its 4-byte preamble. */
  public int extensionOffset() {
    return extensionOffset;
  }

  /** Bytes of extension data after the 4-byte preamble (4 × the length field); 0 without one. */
  public int extensionLength() {
    return extensionLength;
  }

  /** Absolute index of the first payload byte in the parsed array. */
  public int payloadOffset() {
    return payloadOffset;
  }

  /** Payload bytes, padding excluded; always at least 1 after a successful parse. */
  public int payloadLength() {
    return payloadLength;
  }

  @Override
  public String toString() {
    // For debugging only; never called on the media path.
    return "RtpPacket[pt="
        + payloadType
        + ", seq="
        + sequenceNumber
        + ", ts="
        + timestamp
        + ", ssrc="
        + ssrc
        + ", marker="
        + marker
        + ", payload="
        + payloadOffset
        + "+"
        + payloadLength
        + "]";
  }
}
