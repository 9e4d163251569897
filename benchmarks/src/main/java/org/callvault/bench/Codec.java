package org.callvault.bench;

/** The G.711 codecs the load generator sends, with their static RTP payload types (RFC 3551). */
public enum Codec {
  /** G.711 μ-law, payload type 0. */
  PCMU(0),
  /** G.711 A-law, payload type 8. */
  PCMA(8);

  private final int payloadType;

  Codec(int payloadType) {
    this.payloadType = payloadType;
  }

  public int payloadType() {
    return payloadType;
  }

  /** The 16-bit linear sample one encoded byte of this codec stands for (ITU-T G.711). */
  public short decode(byte encoded) {
    return this == PCMU ? ulawToLinear(encoded & 0xFF) : alawToLinear(encoded & 0xFF);
  }

  /** G.711 μ-law to 16-bit linear; 0xFF and 0x7F both decode to 0. */
  public static short ulawToLinear(int ulaw) {
    int u = ~ulaw & 0xFF;
    int t = ((u & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    return (short) ((u & 0x80) != 0 ? 0x84 - t : t - 0x84);
  }

  /** G.711 A-law to 16-bit linear; 0xD5 and 0x55 are the smallest magnitudes, +8 and -8. */
  public static short alawToLinear(int alaw) {
    int a = (alaw ^ 0x55) & 0xFF;
    int t = (a & 0x0F) << 4;
    int segment = (a & 0x70) >> 4;
    if (segment == 0) {
      t += 8;
    } else {
      t += 0x108;
      t <<= segment - 1;
    }
    return (short) ((a & 0x80) != 0 ? t : -t);
  }
}
