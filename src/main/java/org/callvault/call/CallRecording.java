package org.callvault.call;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One recorded call: its parties and their consent, its policy, its pauses and the gates of its
 * streams. Its events are the call's compliance ledger, each chained to the previous one by hash.
 *
 * <p>Fail-closed (DESIGN.md, invariant 1): for every event, the gates that the event closes are
 * closed before it is persisted, and the gates it opens are opened only after it is persisted.
 * Until recovery completes, and after a failed persist, every gate is closed.
 */
public final class CallRecording
    extends EventSourcedBehaviorWithEnforcedReplies<CallRecording.Command, CallRecording.Event, CallRecording.State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "CallRecording");

  /** Who the entity names as the cause of what it does on its own (automatic resume). */
  public static final String SYSTEM = "system";

  // ---------------------------------------------------------------------------------- commands

  public sealed interface Command extends CborSerializable permits Request, AutoResume, Passivate {}

  /** A command from outside; every one is answered with a {@link Reply}. */
  public sealed interface Request extends Command permits Create, GetCall, ChangeConsent, Pause, Resume, Stop {
    ActorRef<Reply> replyTo();
  }

  /** Creates the call; the same spec again is the same call, a different one is refused. */
  public record Create(CallSpec spec, String by, ActorRef<Reply> replyTo) implements Request {}

  /** Answers with the call as it is now. */
  public record GetCall(ActorRef<Reply> replyTo) implements Request {}

  /** Records a party's consent decision. */
  public record ChangeConsent(String party, Party.Consent decision, String by, ActorRef<Reply> replyTo) implements Request {}

  /** Pauses recording (e.g. while a card number is read out). */
  public record Pause(String reason, String by, ActorRef<Reply> replyTo) implements Request {}

  /** Ends the current pause. */
  public record Resume(String by, ActorRef<Reply> replyTo) implements Request {}

  /** Ends the recording for good. */
  public record Stop(String by, ActorRef<Reply> replyTo) implements Request {}

  /** Timer: the pause persisted at {@code pauseSeq} has lasted the policy's maxPauseSeconds. */
  public record AutoResume(long pauseSeq) implements Command {}

  /** Sharding's stop message: the entity stops after passivating itself. */
  public enum Passivate implements Command {
    INSTANCE
  }

  // ----------------------------------------------------------------------------------- replies

  /**
   * The answer to every request. A refusal is a {@link Rejected} rather than a
   * {@code StatusReply.error}: callers must tell their own mistake ({@link Rejection#INVALID})
   * from a rule of the call ({@link Rejection#CONFLICT}), and an error message alone does not
   * carry that across the cluster.
   */
  public sealed interface Reply extends CborSerializable permits Accepted, Rejected {}

  /** The request was carried out, or changed nothing and {@code note} says why. */
  public record Accepted(Call call, String note) implements Reply {}

  /** The request was refused and nothing changed; {@code message} says why in words a caller can act on. */
  public record Rejected(Rejection rejection, String message) implements Reply {}

  public enum Rejection {
    /** The request itself is wrong (unknown party, invalid spec). */
    INVALID,
    /** There is no such call. */
    NOT_FOUND,
    /** The call's rules or state forbid the change. */
    CONFLICT
  }

  // ------------------------------------------------------------------------------------ events

  /**
   * One entry of the ledger: a change, when it happened, who caused it, and the hash chain.
   * Persisted forever. Shape changes are noted here with how old events still read.
   */
  public record Event(long seq, Instant time, String by, Change change, String prevHash, String hash)
      implements CborSerializable {}

  /** What an event changed. Bound to Jackson by these names, never by class name. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = CallCreated.class, name = "CallCreated"),
    @JsonSubTypes.Type(value = ConsentChanged.class, name = "ConsentChanged"),
    @JsonSubTypes.Type(value = Paused.class, name = "Paused"),
    @JsonSubTypes.Type(value = Resumed.class, name = "Resumed"),
    @JsonSubTypes.Type(value = Stopped.class, name = "Stopped")
  })
  public sealed interface Change extends CborSerializable
      permits CallCreated, ConsentChanged, Paused, Resumed, Stopped {
    /** The name of the change in the ledger. */
    default String type() {
      return getClass().getSimpleName();
    }
  }

  /** The call was created with this spec. */
  public record CallCreated(CallSpec spec) implements Change {}

  /** A party's consent changed from {@code previous} to {@code decision}. */
  public record ConsentChanged(String party, Party.Consent decision, Party.Consent previous) implements Change {}

  /** Recording was paused. */
  public record Paused(String reason) implements Change {}

  /** Recording resumed; {@code reason} is set when the system resumed it on its own. */
  public record Resumed(String reason) implements Change {}

  /** The recording ended. */
  public record Stopped() implements Change {}

  // ------------------------------------------------------------------------------------- state

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = NoCall.class, name = "NoCall"),
    @JsonSubTypes.Type(value = Call.class, name = "Call")
  })
  public sealed interface State extends CborSerializable permits NoCall, Call {}

  /** No call was created under this id. */
  public record NoCall() implements State {}

  /** Where a call is in its life. */
  public enum Phase {
    /** ALL_PARTY: gates are closed until every party that has not refused has granted consent. */
    AWAITING_CONSENT,
    RECORDING,
    PAUSED,
    /** onDecline STOP: a party declined or withdrew, so nothing is stored for the rest of the call. */
    CONSENT_REFUSED,
    STOPPED
  }

  /** A pause, open while {@code end} is null. */
  public record PauseSpan(long startSeq, Instant start, String by, String reason, Instant end, String resumedBy, String resumeReason)
      implements CborSerializable {}

  /**
   * A created call.
   *
   * @param haltedBy the party whose decline or withdrawal stopped recording under onDecline STOP
   * @param seq      the seq of the last event applied
   * @param lastHash the hash of the last event applied
   */
  public record Call(
      String callId,
      CallSpec spec,
      List<Party> parties,
      List<StreamSpec> streams,
      List<PauseSpan> pauses,
      String haltedBy,
      Instant createdAt,
      Instant stoppedAt,
      String stoppedBy,
      long seq,
      String lastHash)
      implements State {

    public Call {
      parties = List.copyOf(parties);
      streams = List.copyOf(streams);
      pauses = List.copyOf(pauses);
    }

    public Policy policy() {
      return spec.policy();
    }

    public Phase phase() {
      if (stoppedAt != null) return Phase.STOPPED;
      if (openPause().isPresent()) return Phase.PAUSED;
      if (haltedBy != null) return Phase.CONSENT_REFUSED;
      if (policy().consentMode() == Policy.ConsentMode.ALL_PARTY
          && parties.stream().anyMatch(p -> !p.consent().refused() && p.consent() != Party.Consent.GRANTED))
        return Phase.AWAITING_CONSENT;
      return Phase.RECORDING;
    }

    /** Whether audio of this stream may be stored now. */
    public boolean gateOpen(String label) {
      if (phase() != Phase.RECORDING) return false;
      return streams.stream()
          .filter(s -> s.label().equals(label))
          .findFirst()
          .flatMap(s -> party(s.party()))
          .map(p -> !p.consent().refused())
          .orElse(false);
    }

    public Optional<Party> party(String id) {
      return parties.stream().filter(p -> p.id().equals(id)).findFirst();
    }

    public Optional<PauseSpan> openPause() {
      if (pauses.isEmpty()) return Optional.empty();
      PauseSpan last = pauses.get(pauses.size() - 1);
      return last.end() == null ? Optional.of(last) : Optional.empty();
    }

    static Call created(String callId, CallSpec spec, Event event) {
      List<Party> parties = new ArrayList<>();
      String haltedBy = null;
      for (CallSpec.PartySpec p : spec.parties()) {
        Party.Consent consent = p.consent() == null ? Party.Consent.UNKNOWN : p.consent();
        boolean decided = consent != Party.Consent.UNKNOWN;
        parties.add(new Party(p.id(), p.role(), consent, decided ? event.by() : null, decided ? event.time() : null));
        if (consent.refused() && spec.policy().onDecline() == Policy.OnDecline.STOP && haltedBy == null) haltedBy = p.id();
      }
      return new Call(callId, spec, parties, spec.streams(), List.of(), haltedBy, event.time(), null, null, event.seq(), event.hash());
    }

    Call apply(Event event) {
      Change change = event.change();
      Call next = this;
      if (change instanceof ConsentChanged c) next = withConsent(c, event);
      else if (change instanceof Paused p)
        next = withPauses(append(pauses, new PauseSpan(event.seq(), event.time(), event.by(), p.reason(), null, null, null)));
      else if (change instanceof Resumed r) next = withPauses(closeLast(event, r.reason()));
      else if (change instanceof Stopped)
        next = new Call(callId, spec, parties, streams, pauses, haltedBy, createdAt, event.time(), event.by(), seq, lastHash);
      return next.chained(event);
    }

    private Call withConsent(ConsentChanged change, Event event) {
      List<Party> updated = new ArrayList<>();
      for (Party p : parties) updated.add(p.id().equals(change.party()) ? p.withConsent(change.decision(), event.by(), event.time()) : p);
      String halted = haltedBy;
      if (halted == null && change.decision().refused() && policy().onDecline() == Policy.OnDecline.STOP) halted = change.party();
      return new Call(callId, spec, updated, streams, pauses, halted, createdAt, stoppedAt, stoppedBy, seq, lastHash);
    }

    private Call withPauses(List<PauseSpan> updated) {
      return new Call(callId, spec, parties, streams, updated, haltedBy, createdAt, stoppedAt, stoppedBy, seq, lastHash);
    }

    private List<PauseSpan> closeLast(Event event, String reason) {
      List<PauseSpan> updated = new ArrayList<>(pauses);
      PauseSpan open = updated.remove(updated.size() - 1);
      updated.add(new PauseSpan(open.startSeq(), open.start(), open.by(), open.reason(), event.time(), event.by(), reason));
      return updated;
    }

    private Call chained(Event event) {
      return new Call(callId, spec, parties, streams, pauses, haltedBy, createdAt, stoppedAt, stoppedBy, event.seq(), event.hash());
    }

    private static <T> List<T> append(List<T> list, T item) {
      List<T> copy = new ArrayList<>(list);
      copy.add(item);
      return copy;
    }
  }

  // ------------------------------------------------------------------------------------ entity

  /** Registers the entity with cluster sharding on this node. */
  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), new Gates(), Clock.systemUTC()))
                .withStopMessage(Passivate.INSTANCE));
  }

  /**
   * @param shard the shard to ask for passivation once the call is stopped or was never created;
   *              null outside sharding (tests)
   * @param gates the gates this call's media receivers read
   */
  public static Behavior<Command> create(
      String callId, ActorRef<ClusterSharding.ShardCommand> shard, Gates gates, Clock clock) {
    return Behaviors.withMdc(
        Command.class,
        Map.of("callId", callId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CallRecording(callId, ctx, timers, shard, gates, clock))));
  }

  private final String callId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Gates gates;
  private final Clock clock;

  private CallRecording(
      String callId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Gates gates,
      Clock clock) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), callId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.callId = callId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.gates = gates;
    this.clock = clock;
    gates.closeAll();
  }

  @Override
  public State emptyState() {
    return new NoCall();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();

    builder
        .forStateType(NoCall.class)
        .onCommand(Create.class, (state, cmd) -> create(cmd))
        .onCommand(AutoResume.class, (state, cmd) -> Effect().noReply())
        .onCommand(Passivate.class, (state, cmd) -> Effect().stop().thenNoReply())
        .onCommand(
            Request.class,
            (state, cmd) ->
                Effect()
                    .none()
                    .thenRun(s -> passivate())
                    .thenReply(cmd.replyTo(), s -> new Rejected(Rejection.NOT_FOUND, "no call with id '" + callId + "'")));

    builder
        .forState(state -> state instanceof Call call && call.phase() == Phase.STOPPED)
        .onCommand(Create.class, (state, cmd) -> recreate((Call) state, cmd))
        .onCommand(GetCall.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Accepted((Call) state, null)))
        .onCommand(
            Stop.class,
            (state, cmd) -> Effect().reply(cmd.replyTo(), new Accepted((Call) state, "the call was already stopped at " + ((Call) state).stoppedAt() + "; nothing changed")))
        .onCommand(AutoResume.class, (state, cmd) -> Effect().noReply())
        .onCommand(Passivate.class, (state, cmd) -> Effect().stop().thenNoReply())
        .onCommand(
            Request.class,
            (state, cmd) -> {
              Call call = (Call) state;
              return Effect()
                  .reply(
                      cmd.replyTo(),
                      new Rejected(
                          Rejection.CONFLICT,
                          "call '" + callId + "' was stopped at " + call.stoppedAt() + " by " + call.stoppedBy() + ": no change is accepted after stop"));
            });

    builder
        .forStateType(Call.class)
        .onCommand(Create.class, this::recreate)
        .onCommand(GetCall.class, (call, cmd) -> Effect().reply(cmd.replyTo(), new Accepted(call, null)))
        .onCommand(ChangeConsent.class, this::changeConsent)
        .onCommand(Pause.class, this::pause)
        .onCommand(Resume.class, this::resume)
        .onCommand(Stop.class, (call, cmd) -> persist(call, new Stopped(), cmd.by(), cmd.replyTo()))
        .onCommand(AutoResume.class, this::autoResume)
        .onCommand(Passivate.class, (call, cmd) -> Effect().stop().thenNoReply());

    return builder.build();
  }

  private ReplyEffect<Event, State> create(Create cmd) {
    CallSpec spec = cmd.spec();
    if (!callId.equals(spec.callId()))
      return Effect().reply(cmd.replyTo(), new Rejected(Rejection.INVALID, "callId '" + spec.callId() + "' was sent to call '" + callId + "'"));
    List<String> problems = spec.problems();
    if (!problems.isEmpty())
      return Effect()
          .none()
          .thenRun(s -> passivate())
          .thenReply(cmd.replyTo(), s -> new Rejected(Rejection.INVALID, String.join("; ", problems)));
    Event event = Ledger.seal(1, clock.instant(), cmd.by(), new CallCreated(spec), Ledger.GENESIS);
    Call next = Call.created(callId, spec, event);
    gates.closeWhereClosedIn(next);
    return Effect()
        .persist(event)
        .thenRun(state -> gates.matchState(state))
        .thenReply(cmd.replyTo(), state -> new Accepted((Call) state, null));
  }

  private ReplyEffect<Event, State> recreate(Call call, Create cmd) {
    if (call.spec().equals(cmd.spec()))
      return Effect().reply(cmd.replyTo(), new Accepted(call, "call '" + callId + "' already exists with this definition; nothing changed"));
    return Effect()
        .reply(
            cmd.replyTo(),
            new Rejected(Rejection.CONFLICT, "call '" + callId + "' already exists with a different definition; a call id names one call"));
  }

  private ReplyEffect<Event, State> changeConsent(Call call, ChangeConsent cmd) {
    Optional<Party> party = call.party(cmd.party());
    if (party.isEmpty())
      return Effect()
          .reply(
              cmd.replyTo(),
              new Rejected(
                  Rejection.INVALID,
                  "party '" + cmd.party() + "' is not a party of call '" + callId + "' (parties: "
                      + String.join(", ", call.parties().stream().map(Party::id).toList()) + ")"));
    Party.Consent current = party.get().consent();
    if (cmd.decision() == Party.Consent.UNKNOWN)
      return Effect().reply(cmd.replyTo(), new Rejected(Rejection.INVALID, "decision must be GRANTED, DECLINED or WITHDRAWN"));
    if (cmd.decision() == current)
      return Effect().reply(cmd.replyTo(), new Accepted(call, "consent of party '" + cmd.party() + "' is already " + current + "; nothing changed"));
    if (cmd.decision() == Party.Consent.WITHDRAWN && current != Party.Consent.GRANTED)
      return Effect()
          .reply(
              cmd.replyTo(),
              new Rejected(
                  Rejection.CONFLICT,
                  "consent of party '" + cmd.party() + "' is " + current + ": only GRANTED consent can be withdrawn (record a refusal as DECLINED)"));
    return persist(call, new ConsentChanged(cmd.party(), cmd.decision(), current), cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> pause(Call call, Pause cmd) {
    if (!call.policy().pauseAllowed())
      return Effect()
          .reply(
              cmd.replyTo(),
              new Rejected(Rejection.CONFLICT, "pause refused: the policy of call '" + callId + "' forbids pauses (pauseAllowed=false: the line must be recorded in full)"));
    Optional<PauseSpan> open = call.openPause();
    if (open.isPresent())
      return Effect()
          .reply(
              cmd.replyTo(),
              new Accepted(call, "already paused since " + open.get().start() + " by " + open.get().by() + " (" + open.get().reason() + "); nothing changed"));
    if (call.phase() == Phase.CONSENT_REFUSED) return refusedByDecline(call, cmd);
    return persist(call, new Paused(cmd.reason()), cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> resume(Call call, Resume cmd) {
    if (call.openPause().isEmpty())
      return Effect().reply(cmd.replyTo(), new Accepted(call, "call '" + callId + "' is not paused; nothing changed"));
    return persist(call, new Resumed(null), cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> autoResume(Call call, AutoResume cmd) {
    Optional<PauseSpan> open = call.openPause();
    if (open.isEmpty() || open.get().startSeq() != cmd.pauseSeq()) return Effect().noReply();
    String reason = "the pause exceeded maxPauseSeconds (" + call.policy().maxPauseSeconds() + " s)";
    return persist(call, new Resumed(reason), SYSTEM, null);
  }

  private ReplyEffect<Event, State> refusedByDecline(Call call, Request cmd) {
    return Effect()
        .reply(
            cmd.replyTo(),
            new Rejected(
                Rejection.CONFLICT,
                "recording of call '" + callId + "' was halted for the rest of the call when party '" + call.haltedBy()
                    + "' refused consent (onDecline=STOP)"));
  }

  /**
   * Persists one change: gates it closes are closed first, gates it opens are opened after the
   * event is stored. {@code replyTo} may be null for the entity's own changes.
   */
  private ReplyEffect<Event, State> persist(Call call, Change change, String by, ActorRef<Reply> replyTo) {
    Event event = Ledger.seal(call.seq() + 1, clock.instant(), by, change, call.lastHash());
    Call next = call.apply(event);
    gates.closeWhereClosedIn(next);
    var effect =
        Effect()
            .persist(event)
            .thenRun(state -> gates.matchState(state))
            .thenRun(state -> afterPersisted((Call) state, change));
    return replyTo == null ? effect.thenNoReply() : effect.thenReply(replyTo, state -> new Accepted((Call) state, null));
  }

  private void afterPersisted(Call call, Change change) {
    if (change instanceof Paused) {
      scheduleAutoResume(call);
    } else if (change instanceof Resumed) {
      timers.cancel(AutoResume.class);
    } else if (change instanceof Stopped) {
      timers.cancel(AutoResume.class);
      passivate();
    }
  }

  private void scheduleAutoResume(Call call) {
    call.openPause()
        .ifPresent(
            pause -> {
              Instant due = pause.start().plusSeconds(call.policy().maxPauseSeconds());
              Duration delay = Duration.between(clock.instant(), due);
              if (delay.isNegative()) delay = Duration.ZERO;
              timers.startSingleTimer(AutoResume.class, new AutoResume(pause.startSeq()), delay);
            });
  }

  /** Asks the shard to stop this entity; a passivated entity is no longer remembered. */
  private void passivate() {
    if (shard != null) shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> {
      if (state instanceof Call call) return call.apply(event);
      if (event.change() instanceof CallCreated created) return Call.created(callId, created.spec(), event);
      throw new IllegalStateException("call '" + callId + "' has no CallCreated before event " + event.seq());
    };
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              gates.matchState(state);
              if (state instanceof Call call) {
                context.getLog().info("call {} recovered: {} at seq {}", callId, call.phase(), call.seq());
                if (call.phase() == Phase.PAUSED) scheduleAutoResume(call);
              }
            })
        .build();
  }
}
