package org.callvault.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.callvault.api.access.Principal;
import org.callvault.api.access.Role;
import org.callvault.call.CallRecording;
import org.callvault.call.CallSpec;
import org.callvault.call.Calls;
import org.callvault.call.Party;
import org.callvault.call.Policy;
import org.callvault.catalog.Catalog;
import org.callvault.core.Codec;
import org.callvault.core.PersonalData;
import org.callvault.core.StreamSpec;
import org.callvault.store.ChunkStore;

/** The REST API over call recordings: {@code /v1/calls/...}. */
public final class CallRoutes extends AllDirectives {

  private static final org.apache.pekko.http.javadsl.model.ContentType WAV =
      org.apache.pekko.http.javadsl.model.ContentTypes.create(
          org.apache.pekko.http.javadsl.model.MediaTypes.customBinary("audio", "wav", false));

  private final ActorSystem<?> system;
  private final Calls calls;
  private final Policy defaultPolicy;
  private final CurrentEventsByPersistenceIdQuery journal;
  private final ChunkStore chunks;
  private final PersonalData personal;
  private final RecordingRoutes recordings;
  private final ListingRoutes listing;

  /**
   * @param defaultPolicy the policy of a call created without one, and of the fields a policy
   *     leaves out
   * @param readJournal the plugin the ledger endpoints replay a call's events with ({@code
   *     callvault.ledger.read-journal})
   * @param chunks where audio is read from for exports; null on a node that stores none
   * @param personal opens the parties' sealed personal fields for the call resource; null for none
   * @param catalog the calls' read model the listing reads; null for none (the listing answers 503)
   */
  public CallRoutes(
      ActorSystem<?> system,
      Calls calls,
      Policy defaultPolicy,
      String readJournal,
      ChunkStore chunks,
      PersonalData personal,
      Catalog catalog) {
    this.personal = personal;
    this.listing = new ListingRoutes(catalog);
    this.system = system;
    this.calls = calls;
    this.defaultPolicy = defaultPolicy;
    this.chunks = chunks;
    this.journal =
        PersistenceQuery.get(system)
            .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournal);
    this.recordings =
        new RecordingRoutes(
            system, calls, this, readJournal, chunks, personal, java.time.Clock.systemUTC());
  }

  /**
   * Completes when this node can serve calls: the journal answers a read (so its keyspace and
   * tables exist) and the audio store is prepared. Fails, or does not complete, otherwise.
   */
  CompletionStage<Void> ready() {
    CompletionStage<Void> journalReady =
        journal
            .currentEventsByPersistenceId("callvault-readiness-probe", 0L, 1L)
            .runWith(Sink.ignore(), system)
            .thenApply(done -> null);
    return chunks == null ? journalReady : journalReady.thenCompose(ok -> chunks.ready());
  }

  /**
   * The routes of calls, each with the roles that may use it: those that create and control them
   * here, those that read and keep their recordings in {@link RecordingRoutes}.
   */
  List<RouteTable.Entry> entries() {
    List<RouteTable.Entry> entries = new ArrayList<>(controls());
    entries.addAll(listing.entries());
    entries.addAll(recordings.entries());
    return entries;
  }

  private List<RouteTable.Entry> controls() {
    RouteTable.Access recorder = RouteTable.Access.of(Role.RECORDER);
    return List.of(
        new RouteTable.Entry(
            HttpMethods.POST, "/v1/calls", recorder, (who, p) -> body(t -> createCall(who, t))),
        new RouteTable.Entry(
            HttpMethods.GET,
            "/v1/calls/{id}",
            RouteTable.Access.of(Role.RECORDER, Role.SUPERVISOR, Role.COMPLIANCE),
            call(id -> ask(id, CallRecording.GetCall::new, StatusCodes.OK))),
        change("consent", (who, id, t) -> consent(id, t)),
        change("pause", (who, id, t) -> pause(id, t)),
        change("resume", (who, id, t) -> resume(id, t)),
        change("stop", (who, id, t) -> stop(who, id, t)));
  }

  /** A change a recorder asks of call {id} with a JSON body. */
  private interface ChangeHandler {
    Route handle(Principal who, String callId, String body);
  }

  private RouteTable.Entry change(String name, ChangeHandler handler) {
    return new RouteTable.Entry(
        HttpMethods.POST,
        "/v1/calls/{id}/" + name,
        RouteTable.Access.of(Role.RECORDER),
        (who, p) -> withCallId(p, id -> body(text -> handler.handle(who, id, text))));
  }

  RouteTable.Handler call(Function<String, Route> inner) {
    return (who, p) -> withCallId(p, inner);
  }

  /** {@code inner} for the path's call id, or 400 when it is not one. */
  Route withCallId(java.util.Map<String, String> path, Function<String, Route> inner) {
    String callId = path.get("id");
    String badId = CallSpec.callIdProblem("call id", callId);
    if (badId != null) return complete(json(StatusCodes.BAD_REQUEST, CallJson.error(400, badId)));
    return inner.apply(callId);
  }

  Route body(Function<String, Route> inner) {
    return entity(Unmarshaller.entityToString(), inner);
  }

  private Route createCall(Principal who, String text) {
    JsonBody body = JsonBody.parse(text, "callId", "policy", "parties", "streams", "webhook", "by");
    String callId = body.text("callId", false);
    if (callId == null) callId = UUID.randomUUID().toString();
    else if (CallSpec.callIdProblem("callId", callId) != null)
      throw new JsonBody.BadRequest(CallSpec.callIdProblem("field 'callId'", callId));
    CallSpec spec =
        new CallSpec(
            callId, policy(body), parties(body), streams(body), body.text("webhook", false));
    String by = orDefault(body.text("by", false), who.name());
    String id = callId;
    return onSuccess(
        calls.create(spec, by).thenCompose(reply -> opened(id, reply)),
        reply -> {
          if (reply.reply() instanceof CallRecording.Accepted)
            return respondWithHeader(
                Location.create("/v1/calls/" + id),
                () -> complete(answer(reply, StatusCodes.CREATED)));
          return complete(answer(reply, StatusCodes.CREATED));
        });
  }

  private Policy policy(JsonBody body) {
    JsonBody p =
        body.object(
            "policy",
            "consentMode",
            "onDecline",
            "pauseAllowed",
            "maxPauseSeconds",
            "pauseRendering",
            "retentionDays",
            "maxDurationSeconds",
            "noMediaSeconds",
            "minRetentionDays");
    if (p == null) return defaultPolicy;
    return new Policy(
        orDefault(
            p.enumValue("consentMode", Policy.ConsentMode.class, false),
            defaultPolicy.consentMode()),
        orDefault(
            p.enumValue("onDecline", Policy.OnDecline.class, false), defaultPolicy.onDecline()),
        orDefault(p.bool("pauseAllowed"), defaultPolicy.pauseAllowed()),
        orDefault(p.integer("maxPauseSeconds"), defaultPolicy.maxPauseSeconds()),
        orDefault(
            p.enumValue("pauseRendering", Policy.PauseRendering.class, false),
            defaultPolicy.pauseRendering()),
        orDefault(p.integer("retentionDays"), defaultPolicy.retentionDays()),
        orDefault(p.integer("maxDurationSeconds"), defaultPolicy.maxDurationSeconds()),
        orDefault(p.integer("noMediaSeconds"), defaultPolicy.noMediaSeconds()),
        orDefault(p.integer("minRetentionDays"), defaultPolicy.minRetentionDays()));
  }

  private static List<CallSpec.PartySpec> parties(JsonBody body) {
    List<CallSpec.PartySpec> parties = new ArrayList<>();
    for (JsonBody p : body.objects("parties", true, "id", "role", "consent", "name", "aor")) {
      parties.add(
          new CallSpec.PartySpec(
              p.text("id", true),
              p.enumValue("role", Party.Role.class, true),
              orDefault(p.enumValue("consent", Party.Consent.class, false), Party.Consent.UNKNOWN),
              p.text("name", false),
              p.text("aor", false)));
    }
    return parties;
  }

  private static List<StreamSpec> streams(JsonBody body) {
    List<StreamSpec> streams = new ArrayList<>();
    for (JsonBody s :
        body.objects("streams", true, "label", "party", "codec", "source", "dtmfPayloadType")) {
      streams.add(
          new StreamSpec(
              s.text("label", true),
              s.text("party", true),
              s.enumValue("codec", Codec.class, true),
              s.text("source", false),
              s.integer("dtmfPayloadType")));
    }
    return streams;
  }

  private Route consent(String callId, String text) {
    JsonBody body = JsonBody.parse(text, "party", "decision", "by");
    String party = body.text("party", true);
    Party.Consent decision = body.enumValue("decision", Party.Consent.class, true);
    if (decision == Party.Consent.UNKNOWN)
      throw new JsonBody.BadRequest(
          "field 'decision' must be one of GRANTED, DECLINED, WITHDRAWN, was 'UNKNOWN'");
    String by = orDefault(body.text("by", false), party);
    return ask(
        callId,
        replyTo -> new CallRecording.ChangeConsent(party, decision, by, replyTo),
        StatusCodes.OK);
  }

  private Route pause(String callId, String text) {
    JsonBody body = JsonBody.parse(text, "reason", "by");
    String reason = body.text("reason", true);
    String by = body.text("by", true);
    return ask(callId, replyTo -> new CallRecording.Pause(reason, by, replyTo), StatusCodes.OK);
  }

  private Route resume(String callId, String text) {
    JsonBody body = JsonBody.parse(text, "by");
    String by = body.text("by", true);
    return ask(callId, replyTo -> new CallRecording.Resume(by, replyTo), StatusCodes.OK);
  }

  private Route stop(Principal who, String callId, String text) {
    JsonBody body = JsonBody.parse(text, "by");
    String by = orDefault(body.text("by", false), who.name());
    return ask(callId, replyTo -> new CallRecording.Stop(by, replyTo), StatusCodes.OK);
  }

  Route ask(
      String callId,
      Function<ActorRef<CallRecording.Reply>, CallRecording.Command> command,
      StatusCode success) {
    return onSuccess(
        calls.ask(callId, command).thenCompose(reply -> opened(callId, reply)),
        reply -> complete(answer(reply, success)));
  }

  /** A call's answer, and how its parties' personal fields show: opened, or erased. */
  private record Opened(CallRecording.Reply reply, BinaryOperator<String> open) {}

  private CompletionStage<Opened> opened(String callId, CallRecording.Reply reply) {
    if (!(reply instanceof CallRecording.Accepted) || personal == null)
      return CompletableFuture.completedFuture(new Opened(reply, (field, value) -> value));
    return personal
        .forReading(callId)
        .handle(
            (cipher, failure) ->
                new Opened(
                    reply,
                    failure != null
                        // The call answers while storage does not; its keys can wait.
                        ? (field, value) -> value == null ? null : UNAVAILABLE
                        : cipher
                            .<BinaryOperator<String>>map(c -> c::open)
                            .orElse((field, value) -> value == null ? null : ERASED)));
  }

  /** What a personal field shows while the call's keys cannot be read (storage down). */
  static final String UNAVAILABLE = "[unavailable: storage does not answer]";

  /** What a personal field of an erased call shows. */
  static final String ERASED = "[erased]";

  private static HttpResponse answer(Opened opened, StatusCode success) {
    CallRecording.Reply reply = opened.reply();
    if (reply instanceof CallRecording.Accepted accepted) {
      ObjectNode json = CallJson.call(accepted.call(), accepted.live(), opened.open());
      if (accepted.note() != null) json.put("note", accepted.note());
      return json(success, json);
    }
    return refusal((CallRecording.Rejected) reply);
  }

  /** A call's refusal as the API answers it: its status and why. */
  static HttpResponse refusal(CallRecording.Rejected rejected) {
    StatusCode status =
        switch (rejected.rejection()) {
          case INVALID -> StatusCodes.BAD_REQUEST;
          case NOT_FOUND -> StatusCodes.NOT_FOUND;
          case CONFLICT -> StatusCodes.CONFLICT;
          case UNAVAILABLE -> StatusCodes.SERVICE_UNAVAILABLE;
        };
    HttpResponse response = json(status, CallJson.error(status.intValue(), rejected.message()));
    return rejected.rejection() == CallRecording.Rejection.UNAVAILABLE
        ? response.addHeader(RetryAfter.create((long) CallRecording.Rejection.RETRY_AFTER_SECONDS))
        : response;
  }

  static HttpResponse notFound(String callId) {
    return json(StatusCodes.NOT_FOUND, CallJson.error(404, "no call with id '" + callId + "'"));
  }

  static HttpResponse json(StatusCode status, ObjectNode body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(
              HttpEntities.create(
                  ContentTypes.APPLICATION_JSON, CallJson.MAPPER.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  /** Errors a route throws, as the API's JSON errors. */
  ExceptionHandler errors() {
    return ExceptionHandler.newBuilder()
        .match(
            JsonBody.BadRequest.class,
            e -> complete(json(StatusCodes.BAD_REQUEST, CallJson.error(400, e.getMessage()))))
        .match(
            java.util.concurrent.TimeoutException.class,
            e ->
                complete(
                    json(StatusCodes.SERVICE_UNAVAILABLE, CallJson.error(503, timeoutMessage()))))
        .match(
            org.apache.pekko.pattern.AskTimeoutException.class,
            e ->
                complete(
                    json(StatusCodes.SERVICE_UNAVAILABLE, CallJson.error(503, timeoutMessage()))))
        .matchAny(
            e ->
                storageDoesNotAnswer(e)
                    ? complete(
                        json(
                            StatusCodes.SERVICE_UNAVAILABLE,
                            CallJson.error(
                                503, "storage does not answer now (" + rootCause(e) + "); retry")))
                    : complete(
                        json(
                            StatusCodes.INTERNAL_SERVER_ERROR,
                            CallJson.error(500, "the request failed: " + rootCause(e)))))
        .build();
  }

  /** Whether {@code e} comes from Cassandra, or the journal's breaker, not answering. */
  static boolean storageDoesNotAnswer(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause())
      if (t instanceof com.datastax.oss.driver.api.core.DriverException
          || t instanceof org.apache.pekko.pattern.CircuitBreakerOpenException
          || t instanceof java.util.concurrent.TimeoutException) return true;
    return false;
  }

  private static String rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  private String timeoutMessage() {
    return "the call did not answer within "
        + calls.askTimeout().toMillis()
        + " ms (the node may be starting or the journal unreachable); retry";
  }

  /** Pekko's rejections (unknown path, wrong method, unreadable body) with JSON bodies. */
  static RejectionHandler rejections() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (response.entity()
                  instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict) {
                String message = strict.getData().utf8String();
                return response.withEntity(
                    HttpEntities.create(
                        ContentTypes.APPLICATION_JSON,
                        CallJson.error(response.status().intValue(), message).toString()));
              }
              return response;
            });
  }

  private static <T> T orDefault(T value, T fallback) {
    return value == null ? fallback : value;
  }
}
