package org.callvault.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Sink;
import org.callvault.api.access.Principal;
import org.callvault.api.access.Role;
import org.callvault.call.CallRecording;
import org.callvault.call.Calls;
import org.callvault.call.Change;
import org.callvault.call.Custody;
import org.callvault.call.Event;
import org.callvault.call.Ledger;
import org.callvault.core.PersonalData;
import org.callvault.export.Timeline;
import org.callvault.export.WavExport;
import org.callvault.store.ChunkStore;

/**
 * What supervisors and compliance officers do with a recording: read its ledger and timeline,
 * verify its chain, listen to it, place a legal hold, erase it, and check an exported file. Every
 * read is recorded in the call's ledger first ({@code Accessed}: who, with which roles, what), and
 * every export with its digest ({@code ExportMade}), the call stopped or not: a read that cannot be
 * recorded is not served.
 */
final class RecordingRoutes extends AllDirectives {

  private static final org.apache.pekko.http.javadsl.model.ContentType WAV =
      ContentTypes.create(MediaTypes.customBinary("audio", "wav", false));

  /** RFC 7865's media type of recording metadata, served as the bytes that were received. */
  private static final org.apache.pekko.http.javadsl.model.ContentType RS_METADATA =
      ContentTypes.create(MediaTypes.customBinary("application", "rs-metadata+xml", false));

  private final ActorSystem<?> system;
  private final Calls calls;
  private final CallRoutes answers;
  private final CurrentEventsByPersistenceIdQuery journal;
  private final ChunkStore chunks;
  private final PersonalData personal;
  private final Clock clock;

  /**
   * @param answers how calls' answers and errors read (the call resource, refusals)
   * @param chunks where audio is read from for exports; null on a node that stores none
   * @param personal opens what the ledger keeps sealed (the recording metadata); null for none
   */
  RecordingRoutes(
      ActorSystem<?> system,
      Calls calls,
      CallRoutes answers,
      String readJournal,
      ChunkStore chunks,
      PersonalData personal,
      Clock clock) {
    this.system = system;
    this.personal = personal;
    this.calls = calls;
    this.answers = answers;
    this.chunks = chunks;
    this.clock = clock;
    this.journal =
        PersistenceQuery.get(system)
            .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, readJournal);
  }

  List<RouteTable.Entry> entries() {
    RouteTable.Access readers = RouteTable.Access.of(Role.SUPERVISOR, Role.COMPLIANCE);
    RouteTable.Access compliance = RouteTable.Access.of(Role.COMPLIANCE);
    return List.of(
        get(
            "/v1/calls/{id}/ledger",
            readers,
            (who, id) -> recorded(who, id, "ledger", () -> ledger(id))),
        get(
            "/v1/calls/{id}/ledger/verify",
            compliance,
            (who, id) -> recorded(who, id, "verification", () -> verify(id))),
        get(
            "/v1/calls/{id}/timeline",
            readers,
            (who, id) -> recorded(who, id, "timeline", () -> timeline(id))),
        get(
            "/v1/calls/{id}/metadata",
            readers,
            (who, id) -> recorded(who, id, "metadata", () -> metadata(id, null))),
        new RouteTable.Entry(
            HttpMethods.GET,
            "/v1/calls/{id}/metadata/{seq}",
            readers,
            (who, p) ->
                answers.withCallId(
                    p, id -> recorded(who, id, "metadata", () -> metadata(id, p.get("seq"))))),
        get(
            "/v1/calls/{id}/audio.wav",
            readers,
            (who, id) ->
                parameterOptional(
                    "layout",
                    layout ->
                        parameterOptional(
                            "label",
                            label -> audio(who, id, layout.orElse("stereo"), label.orElse(null))))),
        get(
            "/v1/calls/{id}/exports/verify",
            compliance,
            (who, id) ->
                parameterOptional(
                    "sha256",
                    sha -> recorded(who, id, "export verification", () -> verifyExport(id, sha)))),
        new RouteTable.Entry(
            HttpMethods.POST,
            "/v1/calls/{id}/legal-hold",
            compliance,
            (who, p) ->
                answers.withCallId(p, id -> answers.body(text -> legalHold(who, id, text)))),
        new RouteTable.Entry(
            HttpMethods.DELETE,
            "/v1/calls/{id}",
            compliance,
            (who, p) ->
                answers.withCallId(
                    p, id -> parameterOptional("reason", reason -> erase(who, id, reason)))));
  }

  /** What a route of one call does, for who asks. */
  private interface CallHandler {
    Route handle(Principal who, String callId);
  }

  private RouteTable.Entry get(String path, RouteTable.Access access, CallHandler handler) {
    return new RouteTable.Entry(
        HttpMethods.GET,
        path,
        access,
        (who, p) -> answers.withCallId(p, id -> handler.handle(who, id)));
  }

  /** {@code inner} once the call's ledger records that {@code who} reads {@code what}. */
  private Route recorded(Principal who, String callId, String what, Supplier<Route> inner) {
    return onSuccess(
        calls.ask(
            callId, replyTo -> new Custody.RecordAccess(what, roles(who), who.name(), replyTo)),
        reply ->
            reply instanceof CallRecording.Accepted
                ? inner.get()
                : complete(CallRoutes.refusal((CallRecording.Rejected) reply)));
  }

  private static String roles(Principal who) {
    return who.roles().stream().sorted().map(Role::id).collect(Collectors.joining(","));
  }

  private CompletionStage<List<Event>> events(String callId) {
    return journal
        .currentEventsByPersistenceId(persistenceId(callId), 0L, Long.MAX_VALUE)
        .map(envelope -> (Event) envelope.event())
        .runWith(Sink.seq(), system);
  }

  private static String persistenceId(String callId) {
    return PersistenceId.of(CallRecording.ENTITY_TYPE_KEY.name(), callId).id();
  }

  private Route ledger(String callId) {
    return onSuccess(
        events(callId),
        list -> {
          if (list.isEmpty()) return complete(CallRoutes.notFound(callId));
          ObjectNode json = CallJson.MAPPER.createObjectNode();
          json.put("callId", callId);
          ArrayNode entries = json.putArray("events");
          list.forEach(e -> entries.add(CallJson.event(e)));
          return complete(CallRoutes.json(StatusCodes.OK, json));
        });
  }

  private Route verify(String callId) {
    CompletionStage<Ledger.Verifier> verified =
        journal
            .currentEventsByPersistenceId(persistenceId(callId), 0L, Long.MAX_VALUE)
            .runFold(
                new Ledger.Verifier(),
                (v, envelope) -> v.accept(envelope.sequenceNr(), (Event) envelope.event()),
                system);
    return onSuccess(
        verified,
        verifier -> {
          Ledger.Verification result = verifier.result();
          if (result.events() == 0) return complete(CallRoutes.notFound(callId));
          return complete(CallRoutes.json(StatusCodes.OK, CallJson.verification(callId, result)));
        });
  }

  private Route timeline(String callId) {
    return onSuccess(
        events(callId),
        list ->
            list.isEmpty()
                ? complete(CallRoutes.notFound(callId))
                : complete(CallRoutes.json(StatusCodes.OK, CallJson.timeline(Timeline.of(list)))));
  }

  /**
   * A call's ledger and the cipher its sealed fields open with (empty: erased, or never sealed).
   */
  private record Opened(List<Event> events, Optional<PersonalData.Cipher> cipher) {}

  /**
   * The SIPREC recording metadata the call received (RFC 7865), each document as it came: the list
   * ({@code seq} null), or the bytes of the one its ledger event {@code seq} recorded. 410 once the
   * call is erased: its keys, which the documents are sealed under, are destroyed.
   */
  private Route metadata(String callId, String seq) {
    Long wanted = null;
    if (seq != null) {
      try {
        wanted = Long.parseLong(seq);
      } catch (NumberFormatException e) {
        throw new JsonBody.BadRequest("seq must be the ledger seq of a MetadataReceived event");
      }
    }
    Long at = wanted;
    CompletionStage<Optional<PersonalData.Cipher>> opener =
        personal == null
            ? java.util.concurrent.CompletableFuture.completedFuture(Optional.empty())
            : personal.forReading(callId);
    return onSuccess(
        events(callId).thenCombine(opener, Opened::new),
        opened -> {
          if (opened.events().isEmpty()) return complete(CallRoutes.notFound(callId));
          List<Event> documents =
              opened.events().stream()
                  .filter(e -> e.change() instanceof Change.MetadataReceived)
                  .toList();
          if (personal != null && opened.cipher().isEmpty() && !documents.isEmpty())
            return complete(
                CallRoutes.json(
                    StatusCodes.GONE,
                    CallJson.error(410, "call '" + callId + "' is erased: its metadata is gone")));
          if (at == null) {
            ObjectNode json = CallJson.MAPPER.createObjectNode().put("callId", callId);
            ArrayNode list = json.putArray("documents");
            for (Event e : documents) {
              byte[] bytes = document(e, opened.cipher());
              ObjectNode d = list.addObject();
              d.put("seq", e.seq());
              d.set("receivedAt", CallJson.MAPPER.valueToTree(e.time()));
              d.put("by", e.by());
              d.put("bytes", bytes.length);
              d.put("sha256", HexFormat.of().formatHex(sha256().digest(bytes)));
              d.put("href", "/v1/calls/" + callId + "/metadata/" + e.seq());
            }
            return complete(CallRoutes.json(StatusCodes.OK, json));
          }
          return documents.stream()
              .filter(e -> e.seq() == at)
              .findFirst()
              .map(
                  e ->
                      complete(
                          HttpResponse.create()
                              .withStatus(StatusCodes.OK)
                              .withEntity(
                                  HttpEntities.create(RS_METADATA, document(e, opened.cipher())))))
              .orElseGet(
                  () ->
                      complete(
                          CallRoutes.json(
                              StatusCodes.NOT_FOUND,
                              CallJson.error(
                                  404,
                                  "call '"
                                      + callId
                                      + "' received no metadata at seq "
                                      + at
                                      + " (GET /v1/calls/"
                                      + callId
                                      + "/metadata lists what it received)"))));
        });
  }

  private static byte[] document(Event event, Optional<PersonalData.Cipher> cipher) {
    String kept = ((Change.MetadataReceived) event.change()).document();
    return Base64.getDecoder().decode(cipher.map(c -> c.open(Calls.METADATA, kept)).orElse(kept));
  }

  /**
   * The recording as WAV. Rendered once to learn its SHA-256, which the ledger records with the
   * hash of the last event it was made from ({@code ExportMade}, also the record of the download),
   * then again as the answer, with both in its headers: {@code Repr-Digest} (RFC 9530) and {@code
   * CallVault-Ledger-Hash}. The two renderings come from the same events, so they are the same
   * bytes.
   */
  private Route audio(Principal who, String callId, String layoutName, String label) {
    WavExport.Layout layout;
    try {
      layout = WavExport.Layout.valueOf(layoutName.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new JsonBody.BadRequest(
          "layout must be mono, stereo or stream, was '" + layoutName + "'");
    }
    if (chunks == null)
      return complete(
          CallRoutes.json(
              StatusCodes.SERVICE_UNAVAILABLE,
              CallJson.error(503, "this node stores no audio (media is off); ask a media node")));
    return onSuccess(
        events(callId),
        list -> {
          if (list.isEmpty()) return complete(CallRoutes.notFound(callId));
          WavExport.Plan plan;
          try {
            plan = WavExport.plan(Timeline.of(list), layout, label);
          } catch (WavExport.Refused refused) {
            return complete(
                CallRoutes.json(
                    StatusCodes.get(refused.status),
                    CallJson.error(refused.status, refused.getMessage())));
          }
          String ledgerHash = plan.timeline().lastHash();
          String layoutId = layout.name().toLowerCase(Locale.ROOT);
          CompletionStage<Exported> recorded =
              WavExport.render(plan, chunks)
                  .runFold(
                      sha256(),
                      (digest, bytes) -> {
                        digest.update(bytes.toArrayUnsafe());
                        return digest;
                      },
                      system)
                  .thenApply(digest -> HexFormat.of().formatHex(digest.digest()))
                  .thenCompose(
                      sha ->
                          calls
                              .ask(
                                  callId,
                                  replyTo ->
                                      new Custody.RecordExport(
                                          new Change.ExportMade(
                                              sha, ledgerHash, layoutId, label, plan.bytes()),
                                          who.name(),
                                          replyTo))
                              .thenApply(reply -> new Exported(sha, reply)));
          return onSuccess(
              recorded,
              exported -> {
                if (!(exported.reply() instanceof CallRecording.Accepted))
                  return complete(CallRoutes.refusal((CallRecording.Rejected) exported.reply()));
                String digest =
                    Base64.getEncoder().encodeToString(HexFormat.of().parseHex(exported.sha()));
                return complete(
                    HttpResponse.create()
                        .withStatus(StatusCodes.OK)
                        .addHeader(RawHeader.create("Repr-Digest", "sha-256=:" + digest + ":"))
                        .addHeader(RawHeader.create("CallVault-Ledger-Hash", ledgerHash))
                        .withEntity(
                            HttpEntities.create(
                                WAV, plan.bytes(), WavExport.render(plan, chunks))));
              });
        });
  }

  /** An export's digest, and the call's answer to recording it. */
  private record Exported(String sha, CallRecording.Reply reply) {}

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** Whether an export with this SHA-256 was made of the call: when, by whom, of what. */
  private Route verifyExport(String callId, Optional<String> sha256) {
    String sha = sha256.map(s -> s.trim().toLowerCase(Locale.ROOT)).orElse("");
    if (!sha.matches("[0-9a-f]{64}"))
      throw new JsonBody.BadRequest("sha256 must be the 64 hex digits of the file's SHA-256");
    return onSuccess(
        events(callId),
        list -> {
          if (list.isEmpty()) return complete(CallRoutes.notFound(callId));
          ObjectNode json =
              CallJson.MAPPER.createObjectNode().put("callId", callId).put("sha256", sha);
          for (Event e : list) {
            if (e.change() instanceof Change.ExportMade made && sha.equals(made.sha256())) {
              json.put("made", true);
              json.set("at", CallJson.MAPPER.valueToTree(e.time()));
              json.put("by", e.by());
              json.put("layout", made.layout());
              if (made.label() != null) json.put("label", made.label());
              json.put("bytes", made.bytes());
              json.put("ledgerHash", made.ledgerHash());
              json.put("seq", e.seq());
              return complete(CallRoutes.json(StatusCodes.OK, json));
            }
          }
          json.put("made", false);
          json.put("error", "no export of call '" + callId + "' has this SHA-256");
          json.put("status", 404);
          return complete(CallRoutes.json(StatusCodes.NOT_FOUND, json));
        });
  }

  private Route legalHold(Principal who, String callId, String text) {
    JsonBody body = JsonBody.parse(text, "on", "reason");
    Boolean on = body.bool("on");
    if (on == null) throw new JsonBody.BadRequest("field 'on' is required: true or false");
    String reason = body.text("reason", on);
    return answers.ask(
        callId,
        replyTo -> new Custody.SetLegalHold(on, reason, who.name(), replyTo),
        StatusCodes.OK);
  }

  private Route erase(Principal who, String callId, Optional<String> reason) {
    return answers.ask(
        callId,
        replyTo ->
            new Custody.Erase(
                reason.filter(r -> !r.isBlank()).orElse("erasure request"),
                clock.instant(),
                false,
                who.name(),
                replyTo),
        StatusCodes.OK);
  }
}
