package org.callvault.call;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.slf4j.Logger;

/**
 * One incarnation of a call's entity and its node's media plane: the call's sockets while they are
 * bound here, and what the entity asks of them and of the cluster when they move. Only the entity's
 * thread touches it.
 */
final class CallSockets {

  private final String callId;

  /** This node's media plane; null on a node that receives no media. */
  private final MediaBinder binder;

  private final MediaMoves moves;
  private final String node;
  private final Logger log;

  /** This incarnation's sockets; null until bound and after they closed. */
  private MediaBinder.Session session;

  /** Sharding asked this active call to stop (its node is leaving, its shard moving). */
  private boolean handingOff;

  CallSockets(String callId, MediaBinder binder, MediaMoves moves, String node, Logger log) {
    this.callId = callId;
    this.binder = binder;
    this.moves = moves;
    this.node = node;
    this.log = log;
  }

  /** Whether this node receives media at all. */
  boolean enabled() {
    return binder != null;
  }

  boolean bound() {
    return session != null;
  }

  /** Whether sockets are bound here and store under an epoch the ledger recorded. */
  boolean storing() {
    return session != null && session.epoch() != 0;
  }

  /**
   * Whether this node receives media but no sockets store here: those the ledger names (if any) are
   * gone, and what their sender sends is not recorded until new ones are bound.
   */
  boolean gone() {
    return enabled() && !storing();
  }

  /**
   * What the sockets here say when {@code call} stops ({@link Continuity.Sockets}): a stream is
   * receiving when packets its gate let through arrived since the ledger's last listing.
   */
  Continuity.Sockets atStop(Call call) {
    if (!storing()) return new Continuity.Sockets(gone(), java.util.Set.of());
    java.util.Set<String> receiving = new java.util.HashSet<>();
    session
        .counters()
        .forEach(
            (label, live) -> {
              StreamCounters listed = call.media(label).counters();
              // Packets a closed gate dropped are never stored: they close no gap.
              if (live.received() - live.droppedByGate()
                  > listed.received() - listed.droppedByGate()) receiving.add(label);
            });
    return new Continuity.Sockets(false, receiving);
  }

  /** Why this node takes no new call now; null when it takes one (or records no media). */
  String refusesNewCalls() {
    return binder == null ? null : binder.refusesNewCalls();
  }

  /**
   * Binds the call's sockets on this node: the change that records where media must go now, or that
   * none could be bound. Null on a node without media.
   */
  Change bind(Call call, Gates gates, Consumer<MediaReport> reports) {
    if (binder == null) return null;
    Map<String, StreamCounters> baseline = new HashMap<>();
    Map<String, ChunkInfo> lastStored = new HashMap<>();
    for (StreamSpec stream : call.streams()) {
      MediaState.StreamMedia media = call.media(stream.label());
      baseline.put(stream.label(), media.counters());
      if (media.last() != null) lastStored.put(stream.label(), media.last());
    }
    // Sockets bound before the entity restarted, whose binding the ledger never recorded: still
    // receiving, never storing; recorded now, they store.
    if (session != null && session.epoch() == 0)
      return new Change.MediaBound(node, session.endpoints());
    try {
      session = binder.bind(callId, call.streams(), gates::gate, baseline, lastStored, reports);
      return new Change.MediaBound(node, session.endpoints());
    } catch (MediaBinder.MediaUnavailableException e) {
      log.error("call {}: no media on {}: {}", callId, node, e.getMessage());
      return new Change.MediaUnavailable(node, e.getMessage());
    }
  }

  /**
   * {@code changes}, with the streams a last {@link Change.StreamsAdded} adds bound here next to
   * the call's others (none without sockets here, or when none could be bound).
   */
  List<Change> withStreamsBound(List<Change> changes, Gates gates) {
    int last = changes.size() - 1;
    if (!(changes.get(last) instanceof Change.StreamsAdded added) || session == null)
      return changes;
    Map<String, Endpoint> endpoints = Map.of();
    try {
      endpoints = session.add(added.streams(), gates::gate);
    } catch (MediaBinder.MediaUnavailableException e) {
      log.error("call {}: no media for the added streams: {}", callId, e.getMessage());
    }
    List<Change> bound = new ArrayList<>(changes);
    bound.set(last, new Change.StreamsAdded(added.streams(), endpoints));
    return bound;
  }

  /** The ledger lists the current endpoints under {@code epoch}: the sockets store from now on. */
  void activate(long epoch) {
    if (session != null) session.activate(epoch);
  }

  /**
   * The ledger recorded this node's sockets ({@code call}'s current epoch): they store, and if the
   * media moved here, the node that handed it off relays what it still receives and the sender is
   * told where to send now.
   */
  void recorded(Call call) {
    if (session == null) return;
    session.activate(call.mediaEpoch());
    MediaState media = call.media();
    if (media.moveCause() == null) return;
    log.info(
        "call {}: media moved here from {} ({}), epoch {}",
        callId,
        media.movedFrom(),
        media.moveCause(),
        call.mediaEpoch());
    if (media.moveCause() == GapCause.HANDOFF
        && media.movedFrom() != null
        && !media.movedFrom().equals(node)) session.takeOverFrom(media.movedFrom());
    moves.moved(call.spec(), call.mediaEpoch(), call.endpoints(), media.moveCause());
  }

  /** The counters of the streams received here now, by label. */
  Map<String, StreamCounters> live() {
    return session == null ? Map.of() : session.counters();
  }

  /**
   * Sharding stops the active call (its node leaving, its shard moving): the session stores and
   * reports what it holds, and, make before break, its sockets go on receiving for the node that
   * takes the call over. With no other node up (the last node stopping) nobody will soon: holding
   * the sockets open would only delay the stop, so they close. False without sockets.
   */
  boolean handOff() {
    if (session == null) return false;
    handingOff = true;
    if (moves.anotherNodeIsUp()) session.handOff();
    else session.close();
    return true;
  }

  /** Stops receiving; the session reports Closed once what it received is stored and reported. */
  void close() {
    if (session != null) session.close();
  }

  /** The session reported Closed with these final counters: it is gone; the release to record. */
  Change.MediaReleased closed(Map<String, StreamCounters> counters) {
    session = null;
    return new Change.MediaReleased(
        node, counters, handingOff ? ReleaseReason.HANDOFF : ReleaseReason.STOPPED);
  }

  /**
   * Destroys the recording's keys and deletes its audio: every chunk the ledger lists, by stream,
   * epoch and the last chunk listed in it. Fails on a node that stores no audio.
   */
  CompletionStage<Void> erase(Call call) {
    if (binder == null)
      return CompletableFuture.failedFuture(
          new IllegalStateException("this node stores no audio: ask a node with media"));
    Map<String, Map<Long, Long>> stored = new HashMap<>();
    for (StreamSpec stream : call.streams()) {
      MediaState.StreamMedia media = call.media(stream.label());
      Map<Long, Long> epochs = new HashMap<>(media.earlierLastN());
      if (media.chunks() > 0) epochs.merge(media.epoch(), media.lastN(), Math::max);
      stored.put(stream.label(), epochs);
    }
    return binder.erase(callId, stored);
  }

  /** What the entity finds of its media when it has recovered its ledger. */
  enum Found {
    /** No sockets here: they are bound anew (after what storage holds is adopted). */
    NONE,
    /** This node's sockets outlived the entity's restart and store under the ledger's epoch. */
    RUNNING,
    /** This node's sockets outlived a restart before the ledger recorded them: record them. */
    UNRECORDED,
    /**
     * This node's sockets outlived a restart, and the ledger did record them: the write of their
     * {@code MediaBound} reached the journal though its answer failed. They store from now on.
     */
    RECORDED
  }

  /**
   * After recovery: sockets that outlived the entity's restart go on as they are when the ledger
   * knows their epoch (or none yet); otherwise they are closed and bound anew.
   */
  Found found(Call call) {
    if (session == null) return Found.NONE;
    if (!call.stopped() && session.epoch() == call.mediaEpoch()) return Found.RUNNING;
    if (!call.stopped() && session.epoch() == 0 && call.mediaEpoch() == 0) return Found.UNRECORDED;
    if (!call.stopped()
        && session.epoch() == 0
        && node.equals(call.media().node())
        && session.endpoints().equals(call.endpoints())) return Found.RECORDED;
    log.warn(
        "call {}: sockets that outlived the restart store under epoch {}, the ledger's is {}:"
            + " closing them",
        callId,
        session.epoch(),
        call.mediaEpoch());
    release();
    return Found.NONE;
  }

  /** The chunks the running sockets stored and reported that the ledger may not list. */
  List<ChunkInfo> unlisted(Call call) {
    if (session == null) return List.of();
    return session.unlisted().stream()
        .filter(c -> call.streams().stream().anyMatch(s -> s.label().equals(c.label())))
        .toList();
  }

  /** The ledger lists {@code chunk}: the sockets need not remember it. */
  void listed(ChunkInfo chunk) {
    if (session != null) session.listed(chunk);
  }

  /** Closes the sockets at once (the entity stops). */
  void release() {
    if (session != null) {
      session.close();
      session = null;
    }
  }

  /**
   * After recovery: the chunks of the last epoch that reached storage but that the ledger does not
   * list.
   */
  CompletionStage<List<ChunkInfo>> storedUnlisted(Call call) {
    List<CompletableFuture<List<ChunkInfo>>> lookups = new ArrayList<>();
    for (Continuity.Lookup l : Continuity.unlistedLookups(call))
      lookups.add(
          binder.storedAfter(callId, l.label(), l.epoch(), l.afterN()).toCompletableFuture());
    return CompletableFuture.allOf(lookups.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            done -> {
              List<ChunkInfo> chunks = new ArrayList<>();
              lookups.forEach(l -> chunks.addAll(l.join()));
              return chunks;
            });
  }
}
