package org.callvault.call;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
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
    List<Event> events = new ArrayList<>();
    Event last = null;
    for (Change change : changes) {
      long seq = last == null ? call.seq() + 1 : last.seq() + 1;
      last =
          Ledger.seal(
              seq, clock.instant(), by, change, last == null ? call.lastHash() : last.hash());
      events.add(last);
    }
    return events;
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
      ActorRef<CallRecording.Reply> replyTo) {
    List<Event> events = seal(call, changes, by);
    Call next = call;
    for (Event event : events) next = next.apply(event);
    gates.closeWhereClosedIn(next);
    EffectBuilder<Event, State> effect =
        effects
            .persist(events)
            .thenRun(gates::matchState)
            .thenRun(
                state -> changes.forEach(change -> afterPersisted.accept((Call) state, change)));
    return replyTo == null
        ? effect.thenNoReply()
        : effect.thenReply(replyTo, state -> new CallRecording.Accepted((Call) state, null));
  }
}
