package org.callvault.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RtcpSenderReportTest {

  private static final long NTP_SECONDS = 3_976_000_000L;
  private static final long NTP_HALF_SECOND = 0x8000_0000L;

  /** An empty receiver report: header + reporter SSRC. */
  static byte[] emptyRr(int ssrc) {
    return ByteBuffer.allocate(8)
        .put((byte) 0x80)
        .put((byte) 201)
        .putShort((short) 1)
        .putInt(ssrc)
        .array();
  }

  /** A sender report with {@code reportBlocks} zeroed report blocks. */
  static byte[] sr(int ssrc, long ntp, int rtpTs, int packets, int octets, int reportBlocks) {
    int length = 28 + 24 * reportBlocks;
    ByteBuffer b = ByteBuffer.allocate(length);
    b.put((byte) (0x80 | reportBlocks)).put((byte) 200).putShort((short) (length / 4 - 1));
    b.putInt(ssrc).putLong(ntp).putInt(rtpTs).putInt(packets).putInt(octets);
    return b.array();
  }

  /** An SDES packet with one chunk holding a CNAME of 4 characters. */
  static byte[] sdes(int ssrc) {
    ByteBuffer b = ByteBuffer.allocate(16);
    b.put((byte) 0x81).put((byte) 202).putShort((short) 3).putInt(ssrc);
    // CNAME item: type 1, length 4, "abcd", then the end-of-list null and one byte to the word.
    b.put((byte) 1).put((byte) 4).put(new byte[] {'a', 'b', 'c', 'd'}).put((byte) 0).put((byte) 0);
    return b.array();
  }

  private static byte[] compound() {
    return RtpPacketTest.concat(
        emptyRr(0x0102_0304),
        sr(0xDEAD_BEEF, (NTP_SECONDS << 32) | NTP_HALF_SECOND, 0xFFFF_FFF0, -1, 0x7FFF_FFFF, 1),
        sdes(0xDEAD_BEEF));
  }

  private static boolean parse(byte[] data, RtcpSenderReport out) {
    return RtcpSenderReport.parse(data, 0, data.length, out);
  }

  @Test
  void theSenderReportInsideAnRrSrSdesCompoundIsFound() {
    RtcpSenderReport sr = new RtcpSenderReport();

    assertTrue(parse(compound(), sr));
    assertEquals(0xDEAD_BEEFL, sr.ssrc());
    assertEquals((NTP_SECONDS << 32) | NTP_HALF_SECOND, sr.ntpTimestamp());
    assertEquals((NTP_SECONDS - 2_208_988_800L) * 1_000_000L + 500_000L, sr.wallClockMicros());
    assertTrue(sr.hasWallClock());
    assertEquals(0xFFFF_FFF0L, sr.rtpTimestamp());
    assertEquals(0xFFFF_FFFFL, sr.packetCount());
    assertEquals(0x7FFF_FFFFL, sr.octetCount());
  }

  @Test
  void aCompoundPacketCanStartAtAnOffset() {
    byte[] packet = compound();
    byte[] data = RtpPacketTest.concat(new byte[5], packet, new byte[3]);
    RtcpSenderReport sr = new RtcpSenderReport();

    assertTrue(RtcpSenderReport.parse(data, 5, packet.length, sr));
    assertEquals(0xDEAD_BEEFL, sr.ssrc());
  }

  @Test
  void theFirstOfTwoSenderReportsIsTheOneReported() {
    byte[] data = RtpPacketTest.concat(sr(1, 1L << 63, 10, 1, 1, 0), sr(2, 1L << 63, 20, 2, 2, 0));
    RtcpSenderReport sr = new RtcpSenderReport();

    assertTrue(parse(data, sr));
    assertEquals(1, sr.ssrc());
    assertEquals(10, sr.rtpTimestamp());
  }

  @Test
  void ntpTimeIsConvertedToUnixMicrosecondsFromThe1900Epoch() {
    long micros = RtcpSenderReport.ntpToUnixMicros(NTP_SECONDS << 32);
    assertEquals((3_976_000_000L - 2_208_988_800L) * 1_000_000L, micros);
    assertEquals(
        Instant.parse("2026-01-01T00:00:00Z"),
        Instant.ofEpochSecond(RtcpSenderReport.ntpToUnixMicros(3_976_214_400L << 32) / 1_000_000L));
    // 2^32 / 4 of a second is 250 ms exactly; the fraction is truncated to whole microseconds.
    assertEquals(
        250_000L, RtcpSenderReport.ntpToUnixMicros((NTP_SECONDS << 32) | 0x4000_0000L) - micros);
    assertEquals(
        999_999L, RtcpSenderReport.ntpToUnixMicros((NTP_SECONDS << 32) | 0xFFFF_FFFFL) - micros);
  }

  @Test
  void ntpSecondsWithTheTopBitClearAreAfterThe2036Wrap() {
    // RFC 4330 §3: NTP era 1 starts at 2036-02-07T06:28:16Z.
    assertEquals(
        Instant.parse("2036-02-07T06:28:16Z").getEpochSecond() * 1_000_000L,
        RtcpSenderReport.ntpToUnixMicros(0L));
    assertEquals(
        Instant.parse("2036-02-07T06:28:16Z").getEpochSecond() * 1_000_000L - 1_000_000L,
        RtcpSenderReport.ntpToUnixMicros(0xFFFF_FFFFL << 32));
  }

  @Test
  void aZeroNtpTimestampMeansTheSenderHasNoWallClock() {
    RtcpSenderReport sr = new RtcpSenderReport();
    assertTrue(parse(sr(1, 0L, 0, 0, 0, 0), sr));
    assertFalse(sr.hasWallClock());
  }

  @Test
  void aCompoundPacketWithoutSenderReportIsRefused() {
    assertFalse(parse(RtpPacketTest.concat(emptyRr(1), sdes(1)), new RtcpSenderReport()));
  }

  @Test
  void everyTruncationIsRefusedExceptAtThePacketBoundaryAfterTheSenderReport() {
    byte[] data = compound();
    int afterSr = 8 + 52;
    for (int length = 0; length < data.length; length++) {
      boolean parsed = RtcpSenderReport.parse(data, 0, length, new RtcpSenderReport());
      assertEquals(length == afterSr, parsed, "length " + length);
    }
  }

  @Test
  void trailingBytesThatAreNotAPacketAreRefused() {
    for (int extra = 1; extra <= 3; extra++) {
      byte[] data = RtpPacketTest.concat(compound(), new byte[extra]);
      assertFalse(parse(data, new RtcpSenderReport()), extra + " trailing bytes");
    }
  }

  @Test
  void aWrongVersionInAnyPacketOfTheCompoundIsRefused() {
    for (int at : new int[] {0, 8, 60}) {
      for (int version : new int[] {0, 1, 3}) {
        byte[] data = compound();
        data[at] = (byte) ((version << 6) | (data[at] & 0x3F));
        assertFalse(parse(data, new RtcpSenderReport()), "version " + version + " at " + at);
      }
    }
  }

  @Test
  void aSenderReportTooShortForItsSenderInfoOrReportBlocksIsRefused() {
    byte[] withBlock = sr(1, 1L << 63, 0, 0, 0, 1);
    // Claim one report block but shrink the length to the sender info alone (28 bytes).
    byte[] shrunk = Arrays.copyOf(withBlock, 28);
    shrunk[3] = 6;
    assertFalse(parse(shrunk, new RtcpSenderReport()));
    // A bare header claiming to be an SR.
    assertFalse(parse(RtpPacketTest.hex("80 C8 0000"), new RtcpSenderReport()));
  }

  @Test
  void aLengthFieldPastTheEndIsRefused() {
    byte[] alone = sr(1, 1L << 63, 0, 0, 0, 0);
    assertTrue(parse(alone, new RtcpSenderReport()));
    alone[3] = 7; // one word more than the 28 bytes present
    assertFalse(parse(alone, new RtcpSenderReport()));
    byte[] data = compound();
    data[8 + 2] = (byte) 0xFF; // the SR claims about 256 KB
    assertFalse(parse(data, new RtcpSenderReport()));
  }

  @Test
  void aRefusedPacketLeavesTheHolderAsItWas() {
    RtcpSenderReport sr = new RtcpSenderReport();
    assertTrue(parse(compound(), sr));
    assertFalse(parse(RtpPacketTest.concat(emptyRr(1), sdes(1)), sr));
    assertEquals(0xDEAD_BEEFL, sr.ssrc());
    assertEquals(0xFFFF_FFF0L, sr.rtpTimestamp());
  }
}
