package org.callvault.export;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.callvault.call.Call;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.Phase;
import org.callvault.call.Policy;
import org.callvault.core.ChunkInfo;
import org.callvault.core.StreamSpec;

/**
 * A call's recording laid out on one time axis, from its ledger alone: which chunks each stream
 * has, where the recording starts and ends, and which spans are cut out.
 *
 * <p>The axis starts at the first stored sample of any stream and ends after the last one. A
 * sample's place on it follows from its chunk's wall-clock anchor and its RTP timestamp, so within
 * a segment every sample sits exactly where its timestamp says; lost packets are silence of their
 * exact length. Under {@code pauseRendering: SKIP} every span in which the call was not {@code
 * RECORDING} (paused, awaiting consent, halted by a decline) is removed from every channel, never
 * cutting stored audio; under {@code SILENCE} it stays, as silence.
 *
 * <p>A removed span sits, on each stream, where that stream's gated packets were by their own RTP
 * timestamps: from the first packet the closed gate dropped to the first stored after it reopened
 * ({@link ChunkInfo#gatedFromTs()}), so a sender whose clock drifts from the wall clock, or that
 * fell silent without advancing its timestamps, loses its paused span and nothing else. A stream
 * that sent nothing while the gate was closed has no such mark; there the span is placed by the
 * wall clock of the ledger's events, shrunk to the gap between the stored audio on either side, the
 * same on every such stream.
 */
public final class Timeline {

  /** Samples per second on the axis: G.711's and G.722's RTP clock. */
  public static final int RATE = 8000;

  private final String callId;
  private final List<StreamSpec> streams;
  private final Map<String, List<ChunkInfo>> chunks;
  private final Map<String, List<long[]>> removed; // by label: [start, end) µs, in order, disjoint
  private final long startMicros;
  private final long endMicros;
  private final Policy.PauseRendering rendering;
  private final java.time.Instant erasedAt;
  private final String lastHash;

  private Timeline(
      String callId,
      List<StreamSpec> streams,
      Map<String, List<ChunkInfo>> chunks,
      Map<String, List<long[]>> removed,
      long startMicros,
      long endMicros,
      Policy.PauseRendering rendering,
      java.time.Instant erasedAt,
      String lastHash) {
    this.callId = callId;
    this.streams = streams;
    this.chunks = chunks;
    this.removed = removed;
    this.startMicros = startMicros;
    this.endMicros = endMicros;
    this.rendering = rendering;
    this.erasedAt = erasedAt;
    this.lastHash = lastHash;
  }

  /** The timeline of the events of one call, in ledger order. */
  public static Timeline of(List<Event> events) {
    if (events.isEmpty() || !(events.get(0).change() instanceof Change.CallCreated created))
      throw new IllegalArgumentException("a ledger starts with CallCreated");
    String callId = created.spec().callId();
    Call call = null;
    Map<String, List<ChunkInfo>> chunks = new LinkedHashMap<>();
    List<long[]> held = new ArrayList<>();
    List<Marked> marked = new ArrayList<>();
    long heldSince = -1;
    for (Event event : events) {
      call = call == null ? Call.created(callId, created.spec(), event) : call.apply(event);
      long at = event.time().toEpochMilli() * 1000;
      boolean recording = call.phase() == Phase.RECORDING;
      if (!recording && heldSince < 0) heldSince = at;
      if (recording && heldSince >= 0) {
        held.add(new long[] {heldSince, at});
        heldSince = -1;
      }
      if (event.change() instanceof Change.ChunkStored stored) {
        chunks.computeIfAbsent(stored.chunk().label(), l -> new ArrayList<>()).add(stored.chunk());
        if (stored.chunk().gatedFromTs() != null) marked.add(new Marked(stored.chunk(), at));
      }
    }
    if (heldSince >= 0) held.add(new long[] {heldSince, Long.MAX_VALUE});
    for (StreamSpec s : call.streams()) chunks.putIfAbsent(s.label(), new ArrayList<>());
    // In the order of their audio: a chunk stored late from a spool is listed after later ones.
    for (List<ChunkInfo> list : chunks.values())
      list.sort(Comparator.comparingLong(ChunkInfo::startWallMicros));
    long start = Long.MAX_VALUE;
    long end = Long.MIN_VALUE;
    for (List<ChunkInfo> list : chunks.values()) {
      for (ChunkInfo c : list) {
        start = Math.min(start, c.startWallMicros());
        end = Math.max(end, c.endWallMicros());
      }
    }
    if (start == Long.MAX_VALUE) start = end = 0;
    Policy.PauseRendering rendering = call.policy().pauseRendering();
    Map<String, List<long[]>> removed = new LinkedHashMap<>();
    for (String label : chunks.keySet()) removed.put(label, new ArrayList<>());
    if (rendering == Policy.PauseRendering.SKIP) {
      Map<String, long[][]> byGate = placedByGate(held, marked, chunks);
      for (int k = 0; k < held.size(); k++) {
        List<String> unmarked = new ArrayList<>();
        for (String label : chunks.keySet()) {
          long[][] placed = byGate.get(label);
          if (placed != null && placed[k] != null) removed.get(label).add(placed[k]);
          else unmarked.add(label);
        }
        long[] span = shrunk(held.get(k), start, end, chunks, unmarked);
        if (span != null) for (String label : unmarked) removed.get(label).add(span);
      }
      for (List<long[]> spans : removed.values()) merge(spans);
    }
    return new Timeline(
        callId,
        call.streams(),
        chunks,
        removed,
        start,
        end,
        rendering,
        call.compliance().erasedAt(),
        call.lastHash());
  }

  /** A chunk stored after its gate reopened, and when the ledger listed it. */
  private record Marked(ChunkInfo chunk, long listedMicros) {}

  /**
   * The spans placed by the streams' own clocks: for each stream, for each held span, the RTP span
   * of the packets its gate dropped, or null. A chunk marked {@link ChunkInfo#gatedFromTs()} began
   * after the gate reopened, so it belongs to the last held span that ended before it was listed.
   */
  private static Map<String, long[][]> placedByGate(
      List<long[]> held, List<Marked> marked, Map<String, List<ChunkInfo>> chunks) {
    Map<String, long[][]> placed = new LinkedHashMap<>();
    for (Marked m : marked) {
      ChunkInfo c = m.chunk();
      long listed = m.listedMicros();
      int k = held.size() - 1;
      while (k >= 0 && held.get(k)[1] > listed) k--;
      if (k < 0) continue;
      long[][] spans = placed.computeIfAbsent(c.label(), l -> new long[held.size()][]);
      long from = wallOf(c, c.gatedFromTs());
      // A packet that arrived late, after the gate closed, may be older than stored audio.
      for (ChunkInfo before : chunks.get(c.label()))
        if (before.startWallMicros() < c.startWallMicros())
          from = Math.max(from, before.endWallMicros());
      if (spans[k] == null && c.startWallMicros() > from)
        spans[k] = new long[] {from, c.startWallMicros()};
    }
    return placed;
  }

  /**
   * A held span by the wall clock, shrunk so it cuts no stored audio of these streams: to the gap
   * between the audio before it and the audio after it; null when nothing is left. (Their wall
   * clocks come from arrival anchors, so the first packet after a resume can sit a few milliseconds
   * before the event that reopened its gate.)
   */
  private static long[] shrunk(
      long[] span, long start, long end, Map<String, List<ChunkInfo>> chunks, List<String> labels) {
    long a = Math.max(span[0], start);
    long b = Math.min(span[1], end);
    for (String label : labels) {
      for (ChunkInfo c : chunks.get(label))
        if (c.startWallMicros() < a) a = Math.max(a, c.endWallMicros());
    }
    for (String label : labels) {
      for (ChunkInfo c : chunks.get(label))
        if (c.startWallMicros() >= a) b = Math.min(b, c.startWallMicros());
    }
    return b > a ? new long[] {a, b} : null;
  }

  /** Sorts spans and joins those that overlap, so they are in order and disjoint. */
  private static void merge(List<long[]> spans) {
    spans.sort((x, y) -> Long.compare(x[0], y[0]));
    for (int i = spans.size() - 1; i > 0; i--) {
      long[] before = spans.get(i - 1);
      long[] span = spans.get(i);
      if (span[0] <= before[1]) {
        before[1] = Math.max(before[1], span[1]);
        spans.remove(i);
      }
    }
  }

  public String callId() {
    return callId;
  }

  public List<StreamSpec> streams() {
    return streams;
  }

  /** The chunks of a stream, in the order of their audio. */
  public List<ChunkInfo> chunks(String label) {
    return chunks.getOrDefault(label, List.of());
  }

  public long startMicros() {
    return startMicros;
  }

  public long endMicros() {
    return endMicros;
  }

  public Policy.PauseRendering rendering() {
    return rendering;
  }

  /** When the recording was erased; null while it is not. */
  public java.time.Instant erasedAt() {
    return erasedAt;
  }

  /** The hash of the ledger's last event this timeline was made from. */
  public String lastHash() {
    return lastHash;
  }

  /**
   * The spans cut out of a stream's channel, {@code [start, end)} in microseconds of the stream's
   * wall clock (its chunks' anchors), in order.
   */
  public List<long[]> removed(String label) {
    return removed.getOrDefault(label, List.of());
  }

  /** Samples on the axis: as many as the longest channel has once its spans are cut. */
  public long samples() {
    long samples = 0;
    for (Map.Entry<String, List<ChunkInfo>> stream : chunks.entrySet()) {
      List<long[]> spans = removed(stream.getKey());
      for (ChunkInfo c : stream.getValue()) {
        long cut = cutBefore(spans, c.endWallMicros() - 1);
        if (cut >= 0) samples = Math.max(samples, samplesIn(c.endWallMicros() - startMicros - cut));
      }
    }
    return samples;
  }

  /**
   * Where a packet's first sample goes: the place of its segment's anchor plus its distance from
   * the anchor in RTP samples, so the samples of a segment keep their exact spacing. -1 when the
   * packet starts in a removed span.
   */
  public long position(ChunkInfo chunk, long extTs) {
    long cut = cutBefore(removed(chunk.label()), wallOf(chunk, extTs));
    if (cut < 0) return -1;
    return samplesIn(chunk.anchorWallMicros() - startMicros - cut) + (extTs - chunk.anchorTs());
  }

  /** The removed time before {@code wallMicros}, or -1 when it lies in a removed span. */
  private static long cutBefore(List<long[]> removed, long wallMicros) {
    long cut = 0;
    for (long[] span : removed) {
      if (wallMicros >= span[1]) cut += span[1] - span[0];
      else if (wallMicros >= span[0]) return -1;
      else break;
    }
    return cut;
  }

  private static long samplesIn(long micros) {
    return Math.floorDiv(micros * RATE + 500_000, 1_000_000);
  }

  /** The wall clock of an RTP timestamp of a chunk's segment, in microseconds. */
  public static long wallOf(ChunkInfo chunk, long extTs) {
    return chunk.anchorWallMicros() + Math.floorDiv((extTs - chunk.anchorTs()) * 1_000_000L, RATE);
  }
}
