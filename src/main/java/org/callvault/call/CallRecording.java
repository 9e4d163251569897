package org.callvault.call;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
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
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.callvault.core.CborSerializable;
import org.callvault.core.ChunkInfo;
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;

/**
 * One recorded call: its parties and their consent, its policy, its pauses and the gates of its
 * streams. Its {@link Event}s are the call's compliance ledger, each chained to the previous one by
 * hash; its {@link State} is their fold ({@link Call}).
 *
 * <p>Fail-closed (DESIGN.md, invariant 1): for every event, the gates that the event closes are
 * closed before it is persisted, and the gates it opens are opened only after it is persisted.
 * Until recovery completes, and after a failed persist, every gate is closed.
 */
public final class CallRecording
    extends EventSourcedBehaviorWithEnforcedReplies<CallRecording.Command, Event, State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "CallRecording");

  /** Who the entity names as the cause of what it does on its own (automatic resume). */
  public static final String SYSTEM = "system";

  /** Who the ledger names as the cause of what the media plane reports. */
  public static final String MEDIA = "media";

  // ---------------------------------------------------------------------------------- commands

  public sealed interface Command extends CborSerializable
      permits Request, AutoResume, Passivate, FromMedia, StartMedia, Adopted {}

  /** A command from outside; every one is answered with a {@link Reply}. */
  public sealed interface Request extends Command permits GetCall, ChangeRequest {
    ActorRef<Reply> replyTo();
  }

  /** A request that may change the call; {@code by} is who the ledger names as its cause. */
  public sealed interface ChangeRequest extends Request
      permits Create, ChangeConsent, Pause, Resume, Stop, Amend {
    String by();
  }

  /** Creates the call; the same spec again is the same call, a different one is refused. */
  public record Create(CallSpec spec, String by, ActorRef<Reply> replyTo)
      implements ChangeRequest {}

  /** Answers with the call as it is now. */
  public record GetCall(ActorRef<Reply> replyTo) implements Request {}

  /** Records a party's consent decision. */
  public record ChangeConsent(
      String party, Party.Consent decision, String by, ActorRef<Reply> replyTo)
      implements ChangeRequest {}

  /** Pauses recording (e.g. while a card number is read out). */
  public record Pause(String reason, String by, ActorRef<Reply> replyTo) implements ChangeRequest {}

  /** Ends the current pause. */
  public record Resume(String by, ActorRef<Reply> replyTo) implements ChangeRequest {}

  /** Ends the recording for good. */
  public record Stop(String by, ActorRef<Reply> replyTo) implements ChangeRequest {}

  /**
   * Adds parties and streams to a running call, or renames a party (a SIPREC re-INVITE with new
   * m-lines, a metadata update): a party with a known id keeps its consent and takes the new name
   * and address of record; a stream with a known label is left as it is.
   */
  public record Amend(
      List<CallSpec.PartySpec> parties,
      List<StreamSpec> streams,
      String by,
      ActorRef<Reply> replyTo)
      implements ChangeRequest {}

  /** Timer: the pause persisted at {@code pauseSeq} has lasted the policy's maxPauseSeconds. */
  public record AutoResume(long pauseSeq) implements Command {}

  /** What the call's media session on this node reports. */
  public record FromMedia(MediaReport report) implements Command {}

  /** Binds the call's sockets on this node and records where media must be sent. */
  public enum StartMedia implements Command {
    INSTANCE
  }

  /** After recovery: chunks stored but not listed, or why the lookup failed. */
  public record Adopted(List<ChunkInfo> chunks, String failure) implements Command {}

  /** Sharding's stop message: the entity stops after passivating itself. */
  public enum Passivate implements Command {
    INSTANCE
  }

  // ----------------------------------------------------------------------------------- replies

  /**
   * The answer to every request. A refusal is a {@link Rejected} rather than a {@code
   * StatusReply.error}: callers must tell their own mistake ({@link Rejection#INVALID}) from a rule
   * of the call ({@link Rejection#CONFLICT}), and an error message alone does not carry that across
   * the cluster.
   */
  public sealed interface Reply extends CborSerializable permits Accepted, Rejected {}

  /**
   * The request was carried out, or changed nothing and {@code note} says why. {@code live} holds
   * the counters of the streams received on this node now, by label.
   */
  public record Accepted(Call call, String note, Map<String, StreamCounters> live)
      implements Reply {
    public Accepted(Call call, String note) {
      this(call, note, Map.of());
    }
  }

  /**
   * The request was refused and nothing changed; {@code message} says why in words a caller can act
   * on.
   */
  public record Rejected(Rejection rejection, String message) implements Reply {}

  public enum Rejection {
    /** The request itself is wrong (unknown party, invalid spec). */
    INVALID,
    /** There is no such call. */
    NOT_FOUND,
    /** The call's rules or state forbid the change. */
    CONFLICT
  }

  // ------------------------------------------------------------------------------------ entity

  /**
   * Registers the entity with cluster sharding on this node; {@code binder} is null on a node that
   * receives no media.
   */
  public static void init(ActorSystem<?> system, MediaBinder binder, MediaMoves moves) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    ENTITY_TYPE_KEY,
                    ctx ->
                        create(
                            ctx.getEntityId(),
                            ctx.getShard(),
                            new Gates(),
                            Clock.systemUTC(),
                            binder,
                            moves))
                .withStopMessage(Passivate.INSTANCE));
  }

  /**
   * @param shard the shard to ask for passivation once the call is stopped or was never created;
   *     null outside sharding (tests)
   * @param gates the gates this call's media receivers read
   */
  public static Behavior<Command> create(
      String callId,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Gates gates,
      Clock clock,
      MediaBinder binder,
      MediaMoves moves) {
    return Behaviors.withMdc(
        Command.class,
        Map.of("callId", callId),
        Behaviors.setup(
            ctx -> {
              CallSockets sockets =
                  new CallSockets(
                      callId, binder, moves, ctx.getSystem().address().toString(), ctx.getLog());
              return Behaviors.withTimers(
                  timers -> new CallRecording(callId, ctx, timers, shard, gates, clock, sockets));
            }));
  }

  private final String callId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Gates gates;
  private final Clock clock;
  private final CallSockets sockets;
  private final LedgerWriter ledger;

  private CallRecording(
      String callId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Gates gates,
      Clock clock,
      CallSockets sockets) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), callId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.callId = callId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.gates = gates;
    this.clock = clock;
    this.sockets = sockets;
    this.ledger = new LedgerWriter(gates, clock, this::afterPersisted);
    gates.closeAll();
  }

  @Override
  public State emptyState() {
    return new State.NoCall();
  }

  /**
   * A snapshot every 1,000 events (about eight minutes of a two-stream call's chunk index), so a
   * long call recovers from its latest snapshot instead of replaying hours of events. Events are
   * never deleted: they are the ledger.
   */
  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1000, 2);
  }

  /** Handlers per phase of the call's life: none yet, stopped, and active (every other phase). */
  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder =
        newCommandHandlerWithReplyBuilder();

    builder
        .forStateType(State.NoCall.class)
        .onCommand(Create.class, (none, cmd) -> create(cmd))
        .onCommand(Passivate.class, (none, cmd) -> Effect().stop().thenNoReply())
        .onCommand(Request.class, (none, cmd) -> refused(cmd, Requests.notFound(callId)))
        // AutoResume, FromMedia, StartMedia, Adopted: a call that was never created has none.
        .onCommand(Command.class, (none, cmd) -> Effect().noReply());

    builder
        .forState(Call.class, Call::stopped)
        .onCommand(Create.class, (c, cmd) -> decided(c, Requests.recreate(c, cmd), cmd))
        .onCommand(Stop.class, (c, cmd) -> decided(c, Requests.stopAgain(c), cmd))
        .onCommand(GetCall.class, (c, cmd) -> Effect().reply(cmd.replyTo(), current(c)))
        .onCommand(FromMedia.class, (c, cmd) -> fromMedia(c, cmd.report()))
        .onCommand(Adopted.class, this::adopted)
        .onCommand(Passivate.class, (c, cmd) -> Effect().stop().thenNoReply())
        .onCommand(Request.class, (c, cmd) -> Effect().reply(cmd.replyTo(), Requests.afterStop(c)))
        // AutoResume, StartMedia: nothing resumes or binds after the stop.
        .onCommand(Command.class, (c, cmd) -> Effect().noReply());

    builder
        .forStateType(Call.class)
        .onCommand(Create.class, (c, cmd) -> decided(c, Requests.recreate(c, cmd), cmd))
        .onCommand(GetCall.class, (c, cmd) -> Effect().reply(cmd.replyTo(), current(c)))
        .onCommand(ChangeConsent.class, (c, cmd) -> decided(c, Requests.consent(c, cmd), cmd))
        .onCommand(Pause.class, (c, cmd) -> decided(c, Requests.pause(c, cmd), cmd))
        .onCommand(Resume.class, (c, cmd) -> decided(c, Requests.resume(c), cmd))
        .onCommand(Stop.class, (c, cmd) -> decided(c, Requests.stop(c, clock.millis() * 1000), cmd))
        .onCommand(Amend.class, (c, cmd) -> decided(c, Requests.amend(c, cmd), cmd))
        .onCommand(AutoResume.class, this::autoResume)
        .onCommand(StartMedia.class, (c, cmd) -> startMedia(c))
        .onCommand(FromMedia.class, (c, cmd) -> fromMedia(c, cmd.report()))
        .onCommand(Adopted.class, this::adopted)
        .onCommand(Passivate.class, this::handOff);

    return builder.build();
  }

  // ------------------------------------------------------------------------------ requests

  private ReplyEffect<Event, State> create(Create cmd) {
    CallSpec spec = cmd.spec();
    Optional<Rejected> refused = Requests.refusedCreation(callId, spec);
    if (refused.isPresent()) return refused(cmd, refused.get());
    Event created = ledger.created(spec, cmd.by());
    Call next = Call.created(callId, spec, created);
    gates.closeWhereClosedIn(next);
    // Bound before the creation is answered: its creator learns where to send media.
    Change media = sockets.bind(next, gates, this::reported);
    List<Event> events = new ArrayList<>(List.of(created));
    if (media != null) events.addAll(ledger.seal(next, List.of(media), SYSTEM));
    return Effect()
        .persist(events)
        .thenRun(gates::matchState)
        .thenRun(state -> sockets.activate(((Call) state).mediaEpoch()))
        .thenReply(cmd.replyTo(), state -> current((Call) state));
  }

  /**
   * A request to a call that does not exist: refused, and the entity passivates (nothing to
   * remember).
   */
  private ReplyEffect<Event, State> refused(Request cmd, Rejected rejected) {
    return Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> rejected);
  }

  private Accepted current(Call call) {
    return new Accepted(call, null, sockets.live());
  }

  /** Answers a request as {@link Requests} decided it, persisting its changes if it has any. */
  private ReplyEffect<Event, State> decided(
      Call call, Requests.Decision decision, ChangeRequest cmd) {
    if (decision instanceof Requests.Refused refused)
      return Effect().reply(cmd.replyTo(), refused.rejected());
    if (decision instanceof Requests.Unchanged unchanged)
      return Effect().reply(cmd.replyTo(), new Accepted(call, unchanged.note()));
    List<Change> changes = sockets.withStreamsBound(((Requests.Changes) decision).changes(), gates);
    return write(call, changes, cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> autoResume(Call call, AutoResume cmd) {
    return Requests.autoResume(call, cmd.pauseSeq())
        .map(resumed -> write(call, List.of(resumed), SYSTEM, null))
        .orElse(Effect().noReply());
  }

  // ------------------------------------------------------------------------------------- media

  /** Called on media threads: only enqueues. */
  private void reported(MediaReport report) {
    context.getSelf().tell(new FromMedia(report));
  }

  /**
   * Sharding stops an active call when its node leaves or its shard moves. Make before break: the
   * session stores and reports what it holds, then reports Closed, on which the handoff is recorded
   * with the streams' counters, so the node that takes the call over records any gap as a HANDOFF
   * rather than a failure.
   */
  private ReplyEffect<Event, State> handOff(Call call, Passivate passivate) {
    return sockets.handOff() ? Effect().noReply() : Effect().stop().thenNoReply();
  }

  private ReplyEffect<Event, State> startMedia(Call call) {
    if (!sockets.enabled() || sockets.bound()) return Effect().noReply();
    return write(call, List.of(sockets.bind(call, gates, this::reported)), SYSTEM, null);
  }

  private ReplyEffect<Event, State> fromMedia(Call call, MediaReport report) {
    if (!(report instanceof MediaReport.Closed closed)) {
      List<Change> changes = Requests.reported(call, report);
      return changes.isEmpty() ? Effect().noReply() : write(call, changes, MEDIA, null);
    }
    // Closed: everything the session received is listed; its final counters go into the ledger.
    Change.MediaReleased released = sockets.closed(closed.counters());
    if (released.reason() == ReleaseReason.HANDOFF)
      return Effect()
          .persist(ledger.seal(call, List.of(released), SYSTEM))
          .thenStop()
          .thenNoReply();
    if (!released.counters().isEmpty()) return write(call, List.of(released), MEDIA, null);
    if (call.stopped()) passivate();
    return Effect().noReply();
  }

  /**
   * Lists the chunks found in storage after a crash, then receives media again if the call is
   * active.
   */
  private ReplyEffect<Event, State> adopted(Call call, Adopted adopted) {
    if (adopted.failure() != null) {
      // Without knowing what reached storage the call must not receive under a new epoch that a
      // later lookup could not tell apart; the restart retries the lookup.
      throw new IllegalStateException(
          "call " + callId + ": looking up unlisted chunks failed: " + adopted.failure());
    }
    List<Change> changes = new ArrayList<>(Continuity.adoptions(call, adopted.chunks()));
    if (!changes.isEmpty())
      context.getLog().warn("adopted {} chunk(s) stored but not listed", changes.size());
    if (!call.stopped()) context.getSelf().tell(StartMedia.INSTANCE);
    return changes.isEmpty() ? Effect().noReply() : write(call, changes, SYSTEM, null);
  }

  // ---------------------------------------------------------------------------------- persist

  /**
   * Writes {@code changes} to the ledger, fail-closed ({@link LedgerWriter}); {@code replyTo} is
   * null for the entity's own.
   */
  private ReplyEffect<Event, State> write(
      Call call, List<Change> changes, String by, ActorRef<Reply> replyTo) {
    return ledger.persist(Effect(), call, changes, by, replyTo);
  }

  private void afterPersisted(Call call, Change change) {
    if (change instanceof Change.Paused) {
      scheduleAutoResume(call);
    } else if (change instanceof Change.Resumed) {
      timers.cancel(AutoResume.class);
    } else if (change instanceof Change.Stopped) {
      timers.cancel(AutoResume.class);
      if (sockets.bound()) sockets.close(); // passivates on Closed, once the last chunks are listed
      else passivate();
    } else if (change instanceof Change.StreamsAdded) {
      sockets.activate(call.mediaEpoch()); // the added streams store under the current epoch
    } else if (change instanceof Change.MediaBound) {
      sockets.recorded(call);
    } else if (change instanceof Change.MediaReleased && call.stopped()) {
      passivate();
    }
  }

  private void scheduleAutoResume(Call call) {
    for (PauseSpan pause : call.openPause().stream().toList())
      timers.startSingleTimer(
          AutoResume.class,
          new AutoResume(pause.startSeq()),
          Requests.autoResumeDelay(call, pause, clock.instant()));
  }

  /** Asks the shard to stop this entity; a passivated entity is no longer remembered. */
  private void passivate() {
    if (shard != null) shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> {
      if (state instanceof Call call) return call.apply(event);
      if (event.change() instanceof Change.CallCreated created)
        return Call.created(callId, created.spec(), event);
      throw new IllegalStateException(
          "call '" + callId + "' has no CallCreated before event " + event.seq());
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
                context
                    .getLog()
                    .info("call {} recovered: {} at seq {}", callId, call.phase(), call.seq());
                if (call.phase() == Phase.PAUSED) scheduleAutoResume(call);
                if (sockets.enabled()) {
                  if (call.mediaEpoch() > 0) adoptUnlisted(call);
                  else if (!call.stopped()) context.getSelf().tell(StartMedia.INSTANCE);
                }
              }
            })
        .onSignal(PostStop.class, (state, signal) -> sockets.release())
        .onSignal(
            PreRestart.class,
            (state, signal) -> {
              gates.closeAll();
              sockets.release();
            })
        .build();
  }

  /** After recovery: asks storage for chunks of the last epoch that the ledger does not list. */
  private void adoptUnlisted(Call call) {
    context.pipeToSelf(
        sockets.unlisted(call),
        (chunks, failure) ->
            failure != null
                ? new Adopted(List.of(), String.valueOf(failure.getMessage()))
                : new Adopted(chunks, null));
  }
}
