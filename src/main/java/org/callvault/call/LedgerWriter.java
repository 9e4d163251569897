package org.callvault.call;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * How the entity writes its ledger, fail-closed (DESIGN.md, invariant 1): changes are sealed into
 * the hash chain one after another and persisted in one write; the gates they close are closed
 * before the write, the gates they open are opened only once it is persisted, and then the entity's
 * {@code afterPersisted} runs for each change.
 */
final class LedgerWriter {

  private final Gates gates;
  private final Clock clock;
  private final BiConsumer<Call, Change> afterPersisted;

  /**
   * A write not yet confirmed: the call before it and after it, the request that asked, and when.
   */
  private record Unconfirmed(
      Call before,
      Call intended,
      CallRecording.ChangeRequest request,
      List<Change> changes,
      String by,
      Instant at) {}

  /**
   * What the media plane reported whose write failed, written again once the ledger answers: gaps,
   * digits, timeouts. (Chunk listings are listed again from the running sockets; bindings and
   * releases follow the sockets; a timer's change comes again with its timer.)
   */
  record Rewrite(List<Change> changes, String by, Instant at) implements CallRecording.Command {}

  /**
   * The write in progress. The entity writes one at a time, and it outlives a restart of the entity
   * after the write failed: the entity instance is kept.
   */
  private Unconfirmed inFlight;

  /** A request asked again after its write failed, until it is decided again, and when it was. */
  private CallRecording.ChangeRequest retrying;

  private Instant retryingAt;

  LedgerWriter(Gates gates, Clock clock, BiConsumer<Call, Change> afterPersisted) {
    this.gates = gates;
    this.clock = clock;
    this.afterPersisted = afterPersisted;
  }

  /**
   * The events of {@code changes} after {@code call}'s last, each chained to the one before, timed
   * now.
   */
  List<Event> seal(Call call, List<Change> changes, String by) {
    return seal(call, changes, by, clock.instant());
  }

  /** As {@link #seal(Call, List, String)}, timed {@code at}. */
  private List<Event> seal(Call call, List<Change> changes, String by, Instant at) {
    List<Event> events = new ArrayList<>();
    Event last = null;
    for (Change change : changes) {
      long seq = last == null ? call.seq() + 1 : last.seq() + 1;
      last = Ledger.seal(seq, at, by, change, last == null ? call.lastHash() : last.hash());
      events.add(last);
    }
    return events;
  }

  /**
   * After the ledger was read again, for a write that failed without reaching it: the request to be
   * asked again, if it only closed gates (a pause, a stop, a decline), its gates kept closed until
   * it has been decided again; or, for the entity's own write, the {@link Rewrite} of what the
   * media plane reported. A request that would open a gate is not asked again: its caller had no
   * answer and must ask again, and the gates stay as the ledger says.
   */
  Optional<CallRecording.Command> unconfirmed(State recovered, org.slf4j.Logger log) {
    Unconfirmed failed = inFlight;
    inFlight = null;
    if (failed == null
        || !(recovered instanceof Call call)
        || call.seq() >= failed.intended().seq()) return Optional.empty();
    if (failed.request() == null) {
      List<Change> facts =
          failed.changes().stream()
              .filter(
                  c ->
                      c instanceof Change.MediaGap
                          || c instanceof Change.DtmfDetected
                          || c instanceof Change.MediaTimeout)
              .toList();
      if (facts.isEmpty()) return Optional.empty();
      log.warn("call {}: writing again {}, whose write failed", call.callId(), facts);
      return Optional.of(new Rewrite(facts, failed.by(), failed.at()));
    }
    if (opensAGate(failed.before(), failed.intended())) return Optional.empty();
    gates.holdWhereClosedIn(call, failed.intended());
    retrying = failed.request();
    retryingAt = failed.at();
    log.warn("call {}: asking again for {}, whose write failed", call.callId(), retrying);
    return Optional.of(retrying);
  }

  /**
   * When {@code request} was first asked if it is the one asked again after its write failed, else
   * null. Its gates held closed are released (they open again only when the ledger's state is
   * matched); its changes are recorded at that time, when they took effect on the media.
   */
  Instant deciding(CallRecording.ChangeRequest request) {
    if (retrying == null || !retrying.equals(request)) return null;
    retrying = null;
    gates.releaseHolds();
    return retryingAt;
  }

  private static boolean opensAGate(Call before, Call after) {
    return after.streams().stream()
        .anyMatch(s -> after.gateOpen(s.label()) && !before.gateOpen(s.label()));
  }

  /** {@code call} after {@code changes}, their events neither timed nor hashed. */
  static Call unsealed(Call call, List<Change> changes, String by) {
    Call next = call;
    for (Change change : changes)
      next = next.apply(new Event(next.seq() + 1, Instant.EPOCH, by, change, null, null));
    return next;
  }

  /** The first event of a call: its creation. */
  Event created(CallSpec spec, String by) {
    return Ledger.seal(1, clock.instant(), by, new Change.CallCreated(spec), Ledger.GENESIS);
  }

  /**
   * Persists {@code changes} after {@code call}; answers {@code replyTo} with the call after them,
   * or nobody for the entity's own changes (null).
   */
  ReplyEffect<Event, State> persist(
      EffectFactories<Event, State> effects,
      Call call,
      List<Change> changes,
      String by,
      ActorRef<CallRecording.Reply> replyTo,
      CallRecording.ChangeRequest request,
      Instant at) {
    // The gates the changes close are closed before their time is read, so that no audio the
    // media path lets through is later than the time the ledger says they closed, however long
    // the sealing takes (the first event of a kind is slow to encode) or this thread waits.
    gates.closeWhereClosedIn(unsealed(call, changes, by));
    Instant time = at == null ? clock.instant() : at;
    List<Event> events = seal(call, changes, by, time);
    Call next = call;
    for (Event event : events) next = next.apply(event);
    inFlight = new Unconfirmed(call, next, request, changes, by, time);
    EffectBuilder<Event, State> effect =
        effects
            .persist(events)
            .thenRun(state -> inFlight = null)
            .thenRun(gates::matchState)
            .thenRun(
                state -> changes.forEach(change -> afterPersisted.accept((Call) state, change)));
    return replyTo == null
        ? effect.thenNoReply()
        : effect.thenReply(replyTo, state -> new CallRecording.Accepted((Call) state, null));
  }
}
