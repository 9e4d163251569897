package org.callvault.export.pcm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class G711Test {

  @Test
  void muLawDecodesToTheExactG711Values() {
    assertEquals(-32124, G711.ulawToLinear(0x00));
    assertEquals(32124, G711.ulawToLinear(0x80));
    assertEquals(0, G711.ulawToLinear(0xFF));
    assertEquals(0, G711.ulawToLinear(0x7F));
    assertEquals(-8, G711.ulawToLinear(0x7E));
    assertEquals(8, G711.ulawToLinear(0xFE));
  }

  @Test
  void aLawDecodesToTheExactG711Values() {
    assertEquals(8, G711.alawToLinear(0xD5));
    assertEquals(-8, G711.alawToLinear(0x55));
    assertEquals(-32256, G711.alawToLinear(0x2A));
    assertEquals(32256, G711.alawToLinear(0xAA));
  }

  @Test
  void onlyTheLowEightBitsOfTheCodeAreUsed() {
    assertEquals(G711.ulawToLinear(0x80), G711.ulawToLinear(0x180));
    assertEquals(G711.alawToLinear(0xD5), G711.alawToLinear((byte) 0xD5));
  }

  @Test
  void theSignBitMirrorsEveryValue() {
    for (int b = 0; b < 128; b++) {
      // μ-law: the sign is bit 7, set for positive after the inversion.
      assertEquals(-G711.ulawToLinear(b), G711.ulawToLinear(b | 0x80), "μ-law " + b);
      assertEquals(-G711.alawToLinear(b), G711.alawToLinear(b | 0x80), "A-law " + b);
    }
  }

  @Test
  void decodedValuesGrowStrictlyWithTheMagnitudeBits() {
    for (int m = 1; m < 128; m++) {
      // μ-law positive codes run from 0xFF (zero) down to 0x80 (largest), being inverted.
      assertTrue(G711.ulawToLinear(0xFF - m) > G711.ulawToLinear(0xFF - m + 1), "μ-law " + m);
      // A-law positive codes are 0x80 | magnitude bits, with the even bits inverted.
      assertTrue(
          G711.alawToLinear((0x80 | m) ^ 0x55) > G711.alawToLinear((0x80 | (m - 1)) ^ 0x55),
          "A-law " + m);
    }
  }

  @Test
  void everyMuLawCodeSurvivesARoundTripExceptNegativeZero() {
    for (int b = 0; b < 256; b++) {
      int back = G711.linearToUlaw(G711.ulawToLinear(b));
      if (b == 0x7F) {
        assertEquals(0xFF, back, "negative zero encodes as positive zero");
      } else {
        assertEquals(b, back, "code " + Integer.toHexString(b));
      }
    }
  }

  @Test
  void everyALawCodeSurvivesARoundTrip() {
    for (int b = 0; b < 256; b++) {
      assertEquals(b, G711.linearToAlaw(G711.alawToLinear(b)), "code " + Integer.toHexString(b));
    }
  }

  @Test
  void encodingClipsAtTheExtremesInsteadOfOverflowing() {
    assertEquals(0x80, G711.linearToUlaw(Short.MAX_VALUE));
    assertEquals(0x00, G711.linearToUlaw(Short.MIN_VALUE));
    assertEquals(0xAA, G711.linearToAlaw(Short.MAX_VALUE));
    assertEquals(0x2A, G711.linearToAlaw(Short.MIN_VALUE));
    assertEquals(0xFF, G711.linearToUlaw((short) 0));
    assertEquals(0xD5, G711.linearToAlaw((short) 0));
    assertEquals(0x55, G711.linearToAlaw((short) -1));
  }

  @Test
  void encodingPicksTheNearestLevelForEverySample() {
    // Every 16-bit sample encodes to a code whose decoded value is within one quantisation step
    // of it: for μ-law the step at magnitude x is at most 2^(exponent+3) ≤ 1024, for A-law 1024.
    for (int pcm = Short.MIN_VALUE; pcm <= Short.MAX_VALUE; pcm++) {
      int u = G711.ulawToLinear(G711.linearToUlaw((short) pcm));
      int a = G711.alawToLinear(G711.linearToAlaw((short) pcm));
      int clipped = Math.max(-32635, Math.min(32635, pcm));
      assertTrue(Math.abs(u - clipped) <= 1024, "μ-law " + pcm + " -> " + u);
      assertTrue(Math.abs(a - pcm) <= 1024, "A-law " + pcm + " -> " + a);
      assertTrue(u == 0 || Integer.signum(u) == Integer.signum(pcm), "μ-law sign " + pcm);
    }
  }

  @Test
  void bulkDecodeUsesTheStreamsCodecAndTheOffsets() {
    byte[] src = {0x11, (byte) 0x80, 0x00, (byte) 0xD5, 0x55, 0x22};
    short[] dst = new short[6];

    G711.decode(G711.Law.ULAW, src, 1, 2, dst, 3);
    assertArrayEquals(new short[] {0, 0, 0, 32124, -32124, 0}, dst);

    G711.decode(G711.Law.ALAW, src, 3, 2, dst, 0);
    assertArrayEquals(new short[] {8, -8, 0, 32124, -32124, 0}, dst);
  }

  @Test
  void bulkDecodeRefusesRangesOutsideTheArrays() {
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> G711.decode(G711.Law.ULAW, new byte[4], 0, 4, new short[3], 0));
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> G711.decode(G711.Law.ALAW, new byte[4], 2, 4, new short[8], 0));
  }
}
