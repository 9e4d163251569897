package org.callvault.call;

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
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
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
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;

/**
 * One recorded call: its parties and their consent, its policy, its pauses and the gates of its
 * streams. Its {@link Event}s are the call's compliance ledger, each chained to the previous one by
 * hash; its {@link State} is their fold ({@link Call}).
 *
 * <p>Fail-closed (DESIGN.md, invariant 1): for every event, the gates that the event closes are
 * closed before it is persisted, and the gates it opens are opened only after it is persisted.
 * Every gate is closed until the ledger is first read. A failed write restarts the entity, not its
 * media (invariant 7): the sockets go on, the gates stay as the last confirmed write left them with
 * the failed write's closings, and a request that only closed gates is asked again once the ledger
 * answers ({@link LedgerWriter#unconfirmed}).
 */
public final class CallRecording
    extends EventSourcedBehaviorWithEnforcedReplies<CallRecording.Command, Event, State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "CallRecording");

  /** Who the entity names as the cause of what it does on its own (automatic resume). */
  public static final String SYSTEM = "system";

  /** Who the ledger names as the cause of what the media plane reports. */
  public static final String MEDIA = "media";

  public sealed interface Command extends CborSerializable
      permits Request,
          AutoResume,
          CallLimits.Check,
          LedgerWriter.Rewrite,
          Passivate,
          FromMedia,
          CallMediaCommands.StartMedia,
          CallMediaCommands.Adopted,
          CallMediaCommands.StoredLate,
          Custody.Request {}

  /** A command from outside; every one is answered with a {@link Reply}. */
  public sealed interface Request extends Command permits GetCall, ChangeRequest {
    ActorRef<Reply> replyTo();
  }

  /** A request that may change the call; {@code by} is who the ledger names as its cause. */
  public sealed interface ChangeRequest extends Request
      permits Create,
          ChangeConsent,
          Pause,
          Resume,
          Stop,
          Amend,
          Custody.SetLegalHold,
          Custody.Erase,
          Custody.RecordAccess,
          Custody.RecordExport {
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
   * and address of record; a stream with a known label is left as it is. {@code metadata}: the
   * recording metadata that came with it, sealed ({@link Change.MetadataReceived}); null for none.
   */
  public record Amend(
      List<CallSpec.PartySpec> parties,
      List<StreamSpec> streams,
      String metadata,
      String by,
      ActorRef<Reply> replyTo)
      implements ChangeRequest {}

  /** Timer: the pause persisted at {@code pauseSeq} has lasted the policy's maxPauseSeconds. */
  public record AutoResume(long pauseSeq) implements Command {}

  /** What the call's media session on this node reports. */
  public record FromMedia(MediaReport report) implements Command {}

  /** Sharding's stop message: the entity stops after passivating itself. */
  public enum Passivate implements Command {
    INSTANCE
  }

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

  /** The request was refused and nothing changed; {@code message} says why, to act on. */
  public record Rejected(Rejection rejection, String message) implements Reply {}

  public enum Rejection {
    /** The request itself is wrong (unknown party, invalid spec). */
    INVALID,
    /** There is no such call. */
    NOT_FOUND,
    /** The call's rules or state forbid the change. */
    CONFLICT,
    /** This node cannot do it now (no media here, or no headroom); retry after the constant. */
    UNAVAILABLE;

    /** What an {@link #UNAVAILABLE} refusal asks the client to wait (REST and SIP Retry-After). */
    public static final int RETRY_AFTER_SECONDS = 5;
  }

  /**
   * Registers the entity with cluster sharding on this node; {@code binder} is null on a node that
   * receives no media, {@code allocation} null for sharding's own shard allocation.
   */
  public static void init(
      ActorSystem<?> system,
      MediaBinder binder,
      MediaMoves moves,
      ShardCoordinator.ShardAllocationStrategy allocation) {
    Entity<Command, ShardingEnvelope<Command>> entity =
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
            .withStopMessage(Passivate.INSTANCE);
    ClusterSharding.get(system)
        .init(allocation == null ? entity : entity.withAllocationStrategy(allocation));
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
              EarlyClosings early = new EarlyClosings(gates, clock);
              return Behaviors.withTimers(
                  timers ->
                      Behaviors.intercept(
                          () -> early,
                          new CallRecording(
                              callId, ctx, timers, shard, gates, clock, sockets, early)));
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
  private final CallMediaCommands media;
  private final Custody custody;
  private final CallLimits limits = new CallLimits();
  private final EarlyClosings early;

  private CallRecording(
      String callId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Gates gates,
      Clock clock,
      CallSockets sockets,
      EarlyClosings early) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), callId),
        // After a failed write the entity reads its ledger again at most 2 s apart: it journals
        // again within 2 s of the journal's return (its media runs on meanwhile).
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 0.2));
    this.callId = callId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.gates = gates;
    this.clock = clock;
    this.sockets = sockets;
    this.early = early;
    this.ledger = new LedgerWriter(gates, clock, this::afterPersisted);
    this.media =
        new CallMediaCommands(callId, context, sockets, gates, ledger, Effect(), this::passivate);
    this.custody = new Custody(context, sockets, Effect(), this::decided);
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

  /** The read model's tag on the events it shows ({@link CatalogTags}). */
  @Override
  public java.util.Set<String> tagsFor(Event event) {
    return CatalogTags.of(callId, event);
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
        .onCommand(
            CallMediaCommands.StoredLate.class,
            (none, cmd) -> Effect().none().thenRun(s -> passivate()).thenNoReply())
        // AutoResume, FromMedia, StartMedia, Adopted: a call that was never created has none.
        .onCommand(Command.class, (none, cmd) -> Effect().noReply());

    builder
        .forState(Call.class, Call::stopped)
        // A stopped call answers and leaves memory and sharding's remembered set, once its
        // sockets are released: a node start recovers only active calls.
        .onCommand(
            Create.class, (c, cmd) -> whenStopped(decided(c, Requests.recreate(c, cmd), cmd)))
        .onCommand(Stop.class, (c, cmd) -> whenStopped(decided(c, Requests.stopAgain(c), cmd)))
        .onCommand(Custody.Request.class, (c, cmd) -> custody.handle(c, cmd, this::whenStopped))
        .onCommand(
            GetCall.class, (c, cmd) -> whenStopped(Effect().reply(cmd.replyTo(), current(c))))
        .onCommand(FromMedia.class, (c, cmd) -> media.fromMedia(c, cmd.report()))
        .onCommand(CallMediaCommands.Adopted.class, media::adopted)
        .onCommand(CallMediaCommands.StoredLate.class, media::storedLate)
        .onCommand(LedgerWriter.Rewrite.class, this::rewrite)
        .onCommand(
            Passivate.class,
            (c, cmd) -> custody.deferStop() ? Effect().noReply() : Effect().stop().thenNoReply())
        .onCommand(
            Request.class,
            (c, cmd) -> whenStopped(Effect().reply(cmd.replyTo(), Requests.afterStop(c))))
        // AutoResume, StartMedia: nothing resumes or binds after the stop.
        .onCommand(Command.class, (c, cmd) -> Effect().noReply());

    builder
        .forStateType(Call.class)
        .onCommand(Create.class, this::recreate)
        .onCommand(GetCall.class, (c, cmd) -> Effect().reply(cmd.replyTo(), current(c)))
        .onCommand(ChangeConsent.class, (c, cmd) -> decided(c, Requests.consent(c, cmd), cmd))
        .onCommand(Pause.class, (c, cmd) -> decided(c, Requests.pause(c, cmd), cmd))
        .onCommand(Resume.class, (c, cmd) -> decided(c, Requests.resume(c), cmd))
        .onCommand(
            Stop.class,
            (c, cmd) -> decided(c, Requests.stop(c, stopMicros(cmd), sockets.atStop(c)), cmd))
        .onCommand(Amend.class, (c, cmd) -> decided(c, Requests.amend(c, cmd), cmd))
        .onCommand(Custody.Request.class, (c, cmd) -> custody.handle(c, cmd, effect -> effect))
        .onCommand(AutoResume.class, this::autoResume)
        .onCommand(CallLimits.Check.class, (c, cmd) -> checkLimits(c))
        .onCommand(CallMediaCommands.StartMedia.class, (c, cmd) -> media.start(c))
        .onCommand(FromMedia.class, (c, cmd) -> media.fromMedia(c, cmd.report()))
        .onCommand(CallMediaCommands.Adopted.class, media::adopted)
        .onCommand(CallMediaCommands.StoredLate.class, media::storedLate)
        .onCommand(LedgerWriter.Rewrite.class, this::rewrite)
        .onCommand(Passivate.class, (c, cmd) -> media.handOff());

    return builder.build();
  }

  private ReplyEffect<Event, State> create(Create cmd) {
    CallSpec spec = cmd.spec();
    Optional<Rejected> refused =
        Requests.refusedCreation(callId, spec)
            .or(() -> Requests.noHeadroom(media.refusesNewCalls()));
    if (refused.isPresent()) return refused(cmd, refused.get());
    Event created = ledger.created(spec, cmd.by());
    Call next = Call.created(callId, spec, created);
    gates.closeWhereClosedIn(next);
    // Bound before the creation is answered: its creator learns where to send media. A call that
    // could record nothing here is not created: the creator is told to retry.
    Change bound = media.bind(next);
    if (bound instanceof Change.MediaUnavailable unavailable)
      return refused(
          cmd,
          new Rejected(
              Rejection.UNAVAILABLE,
              "no media can be received on this node now ("
                  + unavailable.reason()
                  + "); the call was not created; retry"));
    List<Event> events = new ArrayList<>(List.of(created));
    if (bound != null) events.addAll(ledger.seal(next, List.of(bound), SYSTEM));
    return Effect()
        .persist(events)
        .thenRun(gates::matchState)
        .thenRun(state -> CallLimits.start(timers, (Call) state, sockets.enabled()))
        .thenRun(state -> sockets.activate(((Call) state).mediaEpoch()))
        .thenReply(cmd.replyTo(), state -> current((Call) state));
  }

  /** A request to a call that does not exist: refused, and nothing to remember (passivates). */
  private ReplyEffect<Event, State> refused(Request cmd, Rejected rejected) {
    return Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> rejected);
  }

  private Accepted current(Call call) {
    return new Accepted(call, null, sockets.live());
  }

  /** Answers a request as {@link Requests} decided it, persisting its changes if it has any. */
  private ReplyEffect<Event, State> decided(
      Call call, Requests.Decision decision, ChangeRequest cmd) {
    Instant arrivedAt = early.deciding(cmd); // a request asked again has arrived twice
    Instant askedAt = ledger.deciding(cmd);
    if (askedAt == null) askedAt = arrivedAt;
    if (askedAt != null && !(decision instanceof Requests.Changes)) gates.matchState(call);
    if (decision instanceof Requests.Refused refused)
      return Effect().reply(cmd.replyTo(), refused.rejected());
    if (decision instanceof Requests.Unchanged unchanged)
      return Effect().reply(cmd.replyTo(), new Accepted(call, unchanged.note()));
    List<Change> changes = sockets.withStreamsBound(((Requests.Changes) decision).changes(), gates);
    return ledger.persist(Effect(), call, changes, cmd.by(), cmd.replyTo(), cmd, askedAt);
  }

  /** When a stop takes effect: when it arrived, if it closed the gates then; else now. */
  private long stopMicros(Stop stop) {
    Instant arrived = early.arrival(stop);
    return (arrived != null ? arrived.toEpochMilli() : clock.millis()) * 1000;
  }

  /** Stops the call, with why, once it has lasted too long or received nothing for too long. */
  private ReplyEffect<Event, State> checkLimits(Call call) {
    var live = sockets.storing() ? sockets.live() : null;
    var stop =
        limits.due(call, clock.instant(), live, () -> sockets.atStop(call), context.getLog());
    return stop.isEmpty() ? Effect().noReply() : write(call, stop, SYSTEM, null);
  }

  private ReplyEffect<Event, State> rewrite(Call call, LedgerWriter.Rewrite cmd) {
    return ledger.persist(Effect(), call, cmd.changes(), cmd.by(), null, null, cmd.at());
  }

  private ReplyEffect<Event, State> autoResume(Call call, AutoResume cmd) {
    return Requests.autoResume(call, cmd.pauseSeq())
        .map(resumed -> write(call, List.of(resumed), SYSTEM, null))
        .orElse(Effect().noReply());
  }

  /**
   * The same creation again (its creator retrying after a timeout): answered with the call, its
   * sockets bound first if this incarnation has none yet, so the answer says where media goes.
   */
  private ReplyEffect<Event, State> recreate(Call call, Create cmd) {
    Requests.Decision decision = Requests.recreate(call, cmd);
    if (decision instanceof Requests.Unchanged
        && sockets.enabled()
        && !sockets.storing()
        && call.mediaEpoch() == 0)
      return write(call, List.of(media.bind(call)), SYSTEM, cmd.replyTo());
    return decided(call, decision, cmd);
  }

  /** Writes {@code changes}, fail-closed ({@link LedgerWriter}); no {@code replyTo}: its own. */
  private ReplyEffect<Event, State> write(
      Call call, List<Change> changes, String by, ActorRef<Reply> replyTo) {
    return ledger.persist(Effect(), call, changes, by, replyTo, null, null);
  }

  private void afterPersisted(Call call, Change change) {
    if (change instanceof Change.Paused) {
      scheduleAutoResume(call);
    } else if (change instanceof Change.Resumed) {
      timers.cancel(AutoResume.class);
    } else if (change instanceof Change.Stopped) {
      timers.cancel(AutoResume.class);
      timers.cancel(CallLimits.Check.class);
      if (sockets.bound()) sockets.close(); // passivates on Closed, once the last chunks are listed
      else passivate();
    } else if (change instanceof Change.StreamsAdded) {
      sockets.activate(call.mediaEpoch()); // the added streams store under the current epoch
    } else if (change instanceof Change.MediaBound) {
      sockets.recorded(call);
    } else if (change instanceof Change.ChunkStored stored) {
      sockets.listed(stored.chunk());
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

  /** {@code answer}; then a stopped call passivates, unless it has sockets here or is adopting. */
  private ReplyEffect<Event, State> whenStopped(ReplyEffect<Event, State> answer) {
    if (!sockets.bound() && !media.adopting() && !custody.erasing()) passivate();
    return answer;
  }

  /** Asks the shard to stop this entity; a passivated entity is no longer remembered. */
  private void passivate() {
    if (shard != null) shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> {
      State next;
      if (state instanceof Call call) next = call.apply(event);
      else if (event.change() instanceof Change.CallCreated created)
        next = Call.created(callId, created.spec(), event);
      else
        throw new IllegalStateException(
            "call '" + callId + "' has no CallCreated before event " + event.seq());
      early.known(next);
      return next;
    };
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              early.known(state);
              gates.matchState(state);
              ledger.unconfirmed(state, context.getLog()).ifPresent(context.getSelf()::tell);
              if (state instanceof Call call) {
                context
                    .getLog()
                    .info("call {} recovered: {} at seq {}", callId, call.phase(), call.seq());
                if (call.phase() == Phase.PAUSED) scheduleAutoResume(call);
                CallLimits.start(timers, call, sockets.enabled());
                media.recovered(call);
              }
            })
        .onSignal(PostStop.class, (state, signal) -> sockets.release())
        // A failed write restarts the entity, not its media: the sockets go on receiving and
        // storing, the gates stay as the last confirmed write and the failed one's closings left
        // them (DESIGN.md, invariant 7).
        .build();
  }
}
