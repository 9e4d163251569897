package org.callvault.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.callvault.media.rtp.ReorderWindow.Offer;
import org.junit.jupiter.api.Test;

class ReorderWindowTest {

  private static final long MS = 1_000_000L;

  /** Records what the window emits as "p&lt;seq&gt;" and "lost &lt;first&gt;+&lt;count&gt;". */
  static final class Recorder implements ReorderWindow.Sink {
    final List<String> events = new ArrayList<>();
    final List<Long> seqs = new ArrayList<>();
    final List<long[]> losses = new ArrayList<>();
    final Map<Long, byte[]> payloads = new HashMap<>();
    final Map<Long, long[]> timing = new HashMap<>();

    @Override
    public void packet(
        long extSeq, long extTimestamp, long arrivalNanos, byte[] buf, int off, int len) {
      events.add("p" + extSeq);
      seqs.add(extSeq);
      payloads.put(extSeq, Arrays.copyOfRange(buf, off, off + len));
      timing.put(extSeq, new long[] {extTimestamp, arrivalNanos});
    }

    @Override
    public void lost(long firstExtSeq, long count) {
      events.add("lost " + firstExtSeq + "+" + count);
      losses.add(new long[] {firstExtSeq, count});
    }

    List<String> take() {
      List<String> out = new ArrayList<>(events);
      events.clear();
      return out;
    }
  }

  private final Recorder sink = new Recorder();

  private static final byte[] ONE = {42};

  private static Offer offer(ReorderWindow w, long seq, long arrival, Recorder sink) {
    return w.offer(seq, seq * 160, arrival, ONE, 0, 1, sink);
  }

  private Offer offer(ReorderWindow w, long seq) {
    return offer(w, seq, 0, sink);
  }

  @Test
  void packetsInOrderPassStraightThrough() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    for (long seq = 10; seq < 20; seq++) {
      assertEquals(Offer.ACCEPTED, offer(w, seq));
      assertEquals(List.of("p" + seq), sink.take());
      assertEquals(0, w.held());
    }
  }

  @Test
  void twoSwappedPacketsComeOutInOrder() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    assertEquals(Offer.ACCEPTED, offer(w, 0));
    assertEquals(Offer.ACCEPTED, offer(w, 2));
    assertEquals(List.of("p0"), sink.take());
    assertEquals(1, w.held());
    assertEquals(Offer.ACCEPTED, offer(w, 1));
    assertEquals(List.of("p1", "p2"), sink.take());
    assertEquals(Offer.ACCEPTED, offer(w, 3));
    assertEquals(List.of("p3"), sink.take());
    assertTrue(sink.losses.isEmpty());
  }

  @Test
  void aDuplicateOfAHeldPacketIsDropped() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    offer(w, 0);
    offer(w, 2);
    assertEquals(Offer.DUPLICATE, offer(w, 2));
    assertEquals(1, w.held());
    offer(w, 1);
    assertEquals(List.of("p0", "p1", "p2"), sink.take());
  }

  @Test
  void aDuplicateOfAnEmittedPacketIsDroppedAsDuplicate() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    offer(w, 0);
    offer(w, 1);
    assertEquals(Offer.DUPLICATE, offer(w, 1));
    assertEquals(Offer.DUPLICATE, offer(w, 0));
    assertEquals(List.of("p0", "p1"), sink.take());
  }

  @Test
  void emittedPacketsAreRememberedAsDuplicatesOnlyForTheLastThousandSequenceNumbers() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    for (long seq = 0; seq <= 2000; seq++) offer(w, seq);
    assertEquals(Offer.DUPLICATE, offer(w, 2001 - ReorderWindow.HISTORY));
    assertEquals(Offer.TOO_LATE, offer(w, 2000 - ReorderWindow.HISTORY));
    assertEquals(Offer.TOO_LATE, offer(w, 5));
  }

  @Test
  void aGapIsReportedLostOnceWhenTheWindowFills() {
    ReorderWindow w = new ReorderWindow(4, 1500, 60 * MS);
    offer(w, 0);
    offer(w, 2);
    offer(w, 3);
    offer(w, 4);
    assertEquals(List.of("p0"), sink.take());
    assertEquals(3, w.held());
    // 5 does not fit in the span 1..4: seq 1 is given up on.
    assertEquals(Offer.ACCEPTED, offer(w, 5));
    assertEquals(List.of("lost 1+1", "p2", "p3", "p4", "p5"), sink.take());
    assertEquals(Offer.TOO_LATE, offer(w, 1));
    offer(w, 6);
    w.drain(Long.MAX_VALUE, sink);
    w.flush(sink);
    assertEquals(List.of("p6"), sink.take());
    assertEquals(1, sink.losses.size());
  }

  @Test
  void aLongerGapIsReportedAsOneRunWithItsFirstSequenceNumberAndCount() {
    ReorderWindow w = new ReorderWindow(4, 1500, 60 * MS);
    offer(w, 100);
    offer(w, 103);
    offer(w, 104);
    assertEquals(List.of("p100"), sink.take());
    offer(w, 105); // beyond the span 101..104: give up on 101..102
    assertEquals(List.of("lost 101+2", "p103", "p104", "p105"), sink.take());
    assertEquals(Offer.TOO_LATE, offer(w, 102));
    assertEquals(1, sink.losses.size());
  }

  @Test
  void aGapIsReportedLostOnceWhenTheOldestHeldPacketHasWaitedTheMaximumDelay() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    offer(w, 0, 0, sink);
    offer(w, 3, 10 * MS, sink);
    offer(w, 4, 20 * MS, sink);
    w.drain(20 * MS, sink);
    w.drain(69 * MS, sink);
    assertEquals(List.of("p0"), sink.take());
    w.drain(70 * MS, sink);
    assertEquals(List.of("lost 1+2", "p3", "p4"), sink.take());
    w.drain(1000 * MS, sink);
    assertEquals(List.of(), sink.take());
    assertEquals(Offer.TOO_LATE, offer(w, 2, 1000 * MS, sink));
    assertEquals(Offer.TOO_LATE, offer(w, 1, 1000 * MS, sink));
  }

  @Test
  void theDelayCountsFromTheEarliestArrivalNotTheLowestSequenceNumber() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    offer(w, 0, 0, sink);
    offer(w, 5, 0, sink); // arrives first, waits behind 1..4
    offer(w, 3, 30 * MS, sink);
    w.drain(59 * MS, sink);
    assertEquals(List.of("p0"), sink.take());
    w.drain(60 * MS, sink);
    assertEquals(List.of("lost 1+2", "p3", "lost 4+1", "p5"), sink.take());
  }

  @Test
  void flushEmitsEverythingHeldWithTheGapsAsLostAndStartsAfresh() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    offer(w, 0);
    offer(w, 2);
    offer(w, 5);
    w.flush(sink);
    assertEquals(List.of("p0", "lost 1+1", "p2", "lost 3+2", "p5"), sink.take());
    assertEquals(0, w.held());
    // A new SSRC may start anywhere, even below where the old one stopped.
    assertEquals(Offer.ACCEPTED, offer(w, 3));
    assertEquals(Offer.ACCEPTED, offer(w, 4));
    assertEquals(List.of("p3", "p4"), sink.take());
  }

  @Test
  void flushOfAnEmptyWindowDoesNothing() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    w.flush(sink);
    offer(w, 7);
    w.flush(sink);
    assertEquals(List.of("p7"), sink.take());
  }

  @Test
  void aJumpFarAheadWithNothingHeldSkipsStraightToTheNewPacket() {
    ReorderWindow w = new ReorderWindow(8, 1500, 60 * MS);
    offer(w, 0);
    offer(w, 1000);
    assertEquals(List.of("p0", "lost 1+999", "p1000"), sink.take());
  }

  @Test
  void aJumpFarAheadEmitsWhatIsHeldFirst() {
    ReorderWindow w = new ReorderWindow(8, 1500, 60 * MS);
    offer(w, 0);
    offer(w, 2);
    offer(w, 1_000_000);
    assertEquals(List.of("p0", "lost 1+1", "p2", "lost 3+999997", "p1000000"), sink.take());
    assertEquals(Offer.TOO_LATE, offer(w, 3));
  }

  @Test
  void extendedSequenceNumbersAcrossA16BitWrapOrBelowZeroAreOrdinaryNumbers() {
    ReorderWindow w = new ReorderWindow(32, 1500, 60 * MS);
    offer(w, 65534);
    offer(w, 65536);
    offer(w, 65535);
    offer(w, 65537);
    assertEquals(List.of("p65534", "p65535", "p65536", "p65537"), sink.take());

    ReorderWindow negative = new ReorderWindow(5, 1500, 60 * MS);
    offer(negative, -3);
    offer(negative, -1);
    offer(negative, 1);
    offer(negative, -2);
    offer(negative, 0);
    assertEquals(Offer.DUPLICATE, offer(negative, -1));
    assertEquals(List.of("p-3", "p-2", "p-1", "p0", "p1"), sink.take());

    ReorderWindow large = new ReorderWindow(3, 1500, 60 * MS);
    long base = (1L << 40) - 1;
    offer(large, base);
    offer(large, base + 2);
    offer(large, base + 1);
    assertEquals(List.of("p" + base, "p" + (base + 1), "p" + (base + 2)), sink.take());
  }

  @Test
  void payloadsTimestampsAndArrivalTimesComeOutIntact() {
    Random random = new Random(4733);
    ReorderWindow w = new ReorderWindow(16, 1500, 60 * MS);
    int count = 200;
    byte[][] sent = new byte[count][];
    for (int i = 0; i < count; i++) {
      int len = i % 50 == 0 ? 1500 : i % 37 == 0 ? 0 : random.nextInt(1501);
      sent[i] = new byte[len];
      random.nextBytes(sent[i]);
    }
    // Offer in an order shuffled within blocks of 8, each from inside a larger array.
    for (int block = 0; block < count; block += 8) {
      int[] order = {0, 3, 7, 1, 2, 6, 5, 4};
      for (int k : order) {
        int i = block + k;
        byte[] framed = RtpPacketTest.concat(new byte[3], sent[i], new byte[5]);
        Arrays.fill(framed, 0, 3, (byte) 0x5A);
        assertEquals(
            Offer.ACCEPTED, w.offer(i, 1000L + 160L * i, 7L * i, framed, 3, sent[i].length, sink));
      }
    }
    assertEquals(0, w.held());
    assertTrue(sink.losses.isEmpty());
    for (int i = 0; i < count; i++) {
      assertEquals(i, (long) sink.seqs.get(i));
      assertArrayEquals(sent[i], sink.payloads.get((long) i), "payload of " + i);
      assertArrayEquals(new long[] {1000L + 160L * i, 7L * i}, sink.timing.get((long) i));
    }
  }

  @Test
  void aPayloadLargerThanTheSlotsIsAConfigurationError() {
    ReorderWindow w = new ReorderWindow(4, 160, 60 * MS);
    assertThrows(
        IllegalArgumentException.class, () -> w.offer(0, 0, 0, new byte[161], 0, 161, sink));
    assertThrows(IndexOutOfBoundsException.class, () -> w.offer(0, 0, 0, new byte[10], 5, 6, sink));
    assertEquals(Offer.ACCEPTED, w.offer(0, 0, 0, new byte[160], 0, 160, sink));
  }

  @Test
  void nonsensicalConstructionIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ReorderWindow(0, 1500, MS));
    assertThrows(IllegalArgumentException.class, () -> new ReorderWindow(4, -1, MS));
    assertThrows(IllegalArgumentException.class, () -> new ReorderWindow(4, 1500, -1));
    assertThrows(ArithmeticException.class, () -> new ReorderWindow(1 << 20, 1 << 12, MS));
  }

  @Test
  void underRandomJitterLossAndDuplicationEverySequenceNumberIsEmittedOrLostExactlyOnceInOrder() {
    Random random = new Random(3550);
    for (int round = 0; round < 50; round++) {
      int capacity = 1 + random.nextInt(40);
      ReorderWindow w = new ReorderWindow(capacity, 4, 60 * MS);
      Recorder out = new Recorder();
      // Each packet is sent every 20 ms and delayed by 0..80 ms; some are lost, some doubled.
      List<long[]> arrivals = new ArrayList<>();
      long first = random.nextInt(100_000) - 50_000;
      int packets = 500;
      for (int i = 0; i < packets; i++) {
        if (i > 0 && random.nextInt(20) == 0) continue;
        int copies = random.nextInt(30) == 0 ? 2 : 1;
        for (int c = 0; c < copies; c++) {
          arrivals.add(new long[] {first + i, 20 * MS * i + random.nextInt(80) * MS});
        }
      }
      arrivals.sort((a, b) -> Long.compare(a[1], b[1]));
      // The first packet to arrive defines the start; anything sent before it is simply too late.
      long start = arrivals.get(0)[0];
      long lastSeq = start;
      for (long[] a : arrivals) {
        byte[] payload = {
          (byte) a[0], (byte) (a[0] >> 8), (byte) (a[0] >> 16), (byte) (a[0] >> 24)
        };
        w.offer(a[0], a[0], a[1], payload, 0, 4, out);
        w.drain(a[1], out);
        lastSeq = Math.max(lastSeq, a[0]);
      }
      w.flush(out);

      // Walk the events: emitted seqs strictly increase, and emitted + lost tile [first, last].
      long expected = start;
      for (String event : out.events) {
        if (event.startsWith("p")) {
          long seq = Long.parseLong(event.substring(1));
          assertEquals(expected, seq, "round " + round + ": " + out.events);
          byte[] payload = out.payloads.get(seq);
          assertEquals((byte) seq, payload[0]);
          assertEquals((byte) (seq >> 24), payload[3]);
          expected++;
        } else {
          String[] parts = event.substring(5).split("\\+");
          assertEquals(expected, Long.parseLong(parts[0]), "round " + round + ": " + out.events);
          long count = Long.parseLong(parts[1]);
          assertTrue(count > 0);
          expected += count;
        }
      }
      assertEquals(lastSeq + 1, expected, "round " + round);
    }
  }
}
