package org.callvault.media.relay;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import org.callvault.media.rtp.RtpPacket;

/**
 * A datagram that a node which handed a call off relays to the node that now holds it, with what
 * the new node needs to treat it as if it had received it itself: who sent it and when.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      'C'      |      'V'      |      'R'      |      '1'      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    token (64 bits, from the new node)         |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         wall clock of arrival at the old node (µs, 64 bits)   |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | address length|  sender address (4 or 16 bytes) ...           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          sender port          |  the datagram as received ...  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>The first byte can never start RTP or RTCP (0x43 has version 1, not 2), so one socket takes
 * both. The token is the new node's secret for this call, sent to the old node over the cluster's
 * remoting: a datagram without it is refused, so nobody can inject audio through the relay. The
 * sender's address goes along so that the new node checks the stream's declared or latched source
 * exactly as for a datagram it received directly.
 */
public final class RelayEnvelope {

  static final long MAGIC = 0x43565231L; // "CVR1"
  private static final int FIXED = 4 + 8 + 8 + 1;

  private long token;
  private long wallMicros;
  private InetSocketAddress sender;
  private int payloadOffset;
  private int payloadLength;

  /** Whether {@code data} starts with the relay magic; RTP and RTCP never do. */
  public static boolean isRelayed(byte[] data, int length) {
    return length >= 4 && RtpPacket.u32(data, 0) == MAGIC;
  }

  /** The envelope of one datagram, ready to send. */
  public static byte[] wrap(
      long token, long wallMicros, InetSocketAddress sender, byte[] data, int offset, int length) {
    byte[] address = sender.getAddress().getAddress();
    ByteBuffer out = ByteBuffer.allocate(FIXED + address.length + 2 + length);
    out.putInt((int) MAGIC)
        .putLong(token)
        .putLong(wallMicros)
        .put((byte) address.length)
        .put(address);
    out.putShort((short) sender.getPort()).put(data, offset, length);
    return out.array();
  }

  /** Reads an envelope; false when it is truncated or names no IPv4 or IPv6 address. */
  public boolean parse(byte[] data, int length) {
    if (length < FIXED || !isRelayed(data, length)) return false;
    ByteBuffer in = ByteBuffer.wrap(data, 4, length - 4);
    long token = in.getLong();
    long wallMicros = in.getLong();
    int addressLength = in.get() & 0xFF;
    if ((addressLength != 4 && addressLength != 16) || in.remaining() < addressLength + 2)
      return false;
    byte[] address = new byte[addressLength];
    in.get(address);
    int port = Short.toUnsignedInt(in.getShort());
    try {
      sender = new InetSocketAddress(InetAddress.getByAddress(address), port);
    } catch (UnknownHostException e) {
      return false; // unreachable: getByAddress refuses only lengths other than 4 and 16
    }
    this.token = token;
    this.wallMicros = wallMicros;
    payloadOffset = in.position();
    payloadLength = length - payloadOffset;
    return true;
  }

  public long token() {
    return token;
  }

  public long wallMicros() {
    return wallMicros;
  }

  public InetSocketAddress sender() {
    return sender;
  }

  public int payloadOffset() {
    return payloadOffset;
  }

  public int payloadLength() {
    return payloadLength;
  }
}
