package org.callvault.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RtpPacketTest {

  /** Bytes written as hex pairs, spaces ignored, so each test shows the packet it parses. */
  static byte[] hex(String s) {
    String digits = s.replace(" ", "");
    byte[] out = new byte[digits.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(digits.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  static byte[] concat(byte[]... parts) {
    int total = 0;
    for (byte[] p : parts) total += p.length;
    byte[] out = new byte[total];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  static byte[] filled(int length, int value) {
    byte[] out = new byte[length];
    Arrays.fill(out, (byte) value);
    return out;
  }

  private static RtpProblem parse(byte[] data, RtpPacket out) {
    return RtpPacket.parse(data, 0, data.length, out);
  }

  private static RtpProblem parse(byte[] data) {
    return parse(data, new RtpPacket());
  }

  @Test
  void everyFixedHeaderFieldIsReadAtItsExtremeValue() {
    // V=2, no P/X/CC; M=1, PT=8; seq 65535; ts 0xFFFFFFFF; SSRC with the high bit set.
    byte[] data = concat(hex("80 88 FFFF FFFFFFFF 89ABCDEF"), filled(160, 0xD5));
    RtpPacket p = new RtpPacket();

    assertEquals(RtpProblem.NONE, parse(data, p));
    assertEquals(2, p.version());
    assertFalse(p.padding());
    assertFalse(p.extension());
    assertEquals(0, p.csrcCount());
    assertTrue(p.marker());
    assertEquals(8, p.payloadType());
    assertEquals(65535, p.sequenceNumber());
    assertEquals(0xFFFF_FFFFL, p.timestamp());
    assertEquals(0x89AB_CDEFL, p.ssrc());
    assertEquals(12, p.payloadOffset());
    assertEquals(160, p.payloadLength());
  }

  @Test
  void markerAndPayloadTypeAreSeparateBitsOfTheSecondByte() {
    RtpPacket p = new RtpPacket();
    assertEquals(RtpProblem.NONE, parse(concat(hex("80 60 0001 00000000 00000001"), hex("00")), p));
    assertFalse(p.marker());
    assertEquals(96, p.payloadType());
    assertEquals(1, p.sequenceNumber());
    assertEquals(0, p.timestamp());
    assertEquals(1, p.ssrc());

    assertEquals(RtpProblem.NONE, parse(concat(hex("80 FF 0000 00000000 00000000"), hex("00")), p));
    assertTrue(p.marker());
    assertEquals(127, p.payloadType());
  }

  @Test
  void payloadOffsetIsAnAbsoluteIndexIntoTheArray() {
    byte[] packet = concat(hex("80 00 1234 00000010 00000020"), hex("0102030405"));
    byte[] data = concat(filled(7, 0xEE), packet, filled(9, 0xEE));
    RtpPacket p = new RtpPacket();

    assertEquals(RtpProblem.NONE, RtpPacket.parse(data, 7, packet.length, p));
    assertEquals(7 + 12, p.payloadOffset());
    assertEquals(5, p.payloadLength());
    assertEquals(0x1234, p.sequenceNumber());
    assertEquals(1, data[p.payloadOffset()]);
  }

  @Test
  void aFullListOfFifteenCsrcsIsSkippedAndKept() {
    byte[] csrcs = new byte[15 * 4];
    for (int i = 0; i < 15; i++) {
      csrcs[4 * i] = (byte) (0x80 + i); // high bit set: must come out unsigned
      csrcs[4 * i + 3] = (byte) i;
    }
    byte[] data = concat(hex("8F 00 0001 00000001 00000001"), csrcs, hex("AABB"));
    RtpPacket p = new RtpPacket();

    assertEquals(RtpProblem.NONE, parse(data, p));
    assertEquals(15, p.csrcCount());
    for (int i = 0; i < 15; i++) {
      assertEquals(((0x80L + i) << 24) | i, p.csrc(i), "CSRC " + i);
    }
    assertEquals(72, p.payloadOffset());
    assertEquals(2, p.payloadLength());
    assertThrows(IndexOutOfBoundsException.class, () -> p.csrc(15));
  }

  @Test
  void aHeaderExtensionIsSkippedUsingItsLengthInWords() {
    // Profile 0xBEDE (RFC 8285 one-byte headers), length 2 words = 8 bytes of extension data.
    byte[] data =
        concat(hex("90 00 0001 00000001 00000001"), hex("BEDE 0002"), filled(8, 0x11), hex("C0C1"));
    RtpPacket p = new RtpPacket();

    assertEquals(RtpProblem.NONE, parse(data, p));
    assertTrue(p.extension());
    assertEquals(0xBEDE, p.extensionProfile());
    assertEquals(16, p.extensionOffset());
    assertEquals(8, p.extensionLength());
    assertEquals(24, p.payloadOffset());
    assertEquals(2, p.payloadLength());
    assertEquals((byte) 0xC0, data[p.payloadOffset()]);
  }

  @Test
  void anEmptyHeaderExtensionIsAllowed() {
    RtpPacket p = new RtpPacket();
    assertEquals(
        RtpProblem.NONE,
        parse(concat(hex("90 00 0001 00000001 00000001 1000 0000"), hex("77")), p));
    assertEquals(0x1000, p.extensionProfile());
    assertEquals(0, p.extensionLength());
    assertEquals(16, p.payloadOffset());
    assertEquals(1, p.payloadLength());
  }

  @Test
  void paddingIsRemovedFromThePayloadLength() {
    // 5 payload bytes, then 3 padding bytes whose last one says 3.
    byte[] data = concat(hex("A0 00 0001 00000001 00000001"), hex("0102030405"), hex("000003"));
    RtpPacket p = new RtpPacket();

    assertEquals(RtpProblem.NONE, parse(data, p));
    assertTrue(p.padding());
    assertEquals(12, p.payloadOffset());
    assertEquals(5, p.payloadLength());
  }

  @Test
  void csrcsExtensionAndPaddingTogetherLeaveExactlyThePayload() {
    byte[] data =
        concat(
            hex("B2 00 0001 00000001 00000001"), // V=2 P X CC=2
            hex("00000002 00000003"),
            hex("0001 0001 DEADBEEF"),
            hex("0A0B0C"),
            hex("0002"));
    RtpPacket p = new RtpPacket();

    assertEquals(RtpProblem.NONE, parse(data, p));
    assertEquals(2, p.csrcCount());
    assertEquals(2, p.csrc(0));
    assertEquals(3, p.csrc(1));
    assertEquals(12 + 8 + 4 + 4, p.payloadOffset());
    assertEquals(3, p.payloadLength());
  }

  @Test
  void everyLengthBelowTheFixedHeaderIsTooShort() {
    byte[] valid = concat(hex("80 00 0001 00000001 00000001"), hex("00"));
    for (int length = 0; length < 12; length++) {
      assertEquals(
          RtpProblem.TOO_SHORT,
          RtpPacket.parse(valid, 0, length, new RtpPacket()),
          "length " + length);
    }
  }

  @Test
  void versionsOtherThanTwoAreRefused() {
    for (int version : new int[] {0, 1, 3}) {
      byte[] data = concat(hex("80 00 0001 00000001 00000001"), hex("00"));
      data[0] = (byte) ((version << 6) | (data[0] & 0x3F));
      assertEquals(RtpProblem.BAD_VERSION, parse(data), "version " + version);
    }
  }

  @Test
  void fifteenCsrcsWithOneByteMissingRunPastThePacket() {
    // CC=15 needs 12 + 60 bytes of header; give 71.
    byte[] data = concat(hex("8F 00 0001 00000001 00000001"), filled(59, 0x01));
    assertEquals(RtpProblem.CSRC_BEYOND_PACKET, parse(data));
  }

  @Test
  void anExtensionWhosePreambleOrDataDoesNotFitRunsPastThePacket() {
    assertEquals(
        RtpProblem.EXTENSION_BEYOND_PACKET, parse(hex("90 00 0001 00000001 00000001 BEDE")));
    // Length 3 words = 12 bytes of extension data, only 11 present.
    assertEquals(
        RtpProblem.EXTENSION_BEYOND_PACKET,
        parse(concat(hex("90 00 0001 00000001 00000001 BEDE 0003"), filled(11, 0))));
    // The largest length field, in a small packet.
    assertEquals(
        RtpProblem.EXTENSION_BEYOND_PACKET,
        parse(concat(hex("90 00 0001 00000001 00000001 BEDE FFFF"), filled(100, 0))));
  }

  @Test
  void aPaddingCountOfZeroIsBadPadding() {
    assertEquals(
        RtpProblem.BAD_PADDING, parse(concat(hex("A0 00 0001 00000001 00000001"), hex("010200"))));
  }

  @Test
  void aPaddingCountLargerThanWhatFollowsTheHeaderIsBadPadding() {
    // 4 bytes after the header, padding count 5.
    assertEquals(
        RtpProblem.BAD_PADDING,
        parse(concat(hex("A0 00 0001 00000001 00000001"), hex("01020305"))));
    // Padding may not eat into the CSRC list either.
    assertEquals(
        RtpProblem.BAD_PADDING,
        parse(concat(hex("A1 00 0001 00000001 00000001 00000007"), hex("FF"))));
  }

  @Test
  void paddingThatFillsEverythingAfterTheHeaderLeavesAnEmptyPayload() {
    assertEquals(
        RtpProblem.EMPTY_PAYLOAD,
        parse(concat(hex("A0 00 0001 00000001 00000001"), hex("000004"), hex("04"))));
  }

  @Test
  void aHeaderOnlyPacketHasAnEmptyPayload() {
    assertEquals(RtpProblem.EMPTY_PAYLOAD, parse(hex("80 00 0001 00000001 00000001")));
    assertEquals(
        RtpProblem.EMPTY_PAYLOAD,
        parse(concat(hex("8F 00 0001 00000001 00000001"), filled(60, 0x01))));
    assertEquals(
        RtpProblem.EMPTY_PAYLOAD, parse(hex("90 00 0001 00000001 00000001 BEDE 0001 00000000")));
  }

  @Test
  void rtcpPacketsOnTheRtpPortAreRecognisedAsSuch() {
    for (int packetType = 200; packetType <= 204; packetType++) {
      byte[] data = concat(hex("81"), new byte[] {(byte) packetType}, hex("0006"), filled(24, 0));
      assertEquals(RtpProblem.RTCP_ON_RTP_PORT, parse(data), "packet type " + packetType);
    }
    // An empty receiver report is only 8 bytes: still RTCP, not a truncated RTP packet.
    assertEquals(RtpProblem.RTCP_ON_RTP_PORT, parse(hex("80 C9 0001 12345678")));
    // Reduced-size RTCP (RFC 5506) may start with a feedback packet, type 205 or 206.
    assertEquals(RtpProblem.RTCP_ON_RTP_PORT, parse(hex("81 CD 0002 00000001 00000002")));
  }

  @Test
  void payloadType72WithoutTheMarkerIsStillRtp() {
    // Only marker + PT 64..95 collides with RTCP; the receiver refuses PT 72 as not negotiated.
    RtpPacket p = new RtpPacket();
    assertEquals(RtpProblem.NONE, parse(concat(hex("80 48 0001 00000001 00000001"), hex("00")), p));
    assertEquals(72, p.payloadType());
  }

  @Test
  void aRefusedPacketLeavesTheHolderAsItWas() {
    RtpPacket p = new RtpPacket();
    assertEquals(RtpProblem.NONE, parse(concat(hex("80 00 0007 00000001 00000001"), hex("00")), p));
    assertEquals(
        RtpProblem.BAD_PADDING, parse(concat(hex("A0 08 0009 00000002 00000002"), hex("0100")), p));
    assertEquals(7, p.sequenceNumber());
    assertEquals(0, p.payloadType());
    assertEquals(1, p.payloadLength());
  }

  @Test
  void aRangeOutsideTheArrayIsACallerBugAndThrows() {
    byte[] data = new byte[20];
    assertThrows(
        IndexOutOfBoundsException.class, () -> RtpPacket.parse(data, 10, 11, new RtpPacket()));
    assertThrows(
        IndexOutOfBoundsException.class, () -> RtpPacket.parse(data, -1, 5, new RtpPacket()));
  }

  @Test
  void everyProblemHasADescription() {
    for (RtpProblem problem : RtpProblem.values()) {
      assertFalse(problem.description().isBlank(), problem.name());
    }
  }
}
