package org.callvault.media.rtp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SequenceUnwrapperTest {

  @Test
  void theFirstSequenceNumberIsTakenAsIs() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    assertEquals(16, u.bits());
    assertEquals(1234, u.unwrap(1234));
    assertEquals(1235, u.unwrap(1235));
    assertEquals(1235, u.highest());
  }

  @Test
  void sequenceNumbersKeepCountingForwardAcrossTheWrap() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    assertEquals(65534, u.unwrap(65534));
    assertEquals(65535, u.unwrap(65535));
    assertEquals(65536, u.unwrap(0));
    assertEquals(65537, u.unwrap(1));
    // Many wraps: 50 packets per second for a day and a half.
    long expected = 65537;
    for (int i = 0; i < 7_000_000; i++) {
      expected++;
      assertEquals(expected, u.unwrap((int) (expected & 0xFFFF)));
    }
  }

  @Test
  void aLatePacketFromBeforeTheWrapGetsTheSmallerValue() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    u.unwrap(65533);
    assertEquals(65536, u.unwrap(0));
    assertEquals(65537, u.unwrap(1));
    assertEquals(65535, u.unwrap(65535)); // late, from the previous cycle
    assertEquals(65534, u.unwrap(65534));
    assertEquals(65537, u.highest());
    assertEquals(65538, u.unwrap(2));
  }

  @Test
  void aPacketSentBeforeTheFirstOneAcrossAWrapGetsANegativeValue() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    assertEquals(1, u.unwrap(1));
    assertEquals(-1, u.unwrap(65535));
    assertEquals(0, u.unwrap(0));
    assertEquals(2, u.unwrap(2));
  }

  @Test
  void jumpsUpToHalfTheRangeAreTakenAsForwardAndLargerOnesAsBackward() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    u.unwrap(100);
    assertEquals(100 + 32767, u.unwrap(100 + 32767)); // a burst loss of 32766 packets
    assertEquals(65536 + 10, u.unwrap(10)); // 32679 ahead again, past the wrap
    // Exactly half the range away is read as older, more than half as the other way round.
    assertEquals(65546 - 32768, u.unwrap((65546 - 32768) & 0xFFFF));
    assertEquals(65546, u.highest());
    assertEquals(65546 - 40000 + 65536, u.unwrap((10 + 25536) & 0xFFFF));
  }

  @Test
  void duplicatesMapToTheSameValue() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    u.unwrap(65535);
    assertEquals(65536, u.unwrap(0));
    assertEquals(65536, u.unwrap(0));
    assertEquals(65535, u.unwrap(65535));
  }

  @Test
  void resetStartsAfreshForANewSsrc() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    u.unwrap(65535);
    u.unwrap(0);
    u.reset();
    assertEquals(40000, u.unwrap(40000));
    assertEquals(40001, u.unwrap(40001));
  }

  @Test
  void onlyTheLowBitsOfTheValueAreUsed() {
    SequenceUnwrapper u = SequenceUnwrapper.forSequenceNumbers();
    assertEquals(5, u.unwrap(0x10005));
    assertEquals(6, u.unwrap(-65530)); // low 16 bits are 6
  }

  @Test
  void timestampsWrapAtThirtyTwoBits() {
    SequenceUnwrapper u = SequenceUnwrapper.forTimestamps();
    assertEquals(32, u.bits());
    assertEquals(0xFFFF_FF60L, u.unwrap(0xFFFF_FF60L));
    assertEquals(0x1_0000_0000L, u.unwrap(0L)); // 160 samples later
    assertEquals(0x1_0000_00A0L, u.unwrap(0xA0L));
    assertEquals(0xFFFF_FF60L, u.unwrap(0xFFFF_FF60L)); // late packet from before the wrap
    // A silence of ten minutes at 8 kHz (DTX) is a big forward jump, still well under 2^31.
    assertEquals(0x1_0000_00A0L + 4_800_000L, u.unwrap(0xA0L + 4_800_000L));
  }

  @Test
  void timestampJumpsOfMoreThanHalfTheRangeAreTakenAsBackward() {
    SequenceUnwrapper u = SequenceUnwrapper.forTimestamps();
    u.unwrap(0);
    assertEquals(0x7FFF_FFFFL, u.unwrap(0x7FFF_FFFFL));
    assertEquals(0x7FFF_FFFFL - 0x8000_0000L, u.unwrap(0xFFFF_FFFFL));
  }
}
