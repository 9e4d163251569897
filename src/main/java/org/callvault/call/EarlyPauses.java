package org.callvault.call;

import java.time.Clock;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;

/**
 * A pause takes effect on the media the moment it reaches the call's entity, even while the entity
 * cannot decide it yet: after a failed write it restarts and reads its ledger again, and while the
 * journal does not answer, the requests sent to it wait. A pause the call's rules allow (as last
 * known) closes every gate at once and holds them closed until it is decided; it is then recorded
 * at the time it arrived (DESIGN.md, invariant 1). One instance per entity, on its thread.
 */
final class EarlyPauses extends BehaviorInterceptor<CallRecording.Command, CallRecording.Command> {

  private final Gates gates;
  private final Clock clock;
  private final Map<CallRecording.ChangeRequest, Instant> arrived = new IdentityHashMap<>();

  /** The call as its entity last knew it: its recovered state, then each event applied. */
  private Call known;

  EarlyPauses(Gates gates, Clock clock) {
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
    if (msg instanceof CallRecording.Pause pause
        && known != null
        && Requests.pause(known, pause) instanceof Requests.Changes) {
      gates.holdAll();
      arrived.put(pause, clock.instant()); // read once the gates are closed
    }
    return target.apply(ctx, msg);
  }

  /**
   * When {@code request} arrived if it closed the gates then, else null; its holds are released
   * (the gates open again only when the ledger's state is matched).
   */
  Instant deciding(CallRecording.ChangeRequest request) {
    Instant at = arrived.remove(request);
    if (at != null) gates.releaseHolds();
    return at;
  }
}
