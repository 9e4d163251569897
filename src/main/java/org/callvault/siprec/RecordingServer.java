package org.callvault.siprec;

import org.callvault.core.Codec;
import org.callvault.sip.Via;
import org.callvault.sip.SiprecBody;
import org.callvault.sip.SipResponse;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipParseException;
import org.callvault.sip.SipIds;
import org.callvault.sip.ServerTransaction;
import org.callvault.sip.SdpOffer;
import org.callvault.sip.SdpAnswer;
import org.callvault.sip.Sdp;
import org.callvault.sip.MediaReInvite;
import org.callvault.sip.DialogState;
import org.callvault.sip.ContentType;
import org.callvault.sip.ClientTransactions;
import org.callvault.sip.SdpOrigin;
import org.callvault.sip.RecordingMetadata;
import org.callvault.sip.ServerTransactions;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.callvault.call.Call;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.callvault.call.CallRecording;
import org.callvault.call.CallSpec;
import org.callvault.call.Calls;
import org.callvault.core.Endpoint;
import org.callvault.call.Party;
import org.callvault.call.Policy;
import org.callvault.call.SipSession;
import org.callvault.core.StreamSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Session Recording Server of <a href="https://www.rfc-editor.org/rfc/rfc7866">RFC 7866</a>:
 * what each request from a recording client (SRC) does to its call.
 *
 * <ul>
 *   <li>INVITE (new dialog): the SRC must be configured (403), its {@code Require} understood
 *       (420), the request a recording session ({@code Require: siprec} or the {@code +sip.src}
 *       Contact feature, §6.1.1), its SDP offer recordable (488). Parties come from the metadata's
 *       participants (RFC 7865), streams from the SDP m-lines tied to them by label; the call is
 *       created and answered 200 with a {@code recvonly} SDP on the ports it bound, and {@code
 *       +sip.srs}. Over the node's call limit: 503 with Retry-After.
 *   <li>re-INVITE: every stream {@code inactive} pauses the call (reason {@code SIPREC}), any
 *       stream sending again resumes it (§6.4). Answered with the same ports.
 *   <li>BYE stops the call. OPTIONS is answered (keep-alives). CANCEL is the transactions' work;
 *       a call set up while its INVITE was cancelled is stopped.
 * </ul>
 *
 * <p>The call id is {@code sip-} and the SIP Call-ID (characters a call id cannot hold replaced),
 * so an INVITE sent again makes no second call and any node can find the call of an in-dialog
 * request. The dialog is kept in the call's ledger ({@link SipSession}).
 *
 * <p>Runs on the SIP transport's one thread (with its {@link ServerTransactions}); the entity's
 * answers are brought back to it through {@code loop}.
 */
public final class RecordingServer implements ServerTransactions.TransactionUser {

  private static final Logger log = LoggerFactory.getLogger(RecordingServer.class);

  /** The option tags this server supports (RFC 7866 §5). */
  private static final Set<String> SUPPORTED = Set.of("siprec");

  static final String ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS";

  /**
   * How the server decides.
   *
   * @param contact        this server's Contact URI, e.g. {@code sip:srs@10.0.0.5:5060}
   * @param allowedSources the SRC addresses (IP literals) whose requests are served; others get 403
   * @param defaultPolicy  the policy of a call from a source without one of its own
   * @param policyBySource per SRC address (a trunk), the policy of its calls
   * @param maxCalls       calls this node records at most; beyond, new INVITEs get 503
   * @param retryAfterSeconds what a 503 asks the SRC to wait
   * @param node           this node's cluster address, kept with each dialog it answers
   */
  public record Settings(
      String contact,
      Set<String> allowedSources,
      Policy defaultPolicy,
      Map<String, Policy> policyBySource,
      int maxCalls,
      int retryAfterSeconds,
      String node) {}

  /** What a dialog this node answered needs for the next answer: the call, its SDP origin, the metadata so far. */
  private record Dialog(String callId, SdpOrigin origin, RecordingMetadata metadata) {}

  private final Settings settings;
  private final Calls calls;
  private final IntSupplier activeCalls;
  private final Executor loop;
  private final SipTransport.Client client;
  /** By SIP Call-ID; only touched on the loop. */
  private final Map<String, Dialog> dialogs = new ConcurrentHashMap<>();

  /**
   * @param activeCalls the calls whose media this node receives now
   * @param loop        the SIP thread, where transactions are answered
   */
  public RecordingServer(Settings settings, Calls calls, IntSupplier activeCalls, Executor loop, SipTransport.Client client) {
    this.settings = settings;
    this.calls = calls;
    this.activeCalls = activeCalls;
    this.loop = loop;
    this.client = client;
  }

  /**
   * A SIPREC call's media moved to this node (its old node died or handed it off): sends the SRC a
   * re-INVITE in the call's dialog, from the dialog state in its ledger, offering the new
   * endpoints, so that it sends the media here. The SRC's 200 is ACKed. Over UDP; any thread.
   *
   * <p>The re-INVITE's CSeq number is {@code mediaEpoch}. The SRC accepts any CSeq in the dialog
   * above the last one it received from this side (RFC 3261 §12.2.2), and the recorder sends
   * nothing in the dialog before the call's first move; the epoch grows with every move and is
   * the same on whichever node sends, so each re-INVITE is above the one before without a counter
   * that the nodes would have to share (the clock the number once came from is not the same on
   * two nodes, nor steady on one).
   *
   * @param mediaEpoch the call's media epoch: the seq of the ledger event that recorded {@code
   *     endpoints}
   */
  public void mediaMoved(SipSession sip, List<StreamSpec> streams, Map<String, Endpoint> endpoints, long mediaEpoch) {
    loop.execute(() -> {
      String callId = callIdOf(sip.sipCallId());
      List<SdpOffer.Stream> offered = new ArrayList<>();
      String host = null;
      for (StreamSpec s : streams) {
        Endpoint e = endpoints.get(s.label());
        if (e == null) continue;
        host = host == null ? e.host() : host;
        offered.add(new SdpOffer.Stream(s.label(), e.port(), s.codec().payloadType, s.dtmfPayloadType()));
      }
      if (host == null) return;
      DialogState dialog =
          new DialogState(
              sip.sipCallId(), sip.localTag(), sip.remoteTag(), sip.localUri(), sip.remoteUri(), sip.remoteTarget(), sip.routeSet(), 0, 0);
      MediaReInvite reInvite;
      try {
        reInvite = MediaReInvite.build(dialog, mediaEpoch, settings.contact(), SdpOrigin.create("callvault"), host, offered);
      } catch (SipParseException e) {
        log.warn("call {}: media moved here, but no re-INVITE can tell the SRC: {}", callId, e.reason());
        return;
      }
      InetSocketAddress destination = new InetSocketAddress(reInvite.destination().address(), reInvite.destination().port());
      log.info("call {}: media moved here; re-INVITE to the SRC at {}", callId, destination);
      client.invite(
          reInvite.request(),
          destination,
          new ClientTransactions.Outcome() {
            @Override
            public void answered(SipResponse response) {
              if (response.isSuccess()) client.send(reInvite.ack(), destination);
              else log.warn("call {}: the SRC refused the re-INVITE that moves its media: {}", callId, response.startLine());
            }

            @Override
            public void timedOut() {
              log.warn("call {}: the SRC did not answer the re-INVITE that moves its media", callId);
            }
          });
    });
  }

  /** The call id of a SIPREC call: the SIP Call-ID, made fit for a call id. */
  public static String callIdOf(String sipCallId) {
    String safe = sipCallId.replaceAll("[^A-Za-z0-9._:@-]", "_");
    if (safe.length() <= 120) return "sip-" + safe;
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(sipCallId.getBytes(StandardCharsets.UTF_8));
      return "sip-" + HexFormat.of().formatHex(digest, 0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public void onRequest(ServerTransaction tx) {
    SipRequest request = tx.request();
    try {
      switch (request.method()) {
        case "INVITE" -> {
          if (request.to().tag().isPresent()) reInvite(tx);
          else invite(tx);
        }
        case "BYE" -> bye(tx);
        case "OPTIONS" -> tx.respond(options(request));
        default -> tx.respond(SipResponse.to(request, 405).toTag(SipIds.newTag()).header("Allow", ALLOW).build());
      }
    } catch (SipParseException e) {
      tx.respond(refusal(request, e.statusCode(), e.reason()));
    }
  }

  // ----------------------------------------------------------------------------- new calls

  private void invite(ServerTransaction tx) throws SipParseException {
    SipRequest invite = tx.request();
    String source = sourceOf(invite);
    if (!settings.allowedSources().contains(source))
      throw new SipParseException(403, "Forbidden: " + source + " is not a configured recording client");
    List<String> unknown = invite.require().stream().filter(t -> !SUPPORTED.contains(t.toLowerCase(Locale.ROOT))).toList();
    if (!unknown.isEmpty()) {
      tx.respond(
          SipResponse.to(invite, 420).reason("Bad Extension: " + String.join(", ", unknown)).toTag(SipIds.newTag()).header("Unsupported", String.join(", ", unknown)).build());
      return;
    }
    boolean siprec =
        invite.require().stream().anyMatch(t -> t.equalsIgnoreCase("siprec"))
            || invite.contacts().stream().anyMatch(c -> c.hasParam("+sip.src"));
    if (!siprec) throw new SipParseException(488, "Not Acceptable Here: not a recording session (expected Require: siprec or a +sip.src Contact)");
    if (activeCalls.getAsInt() >= settings.maxCalls()) {
      tx.respond(
          SipResponse.to(invite, 503)
              .reason("Service Unavailable: this recorder is at its limit of " + settings.maxCalls() + " calls")
              .toTag(SipIds.newTag())
              .header("Retry-After", String.valueOf(settings.retryAfterSeconds()))
              .build());
      return;
    }
    SiprecBody body = SiprecBody.of(invite);
    if (body.sdp().isEmpty()) throw new SipParseException(488, "Not Acceptable Here: the INVITE carries no SDP offer");
    Sdp offer = Sdp.parse(body.sdp().get());
    RecordingMetadata metadata = body.metadata().isPresent() ? RecordingMetadata.parse(body.metadata().get()) : null;

    String localTag = SipIds.newTag();
    DialogState dialog = DialogState.fromInvite(invite, localTag);
    String callId = callIdOf(invite.callId());
    Recorded recorded = recorded(offer, metadata);
    if (recorded.streams().isEmpty())
      throw new SipParseException(488, "Not Acceptable Here: no stream can be recorded (" + String.join("; ", recorded.refusals()) + ")");
    String sessionId = metadata == null ? null : metadata.sessions().stream().findFirst().map(RecordingMetadata.Session::sessionId).orElse(null);
    SipSession sip =
        new SipSession(
            invite.callId(), sessionId, source + ":" + sourcePortOf(invite), tx.reliable() ? "TCP" : "UDP", localTag, dialog.remoteTag(),
            dialog.localUri(), dialog.remoteUri(), dialog.remoteTarget(), dialog.routeSet(), settings.node());
    Policy policy = settings.policyBySource().getOrDefault(source, settings.defaultPolicy());
    CallSpec spec = new CallSpec(callId, policy, recorded.parties(), recorded.streams(), null, sip);
    List<String> problems = spec.problems();
    if (!problems.isEmpty()) throw new SipParseException(488, "Not Acceptable Here: " + String.join("; ", problems));

    SdpOrigin origin = SdpOrigin.create("callvault");
    answerLater(
        tx,
        calls.create(spec, "sip:" + source),
        call -> {
          if (tx.state() == ServerTransaction.State.TERMINATED || tx.finalResponse().isPresent()) {
            // CANCELled while the call was set up: the SRC will not record it.
            calls.stop(callId, "sip:CANCEL");
            return null;
          }
          dialogs.put(invite.callId(), new Dialog(callId, origin, metadata));
          return ok(invite, localTag, offer, origin, call, recorded.labels());
        });
  }

  /** The streams and parties of an offer, with the m-line each stream came from. */
  private record Recorded(List<StreamSpec> streams, List<CallSpec.PartySpec> parties, List<String> labels, List<String> refusals) {}

  /**
   * Each recordable m-line becomes a stream labelled by its {@code a=label} (or {@code
   * stream-N}), sent by the participant the metadata ties to that label; the others are refused
   * (port 0 in the answer). {@code labels} has one entry per m-line, null where refused.
   */
  private static Recorded recorded(Sdp offer, RecordingMetadata metadata) {
    List<StreamSpec> streams = new ArrayList<>();
    Map<String, CallSpec.PartySpec> parties = new LinkedHashMap<>();
    List<String> labels = new ArrayList<>();
    List<String> refusals = new ArrayList<>();
    for (Sdp.Media m : offer.media()) {
      String why = null;
      OptionalInt format = OptionalInt.empty();
      if (!m.type().equals("audio")) why = "m-line " + m.index() + " is " + m.type() + ", not audio";
      else if (!m.isRtp()) why = "m-line " + m.index() + " is " + m.proto() + ", not RTP";
      else if (m.port() == 0) why = "m-line " + m.index() + " is disabled (port 0)";
      else if ((format = SdpAnswer.chooseAudioFormat(m, SdpAnswer.G711)).isEmpty())
        why = "m-line " + m.index() + " offers no PCMU or PCMA (" + String.join(" ", m.formats()) + ")";
      if (why != null) {
        refusals.add(why);
        labels.add(null);
        continue;
      }
      String sdpLabel = m.label().orElse(null);
      String label = sdpLabel != null && sdpLabel.matches("[A-Za-z0-9._-]{1,64}") ? sdpLabel : "stream-" + m.index();
      Optional<RecordingMetadata.StreamSender> sender = metadata == null || sdpLabel == null ? Optional.empty() : metadata.senderOf(sdpLabel);
      String partyId;
      if (sender.isPresent()) {
        RecordingMetadata.StreamSender s = sender.get();
        partyId = partyIdOf(s.participantId(), s.aor().orElse(null));
        String name = s.name().orElse(null);
        String aor = s.aor().orElse(null);
        parties.putIfAbsent(partyId, new CallSpec.PartySpec(partyId, Party.Role.OTHER, Party.Consent.UNKNOWN, name, aor));
      } else {
        partyId = "participant-" + label; // no metadata names who speaks here (a mixed stream)
        parties.putIfAbsent(partyId, new CallSpec.PartySpec(partyId, Party.Role.OTHER, Party.Consent.UNKNOWN));
      }
      String address = m.connection().or(offer::connection).map(Sdp.Connection::address).orElse(null);
      String expectedSource = address != null && address.matches("\\d{1,3}(\\.\\d{1,3}){3}") && !address.equals("0.0.0.0") ? address : null;
      OptionalInt dtmf = m.telephoneEventPayloadType(8000);
      Integer dtmfType = dtmf.isPresent() && dtmf.getAsInt() >= 96 && dtmf.getAsInt() <= 127 ? dtmf.getAsInt() : null;
      Codec codec = format.getAsInt() == 8 ? Codec.PCMA : Codec.PCMU;
      streams.add(new StreamSpec(label, partyId, codec, expectedSource, dtmfType));
      labels.add(label);
    }
    return new Recorded(streams, new ArrayList<>(parties.values()), labels, refusals);
  }

  /** A party id from the participant's address of record (its user part), else its metadata id. */
  static String partyIdOf(String participantId, String aor) {
    String candidate = participantId;
    if (aor != null) {
      String user = aor.replaceFirst("^(sips?|tel):", "");
      int at = user.indexOf('@');
      candidate = at > 0 ? user.substring(0, at) : user;
    }
    String safe = candidate.replaceAll("[^A-Za-z0-9._-]", "_");
    if (safe.isEmpty()) safe = "participant";
    return safe.length() > 64 ? safe.substring(0, 64) : safe;
  }

  // ----------------------------------------------------------------------- in-dialog requests

  /**
   * A re-INVITE: new recordable m-lines become streams of the call and a metadata update adds or
   * renames parties; then every stream {@code inactive} pauses the call (reason {@code SIPREC}),
   * any stream sending resumes it (RFC 7866 §6.4). Answered with every stream's port.
   */
  private void reInvite(ServerTransaction tx) throws SipParseException {
    SipRequest request = tx.request();
    SiprecBody body = SiprecBody.of(request);
    if (body.sdp().isEmpty()) throw new SipParseException(488, "Not Acceptable Here: a re-INVITE without an SDP offer is not supported");
    Sdp offer = Sdp.parse(body.sdp().get());
    RecordingMetadata update = body.metadata().isPresent() ? RecordingMetadata.parse(body.metadata().get()) : null;
    String callId = callIdOf(request.callId());
    Dialog known = dialogs.get(request.callId());
    RecordingMetadata metadata = merged(known == null ? null : known.metadata(), update);
    String by = "sip:" + sourceOf(request);
    Recorded recorded = recorded(offer, metadata);
    boolean allInactive = offer.media().stream().allMatch(m -> m.direction() == Sdp.Direction.INACTIVE || m.port() == 0);
    CompletionStage<CallRecording.Reply> done =
        calls.get(callId)
            .thenCompose(reply -> {
              if (!(reply instanceof CallRecording.Accepted accepted)) return CompletableFuture.completedFuture(reply);
              Amendment amendment = amendment(accepted.call(), recorded, update != null);
              if (amendment == null) return CompletableFuture.completedFuture(reply);
              return calls.amend(callId, amendment.parties(), amendment.streams(), by);
            })
            .thenCompose(reply -> {
              if (!(reply instanceof CallRecording.Accepted)) return CompletableFuture.completedFuture(reply);
              return allInactive ? calls.pause(callId, "SIPREC", by) : calls.resume(callId, by);
            });
    answerLater(
        tx,
        done,
        call -> {
          SdpOrigin origin = known != null ? known.origin().next() : SdpOrigin.create("callvault");
          dialogs.put(request.callId(), new Dialog(callId, origin, metadata));
          return ok(request, null, offer, origin, call, recorded.labels());
        });
  }

  /** The metadata after an update: a complete document replaces, a partial one is merged. */
  private static RecordingMetadata merged(RecordingMetadata known, RecordingMetadata update) {
    if (update == null) return known;
    if (known == null || update.dataMode() == RecordingMetadata.DataMode.COMPLETE) return update;
    return known.merge(update);
  }

  private record Amendment(List<CallSpec.PartySpec> parties, List<StreamSpec> streams) {}

  /**
   * What a re-INVITE adds to {@code call}: the streams of m-lines it does not have, their
   * parties, and (with a metadata update) the parties the metadata names. Null when nothing.
   */
  private static Amendment amendment(Call call, Recorded recorded, boolean metadataUpdated) {
    List<StreamSpec> added = recorded.streams().stream().filter(s -> call.streams().stream().noneMatch(k -> k.label().equals(s.label()))).toList();
    Set<String> partiesOfAdded = new HashSet<>();
    added.forEach(s -> partiesOfAdded.add(s.party()));
    List<CallSpec.PartySpec> parties =
        recorded.parties().stream().filter(p -> partiesOfAdded.contains(p.id()) || (metadataUpdated && p.aor() != null)).toList();
    return added.isEmpty() && parties.isEmpty() ? null : new Amendment(parties, added);
  }

  private void bye(ServerTransaction tx) {
    SipRequest bye = tx.request();
    dialogs.remove(bye.callId());
    answerLater(tx, calls.stop(callIdOf(bye.callId()), "sip:" + sourceOf(bye)), call -> SipResponse.to(bye, 200).build());
  }

  private SipResponse options(SipRequest request) {
    return SipResponse.to(request, 200)
        .toTag(SipIds.newTag())
        .header("Allow", ALLOW)
        .header("Supported", "siprec")
        .header("Accept", "application/sdp, application/rs-metadata+xml, multipart/mixed")
        .build();
  }

  // ------------------------------------------------------------------------------ answers

  /** Builds the final response from the call the entity answered with; null when already answered. */
  private interface Answer {
    SipResponse from(Call call) throws SipParseException;
  }

  /** Answers {@code tx} once the entity has: with {@code answer} if it accepted, else the refusal. */
  private void answerLater(ServerTransaction tx, CompletionStage<CallRecording.Reply> reply, Answer answer) {
    SipRequest request = tx.request();
    reply.whenCompleteAsync(
        (r, failure) -> {
          if (tx.finalResponse().isPresent() || tx.state() == ServerTransaction.State.TERMINATED) {
            if (r instanceof CallRecording.Accepted a && request.isMethod("INVITE") && !request.to().tag().isPresent()) {
              calls.stop(a.call().callId(), "sip:CANCEL"); // set up after the SRC cancelled it
            }
            return;
          }
          try {
            if (failure != null) {
              boolean timeout = failure instanceof TimeoutException || failure.getCause() instanceof TimeoutException;
              log.warn("{} {}: the call did not answer: {}", request.method(), request.callId(), failure.toString());
              tx.respond(
                  SipResponse.to(request, 503)
                      .reason(timeout ? "Service Unavailable: the recording did not answer in time" : "Service Unavailable")
                      .toTag(SipIds.newTag())
                      .header("Retry-After", String.valueOf(settings.retryAfterSeconds()))
                      .build());
            } else if (r instanceof CallRecording.Accepted accepted) {
              SipResponse response = answer.from(accepted.call());
              if (response != null) tx.respond(response);
            } else {
              CallRecording.Rejected rejected = (CallRecording.Rejected) r;
              int status =
                  switch (rejected.rejection()) {
                    case NOT_FOUND -> 481;
                    case CONFLICT -> request.isMethod("BYE") ? 200 : 488;
                    default -> 488;
                  };
              tx.respond(refusal(request, status, SipResponse.reasonPhrase(status) + ": " + rejected.message()));
            }
          } catch (SipParseException e) {
            tx.respond(refusal(request, e.statusCode(), e.reason()));
          }
        },
        loop);
  }

  private SipResponse ok(SipRequest request, String localTag, Sdp offer, SdpOrigin origin, Call call, List<String> labels) {
    List<Integer> ports = new ArrayList<>();
    String host = null;
    for (String label : labels) {
      Endpoint endpoint = label == null ? null : call.endpoints().get(label);
      ports.add(endpoint == null ? 0 : endpoint.port());
      if (endpoint != null && host == null) host = endpoint.host();
    }
    if (host == null) {
      // The call has no sockets (its node receives no media, or none could be bound): say so.
      return refusal(request, 488, "Not Acceptable Here: no media could be bound for the recording (see the call's ledger)");
    }
    SdpAnswer answer = SdpAnswer.answer(offer, origin, host, ports, SdpAnswer.G711);
    SipResponse.Builder ok =
        SipResponse.to(request, 200)
            .header("Contact", "<" + settings.contact() + ">;+sip.srs")
            .header("Allow", ALLOW)
            .header("Supported", "siprec")
            .body(ContentType.of(ContentType.SDP), answer.bytes());
    if (localTag != null) ok.toTag(localTag);
    return ok.build();
  }

  private static SipResponse refusal(SipRequest request, int status, String reason) {
    SipResponse.Builder b = SipResponse.to(request, status).reason(reason.replaceAll("[\\r\\n]", " ")).toTag(SipIds.newTag());
    int colon = reason.indexOf(": ");
    if (status == 488 && colon > 0) b.header("Warning", "399 callvault \"" + reason.substring(colon + 2).replace("\"", "'") + "\"");
    return b.build();
  }

  /** The address the request came from: the top Via's {@code received}, else its sent-by host. */
  private static String sourceOf(SipRequest request) {
    Via top = request.topVia();
    return top.received().orElse(top.host());
  }

  private static int sourcePortOf(SipRequest request) {
    Via top = request.topVia();
    return top.rport().orElse(top.port() > 0 ? top.port() : 5060);
  }

  @Override
  public void onAck(SipRequest ack) {
    // The SRC confirmed the dialog; nothing to record.
  }

  @Override
  public void onCancelled(ServerTransaction invite, SipRequest cancel) {
    log.info("INVITE {} cancelled by the SRC before it was answered", invite.request().callId());
  }

  @Override
  public void onTimeout(ServerTransaction transaction, ServerTransactions.Timeout timeout) {
    log.warn("{} {}: {}", transaction.request().method(), transaction.request().callId(), timeout);
  }

  @Override
  public void onNoAckFor2xx(SipResponse ok) {
    // §13.3.1.4: without an ACK the SRC does not consider the session set up: stop recording it.
    log.warn("INVITE {}: no ACK for the 200 within 64*T1; stopping its recording", ok.callId());
    if (ok.cseq().method().equals("INVITE") && dialogs.containsKey(ok.callId())) {
      dialogs.remove(ok.callId());
      calls.stop(callIdOf(ok.callId()), "sip:no-ACK");
    }
  }
}
