package org.callvault.call;

import java.util.HashMap;
import java.util.Map;
import org.callvault.core.CborSerializable;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;

/**
 * Where a call's media is received and what is stored of it. Part of the (snapshotted) state.
 *
 * @param node the node that last bound the call's sockets; null before
 * @param epoch the seq of the {@link Change.MediaBound} event of those sockets; 0 before
 * @param released why those sockets were closed in order; null while they are open, or if their
 *     node died
 * @param moveCause why the media moved to this epoch from an earlier one, until each stream's first
 *     chunk here records the gap ({@link Continuity}); null otherwise
 * @param movedFrom the node that held the media before this epoch; null if it never moved
 */
public record MediaState(
    String node,
    long epoch,
    Map<String, Endpoint> endpoints,
    ReleaseReason released,
    GapCause moveCause,
    String movedFrom,
    Map<String, StreamMedia> streams)
    implements CborSerializable {

  static final MediaState NONE = new MediaState(null, 0, Map.of(), null, null, null, Map.of());

  public MediaState {
    endpoints = Map.copyOf(endpoints);
    streams = Map.copyOf(streams);
  }

  /**
   * What the ledger says of one stream's stored audio.
   *
   * @param epoch the media epoch of the last chunk listed
   * @param lastN the number of the last chunk listed in that epoch; -1 before the first
   * @param lastEndWallMicros the wall clock just after the last stored sample; 0 before the first
   * @param last the last chunk listed; null before the first
   * @param earlierLastN the number of the last chunk listed in each earlier epoch that has one, by
   *     epoch: a chunk of such an epoch may still be listed late (stored from a spool after the
   *     media moved on). Shape notes: added after the first snapshots were written; a snapshot
   *     without it reads as empty, and only a chunk stored from a spool late asks it.
   * @param gaps the stream's {@link Change.MediaGap}s summed by cause. Shape notes: added after the
   *     first snapshots were written; a snapshot without it reads as none, so a call snapshotted
   *     before it counts only the gaps recorded since.
   */
  public record StreamMedia(
      long epoch,
      long lastN,
      long chunks,
      long packetsStored,
      long lastEndWallMicros,
      ChunkInfo last,
      StreamCounters counters,
      Map<Long, Long> earlierLastN,
      Map<GapCause, GapTotal> gaps)
      implements CborSerializable {

    static final StreamMedia NONE =
        new StreamMedia(0, -1, 0, 0, 0, null, StreamCounters.ZERO, Map.of(), Map.of());

    public StreamMedia {
      earlierLastN = earlierLastN == null ? Map.of() : Map.copyOf(earlierLastN);
      gaps = gaps == null ? Map.of() : Map.copyOf(gaps);
    }

    public StreamMedia(
        long epoch,
        long lastN,
        long chunks,
        long packetsStored,
        long lastEndWallMicros,
        ChunkInfo last,
        StreamCounters counters,
        Map<Long, Long> earlierLastN) {
      this(
          epoch,
          lastN,
          chunks,
          packetsStored,
          lastEndWallMicros,
          last,
          counters,
          earlierLastN,
          Map.of());
    }

    StreamMedia withGap(Change.MediaGap gap) {
      Map<GapCause, GapTotal> summed = new java.util.EnumMap<>(GapCause.class);
      summed.putAll(gaps);
      summed.merge(gap.cause(), GapTotal.of(gap), GapTotal::plus);
      return new StreamMedia(
          epoch,
          lastN,
          chunks,
          packetsStored,
          lastEndWallMicros,
          last,
          counters,
          earlierLastN,
          summed);
    }

    /** The number of the last chunk listed under {@code epoch}; -1 when none is. */
    long lastNIn(long epoch) {
      return epoch == this.epoch ? lastN : earlierLastN.getOrDefault(epoch, -1L);
    }

    StreamMedia withCounters(StreamCounters counters) {
      return new StreamMedia(
          epoch,
          lastN,
          chunks,
          packetsStored,
          lastEndWallMicros,
          last,
          counters,
          earlierLastN,
          gaps);
    }

    /**
     * {@code chunk} listed: the stream's last, or, of an epoch before the last one listed, counted
     * and remembered without moving the stream's place (it was stored late).
     */
    StreamMedia listing(ChunkInfo chunk, StreamCounters counters) {
      Map<Long, Long> earlier = new HashMap<>(earlierLastN);
      if (chunk.epoch() < epoch) {
        earlier.merge(chunk.epoch(), chunk.n(), Math::max);
        return new StreamMedia(
            epoch,
            lastN,
            chunks + 1,
            packetsStored + chunk.packets(),
            lastEndWallMicros,
            last,
            this.counters,
            earlier,
            gaps);
      }
      if (chunk.epoch() > epoch && chunks > 0) earlier.put(epoch, lastN);
      return new StreamMedia(
          chunk.epoch(),
          chunk.n(),
          chunks + 1,
          packetsStored + chunk.packets(),
          chunk.endWallMicros(),
          chunk,
          counters,
          earlier,
          gaps);
    }
  }

  /**
   * A stream's gaps of one cause: how many, the packets they lost where the sequence numbers tell
   * (a gap that cannot tell counts none), and the wall-clock time they span.
   */
  public record GapTotal(long gaps, long packets, long micros) implements CborSerializable {

    static GapTotal of(Change.MediaGap gap) {
      return new GapTotal(
          1, Math.max(gap.packets(), 0), Math.max(gap.endWallMicros() - gap.startWallMicros(), 0));
    }

    GapTotal plus(GapTotal other) {
      return new GapTotal(gaps + other.gaps, packets + other.packets, micros + other.micros);
    }
  }

  public StreamMedia stream(String label) {
    return streams.getOrDefault(label, StreamMedia.NONE);
  }

  MediaState bound(String node, long epoch, Map<String, Endpoint> endpoints) {
    return new MediaState(
        node,
        epoch,
        endpoints,
        null,
        Continuity.causeOfMove(this),
        this.epoch > 0 ? this.node : null,
        streams);
  }

  MediaState withEndpoints(Map<String, Endpoint> all) {
    return new MediaState(node, epoch, all, released, moveCause, movedFrom, streams);
  }

  MediaState withStream(String label, StreamMedia stream) {
    Map<String, StreamMedia> updated = new HashMap<>(streams);
    updated.put(label, stream);
    return new MediaState(node, epoch, endpoints, released, moveCause, movedFrom, updated);
  }

  MediaState releasedWith(Map<String, StreamCounters> counters, ReleaseReason reason) {
    MediaState next = new MediaState(node, epoch, endpoints, reason, moveCause, movedFrom, streams);
    for (var e : counters.entrySet())
      next = next.withStream(e.getKey(), next.stream(e.getKey()).withCounters(e.getValue()));
    return next;
  }
}
