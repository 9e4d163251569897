package org.callvault.call;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
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
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
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
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
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

  /** Who the ledger names as the cause of what the media plane reports. */
  public static final String MEDIA = "media";

  // ---------------------------------------------------------------------------------- commands

  public sealed interface Command extends CborSerializable permits Request, AutoResume, Passivate, MediaReport, StartMedia, Adopted {}

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
   * The answer to every request. A refusal is a {@link Rejected} rather than a
   * {@code StatusReply.error}: callers must tell their own mistake ({@link Rejection#INVALID})
   * from a rule of the call ({@link Rejection#CONFLICT}), and an error message alone does not
   * carry that across the cluster.
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
    @JsonSubTypes.Type(value = Stopped.class, name = "Stopped"),
    @JsonSubTypes.Type(value = MediaBound.class, name = "MediaBound"),
    @JsonSubTypes.Type(value = MediaUnavailable.class, name = "MediaUnavailable"),
    @JsonSubTypes.Type(value = MediaReleased.class, name = "MediaReleased"),
    @JsonSubTypes.Type(value = ChunkStored.class, name = "ChunkStored"),
    @JsonSubTypes.Type(value = MediaGap.class, name = "MediaGap"),
    @JsonSubTypes.Type(value = MediaTimeout.class, name = "MediaTimeout"),
    @JsonSubTypes.Type(value = DtmfDetected.class, name = "DtmfDetected"),
    @JsonSubTypes.Type(value = PartyJoined.class, name = "PartyJoined"),
    @JsonSubTypes.Type(value = PartyRenamed.class, name = "PartyRenamed"),
    @JsonSubTypes.Type(value = StreamsAdded.class, name = "StreamsAdded")
  })
  public sealed interface Change extends CborSerializable
      permits CallCreated, ConsentChanged, Paused, Resumed, Stopped, MediaBound, MediaUnavailable, MediaReleased, ChunkStored, MediaGap, MediaTimeout, DtmfDetected,
          PartyJoined, PartyRenamed, StreamsAdded {
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

  /** The call's streams are received on {@code node} at these endpoints; this event's seq is the media epoch. */
  public record MediaBound(String node, Map<String, Endpoint> endpoints) implements Change {}

  /** No socket could be bound for the call on this node: nothing is received until it moves. */
  public record MediaUnavailable(String node, String reason) implements Change {}

  /**
   * The call's sockets on {@code node} closed in order, with each stream's counters then:
   * {@code reason} is {@link #STOPPED} after the call stopped, or {@link #HANDOFF} when the call
   * left the node while active (its node leaving the cluster, a rebalance) and will bind again
   * elsewhere. (Added later; events without it were written after a stop.)
   */
  public record MediaReleased(String node, Map<String, StreamCounters> counters, String reason) implements Change {
    public static final String STOPPED = "STOPPED";
    public static final String HANDOFF = "HANDOFF";
  }

  /** A chunk of audio reached storage; {@code adopted} when it was found there after a crash. */
  public record ChunkStored(ChunkInfo chunk, StreamCounters counters, boolean adopted) implements Change {}

  /** Audio of a stream that was received but is missing from the recording, and why. */
  public record MediaGap(String label, String cause, long startWallMicros, long endWallMicros, int packets) implements Change {}

  /** No RTP arrived on the stream for {@code silentMillis}; the call goes on. */
  public record MediaTimeout(String label, long lastPacketAt, long silentMillis) implements Change {}

  /** A telephone-event digit; {@code digit} is null when the stream's gate was closed. */
  public record DtmfDetected(String label, String digit, long wallMillis) implements Change {}

  /** A party joined the running call (its consent as declared, usually UNKNOWN). */
  public record PartyJoined(CallSpec.PartySpec party) implements Change {}

  /** A party's display name or address of record changed (SIPREC metadata). */
  public record PartyRenamed(String party, String name, String aor) implements Change {}

  /**
   * Streams added to the running call; {@code endpoints} are where each is received, bound on
   * this node under the current media epoch (empty on a node without media).
   */
  public record StreamsAdded(List<StreamSpec> streams, Map<String, Endpoint> endpoints) implements Change {}

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

  /**
   * What the ledger says of one stream's stored audio.
   *
   * @param epoch             the media epoch of the last chunk listed
   * @param lastN             the number of the last chunk listed in that epoch; -1 before the first
   * @param lastEndWallMicros the wall clock just after the last stored sample; 0 before the first
   * @param last              the last chunk listed; null before the first
   */
  public record StreamMedia(
      long epoch, long lastN, long chunks, long packetsStored, long lastEndWallMicros, ChunkInfo last, StreamCounters counters)
      implements CborSerializable {
    static final StreamMedia NONE = new StreamMedia(0, -1, 0, 0, 0, null, StreamCounters.ZERO);

    StreamMedia withCounters(StreamCounters counters) {
      return new StreamMedia(epoch, lastN, chunks, packetsStored, lastEndWallMicros, last, counters);
    }

    /**
     * How many packets the sender sent between this stream's last stored packet and {@code next}'s
     * first, from their sequence numbers; -1 when that cannot be told (another SSRC, or so long
     * that the 16-bit numbering may have wrapped).
     */
    long packetsMissedBefore(ChunkInfo next) {
      if (last == null || next.ssrc() != last.ssrc() || next.startWallMicros() - lastEndWallMicros > WRAP_SAFE_MICROS) return -1;
      return (next.firstSeq() - last.lastSeq() - 1) & 0xFFFF;
    }

    /** 65,536 packets of 20 ms are 22 minutes: well inside that, the difference of sequence numbers is exact. */
    private static final long WRAP_SAFE_MICROS = 10L * 60 * 1_000_000;
  }

  /**
   * Where the call's media is received and what is stored of it.
   *
   * @param node      the node that last bound the call's sockets; null before
   * @param epoch     the seq of the {@link MediaBound} event of those sockets; 0 before
   * @param released  why those sockets were closed in order ({@link MediaReleased#reason}); null
   *                  while they are open, or if their node died
   * @param moveCause why the media moved to this epoch from an earlier one (NODE_FAILURE,
   *                  HANDOFF), until each stream's first chunk here records the gap; null otherwise
   * @param movedFrom the node that held the media before this epoch; null if it never moved
   */
  public record MediaState(
      String node,
      long epoch,
      Map<String, Endpoint> endpoints,
      String released,
      String moveCause,
      String movedFrom,
      Map<String, StreamMedia> streams)
      implements CborSerializable {
    static final MediaState NONE = new MediaState(null, 0, Map.of(), null, null, null, Map.of());

    public MediaState {
      endpoints = Map.copyOf(endpoints);
      streams = Map.copyOf(streams);
    }

    public StreamMedia stream(String label) {
      return streams.getOrDefault(label, StreamMedia.NONE);
    }

    MediaState bound(String node, long epoch, Map<String, Endpoint> endpoints) {
      // A move from sockets that were never released in order is a node's failure; from sockets
      // handed off, a handoff. The gap between the audio stored there and the first audio here
      // is recorded with that cause.
      String cause = null;
      if (this.epoch > 0 && released == null) cause = "NODE_FAILURE";
      else if (MediaReleased.HANDOFF.equals(released)) cause = MediaReleased.HANDOFF;
      return new MediaState(node, epoch, endpoints, null, cause, this.epoch > 0 ? this.node : null, streams);
    }

    MediaState withEndpoints(Map<String, Endpoint> all) {
      return new MediaState(node, epoch, all, released, moveCause, movedFrom, streams);
    }

    MediaState withStream(String label, StreamMedia stream) {
      Map<String, StreamMedia> updated = new java.util.HashMap<>(streams);
      updated.put(label, stream);
      return new MediaState(node, epoch, endpoints, released, moveCause, movedFrom, updated);
    }

    MediaState releasedWith(Map<String, StreamCounters> counters, String reason) {
      MediaState next = new MediaState(node, epoch, endpoints, reason, moveCause, movedFrom, streams);
      for (var e : counters.entrySet()) next = next.withStream(e.getKey(), next.stream(e.getKey()).withCounters(e.getValue()));
      return next;
    }
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
      MediaState media,
      long seq,
      String lastHash)
      implements State {

    public Call {
      parties = List.copyOf(parties);
      streams = List.copyOf(streams);
      pauses = List.copyOf(pauses);
    }

    /** What the ledger says of a stream's stored audio. */
    public StreamMedia media(String label) {
      return media.stream(label);
    }

    /** The seq of the event that recorded the current sockets; 0 before any. */
    public long mediaEpoch() {
      return media.epoch();
    }

    /** Where each stream's RTP goes now, by label. */
    public Map<String, Endpoint> endpoints() {
      return media.endpoints();
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

    /** The call its first event creates; with {@link #apply}, replays a ledger (event handlers are pure). */
    public static Call created(String callId, CallSpec spec, Event event) {
      List<Party> parties = new ArrayList<>();
      String haltedBy = null;
      for (CallSpec.PartySpec p : spec.parties()) {
        Party party = partyOf(p, event);
        Party.Consent consent = party.consent();
        parties.add(party);
        if (consent.refused() && spec.policy().onDecline() == Policy.OnDecline.STOP && haltedBy == null) haltedBy = p.id();
      }
      return new Call(
          callId, spec, parties, spec.streams(), List.of(), haltedBy, event.time(), null, null, MediaState.NONE, event.seq(), event.hash());
    }

    /** The call after {@code event}. */
    public Call apply(Event event) {
      Change change = event.change();
      Call next = this;
      if (change instanceof ConsentChanged c) next = withConsent(c, event);
      else if (change instanceof Paused p)
        next = withPauses(append(pauses, new PauseSpan(event.seq(), event.time(), event.by(), p.reason(), null, null, null)));
      else if (change instanceof Resumed r) next = withPauses(closeLast(event, r.reason()));
      else if (change instanceof Stopped)
        next = new Call(callId, spec, parties, streams, pauses, haltedBy, createdAt, event.time(), event.by(), media, seq, lastHash);
      else if (change instanceof MediaBound bound) next = withMedia(media.bound(bound.node(), event.seq(), bound.endpoints()));
      else if (change instanceof PartyJoined joined) next = withParties(append(parties, partyOf(joined.party(), event)));
      else if (change instanceof PartyRenamed renamed) {
        List<Party> updated = new ArrayList<>();
        for (Party p : parties)
          updated.add(p.id().equals(renamed.party()) ? new Party(p.id(), p.role(), p.consent(), p.consentBy(), p.consentAt(), renamed.name(), renamed.aor()) : p);
        next = withParties(updated);
      } else if (change instanceof StreamsAdded added) {
        List<StreamSpec> all = new ArrayList<>(streams);
        all.addAll(added.streams());
        Map<String, Endpoint> endpoints = new java.util.LinkedHashMap<>(media.endpoints());
        endpoints.putAll(added.endpoints());
        next =
            new Call(callId, spec, parties, all, pauses, haltedBy, createdAt, stoppedAt, stoppedBy, media.withEndpoints(endpoints), seq, lastHash);
      }
      else if (change instanceof ChunkStored stored) next = withChunk(stored);
      else if (change instanceof MediaReleased released)
        next = withMedia(media.releasedWith(released.counters(), released.reason() == null ? MediaReleased.STOPPED : released.reason()));
      return next.chained(event);
    }

    private Call withChunk(ChunkStored stored) {
      ChunkInfo chunk = stored.chunk();
      StreamMedia before = media(chunk.label());
      StreamMedia after =
          new StreamMedia(
              chunk.epoch(),
              chunk.n(),
              before.chunks() + 1,
              before.packetsStored() + chunk.packets(),
              chunk.endWallMicros(),
              chunk,
              stored.counters());
      return withMedia(media.withStream(chunk.label(), after));
    }

    private Call withMedia(MediaState next) {
      return new Call(callId, spec, parties, streams, pauses, haltedBy, createdAt, stoppedAt, stoppedBy, next, seq, lastHash);
    }

    private Call withConsent(ConsentChanged change, Event event) {
      List<Party> updated = new ArrayList<>();
      for (Party p : parties) updated.add(p.id().equals(change.party()) ? p.withConsent(change.decision(), event.by(), event.time()) : p);
      String halted = haltedBy;
      if (halted == null && change.decision().refused() && policy().onDecline() == Policy.OnDecline.STOP) halted = change.party();
      return new Call(callId, spec, updated, streams, pauses, halted, createdAt, stoppedAt, stoppedBy, media, seq, lastHash);
    }

    private Call withParties(List<Party> updated) {
      return new Call(callId, spec, updated, streams, pauses, haltedBy, createdAt, stoppedAt, stoppedBy, media, seq, lastHash);
    }

    private static Party partyOf(CallSpec.PartySpec p, Event event) {
      Party.Consent consent = p.consent() == null ? Party.Consent.UNKNOWN : p.consent();
      boolean decided = consent != Party.Consent.UNKNOWN;
      return new Party(p.id(), p.role(), consent, decided ? event.by() : null, decided ? event.time() : null, p.name(), p.aor());
    }

    private Call withPauses(List<PauseSpan> updated) {
      return new Call(callId, spec, parties, streams, updated, haltedBy, createdAt, stoppedAt, stoppedBy, media, seq, lastHash);
    }

    private List<PauseSpan> closeLast(Event event, String reason) {
      List<PauseSpan> updated = new ArrayList<>(pauses);
      PauseSpan open = updated.remove(updated.size() - 1);
      updated.add(new PauseSpan(open.startSeq(), open.start(), open.by(), open.reason(), event.time(), event.by(), reason));
      return updated;
    }

    private Call chained(Event event) {
      return new Call(
          callId, spec, parties, streams, pauses, haltedBy, createdAt, stoppedAt, stoppedBy, media, event.seq(), event.hash());
    }

    private static <T> List<T> append(List<T> list, T item) {
      List<T> copy = new ArrayList<>(list);
      copy.add(item);
      return copy;
    }
  }

  // ------------------------------------------------------------------------------------ entity

  /**
   * Registers the entity with cluster sharding on this node.
   *
   * @param binder this node's media plane; null on a node that receives no media
   */
  public static void init(ActorSystem<?> system, MediaBinder binder) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId(), ctx.getShard(), new Gates(), Clock.systemUTC(), binder))
                .withStopMessage(Passivate.INSTANCE));
  }

  /** A call without media, for tests of its rules. */
  public static Behavior<Command> create(
      String callId, ActorRef<ClusterSharding.ShardCommand> shard, Gates gates, Clock clock) {
    return create(callId, shard, gates, clock, null);
  }

  /**
   * @param shard the shard to ask for passivation once the call is stopped or was never created;
   *              null outside sharding (tests)
   * @param gates the gates this call's media receivers read
   */
  public static Behavior<Command> create(
      String callId, ActorRef<ClusterSharding.ShardCommand> shard, Gates gates, Clock clock, MediaBinder binder) {
    return Behaviors.withMdc(
        Command.class,
        Map.of("callId", callId),
        Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CallRecording(callId, ctx, timers, shard, gates, clock, binder))));
  }

  private final String callId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final Gates gates;
  private final Clock clock;
  private final MediaBinder binder;
  /** This incarnation's sockets; null until bound and after closing. */
  private MediaBinder.Session session;
  /** Sharding asked this active call to stop (its node is leaving, its shard moving). */
  private boolean handingOff;

  private CallRecording(
      String callId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Gates gates,
      Clock clock,
      MediaBinder binder) {
    super(
        PersistenceId.of(ENTITY_TYPE_KEY.name(), callId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.callId = callId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.gates = gates;
    this.clock = clock;
    this.binder = binder;
    gates.closeAll();
  }

  @Override
  public State emptyState() {
    return new NoCall();
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

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> builder = newCommandHandlerWithReplyBuilder();

    builder
        .forStateType(NoCall.class)
        .onCommand(Create.class, (state, cmd) -> create(cmd))
        .onCommand(AutoResume.class, (state, cmd) -> Effect().noReply())
        .onCommand(MediaReport.class, (state, cmd) -> Effect().noReply())
        .onCommand(StartMedia.class, (state, cmd) -> Effect().noReply())
        .onCommand(Adopted.class, (state, cmd) -> Effect().noReply())
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
        .onCommand(
            Stop.class,
            (state, cmd) -> Effect().reply(cmd.replyTo(), new Accepted((Call) state, "the call was already stopped at " + ((Call) state).stoppedAt() + "; nothing changed")))
        .onCommand(GetCall.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new Accepted((Call) state, null, liveCounters())))
        .onCommand(AutoResume.class, (state, cmd) -> Effect().noReply())
        .onCommand(StartMedia.class, (state, cmd) -> Effect().noReply())
        .onCommand(MediaReport.class, (state, cmd) -> mediaReport((Call) state, cmd))
        .onCommand(Adopted.class, (state, cmd) -> adopted((Call) state, cmd))
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
        .onCommand(GetCall.class, (call, cmd) -> Effect().reply(cmd.replyTo(), new Accepted(call, null, liveCounters())))
        .onCommand(ChangeConsent.class, this::changeConsent)
        .onCommand(Pause.class, this::pause)
        .onCommand(Resume.class, this::resume)
        .onCommand(Stop.class, (call, cmd) -> persistAll(call, stopping(call), cmd.by(), cmd.replyTo()))
        .onCommand(Amend.class, this::amend)
        .onCommand(AutoResume.class, this::autoResume)
        .onCommand(StartMedia.class, (call, cmd) -> startMedia(call))
        .onCommand(MediaReport.class, this::mediaReport)
        .onCommand(Adopted.class, this::adopted)
        .onCommand(Passivate.class, this::handOff);

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
    Event created = Ledger.seal(1, clock.instant(), cmd.by(), new CallCreated(spec), Ledger.GENESIS);
    Call next = Call.created(callId, spec, created);
    gates.closeWhereClosedIn(next);
    List<Event> events = new ArrayList<>(List.of(created));
    // The sockets are bound before the call is acknowledged, so its creator learns where to send media.
    Change media = bindMedia(next);
    if (media != null) events.add(Ledger.seal(2, clock.instant(), SYSTEM, media, created.hash()));
    return Effect()
        .persist(events)
        .thenRun(state -> gates.matchState(state))
        .thenRun(state -> {
          if (session != null) session.activate(((Call) state).mediaEpoch());
        })
        .thenReply(cmd.replyTo(), state -> new Accepted((Call) state, null, liveCounters()));
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

  private ReplyEffect<Event, State> amend(Call call, Amend cmd) {
    List<Change> changes = new ArrayList<>();
    List<CallSpec.PartySpec> parties = new ArrayList<>();
    for (Party p : call.parties()) parties.add(new CallSpec.PartySpec(p.id(), p.role(), p.consent(), p.name(), p.aor()));
    for (CallSpec.PartySpec p : cmd.parties()) {
      Optional<Party> known = call.party(p.id());
      if (known.isEmpty()) {
        changes.add(new PartyJoined(p));
        parties.add(p);
      } else if (!Objects.equals(known.get().name(), p.name()) || !Objects.equals(known.get().aor(), p.aor())) {
        changes.add(new PartyRenamed(p.id(), p.name(), p.aor()));
      }
    }
    List<StreamSpec> added = cmd.streams().stream().filter(s -> call.streams().stream().noneMatch(k -> k.label().equals(s.label()))).toList();
    List<StreamSpec> all = new ArrayList<>(call.streams());
    all.addAll(added);
    List<String> problems = new CallSpec(callId, call.policy(), parties, all, null, null).problems();
    if (!problems.isEmpty()) return Effect().reply(cmd.replyTo(), new Rejected(Rejection.INVALID, String.join("; ", problems)));
    if (!added.isEmpty()) {
      Map<String, Endpoint> endpoints = Map.of();
      if (session != null) {
        try {
          endpoints = session.add(added, gates);
        } catch (MediaBinder.MediaUnavailableException e) {
          context.getLog().error("call {}: no media for the added streams: {}", callId, e.getMessage());
        }
      }
      changes.add(new StreamsAdded(added, endpoints));
    }
    if (changes.isEmpty()) return Effect().reply(cmd.replyTo(), new Accepted(call, "nothing to add or change"));
    return persistAll(call, changes, cmd.by(), cmd.replyTo());
  }

  private ReplyEffect<Event, State> autoResume(Call call, AutoResume cmd) {
    Optional<PauseSpan> open = call.openPause();
    if (open.isEmpty() || open.get().startSeq() != cmd.pauseSeq()) return Effect().noReply();
    String reason = "the pause exceeded maxPauseSeconds (" + call.policy().maxPauseSeconds() + " s)";
    return persist(call, new Resumed(reason), SYSTEM, null);
  }

  // ------------------------------------------------------------------------------------- media

  private Map<String, StreamCounters> liveCounters() {
    return session == null ? Map.of() : session.counters();
  }

  /**
   * The stop, after the gaps still open: a stream whose media moved and that has had no audio
   * since has a hole from its last stored audio to the stop, with the cause of the move.
   */
  private List<Change> stopping(Call call) {
    List<Change> changes = new ArrayList<>();
    String moved = call.media().moveCause();
    if (moved != null) {
      long now = clock.instant().toEpochMilli() * 1000;
      for (StreamSpec stream : call.streams()) {
        StreamMedia listed = call.media(stream.label());
        if (listed.chunks() > 0 && listed.epoch() < call.mediaEpoch())
          changes.add(new MediaGap(stream.label(), moved, listed.lastEndWallMicros(), now, 0));
      }
    }
    changes.add(new Stopped());
    return changes;
  }

  /**
   * Sharding stops an active call when its node leaves or its shard moves: the handoff is
   * recorded with the streams' counters, so the node that takes the call over records any gap
   * as a HANDOFF rather than a failure.
   *
   * <p>Make before break: the session stores and reports what it holds, but its sockets keep
   * receiving and hold what arrives for the node that takes the call over, which binds, tells
   * the sender, and has the held and later packets relayed to it until the sender has moved.
   */
  private ReplyEffect<Event, State> handOff(Call call, Passivate passivate) {
    if (session == null) return Effect().stop().thenNoReply();
    // Make the last audio durable and listed first: the session stores what it holds, reports
    // it, and reports Closed; then the handoff is recorded and the entity stops.
    handingOff = true;
    // With no other node up (the last node stopping) nobody will take the call over soon:
    // holding its sockets open would only delay the stop.
    if (binder.anotherNodeIsUp()) session.handOff();
    else session.close();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startMedia(Call call) {
    if (binder == null || session != null) return Effect().noReply();
    return persist(call, bindMedia(call), SYSTEM, null);
  }

  /**
   * Binds this call's sockets on this node: the change that records where media must go now, or
   * that none could be bound. Null on a node without media.
   */
  private Change bindMedia(Call call) {
    if (binder == null) return null;
    Map<String, StreamCounters> baseline = new java.util.HashMap<>();
    Map<String, ChunkInfo> lastStored = new java.util.HashMap<>();
    for (StreamSpec stream : call.streams()) {
      StreamMedia media = call.media(stream.label());
      baseline.put(stream.label(), media.counters());
      if (media.last() != null) lastStored.put(stream.label(), media.last());
    }
    String node = context.getSystem().address().toString();
    try {
      session = binder.bind(callId, call.streams(), gates, baseline, lastStored, context.getSelf()::tell);
      return new MediaBound(node, session.endpoints());
    } catch (MediaBinder.MediaUnavailableException e) {
      context.getLog().error("call {}: no media on {}: {}", callId, node, e.getMessage());
      return new MediaUnavailable(node, e.getMessage());
    }
  }

  private ReplyEffect<Event, State> mediaReport(Call call, MediaReport report) {
    if (report instanceof MediaReport.ChunkWritten written) {
      ChunkInfo chunk = written.chunk();
      if (alreadyListed(call, chunk)) return Effect().noReply();
      StreamMedia listed = call.media(chunk.label());
      ChunkStored stored = new ChunkStored(chunk, written.counters(), false);
      String moved = call.media().moveCause();
      if (moved != null && chunk.epoch() == call.mediaEpoch() && listed.epoch() < chunk.epoch() && listed.chunks() > 0) {
        // The stream's first audio since its media moved: the gap from the last audio stored
        // before the move is explicit, with its cause and, when the sequence numbers tell, the
        // packets it lost. A handoff whose old node relayed every packet here lost none: no gap.
        long missed = listed.packetsMissedBefore(chunk);
        if (missed != 0) {
          MediaGap gap = new MediaGap(chunk.label(), moved, listed.lastEndWallMicros(), chunk.startWallMicros(), (int) Math.max(missed, 0));
          return persistAll(call, List.of(gap, stored), MEDIA, null);
        }
      }
      return persist(call, stored, MEDIA, null);
    }
    if (report instanceof MediaReport.ChunkLost lost)
      return persist(call, new MediaGap(lost.label(), lost.cause(), lost.startWallMicros(), lost.endWallMicros(), lost.packets()), MEDIA, null);
    if (report instanceof MediaReport.DigitPressed digit)
      return persist(call, new DtmfDetected(digit.label(), digit.digit(), digit.wallMillis()), MEDIA, null);
    if (report instanceof MediaReport.TimedOut timeout) {
      if (call.phase() == Phase.STOPPED) return Effect().noReply();
      return persist(call, new MediaTimeout(timeout.label(), timeout.lastPacketAt(), timeout.silentMillis()), MEDIA, null);
    }
    // Closed: everything the session received is listed; its final counters go into the ledger.
    session = null;
    Map<String, StreamCounters> counters = ((MediaReport.Closed) report).counters();
    if (handingOff) {
      MediaReleased released = new MediaReleased(context.getSystem().address().toString(), counters, MediaReleased.HANDOFF);
      return Effect().persist(Ledger.seal(call.seq() + 1, clock.instant(), SYSTEM, released, call.lastHash())).thenStop().thenNoReply();
    }
    if (counters.isEmpty()) {
      if (call.phase() == Phase.STOPPED) passivate();
      return Effect().noReply();
    }
    return persist(call, new MediaReleased(context.getSystem().address().toString(), counters, MediaReleased.STOPPED), MEDIA, null);
  }

  private static boolean alreadyListed(Call call, ChunkInfo chunk) {
    StreamMedia listed = call.media(chunk.label());
    return chunk.epoch() < listed.epoch() || (chunk.epoch() == listed.epoch() && chunk.n() <= listed.lastN());
  }

  /** Lists the chunks found in storage after a crash, then receives media again if the call is active. */
  private ReplyEffect<Event, State> adopted(Call call, Adopted adopted) {
    if (adopted.failure() != null) {
      // Without knowing what reached storage the call must not receive under a new epoch that a
      // later lookup could not tell apart; the restart retries the lookup.
      throw new IllegalStateException("call " + callId + ": looking up unlisted chunks failed: " + adopted.failure());
    }
    List<Change> changes = new ArrayList<>();
    Call next = call;
    for (ChunkInfo chunk : adopted.chunks()) {
      if (alreadyListed(next, chunk)) continue;
      ChunkStored stored = new ChunkStored(chunk, next.media(chunk.label()).counters(), true);
      changes.add(stored);
      next = next.apply(Ledger.seal(next.seq() + 1, clock.instant(), SYSTEM, stored, next.lastHash()));
    }
    if (!changes.isEmpty()) context.getLog().warn("call {}: adopted {} chunk(s) stored but not listed before a crash", callId, changes.size());
    if (call.phase() != Phase.STOPPED) context.getSelf().tell(StartMedia.INSTANCE);
    return changes.isEmpty() ? Effect().noReply() : persistAll(call, changes, SYSTEM, null);
  }

  /** After recovery: asks storage for chunks of the last epoch that the ledger does not list. */
  private void adoptUnlisted(Call call) {
    List<java.util.concurrent.CompletableFuture<List<ChunkInfo>>> lookups = new ArrayList<>();
    for (StreamSpec stream : call.streams()) {
      StreamMedia media = call.media(stream.label());
      long afterN = media.epoch() == call.mediaEpoch() ? media.lastN() : -1;
      lookups.add(binder.storedAfter(callId, stream.label(), call.mediaEpoch(), afterN).toCompletableFuture());
    }
    var all = java.util.concurrent.CompletableFuture.allOf(lookups.toArray(new java.util.concurrent.CompletableFuture<?>[0]));
    context.pipeToSelf(
        all,
        (ok, failure) -> {
          if (failure != null) return new Adopted(List.of(), String.valueOf(failure.getMessage()));
          List<ChunkInfo> chunks = new ArrayList<>();
          lookups.forEach(l -> chunks.addAll(l.join()));
          return new Adopted(chunks, null);
        });
  }

  private void closeSession() {
    if (session != null) {
      session.close();
      session = null;
    }
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
            .thenRun(state -> gates.matchState(state))
            .thenRun(state -> changes.forEach(change -> afterPersisted((Call) state, change)));
    return replyTo == null ? effect.thenNoReply() : effect.thenReply(replyTo, state -> new Accepted((Call) state, null));
  }

  private void afterPersisted(Call call, Change change) {
    if (change instanceof Paused) {
      scheduleAutoResume(call);
    } else if (change instanceof Resumed) {
      timers.cancel(AutoResume.class);
    } else if (change instanceof Stopped) {
      timers.cancel(AutoResume.class);
      if (session != null) session.close(); // passivates on Closed, once the last chunks are listed
      else passivate();
    } else if (change instanceof StreamsAdded && session != null) {
      session.activate(call.mediaEpoch()); // the added streams store under the current epoch
    } else if (change instanceof MediaBound && session != null) {
      session.activate(call.mediaEpoch());
      MediaState media = call.media();
      if (media.moveCause() != null) binder.moved(call.spec(), call.endpoints(), media.moveCause(), media.movedFrom());
    } else if (change instanceof MediaReleased && call.phase() == Phase.STOPPED) {
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
                if (binder != null) {
                  if (call.mediaEpoch() > 0) adoptUnlisted(call);
                  else if (call.phase() != Phase.STOPPED) context.getSelf().tell(StartMedia.INSTANCE);
                }
              }
            })
        .onSignal(PostStop.class, (state, signal) -> closeSession())
        .onSignal(PreRestart.class, (state, signal) -> {
          gates.closeAll();
          closeSession();
        })
        .build();
  }
}
