package org.callvault.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TelephoneEventTest {

  @Test
  void everyFieldOfAnEventBlockIsRead() {
    // Event 11 ('#'), E=1, R=0, volume 10, duration 1600 (200 ms at 8 kHz).
    byte[] data = RtpPacketTest.hex("0B 8A 0640");
    TelephoneEvent e = new TelephoneEvent();

    assertTrue(TelephoneEvent.parse(data, 0, data.length, e));
    assertEquals(11, e.event());
    assertTrue(e.end());
    assertEquals(10, e.volume());
    assertEquals(1600, e.duration());
  }

  @Test
  void fieldsAtTheirLargestValuesComeOutUnsigned() {
    byte[] data = RtpPacketTest.hex("FF 3F FFFF");
    TelephoneEvent e = new TelephoneEvent();

    assertTrue(TelephoneEvent.parse(data, 0, data.length, e));
    assertEquals(255, e.event());
    assertFalse(e.end());
    assertEquals(63, e.volume());
    assertEquals(65535, e.duration());
  }

  @Test
  void theReservedBitIsIgnored() {
    byte[] data = RtpPacketTest.hex("05 C0 0000");
    TelephoneEvent e = new TelephoneEvent();

    assertTrue(TelephoneEvent.parse(data, 0, data.length, e));
    assertTrue(e.end());
    assertEquals(0, e.volume());
  }

  @Test
  void aPayloadShorterThanFourBytesIsRefusedAndLeavesTheHolderAsItWas() {
    TelephoneEvent e = new TelephoneEvent();
    byte[] good = RtpPacketTest.hex("01 0A 00A0");
    assertTrue(TelephoneEvent.parse(good, 0, 4, e));
    byte[] other = RtpPacketTest.hex("09 8A 0140");
    for (int length = 0; length < 4; length++) {
      assertFalse(TelephoneEvent.parse(other, 0, length, e), "length " + length);
    }
    assertEquals(1, e.event());
    assertEquals(160, e.duration());
  }

  @Test
  void withSeveralEventBlocksTheFirstIsParsed() {
    byte[] data = RtpPacketTest.hex("AA 03 0001 0002 0320 0003 0190");
    TelephoneEvent e = new TelephoneEvent();

    assertTrue(TelephoneEvent.parse(data, 2, 8, e));
    assertEquals(0, e.event());
    assertEquals(2, e.duration());
  }

  @Test
  void dtmfEventsMapToTheirKeys() {
    String keys = "0123456789*#ABCD";
    for (int event = 0; event < 16; event++) {
      assertEquals(keys.charAt(event), TelephoneEvent.digit(event), "event " + event);
    }
  }

  @Test
  void otherEventsMapToAQuestionMark() {
    for (int event : new int[] {-1, 16, 32, 255, 256, Integer.MIN_VALUE}) {
      assertEquals('?', TelephoneEvent.digit(event), "event " + event);
    }
  }

  @Test
  void aRangeOutsideTheArrayIsACallerBugAndThrows() {
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> TelephoneEvent.parse(new byte[4], 1, 4, new TelephoneEvent()));
  }
}
