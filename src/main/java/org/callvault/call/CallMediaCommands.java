package org.callvault.call;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.callvault.core.ChunkInfo;
import org.callvault.core.MediaReport;
import org.callvault.core.ReleaseReason;

/**
 * What a call's entity does with its media ({@link CallRecording}'s media commands): binds its
 * sockets, lists what they store, adopts what storage holds after a crash, finds its sockets again
 * after a restart, and hands them off. Only the entity's thread calls it.
 */
final class CallMediaCommands {

  /** Binds the call's sockets on this node and records where media must be sent. */
  public enum StartMedia implements CallRecording.Command {
    INSTANCE
  }

  /** After recovery: chunks stored but not listed, or why the lookup failed. */
  public record Adopted(List<ChunkInfo> chunks, String failure) implements CallRecording.Command {}

  /**
   * A chunk of the call stored from a node's spool after the sockets that spooled it were gone:
   * their node was killed or stopped, and stored it when it started again.
   */
  public record StoredLate(ChunkInfo chunk) implements CallRecording.Command {}

  private final String callId;
  private final ActorContext<CallRecording.Command> context;
  private final CallSockets sockets;
  private final Gates gates;
  private final LedgerWriter ledger;
  private final EffectFactories<Event, State> effects;
  private final Runnable passivate;

  /** Storage is being asked what it holds that the ledger does not list. */
  private boolean adopting;

  /** Chunks stored late that came while storage was being asked: listed after what it holds. */
  private final List<StoredLate> lateWhileAdopting = new ArrayList<>();

  CallMediaCommands(
      String callId,
      ActorContext<CallRecording.Command> context,
      CallSockets sockets,
      Gates gates,
      LedgerWriter ledger,
      EffectFactories<Event, State> effects,
      Runnable passivate) {
    this.callId = callId;
    this.context = context;
    this.sockets = sockets;
    this.gates = gates;
    this.ledger = ledger;
    this.effects = effects;
    this.passivate = passivate;
  }

  /** Whether storage is being asked what it holds that the ledger does not list. */
  boolean adopting() {
    return adopting;
  }

  /** Why this node takes no new call now (it has no headroom); null when it takes one. */
  String refusesNewCalls() {
    return sockets.refusesNewCalls();
  }

  /** Binds the sockets of {@code call} here: the change that records them (null without media). */
  Change bind(Call call) {
    return sockets.bind(call, gates, this::reported);
  }

  /** Called on media threads: only enqueues. */
  private void reported(MediaReport report) {
    context.getSelf().tell(new CallRecording.FromMedia(report));
  }

  /**
   * Sharding stops an active call when its node leaves or its shard moves. Make before break: the
   * session stores and reports what it holds, then reports Closed, on which the handoff is recorded
   * with the streams' counters, so the node that takes the call over records any gap as a HANDOFF
   * rather than a failure.
   */
  ReplyEffect<Event, State> handOff() {
    return sockets.handOff() ? effects.noReply() : effects.stop().thenNoReply();
  }

  ReplyEffect<Event, State> start(Call call) {
    if (!sockets.enabled() || sockets.storing()) return effects.noReply();
    return write(call, List.of(bind(call)), CallRecording.SYSTEM);
  }

  ReplyEffect<Event, State> fromMedia(Call call, MediaReport report) {
    if (report instanceof MediaReport.ChunkWritten written) return listed(call, written);
    if (!(report instanceof MediaReport.Closed closed)) {
      List<Change> changes = Requests.reported(call, report);
      return changes.isEmpty() ? effects.noReply() : write(call, changes, CallRecording.MEDIA);
    }
    // Closed: everything the session received is listed; its final counters go into the ledger.
    Change.MediaReleased released = sockets.closed(closed.counters());
    if (released.reason() == ReleaseReason.HANDOFF)
      return effects
          .persist(ledger.seal(call, List.of(released), CallRecording.SYSTEM))
          .thenStop()
          .thenNoReply();
    if (!released.counters().isEmpty()) return write(call, List.of(released), CallRecording.MEDIA);
    if (call.stopped()) passivate.run();
    return effects.noReply();
  }

  /**
   * Lists a stored chunk, after any of its stream's chunks that the sockets stored before it and
   * the ledger missed (its write failed and the entity restarted with its sockets running).
   */
  private ReplyEffect<Event, State> listed(Call call, MediaReport.ChunkWritten written) {
    List<Change> changes = new ArrayList<>();
    Call next = call;
    List<ChunkInfo> chunks =
        new ArrayList<>(Continuity.missedBefore(call, written.chunk(), sockets.unlisted(call)));
    chunks.add(written.chunk());
    for (ChunkInfo chunk : chunks) {
      List<Change> listing =
          Requests.reported(next, new MediaReport.ChunkWritten(chunk, written.counters()));
      for (Event event : ledger.seal(next, listing, CallRecording.MEDIA)) next = next.apply(event);
      changes.addAll(listing);
    }
    return changes.isEmpty() ? effects.noReply() : write(call, changes, CallRecording.MEDIA);
  }

  /**
   * Lists the chunks found in storage after a crash, or stored by sockets that outlived a restart,
   * then receives media again if the call is active.
   */
  ReplyEffect<Event, State> adopted(Call call, Adopted adopted) {
    adopting = false;
    if (adopted.failure() != null) {
      // Without knowing what reached storage the call must not receive under a new epoch that a
      // later lookup could not tell apart; the restart retries the lookup.
      throw new IllegalStateException(
          "call " + callId + ": looking up unlisted chunks failed: " + adopted.failure());
    }
    // The chunks stored late meanwhile come after what storage held, in the order they came:
    // told to this entity again, they could come after later ones already waiting.
    List<ChunkInfo> found = new ArrayList<>(adopted.chunks());
    lateWhileAdopting.forEach(late -> found.add(late.chunk()));
    lateWhileAdopting.clear();
    List<Change> changes = new ArrayList<>(Continuity.adoptions(call, found));
    if (!changes.isEmpty())
      context.getLog().warn("adopted {} chunk(s) stored but not listed", changes.size());
    if (!call.stopped()) context.getSelf().tell(StartMedia.INSTANCE);
    else if (!sockets.bound()) passivate.run(); // what storage held is listed: nothing to keep
    return changes.isEmpty() ? effects.noReply() : write(call, changes, CallRecording.SYSTEM);
  }

  /**
   * Lists a chunk stored late from a spool, unless the ledger does already; once what storage holds
   * of the last epoch is adopted, so that a stream's chunks are listed in order. A stopped call
   * leaves memory again.
   */
  ReplyEffect<Event, State> storedLate(Call call, StoredLate late) {
    if (adopting) {
      lateWhileAdopting.add(late);
      return effects.noReply();
    }
    List<Change> changes = Continuity.listedLate(call, late.chunk());
    if (call.stopped() && !sockets.bound()) passivate.run();
    if (changes.isEmpty()) return effects.noReply();
    context
        .getLog()
        .warn(
            "chunk {} of '{}' (epoch {}) was stored late from a spool: listed now",
            late.chunk().n(),
            late.chunk().label(),
            late.chunk().epoch());
    return write(call, changes, CallRecording.SYSTEM);
  }

  /**
   * After recovery: the sockets that outlived a restart go on, and what they stored that the ledger
   * missed is listed; otherwise what storage holds of the last epoch is adopted and new sockets are
   * bound. A stopped call passivates once that is done.
   */
  void recovered(Call call) {
    if (!sockets.enabled()) {
      if (call.stopped()) passivate.run();
      return;
    }
    switch (sockets.found(call)) {
      case RUNNING -> context.getSelf().tell(new Adopted(sockets.unlisted(call), null));
      case UNRECORDED -> context.getSelf().tell(StartMedia.INSTANCE);
      case RECORDED -> {
        // What the MediaBound's write would have done once answered: store, and signal the move.
        sockets.recorded(call);
        context.getSelf().tell(new Adopted(sockets.unlisted(call), null));
      }
      case NONE -> {
        // A call stopped in order released its sockets after listing all they stored: storage
        // holds nothing more of it.
        if (call.mediaEpoch() > 0 && !(call.stopped() && call.media().released() != null))
          adoptStored(call);
        else if (!call.stopped()) context.getSelf().tell(StartMedia.INSTANCE);
        else passivate.run();
      }
    }
  }

  /** Asks storage for chunks of the last epoch that the ledger does not list. */
  private void adoptStored(Call call) {
    adopting = true;
    context.pipeToSelf(
        sockets.storedUnlisted(call),
        (chunks, failure) ->
            failure != null
                ? new Adopted(List.of(), String.valueOf(failure.getMessage()))
                : new Adopted(chunks, null));
  }

  private ReplyEffect<Event, State> write(Call call, List<Change> changes, String by) {
    return ledger.persist(effects, call, changes, by, null, null, null);
  }
}
