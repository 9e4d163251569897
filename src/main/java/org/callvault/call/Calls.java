package org.callvault.call;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.callvault.core.ChunkInfo;
import org.callvault.core.PersonalData;
import org.callvault.core.StreamSpec;

/**
 * Asks a call's entity, wherever in the cluster it lives: the one way the API, the SIPREC server
 * and the node reach calls. A stage that fails with a timeout means the entity did not answer
 * within {@code askTimeout} (its node starting, the journal unreachable).
 */
public final class Calls {

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final PersonalData personal;

  /**
   * @param personal seals the parties' names and addresses of record before they reach a call's
   *     ledger; null for none (tests of the rules alone)
   */
  public Calls(ActorSystem<?> system, Duration askTimeout, PersonalData personal) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.personal = personal;
  }

  /** The parties' personal fields sealed under the call's keys, then {@code ask}. */
  private CompletionStage<CallRecording.Reply> sealed(
      String callId, Function<PersonalData.Cipher, CompletionStage<CallRecording.Reply>> ask) {
    if (personal == null) return ask.apply(null);
    return personal.forWriting(callId).thenCompose(ask);
  }

  /** How long an ask waits for the call's entity. */
  public Duration askTimeout() {
    return askTimeout;
  }

  public CompletionStage<CallRecording.Reply> ask(
      String callId, Function<ActorRef<CallRecording.Reply>, CallRecording.Command> command) {
    return sharding
        .entityRefFor(CallRecording.ENTITY_TYPE_KEY, callId)
        .ask(command::apply, askTimeout);
  }

  /**
   * Tells the call of a chunk stored from a spool after the sockets that spooled it were gone; it
   * lists the chunk unless its ledger does already.
   */
  public void storedLate(String callId, ChunkInfo chunk) {
    sharding
        .entityRefFor(CallRecording.ENTITY_TYPE_KEY, callId)
        .tell(new CallMediaCommands.StoredLate(chunk));
  }

  public CompletionStage<CallRecording.Reply> create(CallSpec spec, String by) {
    return sealed(
        spec.callId(),
        cipher -> {
          CallSpec stored = cipher == null ? spec : spec.sealed(cipher);
          return ask(spec.callId(), replyTo -> new CallRecording.Create(stored, by, replyTo));
        });
  }

  public CompletionStage<CallRecording.Reply> get(String callId) {
    return ask(callId, CallRecording.GetCall::new);
  }

  public CompletionStage<CallRecording.Reply> pause(String callId, String reason, String by) {
    return ask(callId, replyTo -> new CallRecording.Pause(reason, by, replyTo));
  }

  public CompletionStage<CallRecording.Reply> resume(String callId, String by) {
    return ask(callId, replyTo -> new CallRecording.Resume(by, replyTo));
  }

  /**
   * Adds {@code parties} and {@code streams} to the call, or renames parties; {@code metadata} (the
   * recording metadata that came with them, as received; null for none) is kept with the call,
   * sealed.
   */
  public CompletionStage<CallRecording.Reply> amend(
      String callId,
      List<CallSpec.PartySpec> parties,
      List<StreamSpec> streams,
      byte[] metadata,
      String by) {
    return sealed(
        callId,
        cipher -> {
          List<CallSpec.PartySpec> stored =
              cipher == null ? parties : parties.stream().map(p -> p.with(cipher::seal)).toList();
          String document =
              metadata == null ? null : java.util.Base64.getEncoder().encodeToString(metadata);
          String sealed =
              document == null || cipher == null ? document : cipher.seal(METADATA, document);
          return ask(
              callId, replyTo -> new CallRecording.Amend(stored, streams, sealed, by, replyTo));
        });
  }

  /** The field name a call's recording metadata is sealed under. */
  public static final String METADATA = "metadata";

  public CompletionStage<CallRecording.Reply> stop(String callId, String by) {
    return ask(callId, replyTo -> new CallRecording.Stop(by, replyTo));
  }
}
