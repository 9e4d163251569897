package org.callvault.export.pcm;

import java.util.Objects;

/**
 * ITU-T G.711 μ-law (PCMU) and A-law (PCMA): one byte per sample at 8 kHz, companded from 16-bit
 * linear PCM.
 *
 * <p>Byte layout of both laws (<a href="https://www.itu.int/rec/T-REC-G.711">ITU-T G.711</a>, used
 * in RTP as payload types 0 and 8, <a
 * href="https://www.rfc-editor.org/rfc/rfc3551#section-4.5.14">RFC 3551 §4.5.14</a>):
 *
 * <pre>
 *   7   6   5   4   3   2   1   0
 * +---+---+---+---+---+---+---+---+
 * | S |  exponent |   mantissa    |   μ-law: whole byte sent inverted, S=0 negative
 * +---+---+---+---+---+---+---+---+   A-law: even bits inverted (XOR 0x55), S=1 positive
 * </pre>
 *
 * <p>The formulas are the classic CCITT reference ones (as in Sun's public-domain {@code g711.c}):
 * μ-law adds a bias of 0x84 (132) before taking the segment so every segment starts at a power of
 * two, and clips magnitudes at 32635 so biased values stay below 2^15; A-law works on the 13-bit
 * value (the top 13 bits of the sample). Decoding is a 256-entry table built once at class load,
 * because it runs for every sample of every recorded stream; encoding is only needed for tests and
 * tone generation, so it computes directly instead of holding a 64K table.
 */
public final class G711 {

  private static final int ULAW_BIAS = 0x84;
  private static final int ULAW_CLIP = 32635;

  private static final short[] ULAW_TO_LINEAR = new short[256];
  private static final short[] ALAW_TO_LINEAR = new short[256];

  static {
    for (int b = 0; b < 256; b++) {
      ULAW_TO_LINEAR[b] = (short) ulawFormula(b);
      ALAW_TO_LINEAR[b] = (short) alawFormula(b);
    }
  }

  private G711() {}

  private static int ulawFormula(int b) {
    // μ-law is sent inverted so that silence (all magnitude bits zero) is not a run of zero bytes,
    // which mattered on T1 lines; undo that first.
    int u = ~b & 0xFF;
    int exponent = (u >>> 4) & 0x07;
    int mantissa = u & 0x0F;
    // Rebuild the biased magnitude from the middle of the quantisation step, then remove the bias.
    int magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    return (u & 0x80) != 0 ? -magnitude : magnitude;
  }

  private static int alawFormula(int b) {
    // A-law inverts the even bits so that idle channels are not long runs of equal bits.
    int a = (b ^ 0x55) & 0xFF;
    int exponent = (a >>> 4) & 0x07;
    int mantissa = a & 0x0F;
    // Segments 0 and 1 share a step size (the A-law curve is linear near zero); +8 / +0x108 puts
    // the value in the middle of its step, with 0x100 as the implied leading one from segment 1 on.
    int magnitude = (mantissa << 4) + (exponent == 0 ? 8 : 0x108);
    if (exponent > 1) magnitude <<= exponent - 1;
    return (a & 0x80) != 0 ? magnitude : -magnitude;
  }

  /** Decodes one μ-law byte (only the low 8 bits of {@code b} are used). */
  public static short ulawToLinear(int b) {
    return ULAW_TO_LINEAR[b & 0xFF];
  }

  /** Decodes one A-law byte (only the low 8 bits of {@code b} are used). */
  public static short alawToLinear(int b) {
    return ALAW_TO_LINEAR[b & 0xFF];
  }

  /**
   * Encodes one 16-bit sample as μ-law, 0..255. Zero encodes as 0xFF (positive zero); 0x7F, the
   * negative zero, also decodes to 0 but is never produced.
   */
  public static int linearToUlaw(short pcm) {
    int sign;
    int magnitude;
    if (pcm < 0) {
      sign = 0x80;
      // -32768 has no positive counterpart in a short; the clip below takes care of it in int.
      magnitude = -pcm;
    } else {
      sign = 0;
      magnitude = pcm;
    }
    if (magnitude > ULAW_CLIP) magnitude = ULAW_CLIP;
    magnitude += ULAW_BIAS;
    // magnitude is in [0x84, 0x7FFF]: its top bit is bit 7..14, and the segment is that minus 7.
    int exponent = (31 - Integer.numberOfLeadingZeros(magnitude)) - 7;
    int mantissa = (magnitude >>> (exponent + 3)) & 0x0F;
    return ~(sign | (exponent << 4) | mantissa) & 0xFF;
  }

  /** Encodes one 16-bit sample as A-law, 0..255. */
  public static int linearToAlaw(short pcm) {
    // A-law quantises 13 bits; the arithmetic shift keeps the sign.
    int value = pcm >> 3;
    int mask;
    if (value >= 0) {
      mask = 0xD5; // sign bit set means positive, then the 0x55 inversion
    } else {
      mask = 0x55;
      // One's complement, not negation: the negative range is one step longer, and -1 >> 3 is -1,
      // which must land on the smallest magnitude (0), not on 1.
      value = -value - 1;
    }
    // value is in [0, 4095]. Segments 0 and 1 both quantise in steps of 2; from segment 2 on the
    // segment is the position of the top bit minus 4.
    int exponent = value < 32 ? 0 : (31 - Integer.numberOfLeadingZeros(value)) - 4;
    int mantissa = (value >>> (exponent < 2 ? 1 : exponent)) & 0x0F;
    return ((exponent << 4) | mantissa) ^ mask;
  }

  /** The two companding laws: μ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8). */
  public enum Law {
    ULAW,
    ALAW
  }

  /**
   * Decodes {@code len} bytes of {@code src} from {@code off} into {@code dst} from {@code dstOff},
   * one sample per byte.
   *
   * @throws IndexOutOfBoundsException if a range does not lie within its array
   */
  public static void decode(Law law, byte[] src, int off, int len, short[] dst, int dstOff) {
    Objects.checkFromIndexSize(off, len, src.length);
    Objects.checkFromIndexSize(dstOff, len, dst.length);
    short[] table = law == Law.ULAW ? ULAW_TO_LINEAR : ALAW_TO_LINEAR;
    for (int i = 0; i < len; i++) {
      dst[dstOff + i] = table[src[off + i] & 0xFF];
    }
  }
}
