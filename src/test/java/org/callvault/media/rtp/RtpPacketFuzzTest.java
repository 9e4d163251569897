package org.callvault.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RtpPacketFuzzTest {

  private static final int ROUNDS = 100_000;
  private static final int MAX_PACKET = 1600;

  /** Writes a valid RTP packet with random header options at {@code at}; returns its length. */
  private static int writeValidPacket(Random random, byte[] buf, int at) {
    int csrcCount = random.nextInt(4) == 0 ? random.nextInt(16) : 0;
    boolean extension = random.nextInt(4) == 0;
    boolean padding = random.nextInt(4) == 0;
    int payloadType = random.nextInt(64); // 0..63 never collides with RTCP, marker or not
    int i = at;
    buf[i++] = (byte) (0x80 | (padding ? 0x20 : 0) | (extension ? 0x10 : 0) | csrcCount);
    buf[i++] = (byte) ((random.nextBoolean() ? 0x80 : 0) | payloadType);
    for (int k = 0; k < 10 + 4 * csrcCount; k++) buf[i++] = (byte) random.nextInt(256);
    if (extension) {
      int words = random.nextInt(5);
      buf[i++] = (byte) random.nextInt(256);
      buf[i++] = (byte) random.nextInt(256);
      buf[i++] = 0;
      buf[i++] = (byte) words;
      for (int k = 0; k < 4 * words; k++) buf[i++] = (byte) random.nextInt(256);
    }
    int payload = 1 + random.nextInt(320);
    for (int k = 0; k < payload; k++) buf[i++] = (byte) random.nextInt(256);
    if (padding) {
      int count = 1 + random.nextInt(255);
      for (int k = 0; k < count - 1; k++) buf[i++] = 0;
      buf[i++] = (byte) count;
    }
    return i - at;
  }

  @Test
  void randomAndMutatedPacketsNeverThrowAndAcceptedOnesStayInsideTheirBounds() {
    Random random = new Random(0x5EED_3550L);
    byte[] buf = new byte[2 * MAX_PACKET];
    RtpPacket packet = new RtpPacket();
    Map<RtpProblem, Integer> seen = new EnumMap<>(RtpProblem.class);

    for (int round = 0; round < ROUNDS; round++) {
      // Garbage all around, so reading outside [offset, offset + length) would be noticed.
      random.nextBytes(buf);
      int offset = random.nextInt(64);
      int length;
      String kind;
      switch (round % 4) {
        case 0 -> {
          kind = "random bytes";
          length = random.nextInt(200);
        }
        case 1 -> {
          kind = "random bytes, version 2";
          length = random.nextInt(200);
          if (length > 0) buf[offset] = (byte) (0x80 | (buf[offset] & 0x3F));
        }
        case 2 -> {
          kind = "valid packet, bytes flipped";
          length = writeValidPacket(random, buf, offset);
          int flips = 1 + random.nextInt(3);
          for (int f = 0; f < flips; f++) {
            // Mostly in the header, where the lengths live.
            int at = offset + random.nextInt(Math.min(length, random.nextBoolean() ? 20 : length));
            buf[at] ^= (byte) (1 + random.nextInt(255));
          }
        }
        default -> {
          kind = "valid packet, truncated";
          int full = writeValidPacket(random, buf, offset);
          length = random.nextInt(full + 1);
          if (random.nextBoolean())
            buf[offset + Math.max(0, length - 1)] ^= (byte) random.nextInt(256);
        }
      }

      RtpProblem problem;
      try {
        problem = RtpPacket.parse(buf, offset, length, packet);
      } catch (RuntimeException e) {
        throw new AssertionError("round " + round + " (" + kind + ") threw", e);
      }
      seen.merge(problem, 1, Integer::sum);
      if (problem == RtpProblem.NONE) {
        String where = "round " + round + " (" + kind + ")";
        assertTrue(packet.payloadLength() > 0, where);
        assertTrue(packet.payloadOffset() >= offset + 12 + 4 * packet.csrcCount(), where);
        assertTrue(packet.payloadOffset() + packet.payloadLength() <= offset + length, where);
        assertTrue(packet.payloadType() >= 0 && packet.payloadType() <= 127, where);
        assertTrue(packet.sequenceNumber() >= 0 && packet.sequenceNumber() <= 0xFFFF, where);
        assertTrue(packet.timestamp() >= 0 && packet.timestamp() <= 0xFFFF_FFFFL, where);
        assertTrue(packet.ssrc() >= 0 && packet.ssrc() <= 0xFFFF_FFFFL, where);
      }
    }

    // The generator must reach every branch of the parser, or the test proves little.
    for (RtpProblem problem : RtpProblem.values()) {
      if (!seen.containsKey(problem)) fail(problem + " never produced: " + seen);
    }
  }

  @Test
  void theGeneratorsUnmutatedPacketsAreValid() {
    Random random = new Random(42);
    byte[] buf = new byte[2 * MAX_PACKET];
    RtpPacket packet = new RtpPacket();
    for (int round = 0; round < 10_000; round++) {
      int offset = random.nextInt(64);
      int length = writeValidPacket(random, buf, offset);
      assertEquals(RtpProblem.NONE, RtpPacket.parse(buf, offset, length, packet), "round " + round);
    }
  }
}
