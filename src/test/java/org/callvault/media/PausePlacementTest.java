package org.callvault.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.callvault.call.CallSpec;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.Ledger;
import org.callvault.call.Party;
import org.callvault.call.Policy;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.export.Timeline;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkPackets;
import org.junit.jupiter.api.Test;

/**
 * Under {@code pauseRendering: SKIP} a paused span is cut where each stream's gated packets were,
 * by their own RTP timestamps: senders whose clocks do not follow the wall clock are recorded
 * through the recorder, their chunks listed in a ledger with the pause and resume, and the timeline
 * places the audio after the resume right after the audio before the pause.
 */
class PausePlacementTest {

  private static final long T0_WALL = 1_800_000_000_000_000L; // µs
  private static final StreamRecorder.Settings SETTINGS =
      new StreamRecorder.Settings(8000, 16, 60_000_000L, 30_000_000_000L, 250);
  private static final InetSocketAddress SENDER = new InetSocketAddress("127.0.0.1", 40000);

  /** One sender on the simulated clock: its packets' slots, timestamps and what was stored. */
  private static final class Sender {
    final String label;
    final StreamRecorder recorder;
    final long ssrc;
    int seq = 1000;
    long ts = 50_000;
    int open; // packets sent while the gate was open
    int gated; // and while it was closed

    Sender(String label, StreamRecorder recorder, long ssrc) {
      this.label = label;
      this.recorder = recorder;
      this.ssrc = ssrc;
    }

    void send(long wallMicros, boolean gateOpen) {
      byte[] packet =
          StreamRecorderTest.rtp(0, seq & 0xFFFF, ts & 0xFFFF_FFFFL, ssrc, new byte[160]);
      recorder.onRtp(packet, packet.length, SENDER, wallMicros * 1000, wallMicros);
      if (gateOpen) open++;
      else gated++;
      seq++;
      ts += 160;
    }
  }

  private final TestGates gates = new TestGates();
  private final List<Event> events = new ArrayList<>();
  private long nowMicros = T0_WALL;

  private final StreamRecorder.Output output =
      new StreamRecorder.Output() {
        @Override
        public void chunk(StreamRecorder from, AudioChunk chunk) {
          from.stored(chunk.info());
          // Listed a few milliseconds after it was finished, as the entity does.
          append(
              nowMicros + 5_000, new Change.ChunkStored(chunk.info(), StreamCounters.ZERO, false));
          chunks.add(chunk);
        }

        @Override
        public void digit(String label, String digit, long wallMillis) {}

        @Override
        public void timeout(String label, long lastPacketAt, long silentMillis) {}
      };

  private final List<AudioChunk> chunks = new ArrayList<>();

  private void append(long atMicros, Change change) {
    Event last = events.get(events.size() - 1);
    Instant at = Instant.ofEpochMilli(Math.max(atMicros / 1000, last.time().toEpochMilli()));
    events.add(Ledger.seal(last.seq() + 1, at, "test", change, last.hash()));
  }

  private Sender sender(String label, long ssrc) {
    StreamSpec spec = new StreamSpec(label, label.equals("a") ? "agent" : "customer", Codec.PCMU);
    StreamRecorder recorder =
        new StreamRecorder(
            "c", spec, gates.apply(label), StreamCounters.ZERO, SETTINGS, output, T0_WALL * 1000);
    recorder.activate(2);
    gates.set(label, true);
    return new Sender(label, recorder, ssrc);
  }

  private void created() {
    CallSpec spec =
        new CallSpec(
            "c",
            new Policy(
                Policy.ConsentMode.ONE_PARTY,
                Policy.OnDecline.STOP,
                true,
                300,
                Policy.PauseRendering.SKIP,
                90),
            List.of(
                new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN),
                new CallSpec.PartySpec("customer", Party.Role.CUSTOMER, Party.Consent.UNKNOWN)),
            List.of(
                new StreamSpec("a", "agent", Codec.PCMU),
                new StreamSpec("b", "customer", Codec.PCMU)));
    events.add(
        Ledger.seal(
            1,
            Instant.ofEpochMilli(T0_WALL / 1000 - 1000),
            "crm",
            new Change.CallCreated(spec),
            Ledger.GENESIS));
  }

  /**
   * Runs the simulated clock for {@code micros}: each sender sends a packet every {@code
   * periodMicros[i]} unless it is silent now, the recorders tick every 20 ms.
   */
  private void run(long micros, Sender[] senders, double[] periodMicros, boolean[] silent) {
    long end = nowMicros + micros;
    double[] next = new double[senders.length];
    for (int i = 0; i < senders.length; i++) next[i] = nowMicros;
    while (nowMicros < end) {
      for (int i = 0; i < senders.length; i++) {
        while (next[i] <= nowMicros) {
          if (!silent[i]) senders[i].send(nowMicros, gates.apply(senders[i].label).isOpen());
          next[i] += periodMicros[i];
        }
        senders[i].recorder.tick(nowMicros * 1000);
      }
      nowMicros += 1000;
    }
  }

  private void pause(Sender... senders) {
    for (Sender s : senders) gates.set(s.label, false); // closed before the event is journaled
    append(nowMicros, new Change.Paused("card"));
  }

  private void resume(Sender... senders) {
    append(nowMicros, new Change.Resumed(null));
    for (Sender s : senders) gates.set(s.label, true); // opened once it is journaled
  }

  private void close(Sender... senders) {
    for (Sender s : senders) s.recorder.close();
  }

  /** Every stored packet of a stream with its place on the axis, in order. */
  private static List<long[]> placed(Timeline timeline, String label, List<AudioChunk> chunks) {
    List<long[]> out = new ArrayList<>();
    for (AudioChunk chunk : chunks) {
      if (!chunk.info().label().equals(label)) continue;
      ChunkInfo info = chunk.info();
      ChunkPackets.read(
          chunk.packets(),
          (seq, ts, data, off, len) -> out.add(new long[] {ts, timeline.position(info, ts), len}));
    }
    return out;
  }

  /**
   * The samples between each stored packet's end and the next one's start on the axis: all zero for
   * a sender that lost nothing, but the one whose index is {@code at}.
   */
  private static long holeAfter(List<long[]> placed, int at) {
    for (int i = 0; i + 1 < placed.size(); i++) {
      long hole = placed.get(i + 1)[1] - (placed.get(i)[1] + placed.get(i)[2]);
      if (i != at) assertEquals(0, hole, "packet " + i + " to " + (i + 1) + " is contiguous");
    }
    return placed.get(at + 1)[1] - (placed.get(at)[1] + placed.get(at)[2]);
  }

  @Test
  void aSenderSilentWithoutAdvancingItsTimestampsLosesItsPausedSpanAndNothingElse() {
    created();
    Sender a = sender("a", 0x1111);
    Sender b = sender("b", 0x2222);
    Sender[] both = {a, b};
    double[] every20ms = {20_000, 20_000};
    run(3_000_000, both, every20ms, new boolean[] {false, false});
    // "a" falls silent for 2.5 s and comes back with its timestamps where it left them.
    run(2_500_000, both, every20ms, new boolean[] {true, false});
    run(2_000_000, both, every20ms, new boolean[] {false, false});
    int storedBeforePause = 250; // a: 3 s + 2 s
    pause(a, b);
    run(2_000_000, both, every20ms, new boolean[] {false, false});
    resume(a, b);
    run(3_000_000, both, every20ms, new boolean[] {false, false});
    close(a, b);

    Timeline timeline = Timeline.of(events);
    List<long[]> placedA = placed(timeline, "a", chunks);
    List<long[]> placedB = placed(timeline, "b", chunks);
    assertEquals(100, a.gated, "2 s of packets were gated");
    assertEquals(100, b.gated);
    assertEquals(400, placedA.size(), "every packet sent while open is stored");
    assertEquals(525, placedB.size());
    // The audio after the resume follows the audio before the pause on each stream, although "a"'s
    // RTP clock puts its pause 2.5 s before the wall clock does.
    assertEquals(0, holeAfter(placedA, storedBeforePause - 1), "a: nothing of the pause is left");
    assertEquals(0, holeAfter(placedB, 375 - 1), "b: nothing of the pause is left");
    // Each stream's cut is its 100 gated packets, by its own clock.
    assertEquals(List.of(100 * 20_000L), lengths(timeline.removed("a")));
    assertEquals(List.of(100 * 20_000L), lengths(timeline.removed("b")));
    assertEquals(525 * 160, timeline.samples(), "the longer channel, b, without its pause");
  }

  @Test
  void aSenderWhoseClockRunsFastLosesItsPausedSpanAfterTenMinutes() {
    created();
    Sender a = sender("a", 0x1111);
    Sender b = sender("b", 0x2222);
    Sender[] both = {a, b};
    // "a"'s clock runs 0.1 % fast: it sends its 20 ms packets every 19.98 ms of the wall clock,
    // so after ten minutes its timestamps are 0.6 s ahead of it.
    double[] periods = {20_000 / 1.001, 20_000};
    run(600_000_000, both, periods, new boolean[] {false, false});
    int aBefore = a.open;
    int bBefore = b.open;
    pause(a, b);
    run(2_000_000, both, periods, new boolean[] {false, false});
    resume(a, b);
    run(3_000_000, both, periods, new boolean[] {false, false});
    close(a, b);

    Timeline timeline = Timeline.of(events);
    List<long[]> placedA = placed(timeline, "a", chunks);
    assertEquals(a.open, placedA.size(), "every packet sent while open is stored");
    assertEquals(0, holeAfter(placedA, aBefore - 1), "a: nothing of the pause is left");
    assertEquals(List.of(a.gated * 20_000L), lengths(timeline.removed("a")));
    List<long[]> placedB = placed(timeline, "b", chunks);
    assertEquals(30_000, bBefore);
    assertEquals(0, holeAfter(placedB, bBefore - 1), "b: nothing of the pause is left");
  }

  @Test
  void onlyTheFirstChunkAfterTheGateReopensIsMarkedWithTheFirstGatedTimestamp() {
    created();
    Sender a = sender("a", 0x1111);
    Sender[] one = {a};
    run(1_500_000, one, new double[] {20_000}, new boolean[] {false});
    long firstGated = a.ts;
    pause(a);
    run(1_000_000, one, new double[] {20_000}, new boolean[] {false});
    resume(a);
    run(2_500_000, one, new double[] {20_000}, new boolean[] {false});
    close(a);
    List<ChunkInfo> infos = chunks.stream().map(AudioChunk::info).toList();
    assertEquals(5, infos.size(), infos.toString()); // 1 s, 0.5 s, | 1 s, 1 s, 0.5 s
    assertNull(infos.get(0).gatedFromTs());
    assertNull(infos.get(1).gatedFromTs());
    assertNotNull(infos.get(2).gatedFromTs());
    assertEquals(firstGated, (long) infos.get(2).gatedFromTs());
    assertEquals(firstGated + 50 * 160, infos.get(2).firstTs(), "50 packets were gated");
    assertNull(infos.get(3).gatedFromTs());
    assertNull(infos.get(4).gatedFromTs());
  }

  private static List<Long> lengths(List<long[]> spans) {
    return spans.stream().map(s -> s[1] - s[0]).toList();
  }
}
