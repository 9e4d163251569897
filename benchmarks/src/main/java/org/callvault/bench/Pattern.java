package org.callvault.bench;

/**
 * The deterministic audio the generator sends, so that a test can check every stored byte.
 *
 * <p>Byte {@code i} (0..159) of the payload of packet index {@code k} of a stream is {@link
 * #payloadByte(long, long, int)}: a hash of the stream's seed, {@code k} and {@code i}, mapped onto
 * the 251 byte values that are neither a G.711 "zero" code (μ-law 0xFF and 0x7F, which decode to 0;
 * A-law 0xD5 and 0x55, its ±8 silence) nor {@link #POISON}. {@code k} is the stream's 20 ms slot
 * index: 0 for its first slot, one more per slot, never wrapping, and it goes on across SSRC
 * changes, deliberate losses and sender pauses (a lost or paused slot simply has no packet).
 *
 * <p>Every byte the generator sends that is <em>not</em> genuine audio (foreign-source packets,
 * malformed packets) is {@link #POISON}, which the pattern never contains: a stored 0x00 byte
 * proves that such a packet was accepted.
 */
public final class Pattern {

  /** Payload bytes per packet: 20 ms of 8 kHz G.711. */
  public static final int PAYLOAD_BYTES = 160;

  /** The payload byte of every packet that must not be stored (foreign, malformed). */
  public static final byte POISON = 0x00;

  private static final byte[] ALLOWED = allowed();

  private Pattern() {}

  private static byte[] allowed() {
    byte[] values = new byte[251];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (b == 0xFF || b == 0x7F || b == 0xD5 || b == 0x55 || b == (POISON & 0xFF)) continue;
      values[n++] = (byte) b;
    }
    if (n != values.length) throw new AssertionError(n);
    return values;
  }

  /**
   * Byte {@code i} of the payload of the packet with slot index {@code k} of the stream seeded
   * {@code streamSeed}.
   */
  public static byte payloadByte(long streamSeed, long k, int i) {
    return pick(mix64(streamSeed + k * 0x9E3779B97F4A7C15L + (i + 1L) * 0xC2B2AE3D27D4EB4FL));
  }

  /** One of the allowed bytes from the top 32 bits of a hash: floor(top32 · 251 / 2^32). */
  private static byte pick(long hash) {
    return ALLOWED[(int) (((hash >>> 32) * ALLOWED.length) >>> 32)];
  }

  /**
   * Writes the {@value #PAYLOAD_BYTES} payload bytes of packet {@code k} into {@code dst} at {@code
   * offset}.
   */
  public static void fill(long streamSeed, long k, byte[] dst, int offset) {
    long base = streamSeed + k * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < PAYLOAD_BYTES; i++) {
      dst[offset + i] = pick(mix64(base + (i + 1L) * 0xC2B2AE3D27D4EB4FL));
    }
  }

  /** The payload of packet {@code k}, a new array. */
  public static byte[] payload(long streamSeed, long k) {
    byte[] payload = new byte[PAYLOAD_BYTES];
    fill(streamSeed, k, payload, 0);
    return payload;
  }

  /**
   * Whether {@code len} bytes at {@code offset} are bytes {@code from..from+len-1} of packet {@code
   * k}'s payload.
   */
  public static boolean matches(
      long streamSeed, long k, int from, byte[] data, int offset, int len) {
    for (int i = 0; i < len; i++)
      if (data[offset + i] != payloadByte(streamSeed, k, from + i)) return false;
    return true;
  }

  /** The linear sample byte {@code i} of packet {@code k} decodes to under {@code codec}. */
  public static short sample(Codec codec, long streamSeed, long k, int i) {
    return codec.decode(payloadByte(streamSeed, k, i));
  }

  /** The 160 linear samples packet {@code k}'s payload decodes to under {@code codec}. */
  public static short[] samples(Codec codec, long streamSeed, long k) {
    short[] samples = new short[PAYLOAD_BYTES];
    for (int i = 0; i < PAYLOAD_BYTES; i++)
      samples[i] = codec.decode(payloadByte(streamSeed, k, i));
    return samples;
  }

  /**
   * The pattern seed of stream {@code streamIndex} (0 agent, 1 customer) of call {@code callIndex}
   * (0-based) in a run seeded {@code runSeed}.
   */
  public static long streamSeed(long runSeed, int callIndex, int streamIndex) {
    return mix64(
        mix64(runSeed ^ 0x5DEECE66DL)
            + callIndex * 0xD6E8FEB86659FD93L
            + streamIndex * 0xA0761D6478BD642FL
            + 1);
  }

  /** SplitMix64's finalizer: a bijective 64-bit mix. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
