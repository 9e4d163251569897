package org.callvault.call;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.callvault.core.ChunkInfo;
import org.callvault.core.GapCause;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamSpec;

/**
 * The rules that keep a stream's recording continuous across media epochs (DESIGN.md, invariants 2
 * and 3): a chunk is listed once; chunks that reached storage but not the ledger are adopted after
 * a crash; and when the media moved to another node, the hole between the last audio stored before
 * and the first stored after is a {@link Change.MediaGap} with the move's cause and, when the RTP
 * sequence numbers tell, the packets it lost. Pure: the entity decides with these and persists what
 * they return.
 */
final class Continuity {

  /**
   * 65,536 packets of 20 ms are 22 minutes: well inside that, the difference of sequence numbers is
   * exact.
   */
  private static final long WRAP_SAFE_MICROS = 10L * 60 * 1_000_000;

  private Continuity() {}

  /**
   * Why media bound after {@code before} moved: from sockets that were never released in order, a
   * node's failure; from sockets handed off, a handoff; otherwise (the first binding, or after a
   * stop) it did not move.
   */
  static GapCause causeOfMove(MediaState before) {
    if (before.epoch() > 0 && before.released() == null) return GapCause.NODE_FAILURE;
    if (before.released() == ReleaseReason.HANDOFF) return GapCause.HANDOFF;
    return null;
  }

  /**
   * Whether the ledger already lists {@code chunk}, or a later one of its stream and epoch: a
   * stream's chunks of one epoch are stored, and listed, in order.
   */
  static boolean alreadyListed(Call call, ChunkInfo chunk) {
    MediaState.StreamMedia listed = call.media(chunk.label());
    return chunk.n() <= listed.lastNIn(chunk.epoch());
  }

  /**
   * The chunks of {@code reported}'s stream and epoch in {@code unlisted} that come before it and
   * that the ledger does not list, in order: stored by sockets that outlived a restart of the
   * entity after the write that listed them failed.
   */
  static List<ChunkInfo> missedBefore(Call call, ChunkInfo reported, List<ChunkInfo> unlisted) {
    return unlisted.stream()
        .filter(
            c ->
                c.label().equals(reported.label())
                    && c.epoch() == reported.epoch()
                    && c.n() < reported.n()
                    && !alreadyListed(call, c))
        .sorted(java.util.Comparator.comparingLong(ChunkInfo::n))
        .toList();
  }

  /**
   * The gap to record before listing {@code chunk}: present when it is its stream's first audio
   * since the media moved, and something was lost. A handoff whose old node relayed every packet
   * here lost nothing: no gap.
   */
  static Optional<Change.MediaGap> gapBefore(Call call, ChunkInfo chunk) {
    GapCause moved = call.media().moveCause();
    MediaState.StreamMedia listed = call.media(chunk.label());
    if (moved == null
        || chunk.epoch() != call.mediaEpoch()
        || listed.epoch() >= chunk.epoch()
        || listed.chunks() == 0) return Optional.empty();
    long missed = packetsMissedBefore(listed, chunk);
    if (missed == 0) return Optional.empty();
    return Optional.of(
        new Change.MediaGap(
            chunk.label(),
            moved,
            null,
            listed.lastEndWallMicros(),
            chunk.startWallMicros(),
            (int) Math.max(missed, 0)));
  }

  /**
   * How many packets the sender sent between the stream's last stored packet and {@code next}'s
   * first, from their sequence numbers; -1 when that cannot be told (another SSRC, or so long that
   * the 16-bit numbering may have wrapped).
   */
  static long packetsMissedBefore(MediaState.StreamMedia listed, ChunkInfo next) {
    ChunkInfo last = listed.last();
    if (last == null
        || next.ssrc() != last.ssrc()
        || next.startWallMicros() - listed.lastEndWallMicros() > WRAP_SAFE_MICROS) return -1;
    return (next.firstSeq() - last.lastSeq() - 1) & 0xFFFF;
  }

  /**
   * The gaps still open when the call stops at {@code nowMicros}: a stream whose media moved and
   * that has had no audio since has a hole from its last stored audio to the stop, with the cause
   * of the move. When {@code socketsGone} (the entity runs where no sockets store under the
   * ledger's epoch: it recovered after its node died and the stop came before it bound new ones),
   * the sockets the ledger names were never released in order, and every stream that had audio has
   * a hole from its last stored audio to the stop, a {@code NODE_FAILURE}.
   */
  static List<Change.MediaGap> gapsOpenAt(Call call, long nowMicros, Sockets sockets) {
    MediaState media = call.media();
    boolean lost = sockets.gone() && media.epoch() > 0 && media.released() == null;
    GapCause cause = lost ? GapCause.NODE_FAILURE : media.moveCause();
    List<Change.MediaGap> gaps = new ArrayList<>();
    if (cause == null) return gaps;
    for (StreamSpec stream : call.streams()) {
      MediaState.StreamMedia listed = call.media(stream.label());
      // A stream whose sockets here have received audio since its last listing: the chunk on its
      // way is listed after the stop, and the gap before it is recorded then, up to its audio.
      boolean closedByAudioOnItsWay = sockets.receiving().contains(stream.label());
      if (listed.chunks() > 0
          && (lost || (listed.epoch() < call.mediaEpoch() && !closedByAudioOnItsWay)))
        gaps.add(
            new Change.MediaGap(
                stream.label(), cause, null, listed.lastEndWallMicros(), nowMicros, 0));
    }
    return gaps;
  }

  /**
   * What this node's sockets say when a call stops: {@code gone}, none store here under the
   * ledger's epoch (the entity recovered after its node died and has not bound new ones); {@code
   * receiving}, the streams whose sockets here have received packets that the ledger does not list
   * yet.
   */
  record Sockets(boolean gone, Set<String> receiving) {}

  /**
   * A chunk stored from a node's spool after the sockets that spooled it were gone (their node
   * restarted, and the call may have moved on since): listed as adopted, once, unless the ledger
   * lists it already or it is not of this call's streams and epochs.
   */
  static List<Change> listedLate(Call call, ChunkInfo chunk) {
    if (call.streams().stream().noneMatch(s -> s.label().equals(chunk.label()))
        || chunk.epoch() > call.mediaEpoch()
        || alreadyListed(call, chunk)) return List.of();
    return List.of(new Change.ChunkStored(chunk, call.media(chunk.label()).counters(), true));
  }

  /** Where to look in storage for one stream's chunks that the ledger may not list. */
  record Lookup(String label, long epoch, long afterN) {}

  /**
   * After recovery: per stream, the chunks of the last media epoch numbered above the last one the
   * ledger lists of that epoch (all of them if it lists none).
   */
  static List<Lookup> unlistedLookups(Call call) {
    List<Lookup> lookups = new ArrayList<>();
    for (StreamSpec stream : call.streams()) {
      MediaState.StreamMedia media = call.media(stream.label());
      long afterN = media.epoch() == call.mediaEpoch() ? media.lastN() : -1;
      lookups.add(new Lookup(stream.label(), call.mediaEpoch(), afterN));
    }
    return lookups;
  }

  /**
   * The chunks found in storage that the ledger does not list, each once, in the order found, as
   * adoptions.
   */
  static List<Change.ChunkStored> adoptions(Call call, List<ChunkInfo> found) {
    Map<String, Long> lastAdopted = new HashMap<>(); // by stream and epoch
    List<Change.ChunkStored> adopted = new ArrayList<>();
    for (ChunkInfo chunk : found) {
      String key = chunk.label() + "/" + chunk.epoch();
      Long before = lastAdopted.get(key);
      if (alreadyListed(call, chunk) || (before != null && chunk.n() <= before)) continue;
      lastAdopted.put(key, chunk.n());
      adopted.add(new Change.ChunkStored(chunk, call.media(chunk.label()).counters(), true));
    }
    return adopted;
  }
}
