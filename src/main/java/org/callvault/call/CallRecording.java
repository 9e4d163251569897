package org.callvault.call;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * streams. Its {@link Event}s are the call's compliance ledger, each chained to the previous one
 * by hash; its {@link State} is their fold ({@link Call}).
 *
 * <p>Fail-closed (DESIGN.md, invariant 1): for every event, the gates that the event closes are
 * closed before it is persisted, and the gates it opens are opened only after it is persisted.
 * Until recovery completes, and after a failed persist, every gate is closed.
 */
public final class CallRecording extends EventSourcedBehaviorWithEnforcedReplies<CallRecording.Command, Event, State> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "CallRecording");

  /** Who the entity names as the cause of what it does on its own (automatic resume). */
  public static final String SYSTEM = "system";

  /** Who the ledger names as the cause of what the media plane reports. */
  public static final String MEDIA = "media";

  // ---------------------------------------------------------------------------------- commands

  public sealed interface Command extends CborSerializable permits Request, AutoResume, Passivate, FromMedia, StartMedia, Adopted {}

  /** A command from outside; every one is answered with a {@link Reply}. */
  public sealed interface Request extends Command permits Create, GetCall, ChangeConsent, Pause, Resume, Stop, Amend {
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

  /**
   * Adds parties and streams to a running call, or renames a party (a SIPREC re-INVITE with new
   * m-lines, a metadata update): a party with a known id keeps its consent and takes the new name
   * and address of record; a stream with a known label is left as it is.
   */
  public record Amend(List<CallSpec.PartySpec> parties, List<StreamSpec> streams, String by, ActorRef<Reply> replyTo) implements Request {}

  /** Timer: the pause persisted at {@code pauseSeq} has lasted the policy's maxPauseSeconds. */
  public record AutoResume(long pauseSeq) implements Command {}

  /** What the call's media session on this node reports. */
  public record FromMedia(MediaReport report) implements Command {}

  /** Binds the call's sockets on this node and records where media must be sent. */
  public enum StartMedia implements Command {
    INSTANCE
  }

  /** After recovery: chunks that reached storage but not the ledger; {@code failure} when the lookup failed. */
  public record Adopted(List<ChunkInfo> chunks, String failure) implements Command {}

  /** Sharding's stop message: the entity stops after passivating itself. */
  public enum Passivate implements Command {
    INSTANCE
  }

  // ----------------------------------------------------------------------------------- replies

  /**
   * The answer to every request. A refusal is a {@link Rejected} rather than a {@code
   * StatusReply.error}: callers must tell their own mistake ({@link Rejection#INVALID}) from a rule
   * of the call ({@link Rejection#CONFLICT}), and an error message alone does not carry that
   * across the cluster.
   */
  public sealed interface Reply extends CborSerializable permits Accepted, Rejected {}

  /**
   * The request was carried out, or changed nothing and {@code note} says why. {@code live} holds
   * the counters of the streams received on this node now, by label.
   */
  public record Accepted(Call call, String note, Map<String, StreamCounters> live) implements Reply {
    public Accepted(Call call, String note) {
      this(call, note, Map.of());
    }
  }

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

  // ------------------------------------------------------------------------------------ entity

  /** Registers the entity with cluster sharding on this node; {@code binder} is null on a node that receives no media. */
  public static void init(ActorSystem<?> system, MediaBinder binder, MediaMoves moves) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), new Gates(), Clock.systemUTC(), binder, moves))
                .withStopMessage(Passivate.INSTANCE));
  }

  /** A call without media, for tests of its rules. */
  public static Behavior<Command> create(String callId, ActorRef<ClusterSharding.ShardCommand> shard, Gates gates, Clock clock) {
    return create(callId, shard, gates, clock, null, MediaMoves.NONE);
  }

  /**
   * @param shard the shard to ask for passivation once the call is stopped or was never created;
   *              null outside sharding (tests)
   * @param gates the gates this call's media receivers read
   */
  public static Behavior<Command> create(
      String callId, ActorRef<ClusterSharding.ShardCommand> shard, Gates gates, Clock clock, MediaBinder binder, MediaMoves moves) {
    return Behaviors.withMdc(
        Command.class,
        Map.of("callId", callId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CallRecording(callId, ctx, timers, shard, gates, clock, binder, moves))));
  }

  private final String callId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Gates gates;
  private final Clock clock;
  private final CallSockets sockets;

  private CallRecording(
      String callId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Gates gates,
      Clock clock,
      MediaBinder binder,
      MediaMoves moves) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), callId), SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.callId = callId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.gates = gates;
    this.clock = clock;
    this.sockets = new CallSockets(callId, binder, moves, context.getSystem().address().toString(), context.getLog());
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
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();

    builder
        .forStateType(State.NoCall.class)
        .onCommand(Create.class, (none, cmd) -> create(cmd))
        .onCommand(AutoResume.class, (none, cmd) -> Effect().noReply())
        .onCommand(FromMedia.class, (none, cmd) -> Effect().noReply())
        .onCommand(StartMedia.class, (none, cmd) -> Effect().noReply())
        .onCommand(Adopted.class, (none, cmd) -> Effect().noReply())
        .onCommand(Passivate.class, (none, cmd) -> Effect().stop().thenNoReply())
        .onCommand(Request.class, (none, cmd) -> Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> notFound()));

    builder
        .forState(Call.class, Call::stopped)
        .onCommand(Create.class, this::recreate)
        .onCommand(Stop.class, (call, cmd) -> Effect().reply(cmd.replyTo(), new Accepted(call, "the call was already stopped at " + call.stoppedAt() + "; nothing changed")))
        .onCommand(GetCall.class, (call, cmd) -> Effect().reply(cmd.replyTo(), new Accepted(call, null, sockets.live())))
        .onCommand(AutoResume.class, (call, cmd) -> Effect().noReply())
        .onCommand(StartMedia.class, (call, cmd) -> Effect().noReply())
        .onCommand(FromMedia.class, (call, cmd) -> fromMedia(call, cmd.report()))
        .onCommand(Adopted.class, this::adopted)
        .onCommand(Passivate.class, (call, cmd) -> Effect().stop().thenNoReply())
        .onCommand(Request.class, (call, cmd) -> Effect().reply(cmd.replyTo(), afterStop(call)));

    builder
        .forStateType(Call.class)
        .onCommand(Create.class, this::recreate)
        .onCommand(GetCall.class, (call, cmd) -> Effect().reply(cmd.replyTo(), new Accepted(call, null, sockets.live())))
        .onCommand(ChangeConsent.class, this::changeConsent)
        .onCommand(Pause.class, this::pause)
        .onCommand(Resume.class, this::resume)
        .onCommand(Stop.class, this::stop)
        .onCommand(Amend.class, this::amend)
        .onCommand(AutoResume.class, this::autoResume)
        .onCommand(StartMedia.class, (call, cmd) -> startMedia(call))
        .onCommand(FromMedia.class, (call, cmd) -> fromMedia(call, cmd.report()))
        .onCommand(Adopted.class, this::adopted)
        .onCommand(Passivate.class, this::handOff);

    return builder.build();
  }

  private Rejected notFound() {
    return new Rejected(Rejection.NOT_FOUND, "no call with id '" + callId + "'");
  }

  private Rejected afterStop(Call call) {
    return new Rejected(
        Rejection.CONFLICT, "call '" + callId + "' was stopped at " + call.stoppedAt() + " by " + call.stoppedBy() + ": no change is accepted after stop");
  }

  // ------------------------------------------------------------------------------ requests

  private ReplyEffect<Event, State> create(Create cmd) {
    CallSpec spec = cmd.spec();
    if (!callId.equals(spec.callId()))
      return Effect().reply(cmd.replyTo(), new Rejected(Rejection.INVALID, "callId '" + spec.callId() + "' was sent to call '" + callId + "'"));
    List<String> problems = spec.problems();
    if (!problems.isEmpty())
      return Effect().none().thenRun(s -> passivate()).thenReply(cmd.replyTo(), s -> new Rejected(Rejection.INVALID, String.join("; ", problems)));
    Event created = Ledger.seal(1, clock.instant(), cmd.by(), new Change.CallCreated(spec), Ledger.GENESIS);
    Call next = Call.created(callId, spec, created);
    gates.closeWhereClosedIn(next);
    List<Event> events = new ArrayList<>(List.of(created));
    // The sockets are bound before the call is acknowledged, so its creator learns where to send media.
    Change media = sockets.bind(next, gates, this::reported);
    if (media != null) events.add(Ledger.seal(2, clock.instant(), SYSTEM, media, created.hash()));
    return Effect()
        .persist(events)
        .thenRun(gates::matchState)
        .thenRun(state -> sockets.activate(((Call) state).mediaEpoch()))
        .thenReply(cmd.replyTo(), state -> new Accepted((Call) state, null, sockets.live()));
  }

  private ReplyEffect<Event, State> recreate(Call call, Create cmd) {
    if (call.spec().equals(cmd.spec()))
      return Effect().reply(cmd.replyTo(), new Accepted(call, "call '" + callId + "' already exists with this definition; nothing changed"));
    return Effect()
        .reply(cmd.replyTo(), new Rejected(Rejection.CONFLICT, "call '" + callId + "' already exists with a different definition; a call id names one call"));
  }

  private ReplyEffect<Event, State> changeConsent(Call call, ChangeConsent cmd) {
    Optional<Party> party = call.party(cmd.party());
    if (party.isEmpty()) {
      String parties = String.join(", ", call.parties().stream().map(Party::id).toList());
      return Effect()
          .reply(
              cmd.replyTo(),
              new Rejected(Rejection.INVALID, "party '" + cmd.party() + "' is not a party of call '" + callId + "' (parties: " + parties + ")"));
    }
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
    return persist(call, new Change.ConsentChanged(cmd.party(), cmd.decision(), current), cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> pause(Call call, Pause cmd) {
    if (!call.policy().pauseAllowed())
      return Effect()
          .reply(
              cmd.replyTo(),
              new Rejected(
                  Rejection.CONFLICT, "pause refused: the policy of call '" + callId + "' forbids pauses (pauseAllowed=false: the line must be recorded in full)"));
    Optional<PauseSpan> open = call.openPause();
    if (open.isPresent()) {
      PauseSpan p = open.get();
      return Effect().reply(cmd.replyTo(), new Accepted(call, "already paused since " + p.start() + " by " + p.by() + " (" + p.reason() + "); nothing changed"));
    }
    if (call.phase() == Phase.CONSENT_REFUSED)
      return Effect()
          .reply(
              cmd.replyTo(),
              new Rejected(
                  Rejection.CONFLICT,
                  "recording of call '" + callId + "' was halted for the rest of the call when party '" + call.haltedBy() + "' refused consent (onDecline=STOP)"));
    return persist(call, new Change.Paused(cmd.reason()), cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> resume(Call call, Resume cmd) {
    if (call.openPause().isEmpty()) return Effect().reply(cmd.replyTo(), new Accepted(call, "call '" + callId + "' is not paused; nothing changed"));
    return persist(call, new Change.Resumed(null), cmd.by(), cmd.replyTo());
  }

  /** The stop, after the gaps still open. */
  private ReplyEffect<Event, State> stop(Call call, Stop cmd) {
    List<Change> changes = new ArrayList<>(Continuity.gapsOpenAt(call, clock.instant().toEpochMilli() * 1000));
    changes.add(new Change.Stopped());
    return persistAll(call, changes, cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> amend(Call call, Amend cmd) {
    List<Change> changes = new ArrayList<>();
    List<CallSpec.PartySpec> parties = new ArrayList<>();
    for (Party p : call.parties()) parties.add(new CallSpec.PartySpec(p.id(), p.role(), p.consent(), p.name(), p.aor()));
    for (CallSpec.PartySpec p : cmd.parties()) {
      Optional<Party> known = call.party(p.id());
      if (known.isEmpty()) {
        changes.add(new Change.PartyJoined(p));
        parties.add(p);
      } else if (!Objects.equals(known.get().name(), p.name()) || !Objects.equals(known.get().aor(), p.aor())) {
        changes.add(new Change.PartyRenamed(p.id(), p.name(), p.aor()));
      }
    }
    List<StreamSpec> added = cmd.streams().stream().filter(s -> call.streams().stream().noneMatch(k -> k.label().equals(s.label()))).toList();
    List<StreamSpec> all = new ArrayList<>(call.streams());
    all.addAll(added);
    List<String> problems = new CallSpec(callId, call.policy(), parties, all, null, null).problems();
    if (!problems.isEmpty()) return Effect().reply(cmd.replyTo(), new Rejected(Rejection.INVALID, String.join("; ", problems)));
    if (!added.isEmpty()) changes.add(new Change.StreamsAdded(added, sockets.add(added, gates)));
    if (changes.isEmpty()) return Effect().reply(cmd.replyTo(), new Accepted(call, "nothing to add or change"));
    return persistAll(call, changes, cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> autoResume(Call call, AutoResume cmd) {
    Optional<PauseSpan> open = call.openPause();
    if (open.isEmpty() || open.get().startSeq() != cmd.pauseSeq()) return Effect().noReply();
    String reason = "the pause exceeded maxPauseSeconds (" + call.policy().maxPauseSeconds() + " s)";
    return persist(call, new Change.Resumed(reason), SYSTEM, null);
  }

  // ------------------------------------------------------------------------------------- media

  /** Called on media threads: only enqueues. */
  private void reported(MediaReport report) {
    context.getSelf().tell(new FromMedia(report));
  }

  /**
   * Sharding stops an active call when its node leaves or its shard moves. Make before break: the
   * session stores and reports what it holds, then reports Closed, on which the handoff is
   * recorded with the streams' counters, so the node that takes the call over records any gap
   * as a HANDOFF rather than a failure.
   */
  private ReplyEffect<Event, State> handOff(Call call, Passivate passivate) {
    if (!sockets.handOff()) return Effect().stop().thenNoReply();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startMedia(Call call) {
    if (!sockets.enabled() || sockets.bound()) return Effect().noReply();
    return persist(call, sockets.bind(call, gates, this::reported), SYSTEM, null);
  }

  private ReplyEffect<Event, State> fromMedia(Call call, MediaReport report) {
    if (report instanceof MediaReport.ChunkWritten written) {
      ChunkInfo chunk = written.chunk();
      if (Continuity.alreadyListed(call, chunk)) return Effect().noReply();
      Change.ChunkStored stored = new Change.ChunkStored(chunk, written.counters(), false);
      Optional<Change.MediaGap> gap = Continuity.gapBefore(call, chunk);
      if (gap.isPresent()) return persistAll(call, List.of(gap.get(), stored), MEDIA, null);
      return persist(call, stored, MEDIA, null);
    }
    if (report instanceof MediaReport.ChunkLost lost)
      return persist(call, new Change.MediaGap(lost.label(), lost.cause(), lost.detail(), lost.startWallMicros(), lost.endWallMicros(), lost.packets()), MEDIA, null);
    if (report instanceof MediaReport.DigitPressed digit)
      return persist(call, new Change.DtmfDetected(digit.label(), digit.digit(), digit.wallMillis()), MEDIA, null);
    if (report instanceof MediaReport.TimedOut timeout) {
      if (call.stopped()) return Effect().noReply();
      return persist(call, new Change.MediaTimeout(timeout.label(), timeout.lastPacketAt(), timeout.silentMillis()), MEDIA, null);
    }
    // Closed: everything the session received is listed; its final counters go into the ledger.
    sockets.closed();
    Map<String, StreamCounters> counters = ((MediaReport.Closed) report).counters();
    String node = context.getSystem().address().toString();
    if (sockets.handingOff()) {
      Change.MediaReleased released = new Change.MediaReleased(node, counters, ReleaseReason.HANDOFF);
      return Effect().persist(Ledger.seal(call.seq() + 1, clock.instant(), SYSTEM, released, call.lastHash())).thenStop().thenNoReply();
    }
    if (counters.isEmpty()) {
      if (call.stopped()) passivate();
      return Effect().noReply();
    }
    return persist(call, new Change.MediaReleased(node, counters, ReleaseReason.STOPPED), MEDIA, null);
  }

  /** Lists the chunks found in storage after a crash, then receives media again if the call is active. */
  private ReplyEffect<Event, State> adopted(Call call, Adopted adopted) {
    if (adopted.failure() != null) {
      // Without knowing what reached storage the call must not receive under a new epoch that a
      // later lookup could not tell apart; the restart retries the lookup.
      throw new IllegalStateException("call " + callId + ": looking up unlisted chunks failed: " + adopted.failure());
    }
    List<Change> changes = new ArrayList<>(Continuity.adoptions(call, adopted.chunks()));
    if (!changes.isEmpty()) context.getLog().warn("call {}: adopted {} chunk(s) stored but not listed before a crash", callId, changes.size());
    if (!call.stopped()) context.getSelf().tell(StartMedia.INSTANCE);
    return changes.isEmpty() ? Effect().noReply() : persistAll(call, changes, SYSTEM, null);
  }

  // ---------------------------------------------------------------------------------- persist

  /**
   * Persists one change: gates it closes are closed first, gates it opens are opened after the
   * event is stored. {@code replyTo} may be null for the entity's own changes.
   */
  private ReplyEffect<Event, State> persist(Call call, Change change, String by, ActorRef<Reply> replyTo) {
    return persistAll(call, List.of(change), by, replyTo);
  }

  /**
   * Persists changes in one write, each chained to the one before: gates they close are closed
   * first, gates they open are opened after the events are stored. {@code replyTo} may be null
   * for the entity's own changes.
   */
  private ReplyEffect<Event, State> persistAll(Call call, List<Change> changes, String by, ActorRef<Reply> replyTo) {
    List<Event> events = new ArrayList<>();
    Call next = call;
    for (Change change : changes) {
      Event event = Ledger.seal(next.seq() + 1, clock.instant(), by, change, next.lastHash());
      events.add(event);
      next = next.apply(event);
    }
    gates.closeWhereClosedIn(next);
    var effect =
        Effect()
            .persist(events)
            .thenRun(gates::matchState)
            .thenRun(state -> changes.forEach(change -> afterPersisted((Call) state, change)));
    return replyTo == null ? effect.thenNoReply() : effect.thenReply(replyTo, state -> new Accepted((Call) state, null));
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
      if (event.change() instanceof Change.CallCreated created) return Call.created(callId, created.spec(), event);
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
        (chunks, failure) -> failure != null ? new Adopted(List.of(), String.valueOf(failure.getMessage())) : new Adopted(chunks, null));
  }
}
