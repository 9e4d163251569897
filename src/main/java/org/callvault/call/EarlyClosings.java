package org.callvault.call;

import java.time.Clock;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;

/**
 * A pause, a stop or a decline takes effect on the media the moment it reaches the call's entity,
 * even while the entity cannot decide it yet: after a failed write it restarts and reads its ledger
 * again, and while the journal does not answer, the requests sent to it wait. A request the call's
 * rules allow (as last known) that closes gates closes them at once and holds them closed until it
 * is decided; it is then recorded at the time it arrived (DESIGN.md, invariant 1). One instance per
 * entity, on its thread.
 */
final class EarlyClosings
    extends BehaviorInterceptor<CallRecording.Command, CallRecording.Command> {

  private final Gates gates;
  private final Clock clock;
  private final Map<CallRecording.ChangeRequest, Instant> arrived = new IdentityHashMap<>();

  /** The call as its entity last knew it: its recovered state, then each event applied. */
  private Call known;

  EarlyClosings(Gates gates, Clock clock) {
    super(CallRecording.Command.class);
    this.gates = gates;
    this.clock = clock;
  }

  /** The entity's state now. */
  void known(State state) {
    known = state instanceof Call call ? call : null;
  }

  @Override
  public Behavior<CallRecording.Command> aroundReceive(
      TypedActorContext<CallRecording.Command> ctx,
      CallRecording.Command msg,
      ReceiveTarget<CallRecording.Command> target) {
    if (known != null && msg instanceof CallRecording.ChangeRequest request && closes(request))
      arrived.put(request, clock.instant()); // read once the gates are closed
    return target.apply(ctx, msg);
  }

  /** Closes and holds the gates {@code request} would close now; whether it closed any. */
  private boolean closes(CallRecording.ChangeRequest request) {
    if (request instanceof CallRecording.Stop) {
      if (known.stopped()) return false;
      gates.holdAll();
      return true;
    }
    Requests.Decision decision = null;
    if (request instanceof CallRecording.Pause pause) decision = Requests.pause(known, pause);
    else if (request instanceof CallRecording.ChangeConsent consent)
      decision = Requests.consent(known, consent);
    if (!(decision instanceof Requests.Changes changes)) return false;
    Call after = LedgerWriter.unsealed(known, changes.changes(), "");
    boolean closing =
        known.streams().stream()
            .anyMatch(s -> known.gateOpen(s.label()) && !after.gateOpen(s.label()));
    if (closing) gates.holdWhereClosedIn(known, after);
    return closing;
  }

  /** When {@code request} arrived if it closed gates then, else null; it stays noted. */
  Instant arrival(CallRecording.ChangeRequest request) {
    return arrived.get(request);
  }

  /**
   * When {@code request} arrived if it closed gates then, else null; its holds are released (the
   * gates open again only when the ledger's state is matched).
   */
  Instant deciding(CallRecording.ChangeRequest request) {
    Instant at = arrived.remove(request);
    if (at != null) gates.releaseHolds();
    return at;
  }
}
