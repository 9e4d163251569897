package org.callvault.call;

import java.time.Instant;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.callvault.call.CallRecording.Rejected;
import org.callvault.call.CallRecording.Rejection;

/**
 * The custody of a recording: its legal hold, its erasure, and the record of who read or exported
 * it, as requests to its entity. How the entity erases: once the request is allowed ({@link
 * Requests#erase}), its node destroys the recording's keys and deletes its audio, and only then is
 * the erasure recorded: a ledger never says erased of audio that can still be read. A failed
 * erasure records nothing and is answered with why; asked again, it is done again (destroying keys
 * that are gone changes nothing). Only the entity's thread calls it.
 */
public final class Custody {

  /** What a call's entity hands to its custody: these requests, and the erasure's outcome. */
  public sealed interface Request extends CallRecording.Command
      permits SetLegalHold, Erase, RecordAccess, RecordExport, Erased {}

  /** Places ({@code on}) or lifts a legal hold: while it holds, nothing erases the recording. */
  public record SetLegalHold(
      boolean on, String reason, String by, ActorRef<CallRecording.Reply> replyTo)
      implements CallRecording.ChangeRequest, Request {}

  /**
   * Erases the stopped recording (its keys destroyed, its audio deleted), judged at {@code asOf}:
   * refused on legal hold or within its minimum retention; {@code whenDue} (the retention sweep)
   * erases only once its retention has passed.
   */
  public record Erase(
      String reason,
      Instant asOf,
      boolean whenDue,
      String by,
      ActorRef<CallRecording.Reply> replyTo)
      implements CallRecording.ChangeRequest, Request {}

  /** Records that {@code by}, with {@code roles}, read {@code what} of the recording. */
  public record RecordAccess(
      String what, String roles, String by, ActorRef<CallRecording.Reply> replyTo)
      implements CallRecording.ChangeRequest, Request {}

  /** Records an export about to be handed to {@code by}: its digest and what it was made from. */
  public record RecordExport(
      Change.ExportMade export, String by, ActorRef<CallRecording.Reply> replyTo)
      implements CallRecording.ChangeRequest, Request {}

  /** The recording's keys destroyed and its audio deleted, or why not. */
  public record Erased(Erase request, String failure) implements Request {}

  /** Persists a decision's changes and answers (the entity's fail-closed write). */
  interface Decide {
    ReplyEffect<Event, State> apply(
        Call call, Requests.Decision decision, CallRecording.ChangeRequest request);
  }

  private final ActorContext<CallRecording.Command> context;
  private final CallSockets sockets;
  private final EffectFactories<Event, State> effects;
  private final Decide decide;

  /** Keys and audio are being destroyed: the entity must not stop before it records so. */
  private boolean erasing;

  /** Sharding asked the entity to stop while it was erasing: it stops once it has recorded. */
  private boolean stopWhenErased;

  Custody(
      ActorContext<CallRecording.Command> context,
      CallSockets sockets,
      EffectFactories<Event, State> effects,
      Decide decide) {
    this.context = context;
    this.sockets = sockets;
    this.effects = effects;
    this.decide = decide;
  }

  /**
   * A request of the call's custody, answered: the change it decides written, or, for an erasure,
   * the keys and audio destroyed first. {@code settled} is how the call answers in its phase (a
   * stopped one leaves memory then).
   */
  ReplyEffect<Event, State> handle(
      Call call, Request request, UnaryOperator<ReplyEffect<Event, State>> settled) {
    if (request instanceof SetLegalHold hold)
      return settled.apply(decide.apply(call, Requests.legalHold(call, hold), hold));
    if (request instanceof RecordAccess access)
      return settled.apply(decide.apply(call, Requests.access(access), access));
    if (request instanceof RecordExport export)
      return settled.apply(decide.apply(call, Requests.export(export), export));
    if (request instanceof Erase erase) return erase(call, erase, settled);
    return settled.apply(erased(call, (Erased) request));
  }

  /**
   * An erasure request: answered at once when refused or already done; otherwise the keys and audio
   * go first.
   */
  private ReplyEffect<Event, State> erase(
      Call call, Erase request, UnaryOperator<ReplyEffect<Event, State>> settled) {
    Requests.Decision decision = Requests.erase(call, request);
    if (!(decision instanceof Requests.Changes))
      return settled.apply(decide.apply(call, decision, request));
    context.getLog().warn("call {} is being erased: {}", call.callId(), request.reason());
    erasing = true;
    context.pipeToSelf(
        sockets.erase(call),
        (done, failure) ->
            new Erased(request, failure == null ? null : String.valueOf(failure.getMessage())));
    return effects.noReply();
  }

  /** The keys and audio are gone (or could not be): the erasure is recorded, or refused. */
  /** Whether an erasure is under way (the entity neither passivates nor stops meanwhile). */
  boolean erasing() {
    return erasing;
  }

  /**
   * Sharding's stop message came: true when it must wait for the erasure under way, which then asks
   * for it again.
   */
  boolean deferStop() {
    if (erasing) stopWhenErased = true;
    return erasing;
  }

  private ReplyEffect<Event, State> erased(Call call, Erased done) {
    erasing = false;
    if (stopWhenErased) {
      stopWhenErased = false;
      context.getSelf().tell(CallRecording.Passivate.INSTANCE);
    }
    if (done.failure() != null)
      return effects.reply(
          done.request().replyTo(),
          new Rejected(
              Rejection.UNAVAILABLE,
              "the recording could not be erased now ("
                  + done.failure()
                  + "); nothing is recorded as erased: ask again"));
    return decide.apply(call, Requests.erase(call, done.request()), done.request());
  }
}
