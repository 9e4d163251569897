package org.callvault.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
import org.callvault.export.pcm.Wav;
import org.junit.jupiter.api.Test;

/**
 * What an export is made of, from the ledger alone: its length, its channels, and what it refuses.
 */
class WavExportTest {

  private static final long T0 = 1_800_000_000_000_000L; // µs
  private static final Instant CREATED = Instant.ofEpochSecond(1_799_999_999);

  /** A ledger: the call, then each change at its second after T0, chained. */
  private static List<Event> ledger(
      Policy.PauseRendering rendering, Codec codec, Object... timedChanges) {
    CallSpec spec =
        new CallSpec(
            "c",
            new Policy(
                Policy.ConsentMode.ONE_PARTY, Policy.OnDecline.STOP, true, 300, rendering, 90),
            List.of(
                new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN),
                new CallSpec.PartySpec("customer", Party.Role.CUSTOMER, Party.Consent.UNKNOWN)),
            List.of(
                new StreamSpec("a", "agent", codec), new StreamSpec("b", "customer", Codec.PCMU)));
    List<Event> events = new ArrayList<>();
    events.add(Ledger.seal(1, CREATED, "crm", new Change.CallCreated(spec), Ledger.GENESIS));
    for (int i = 0; i < timedChanges.length; i += 2) {
      Instant at =
          Instant.ofEpochMilli((T0 + (long) ((Double) timedChanges[i] * 1_000_000)) / 1000);
      Event last = events.get(events.size() - 1);
      events.add(Ledger.seal(last.seq() + 1, at, "x", (Change) timedChanges[i + 1], last.hash()));
    }
    return events;
  }

  /**
   * A chunk of {@code seconds} of stream {@code label} starting {@code at} seconds after T0,
   * anchored there.
   */
  private static Change.ChunkStored chunk(
      String label, long n, double at, double seconds, Codec codec) {
    long start = T0 + (long) (at * 1_000_000);
    long ts = 1000 + (long) (at * 8000);
    long samples = (long) (seconds * 8000);
    return new Change.ChunkStored(
        new ChunkInfo(
            label,
            2,
            n,
            0,
            7,
            codec,
            n * 50,
            n * 50 + 49,
            ts,
            ts + samples,
            (int) (samples / 160),
            ts,
            start,
            start,
            start + samples * 125,
            null),
        StreamCounters.ZERO,
        false);
  }

  @Test
  void theAxisRunsFromTheFirstStoredSampleToTheLastAndSkipRemovesOnlyThePauseBetweenStoredAudio() {
    List<Event> silence =
        ledger(
            Policy.PauseRendering.SILENCE,
            Codec.PCMU,
            0.0,
            chunk("a", 0, 0.5, 1.0, Codec.PCMU),
            1.6,
            new Change.Paused("card"),
            4.0,
            new Change.Resumed(null),
            4.1,
            chunk("a", 1, 4.05, 1.0, Codec.PCMU),
            4.2,
            chunk("b", 0, 0.52, 0.5, Codec.PCMU));
    Timeline plain = Timeline.of(silence);
    assertEquals(T0 + 500_000, plain.startMicros());
    assertEquals(T0 + 5_050_000, plain.endMicros());
    assertEquals(4.55 * 8000, plain.samples(), 0.5);
    assertTrue(plain.removed("a").isEmpty());

    Timeline skipped =
        Timeline.of(
            ledger(
                Policy.PauseRendering.SKIP,
                Codec.PCMU,
                0.0,
                chunk("a", 0, 0.5, 1.0, Codec.PCMU),
                1.6,
                new Change.Paused("card"),
                4.0,
                new Change.Resumed(null),
                4.1,
                chunk("a", 1, 3.99, 1.0, Codec.PCMU)));
    // The pause [1.6, 4.0) shrinks to end where stored audio starts again (3.99).
    assertEquals(1, skipped.removed("a").size());
    assertArrayEquals(new long[] {T0 + 1_600_000, T0 + 3_990_000}, skipped.removed("a").get(0));
    assertEquals((4.99 - 0.5 - 2.39) * 8000, skipped.samples(), 0.5);
    ChunkInfo after = skipped.chunks("a").get(1);
    // 1 s of audio, the 0.1 s before the pause began, then the audio after it.
    assertEquals(
        (1.0 + 0.1) * 8000,
        skipped.position(after, after.firstTs()),
        0.5,
        "audio after the pause follows the audio before it");
  }

  @Test
  void layoutsChooseTheirChannelsAndRefuseWhatTheyCannotMake() throws Exception {
    Timeline timeline =
        Timeline.of(
            ledger(
                Policy.PauseRendering.SILENCE,
                Codec.PCMU,
                0.0,
                chunk("a", 0, 0.0, 1.0, Codec.PCMU)));
    WavExport.Plan stereo = WavExport.plan(timeline, WavExport.Layout.STEREO, null);
    assertEquals(2, stereo.channels());
    assertEquals(List.of("a", "b"), stereo.labels());
    assertEquals(44 + 8000 * 2 * 2, stereo.bytes());
    WavExport.Plan mono = WavExport.plan(timeline, WavExport.Layout.MONO, null);
    assertEquals(1, mono.channels());
    assertEquals(List.of("a", "b"), mono.labels());
    assertEquals(List.of("b"), WavExport.plan(timeline, WavExport.Layout.STREAM, "b").labels());

    assertEquals(
        400,
        assertThrows(
                WavExport.Refused.class,
                () -> WavExport.plan(timeline, WavExport.Layout.STREAM, null))
            .status);
    WavExport.Refused unknown =
        assertThrows(
            WavExport.Refused.class, () -> WavExport.plan(timeline, WavExport.Layout.STREAM, "z"));
    assertEquals(404, unknown.status);
    assertTrue(unknown.getMessage().contains("streams: a, b"), unknown.getMessage());

    Timeline g722 =
        Timeline.of(
            ledger(
                Policy.PauseRendering.SILENCE,
                Codec.G722,
                0.0,
                chunk("a", 0, 0.0, 1.0, Codec.G722)));
    WavExport.Refused refused =
        assertThrows(
            WavExport.Refused.class, () -> WavExport.plan(g722, WavExport.Layout.STEREO, null));
    assertEquals(415, refused.status);
    assertTrue(refused.getMessage().contains("G.722"), refused.getMessage());
    assertEquals(
        1,
        WavExport.plan(g722, WavExport.Layout.STREAM, "b").channels(),
        "the G.711 stream of the same call still exports");
  }

  @Test
  void theHeaderDescribesExactlyTheDataThatFollows() {
    byte[] header = Wav.header(2, 8000, 12_345);
    ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(44, header.length);
    assertEquals(36 + 12_345 * 4, b.getInt(4));
    assertEquals(2, b.getShort(22));
    assertEquals(8000 * 4, b.getInt(28), "byte rate");
    assertEquals(4, b.getShort(32), "block align");
    assertEquals(12_345 * 4, b.getInt(40));
    assertThrows(
        IllegalArgumentException.class, () -> Wav.header(2, 8000, 1L << 30), "beyond 4 GiB");
  }

  @Test
  void onlyG711StreamsAreDecodedAndG722IsRefused() {
    assertEquals(org.callvault.export.pcm.G711.Law.ULAW, WavExport.lawOf(Codec.PCMU));
    assertEquals(org.callvault.export.pcm.G711.Law.ALAW, WavExport.lawOf(Codec.PCMA));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> WavExport.lawOf(Codec.G722));
  }
}
