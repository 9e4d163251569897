package org.callvault.bench;

import java.util.Arrays;
import java.util.Random;

/** Writing RTP packets (RFC 3550), valid and deliberately not. */
final class Rtp {

  static final int HEADER = 12;
  static final int PACKET = HEADER + Pattern.PAYLOAD_BYTES;
  static final int MAX_PACKET = 256;

  private Rtp() {}

  /** A 12-byte version-2 header, no padding, extension or CSRCs. */
  static void header(
      byte[] b, boolean marker, int payloadType, int seq, long timestamp, long ssrc) {
    b[0] = (byte) 0x80;
    b[1] = (byte) ((marker ? 0x80 : 0) | (payloadType & 0x7F));
    b[2] = (byte) (seq >>> 8);
    b[3] = (byte) seq;
    b[4] = (byte) (timestamp >>> 24);
    b[5] = (byte) (timestamp >>> 16);
    b[6] = (byte) (timestamp >>> 8);
    b[7] = (byte) timestamp;
    b[8] = (byte) (ssrc >>> 24);
    b[9] = (byte) (ssrc >>> 16);
    b[10] = (byte) (ssrc >>> 8);
    b[11] = (byte) ssrc;
  }

  /** A genuine-looking packet with {@link Pattern#POISON} payload; returns its length. */
  static int poisoned(byte[] b, int payloadType, int seq, long timestamp, long ssrc) {
    header(b, false, payloadType, seq, timestamp, ssrc);
    Arrays.fill(b, HEADER, PACKET, Pattern.POISON);
    return PACKET;
  }

  /**
   * A malformed packet of {@code kind} in {@code b} (at least {@link #MAX_PACKET} long); returns
   * its length.
   */
  static int malformed(
      Malformation kind,
      Random junk,
      byte[] b,
      int payloadType,
      int seq,
      long timestamp,
      long ssrc) {
    Arrays.fill(b, 0, MAX_PACKET, Pattern.POISON);
    header(b, false, payloadType, seq, timestamp, ssrc);
    switch (kind) {
      case TRUNCATED_HEADER:
        return 1 + junk.nextInt(HEADER - 1);
      case WRONG_VERSION:
        {
          int[] versions = {0, 1, 3};
          b[0] = (byte) (versions[junk.nextInt(3)] << 6);
          return PACKET;
        }
      case CSRC_BEYOND_PACKET:
        b[0] = (byte) (0x80 | 0x0F);
        return HEADER + junk.nextInt(60);
      case EXTENSION_BEYOND_PACKET:
        b[0] = (byte) (0x80 | 0x10);
        b[12] = (byte) 0xBE;
        b[13] = (byte) 0xDE;
        b[14] = (byte) 0xFF;
        b[15] = (byte) 0xFF;
        return HEADER + 4 + 20;
      case PADDING_BEYOND_PAYLOAD:
        b[0] = (byte) (0x80 | 0x20);
        b[PACKET - 1] =
            (byte) (Pattern.PAYLOAD_BYTES + 1 + junk.nextInt(255 - Pattern.PAYLOAD_BYTES));
        return PACKET;
      case EMPTY_PAYLOAD:
        return HEADER;
      case RANDOM_BYTES:
        {
          int len = 1 + junk.nextInt(200);
          byte[] random = new byte[len];
          junk.nextBytes(random);
          System.arraycopy(random, 0, b, 0, len);
          if ((b[0] & 0xC0) == 0x80) b[0] ^= 0x40;
          return len;
        }
      default:
        throw new IllegalArgumentException(kind.toString());
    }
  }
}
