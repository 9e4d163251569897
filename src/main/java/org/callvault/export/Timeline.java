package org.callvault.export;

import java.util.ArrayList;
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
 */
public final class Timeline {

  /** Samples per second on the axis: G.711's and G.722's RTP clock. */
  public static final int RATE = 8000;

  private final String callId;
  private final List<StreamSpec> streams;
  private final Map<String, List<ChunkInfo>> chunks;
  private final List<long[]> removed; // [startMicros, endMicros), in order, disjoint
  private final long startMicros;
  private final long endMicros;
  private final Policy.PauseRendering rendering;

  private Timeline(
      String callId,
      List<StreamSpec> streams,
      Map<String, List<ChunkInfo>> chunks,
      List<long[]> removed,
      long startMicros,
      long endMicros,
      Policy.PauseRendering rendering) {
    this.callId = callId;
    this.streams = streams;
    this.chunks = chunks;
    this.removed = removed;
    this.startMicros = startMicros;
    this.endMicros = endMicros;
    this.rendering = rendering;
  }

  /** The timeline of the events of one call, in ledger order. */
  public static Timeline of(List<Event> events) {
    if (events.isEmpty() || !(events.get(0).change() instanceof Change.CallCreated created))
      throw new IllegalArgumentException("a ledger starts with CallCreated");
    String callId = created.spec().callId();
    Call call = null;
    Map<String, List<ChunkInfo>> chunks = new LinkedHashMap<>();
    List<long[]> held = new ArrayList<>();
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
      if (event.change() instanceof Change.ChunkStored stored)
        chunks.computeIfAbsent(stored.chunk().label(), l -> new ArrayList<>()).add(stored.chunk());
    }
    if (heldSince >= 0) held.add(new long[] {heldSince, Long.MAX_VALUE});
    for (StreamSpec s : call.streams()) chunks.putIfAbsent(s.label(), new ArrayList<>());
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
    List<long[]> removed = new ArrayList<>();
    if (rendering == Policy.PauseRendering.SKIP) {
      for (long[] span : held) {
        // Stored audio is never cut: a span shrinks to the gap between the audio before it and
        // the audio after it. (Their wall clocks come from arrival anchors, so the first packet
        // after a resume can sit a few milliseconds before the event that reopened its gate.)
        long a = Math.max(span[0], start);
        long b = Math.min(span[1], end);
        for (List<ChunkInfo> list : chunks.values()) {
          for (ChunkInfo c : list) if (c.startWallMicros() < a) a = Math.max(a, c.endWallMicros());
        }
        for (List<ChunkInfo> list : chunks.values()) {
          for (ChunkInfo c : list)
            if (c.startWallMicros() >= a) b = Math.min(b, c.startWallMicros());
        }
        if (b > a) removed.add(new long[] {a, b});
      }
    }
    return new Timeline(callId, call.streams(), chunks, removed, start, end, rendering);
  }

  public String callId() {
    return callId;
  }

  public List<StreamSpec> streams() {
    return streams;
  }

  /** The chunks of a stream, in ledger order. */
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

  /** The spans cut out of every channel, {@code [start, end)} in wall-clock microseconds. */
  public List<long[]> removed() {
    return removed;
  }

  /** Samples on the axis. */
  public long samples() {
    return position(endMicros);
  }

  /**
   * Where a wall-clock instant falls on the axis, in samples; -1 when it lies in a removed span.
   * Positions are whole samples counted from the start, less the removed spans before.
   */
  public long position(long wallMicros) {
    long cut = cutBefore(wallMicros);
    return cut < 0 ? -1 : samplesIn(wallMicros - startMicros - cut);
  }

  /**
   * Where a packet's first sample goes: the place of its segment's anchor plus its distance from
   * the anchor in RTP samples, so the samples of a segment keep their exact spacing. -1 when the
   * packet starts in a removed span.
   */
  public long position(ChunkInfo chunk, long extTs) {
    long cut = cutBefore(wallOf(chunk, extTs));
    if (cut < 0) return -1;
    return samplesIn(chunk.anchorWallMicros() - startMicros - cut) + (extTs - chunk.anchorTs());
  }

  /** The removed time before {@code wallMicros}, or -1 when it lies in a removed span. */
  private long cutBefore(long wallMicros) {
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
