package org.callvault.call;

import java.util.EnumMap;
import java.util.Map;
import org.callvault.core.GapCause;
import org.callvault.core.StreamCounters;

/**
 * How much of what a stream's sender sent the recording holds, and what is missing, by cause
 * (DESIGN.md, invariant 3). Expected is what was stored, what the network lost (by RTP sequence
 * numbers) or delivered too late for the reorder window, and what each gap of the ledger lost. What
 * a closed gate dropped (a pause, a consent held or refused) is counted apart: it was not to be
 * recorded, so it makes no recording incomplete.
 *
 * <p>A recording is {@code complete} when nothing is missing: no packet lost and no gap, even one
 * whose packets cannot be counted (a node that died at the end of the call leaves a gap in time
 * only). The figures are those of the ledger: while a call's media runs they stand as of its last
 * listed chunk.
 *
 * @param stored packets in stored audio
 * @param lostOnNetwork packets the sequence numbers say never arrived
 * @param late packets that arrived after the reorder window had passed them
 * @param gated packets a closed gate dropped, not counted as missing
 * @param gaps the ledger's gaps by cause
 */
public record Completeness(
    long stored, long lostOnNetwork, long late, long gated, Map<GapCause, MediaState.GapTotal> gaps)
    implements org.callvault.core.CborSerializable {

  public static final Completeness NONE = new Completeness(0, 0, 0, 0, Map.of());

  public Completeness {
    gaps = Map.copyOf(gaps);
  }

  /** One stream's, from what the ledger says of it. */
  public static Completeness of(MediaState.StreamMedia media) {
    StreamCounters counters = media.counters();
    return new Completeness(
        Math.max(counters.stored(), media.packetsStored()),
        counters.lost(),
        counters.late(),
        counters.droppedByGate(),
        media.gaps());
  }

  /** The whole call's: its streams' together. */
  public static Completeness of(Call call) {
    Completeness all = NONE;
    for (var stream : call.streams()) all = all.plus(of(call.media(stream.label())));
    return all;
  }

  /** Packets the gaps lost, where their sequence numbers tell. */
  public long lostInGaps() {
    return gaps.values().stream().mapToLong(MediaState.GapTotal::packets).sum();
  }

  /** Packets missing from the recording: lost on the network, late, or in a gap. */
  public long missing() {
    return lostOnNetwork + late + lostInGaps();
  }

  /** What the sender sent that was to be recorded. */
  public long expected() {
    return stored + missing();
  }

  /** Stored over expected; 1 when nothing was expected. */
  public double ratio() {
    return expected() == 0 ? 1.0 : (double) stored / expected();
  }

  /** Nothing is missing: no packet and no gap, counted or not. */
  public boolean complete() {
    return missing() == 0 && gaps.isEmpty();
  }

  Completeness plus(Completeness other) {
    Map<GapCause, MediaState.GapTotal> summed = new EnumMap<>(GapCause.class);
    summed.putAll(gaps);
    other.gaps.forEach((cause, total) -> summed.merge(cause, total, MediaState.GapTotal::plus));
    return new Completeness(
        stored + other.stored,
        lostOnNetwork + other.lostOnNetwork,
        late + other.late,
        gated + other.gated,
        summed);
  }
}
