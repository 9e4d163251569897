package org.callvault.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkPackets;
import org.junit.jupiter.api.Test;

/** One stream's datagrams through validation, gating, ordering, counting and chunk assembly. */
public class StreamRecorderTest {

  private static final InetSocketAddress SENDER = new InetSocketAddress("127.0.0.1", 40000);
  private static final InetSocketAddress OTHER = new InetSocketAddress("127.0.0.1", 40002);
  private static final long T0_NANOS = 1_000_000_000L;
  private static final long T0_WALL = 1_800_000_000_000_000L; // micros
  private static final StreamRecorder.Settings SETTINGS =
      new StreamRecorder.Settings(8000, 16, 60_000_000L, 30_000_000_000L, 250);

  private final TestGates gates = new TestGates();
  private final List<AudioChunk> chunks = new ArrayList<>();
  private final List<String> digits = new ArrayList<>();
  private final List<Long> timeouts = new ArrayList<>();

  private final StreamRecorder.Output output =
      new StreamRecorder.Output() {
        @Override
        public void chunk(StreamRecorder from, AudioChunk chunk) {
          chunks.add(chunk);
          from.stored(chunk.info());
        }

        @Override
        public void digit(String label, String digit, long wallMillis) {
          digits.add(digit + "@" + wallMillis);
        }

        @Override
        public void timeout(String label, long lastPacketAt, long silentMillis) {
          timeouts.add(silentMillis);
        }
      };

  private StreamRecorder recorder(StreamSpec spec, boolean open) {
    StreamRecorder recorder =
        new StreamRecorder(
            "call-1",
            spec,
            gates.apply(spec.label()),
            StreamCounters.ZERO,
            SETTINGS,
            output,
            T0_NANOS);
    recorder.activate(2);
    setGate(spec.label(), open);
    return recorder;
  }

  private void setGate(String label, boolean open) {
    gates.set(label, open); // the test stands in for the call's entity
  }

  public static byte[] rtp(int pt, int seq, long ts, long ssrc, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(12 + payload.length);
    b.put((byte) 0x80)
        .put((byte) pt)
        .putShort((short) seq)
        .putInt((int) ts)
        .putInt((int) ssrc)
        .put(payload);
    return b.array();
  }

  public static byte[] payload(int k) {
    byte[] p = new byte[160];
    for (int i = 0; i < p.length; i++) p[i] = (byte) (k * 31 + i);
    return p;
  }

  /** Sends packet k of a stream starting at seq0/ts0, arriving at its 20 ms slot. */
  private static void send(
      StreamRecorder r, int k, int seq0, long ts0, long ssrc, InetSocketAddress from) {
    byte[] packet = rtp(0, (seq0 + k) & 0xFFFF, (ts0 + 160L * k) & 0xFFFF_FFFFL, ssrc, payload(k));
    r.onRtp(packet, packet.length, from, T0_NANOS + k * 20_000_000L, T0_WALL + k * 20_000L);
  }

  private static List<long[]> packetsOf(AudioChunk chunk) {
    List<long[]> out = new ArrayList<>();
    ChunkPackets.read(
        chunk.packets(),
        (seq, ts, data, off, len) -> out.add(new long[] {seq, ts, len, data[off]}));
    return out;
  }

  @Test
  void inOrderPacketsBecomeOneSecondChunksThatKeepEverySequenceNumberTimestampAndByte() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 120; k++) send(r, k, 65500, 4_294_967_000L, 7, SENDER);
    r.close();
    assertEquals(3, chunks.size());
    ChunkInfo first = chunks.get(0).info();
    assertEquals(50, first.packets());
    assertEquals(0, first.n());
    assertEquals(2, first.epoch());
    assertEquals(65500, first.firstSeq());
    assertEquals(65549, first.lastSeq(), "sequence numbers are extended across the wrap");
    assertEquals(4_294_967_000L, first.firstTs());
    assertEquals(4_294_967_000L + 8000, first.endTs(), "timestamps are extended across the wrap");
    assertEquals(T0_WALL, first.anchorWallMicros());
    assertEquals(T0_WALL, first.startWallMicros());
    assertEquals(T0_WALL + 1_000_000, first.endWallMicros());
    assertEquals(20, chunks.get(2).info().packets());
    assertEquals(2, chunks.get(2).info().n());

    List<long[]> stored = new ArrayList<>();
    chunks.forEach(c -> stored.addAll(packetsOf(c)));
    assertEquals(120, stored.size());
    for (int k = 0; k < 120; k++) {
      assertEquals(65500L + k, stored.get(k)[0]);
      assertEquals(4_294_967_000L + 160L * k, stored.get(k)[1]);
      assertEquals(160, stored.get(k)[2]);
      assertEquals(payload(k)[0], (byte) stored.get(k)[3]);
    }
    byte[] bytes = new byte[160];
    ChunkPackets.read(
        chunks.get(1).packets(),
        (seq, ts, data, off, len) -> {
          if (seq == 65500 + 60) System.arraycopy(data, off, bytes, 0, len);
        });
    assertArrayEquals(payload(60), bytes);
    StreamCounters c = r.counters();
    assertEquals(120, c.received());
    assertEquals(120, c.stored());
    assertEquals(0, c.lost());
    assertEquals(3, c.chunksStored());
  }

  @Test
  void reorderedAndDuplicatedPacketsAreStoredOnceInOrderAndLossIsCountedExactly() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    int[] order = {
      0, 1, 3, 2, 4, 4, 5, 7, 8, 9, 2, 10
    }; // 6 lost, 3/2 swapped, 4 twice, 2 again late
    for (int k : order) send(r, k, 100, 0, 7, SENDER);
    r.close();
    List<Long> seqs = new ArrayList<>();
    chunks.forEach(c -> packetsOf(c).forEach(p -> seqs.add(p[0])));
    assertEquals(List.of(100L, 101L, 102L, 103L, 104L, 105L, 107L, 108L, 109L, 110L), seqs);
    StreamCounters c = r.counters();
    assertEquals(12, c.received());
    assertEquals(10, c.stored());
    assertEquals(1, c.lost());
    assertEquals(2, c.duplicated());
  }

  @Test
  void aClosedGateDropsAndCountsPacketsAndItsSpanIsNotCountedAsLoss() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 10; k++) send(r, k, 0, 0, 7, SENDER);
    setGate("a", false);
    for (int k = 10; k < 30; k++) send(r, k, 0, 0, 7, SENDER);
    setGate("a", true);
    for (int k = 30; k < 40; k++) send(r, k, 0, 0, 7, SENDER);
    r.close();
    StreamCounters c = r.counters();
    assertEquals(40, c.received());
    assertEquals(20, c.droppedByGate());
    assertEquals(20, c.stored());
    assertEquals(0, c.lost());
    assertEquals(2, chunks.size(), "the chunk before the gate closed is stored when it closes");
    assertEquals(9, chunks.get(0).info().lastSeq());
    assertEquals(30, chunks.get(1).info().firstSeq());
    assertEquals(30 * 160, chunks.get(1).info().firstTs());
    assertEquals(
        T0_WALL + 30 * 20_000,
        chunks.get(1).info().startWallMicros(),
        "the anchor keeps the timeline across the gap");
  }

  @Test
  void nothingIsStoredBeforeTheStreamIsActivated() {
    StreamRecorder r =
        new StreamRecorder(
            "call-1",
            new StreamSpec("a", "agent", Codec.PCMU),
            gates.apply("a"),
            StreamCounters.ZERO,
            SETTINGS,
            output,
            T0_NANOS);
    setGate("a", true);
    for (int k = 0; k < 5; k++) send(r, k, 0, 0, 7, SENDER);
    r.close();
    assertEquals(0, chunks.size());
    assertEquals(5, r.counters().droppedByGate());
  }

  @Test
  void theStreamLatchesOnTheFirstValidSourceAndRejectsEveryOther() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    byte[] garbage = {1, 2, 3};
    r.onRtp(garbage, 3, OTHER, T0_NANOS, T0_WALL); // malformed: does not latch
    send(r, 0, 0, 0, 7, SENDER);
    send(r, 1, 0, 0, 7, OTHER);
    send(r, 2, 0, 0, 7, SENDER);
    r.close();
    StreamCounters c = r.counters();
    assertEquals(Map.of("TOO_SHORT", 1L, "FOREIGN_SOURCE", 1L), c.rejected());
    assertEquals(2, c.stored());
  }

  @Test
  void aDeclaredSourceIsTheOnlyOneAccepted() {
    StreamRecorder r =
        recorder(new StreamSpec("a", "agent", Codec.PCMU, "127.0.0.1:40002", null), true);
    send(r, 0, 0, 0, 7, SENDER);
    send(r, 1, 0, 0, 7, OTHER);
    r.close();
    assertEquals(Map.of("FOREIGN_SOURCE", 1L), r.counters().rejected());
    assertEquals(1, r.counters().stored());
  }

  @Test
  void malformedPacketsAndOtherPayloadTypesAreCountedByReasonAndNeverStored() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    send(r, 0, 0, 0, 7, SENDER);
    byte[] pcma = rtp(8, 1, 160, 7, payload(1));
    r.onRtp(pcma, pcma.length, SENDER, T0_NANOS + 20_000_000L, T0_WALL + 20_000);
    byte[] v1 = rtp(0, 2, 320, 7, payload(2));
    v1[0] = 0x40;
    r.onRtp(v1, v1.length, SENDER, T0_NANOS + 40_000_000L, T0_WALL + 40_000);
    byte[] headerOnly = rtp(0, 3, 480, 7, new byte[0]);
    r.onRtp(headerOnly, headerOnly.length, SENDER, T0_NANOS + 60_000_000L, T0_WALL + 60_000);
    byte[] padded = rtp(0, 4, 640, 7, new byte[] {1, 2, (byte) 9});
    padded[0] = (byte) 0xA0; // padding bit, last byte says 9 octets of padding in a 3-byte payload
    r.onRtp(padded, padded.length, SENDER, T0_NANOS + 80_000_000L, T0_WALL + 80_000);
    r.close();
    assertEquals(
        Map.of(
            "UNKNOWN_PAYLOAD_TYPE", 1L, "BAD_VERSION", 1L, "EMPTY_PAYLOAD", 1L, "BAD_PADDING", 1L),
        r.counters().rejected());
    assertEquals(1, r.counters().stored());
    assertEquals(1, chunks.get(0).info().packets());
  }

  @Test
  void aNewSsrcStartsANewSegmentWithItsOwnNumbering() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 10; k++) send(r, k, 1000, 50_000, 7, SENDER);
    for (int k = 10; k < 20; k++) send(r, k, 30, 9_000_000 - 1600, 8, SENDER);
    r.close();
    assertEquals(2, chunks.size());
    assertEquals(0, chunks.get(0).info().segment());
    assertEquals(1, chunks.get(1).info().segment());
    assertEquals(8, chunks.get(1).info().ssrc());
    assertEquals(40, chunks.get(1).info().firstSeq());
    assertEquals(
        T0_WALL + 10 * 20_000,
        chunks.get(1).info().anchorWallMicros(),
        "the new segment is anchored at its first packet");
    assertEquals(0, r.counters().lost());
  }

  @Test
  void aDigitIsReportedOnceAndNeverStoredAndOnlyItsFactIsKeptWhileTheGateIsClosed() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU, null, 101), true);
    send(r, 0, 0, 0, 7, SENDER);
    byte[] five = {5, 0, 0, (byte) 160};
    byte[] fiveEnd = {5, (byte) 0x80, 3, 32};
    int seq = 1;
    for (byte[] p : new byte[][] {five, fiveEnd, fiveEnd, fiveEnd}) {
      byte[] packet = rtp(101, seq++, 160, 7, p);
      r.onRtp(packet, packet.length, SENDER, T0_NANOS + seq * 20_000_000L, T0_WALL + 123_000);
    }
    setGate("a", false);
    byte[] nineEnd = rtp(101, seq++, 2000, 7, new byte[] {9, (byte) 0x80, 3, 32});
    r.onRtp(nineEnd, nineEnd.length, SENDER, T0_NANOS + seq * 20_000_000L, T0_WALL + 456_000);
    setGate("a", true);
    byte[] audio = rtp(0, seq, 2160, 7, payload(9));
    r.onRtp(audio, audio.length, SENDER, T0_NANOS + (seq + 1) * 20_000_000L, T0_WALL + 500_000);
    r.close();
    assertEquals(List.of("5@1800000000123", "null@1800000000456"), digits);
    List<long[]> stored = new ArrayList<>();
    chunks.forEach(c -> stored.addAll(packetsOf(c)));
    assertEquals(2, stored.size(), "only the two audio packets");
    assertEquals(0, r.counters().lost(), "digit packets keep their place in the sequence");
  }

  @Test
  void theExcessOfAFloodIsRefusedBeforeParsing() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    byte[] packet = rtp(0, 1, 0, 7, payload(0));
    for (int i = 0; i < 1000; i++)
      r.onRtp(packet, packet.length, OTHER, T0_NANOS + i * 1000L, T0_WALL);
    long flood = r.counters().rejected().getOrDefault("FLOOD", 0L);
    assertEquals(
        1000 - 250,
        flood,
        "a full bucket of 250 passes, the rest within the same millisecond is refused");
  }

  @Test
  void silenceLongerThanTheTimeoutIsReportedOnceAndAnIdleChunkIsStored() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 5; k++) send(r, k, 0, 0, 7, SENDER);
    r.tick(T0_NANOS + 2_000_000_000L);
    assertEquals(1, chunks.size(), "a chunk is not held through silence");
    r.tick(T0_NANOS + 31_000_000_000L);
    r.tick(T0_NANOS + 32_000_000_000L);
    assertEquals(1, timeouts.size());
    assertTrue(timeouts.get(0) >= 30_000);
    send(r, 5, 0, 0, 7, SENDER);
    r.tick(T0_NANOS + 70_000_000_000L);
    assertEquals(2, timeouts.size(), "a new silence after packets is reported again");
  }

  @Test
  void anRtcpSenderReportAnchorsTheSegmentToTheSendersWallClock() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 5; k++) send(r, k, 0, 10_000, 7, SENDER);
    // SR: RTP timestamp 10_000 + 800 at NTP time of Unix 1_800_000_000.5 s.
    ByteBuffer sr = ByteBuffer.allocate(28);
    long ntpSeconds = 1_800_000_000L + 2_208_988_800L;
    sr.put((byte) 0x80)
        .put((byte) 200)
        .putShort((short) 6)
        .putInt(7)
        .putInt((int) ntpSeconds)
        .putInt(0x8000_0000)
        .putInt(10_800)
        .putInt(5)
        .putInt(800);
    r.onRtcp(sr.array(), 28, new InetSocketAddress("127.0.0.1", 40001));
    for (int k = 5; k < 10; k++) send(r, k, 0, 10_000, 7, SENDER);
    r.close();
    assertEquals(2, chunks.size());
    ChunkInfo reanchored = chunks.get(1).info();
    assertEquals(10_800, reanchored.anchorTs());
    assertEquals(1_800_000_000_500_000L, reanchored.anchorWallMicros());
    assertEquals(1_800_000_000_500_000L, reanchored.startWallMicros());
  }

  @Test
  void aCorruptSequenceNumberIsRefusedAndTheStreamGoesOnUndisturbed() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 10; k++) send(r, k, 0, 0, 7, SENDER);
    byte[] corrupt =
        rtp(0, 10 ^ 0x4000, 1600, 7, payload(10)); // one bit flipped in the sequence number
    r.onRtp(corrupt, corrupt.length, SENDER, T0_NANOS + 200_000_000L, T0_WALL + 200_000);
    byte[] future = rtp(0, 11, 1760 + 8000 * 60, 7, payload(11)); // a timestamp a minute ahead
    r.onRtp(future, future.length, SENDER, T0_NANOS + 220_000_000L, T0_WALL + 220_000);
    for (int k = 12; k < 30; k++) send(r, k, 0, 0, 7, SENDER);
    r.close();
    StreamCounters c = r.counters();
    assertEquals(Map.of("SEQUENCE_JUMP", 2L), c.rejected());
    assertEquals(28, c.stored());
    assertEquals(
        2, c.lost(), "the two refused packets are missing from the sequence, nothing more");
    assertEquals(1, chunks.size());
    assertEquals(29 * 160 + 160, chunks.get(0).info().endTs());
  }

  @Test
  void aSenderThatRestartsItsNumberingIsFollowedFromItsSecondPacket() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 10; k++) send(r, k, 0, 0, 7, SENDER);
    for (int k = 10; k < 20; k++) send(r, k, 40_000, 70_000_000, 7, SENDER);
    r.close();
    StreamCounters c = r.counters();
    assertEquals(Map.of("SEQUENCE_JUMP", 1L), c.rejected());
    assertEquals(19, c.stored());
    assertEquals(2, chunks.size());
    assertEquals(1, chunks.get(1).info().segment(), "the restart starts a new segment");
    assertEquals(40_011, chunks.get(1).info().firstSeq());
  }

  @Test
  void aStrayPacketWithAnotherSsrcIsRefusedAndStartsNoSegment() {
    StreamRecorder r = recorder(new StreamSpec("a", "agent", Codec.PCMU), true);
    for (int k = 0; k < 5; k++) send(r, k, 0, 0, 7, SENDER);
    send(r, 5, 0, 0, 99, SENDER);
    for (int k = 6; k < 10; k++) send(r, k, 0, 0, 7, SENDER);
    r.close();
    assertEquals(Map.of("UNCONFIRMED_SSRC", 1L), r.counters().rejected());
    assertEquals(1, chunks.size());
    assertEquals(0, chunks.get(0).info().segment());
    assertEquals(9, r.counters().stored());
  }
}
