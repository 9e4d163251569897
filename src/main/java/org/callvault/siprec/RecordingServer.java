package org.callvault.siprec;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.IntSupplier;
import org.callvault.call.Call;
import org.callvault.call.CallRecording;
import org.callvault.call.CallSpec;
import org.callvault.call.Calls;
import org.callvault.call.Policy;
import org.callvault.call.SipSession;
import org.callvault.core.Endpoint;
import org.callvault.core.StreamSpec;
import org.callvault.sip.ClientTransactions;
import org.callvault.sip.DialogState;
import org.callvault.sip.MediaReInvite;
import org.callvault.sip.RecordingMetadata;
import org.callvault.sip.Sdp;
import org.callvault.sip.SdpOffer;
import org.callvault.sip.SdpOrigin;
import org.callvault.sip.ServerTransaction;
import org.callvault.sip.ServerTransactions;
import org.callvault.sip.SessionTimer;
import org.callvault.sip.SipIds;
import org.callvault.sip.SipParseException;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;
import org.callvault.sip.SiprecBody;
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
 *   <li>BYE stops the call. OPTIONS is answered (keep-alives). CANCEL is the transactions' work; a
 *       call set up while its INVITE was cancelled is stopped.
 * </ul>
 *
 * <p>The call id is {@code sip-} and the SIP Call-ID (characters a call id cannot hold replaced),
 * so an INVITE sent again makes no second call and any node can find the call of an in-dialog
 * request. The dialog is kept in the call's ledger ({@link SipSession}).
 *
 * <p>Who decides what: {@link Admission} whether a new INVITE may become a call, {@link
 * CallMapping} what its offer and metadata make of the call, {@link Answers} how the responses
 * read; this class asks the call's entity ({@link Calls}) and answers once it has.
 *
 * <p>Runs on the SIP transport's one thread (with its {@link ServerTransactions}); the entity's
 * answers are brought back to it through {@code loop}.
 */
public final class RecordingServer implements ServerTransactions.TransactionUser {

  private static final Logger log = LoggerFactory.getLogger(RecordingServer.class);

  /**
   * How the server decides.
   *
   * @param contact this server's Contact URI, e.g. {@code sip:srs@10.0.0.5:5060}
   * @param allowedSources the SRC addresses (IP literals) whose requests are served; others get 403
   * @param defaultPolicy the policy of a call from a source without one of its own
   * @param policyBySource per SRC address (a trunk), the policy of its calls
   * @param maxCalls calls this node records at most; beyond, new INVITEs get 503
   * @param retryAfterSeconds what a 503 asks the SRC to wait
   * @param node this node's cluster address, kept with each dialog it answers
   */
  public record Settings(
      String contact,
      Set<String> allowedSources,
      Policy defaultPolicy,
      Map<String, Policy> policyBySource,
      int maxCalls,
      int retryAfterSeconds,
      String node,
      long sessionExpiresSeconds,
      long minSessionExpiresSeconds) {}

  /**
   * What a dialog this node answered needs for the next answer: the call, its SDP origin, the
   * metadata so far.
   */
  private record Dialog(String callId, SdpOrigin origin, RecordingMetadata metadata) {}

  private final Settings settings;
  private final Calls calls;
  private final Admission admission;
  private final ScheduledExecutorService loop;
  private final SipTransport.Client client;

  /** By SIP Call-ID; only touched on the loop. */
  private final Map<String, Dialog> dialogs = new ConcurrentHashMap<>();

  private final SessionExpiries sessions;

  /**
   * @param activeCalls the calls whose media this node receives now
   * @param loop the SIP thread, where transactions are answered
   */
  public RecordingServer(
      Settings settings,
      Calls calls,
      IntSupplier activeCalls,
      ScheduledExecutorService loop,
      SipTransport.Client client) {
    this.settings = settings;
    this.calls = calls;
    this.admission = new Admission(settings, activeCalls);
    this.loop = loop;
    this.client = client;
    this.sessions =
        new SessionExpiries(
            settings.sessionExpiresSeconds(),
            settings.minSessionExpiresSeconds(),
            loop,
            this::sessionExpired);
  }

  /**
   * Where the re-INVITEs' CSeq numbers start. Earlier versions took the number from the clock
   * (seconds since 1,700,000,000: about 10^8 in 2026, 10^9 in 2055), and a dialog's numbers must
   * only grow, so a dialog re-INVITEd by them goes on above what they sent; 10^9 plus an epoch
   * stays below RFC 3261's 2^31.
   */
  static final long CSEQ_BASE = 1_000_000_000L;

  /**
   * A SIPREC call's media moved to this node (its old node died or handed it off): sends the SRC a
   * re-INVITE in the call's dialog, from the dialog state in its ledger, offering the new
   * endpoints, so that it sends the media here. The SRC's 200 is ACKed. Over UDP; any thread.
   *
   * <p>The re-INVITE's CSeq number is {@link #CSEQ_BASE} plus {@code mediaEpoch}. The SRC accepts
   * any CSeq in the dialog above the last one it received from this side (RFC 3261 §12.2.2), and
   * the recorder sends nothing in the dialog but these re-INVITEs; the epoch grows with every move
   * and is the same on whichever node sends, so each re-INVITE is above the one before without a
   * counter that the nodes would have to share (the clock the number once came from is not the same
   * on two nodes, nor steady on one).
   *
   * @param mediaEpoch the call's media epoch: the seq of the ledger event that recorded {@code
   *     endpoints}
   */
  public void mediaMoved(
      SipSession sip, List<StreamSpec> streams, Map<String, Endpoint> endpoints, long mediaEpoch) {
    loop.execute(
        () -> {
          String callId = callIdOf(sip.sipCallId());
          List<SdpOffer.Stream> offered = CallMapping.offered(streams, endpoints);
          if (offered.isEmpty()) return;
          String host = endpoints.get(offered.get(0).label()).host();
          MediaReInvite reInvite;
          try {
            reInvite =
                MediaReInvite.build(
                    CallMapping.dialogOf(sip),
                    CSEQ_BASE + mediaEpoch,
                    settings.contact(),
                    SdpOrigin.create("callvault"),
                    host,
                    offered);
          } catch (SipParseException e) {
            log.warn(
                "call {}: media moved here, but no re-INVITE can tell the SRC: {}",
                callId,
                e.reason());
            return;
          }
          InetSocketAddress destination =
              new InetSocketAddress(
                  reInvite.destination().address(), reInvite.destination().port());
          log.info("call {}: media moved here; re-INVITE to the SRC at {}", callId, destination);
          client.invite(
              reInvite.request(),
              destination,
              new ClientTransactions.Outcome() {
                @Override
                public void answered(SipResponse response) {
                  if (response.isSuccess()) client.send(reInvite.ack(), destination);
                  else
                    log.warn(
                        "call {}: the SRC refused the re-INVITE that moves its media: {}",
                        callId,
                        response.startLine());
                }

                @Override
                public void timedOut() {
                  log.warn(
                      "call {}: the SRC did not answer the re-INVITE that moves its media", callId);
                }
              });
        });
  }

  /** The call id of a SIPREC call: the SIP Call-ID, made fit for a call id. */
  public static String callIdOf(String sipCallId) {
    String safe = CallSpec.callIdChars(sipCallId);
    if (safe.length() <= 120) return "sip-" + safe;
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(sipCallId.getBytes(StandardCharsets.UTF_8));
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
        case "UPDATE" -> {
          if (SiprecBody.of(request).sdp().isPresent()) reInvite(tx);
          else refresh(tx);
        }
        case "OPTIONS" -> tx.respond(Answers.options(request));
        default ->
            tx.respond(
                SipResponse.to(request, 405)
                    .toTag(SipIds.newTag())
                    .header("Allow", Answers.ALLOW)
                    .build());
      }
    } catch (SipParseException e) {
      tx.respond(
          SessionTimer.isTooSmall(e)
              ? Answers.intervalTooSmall(request, e.reason(), settings.minSessionExpiresSeconds())
              : Answers.refusal(request, e.statusCode(), e.reason()));
    }
  }

  // ----------------------------------------------------------------------------- new calls

  private void invite(ServerTransaction tx) throws SipParseException {
    SipRequest invite = tx.request();
    Optional<SipResponse> refused = admission.refusal(invite);
    if (refused.isPresent()) {
      tx.respond(refused.get());
      return;
    }
    SiprecBody body = SiprecBody.of(invite);
    if (body.sdp().isEmpty())
      throw new SipParseException(488, "Not Acceptable Here: the INVITE carries no SDP offer");
    Sdp offer = Sdp.parse(body.sdp().get());
    RecordingMetadata metadata =
        body.metadata().isPresent() ? RecordingMetadata.parse(body.metadata().get()) : null;

    Optional<SessionTimer> timer = sessions.negotiate(invite);
    String localTag = SipIds.newTag();
    DialogState dialog = DialogState.fromInvite(invite, localTag);
    String callId = callIdOf(invite.callId());
    CallMapping.Recorded recorded = CallMapping.recorded(offer, metadata);
    if (recorded.streams().isEmpty())
      throw new SipParseException(
          488,
          "Not Acceptable Here: no stream can be recorded ("
              + String.join("; ", recorded.refusals())
              + ")");
    String source = Admission.sourceOf(invite);
    SipSession sip =
        CallMapping.sessionOf(
            invite, dialog, metadata, tx.reliable() ? "TCP" : "UDP", settings.node());
    CallSpec spec =
        new CallSpec(
            callId, admission.policyOf(source), recorded.parties(), recorded.streams(), null, sip);
    List<String> problems = spec.problems();
    if (!problems.isEmpty())
      throw new SipParseException(488, "Not Acceptable Here: " + String.join("; ", problems));

    SdpOrigin origin = SdpOrigin.create("callvault");
    byte[] received = body.metadata().orElse(null);
    answerLater(
        tx,
        calls
            .create(spec, "sip:" + source)
            .thenCompose(
                reply ->
                    reply instanceof CallRecording.Accepted && received != null
                        ? calls.amend(callId, List.of(), List.of(), received, "sip:" + source)
                        : CompletableFuture.completedFuture(reply)),
        call -> {
          dialogs.put(invite.callId(), new Dialog(callId, origin, metadata));
          return sessions.answered(
              invite,
              callId,
              timer,
              Answers.ok(
                  invite, localTag, settings.contact(), offer, origin, call, recorded.labels()));
        });
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
    if (body.sdp().isEmpty())
      throw new SipParseException(
          488, "Not Acceptable Here: a re-INVITE without an SDP offer is not supported");
    Sdp offer = Sdp.parse(body.sdp().get());
    RecordingMetadata update =
        body.metadata().isPresent() ? RecordingMetadata.parse(body.metadata().get()) : null;
    String callId = callIdOf(request.callId());
    Optional<SessionTimer> timer = sessions.negotiate(request);
    Dialog known = dialogs.get(request.callId());
    RecordingMetadata metadata =
        CallMapping.merged(known == null ? null : known.metadata(), update);
    String by = "sip:" + Admission.sourceOf(request);
    CallMapping.Recorded recorded = CallMapping.recorded(offer, metadata);
    boolean allInactive =
        offer.media().stream()
            .allMatch(m -> m.direction() == Sdp.Direction.INACTIVE || m.port() == 0);
    CompletionStage<CallRecording.Reply> done =
        calls
            .get(callId)
            .thenCompose(
                reply -> {
                  if (!(reply instanceof CallRecording.Accepted accepted))
                    return CompletableFuture.completedFuture(reply);
                  CallMapping.Amendment amendment =
                      CallMapping.amendment(accepted.call().streams(), recorded, update != null);
                  byte[] received = body.metadata().orElse(null);
                  if (amendment == null && received == null)
                    return CompletableFuture.completedFuture(reply);
                  return amendment == null
                      ? calls.amend(callId, List.of(), List.of(), received, by)
                      : calls.amend(callId, amendment.parties(), amendment.streams(), received, by);
                })
            .thenCompose(
                reply -> {
                  if (!(reply instanceof CallRecording.Accepted))
                    return CompletableFuture.completedFuture(reply);
                  return allInactive ? calls.pause(callId, "SIPREC", by) : calls.resume(callId, by);
                });
    answerLater(
        tx,
        done,
        call -> {
          SdpOrigin origin = known != null ? known.origin().next() : SdpOrigin.create("callvault");
          dialogs.put(request.callId(), new Dialog(callId, origin, metadata));
          return sessions.answered(
              request,
              callId,
              timer,
              Answers.ok(
                  request, null, settings.contact(), offer, origin, call, recorded.labels()));
        });
  }

  /**
   * An UPDATE without an offer: a session refresh (RFC 4028 §7.4) of a call that is still
   * recording; 481 when there is no such call (RFC 3261 §12.2.2). Metadata it carries is kept with
   * the call as received.
   */
  private void refresh(ServerTransaction tx) throws SipParseException {
    SipRequest update = tx.request();
    String callId = callIdOf(update.callId());
    Optional<SessionTimer> timer = sessions.negotiate(update);
    byte[] received = SiprecBody.of(update).metadata().orElse(null);
    answerLater(
        tx,
        calls
            .get(callId)
            .thenCompose(
                reply ->
                    received != null
                            && reply instanceof CallRecording.Accepted accepted
                            && !accepted.call().stopped()
                        ? calls.amend(
                            callId,
                            List.of(),
                            List.of(),
                            received,
                            "sip:" + Admission.sourceOf(update))
                        : CompletableFuture.completedFuture(reply)),
        call -> {
          if (call.stopped())
            return Answers.refusal(
                update, 481, "Call/Transaction Does Not Exist: the recording has ended");
          return sessions.answered(update, callId, timer, SipResponse.to(update, 200).build());
        });
  }

  /** A dialog's session timer ran out: its SRC is taken for gone. */
  private void sessionExpired(String sipCallId, String callId) {
    dialogs.remove(sipCallId);
    log.warn(
        "call {}: the SRC did not refresh its session (RFC 4028): stopping the recording", callId);
    calls.stop(callId, "sip:session-expired");
  }

  private void bye(ServerTransaction tx) {
    SipRequest bye = tx.request();
    dialogs.remove(bye.callId());
    sessions.end(bye.callId());
    answerLater(
        tx,
        calls.stop(callIdOf(bye.callId()), "sip:" + Admission.sourceOf(bye)),
        call -> SipResponse.to(bye, 200).build());
  }

  // ------------------------------------------------------------------------------ answers

  /** Builds the final response from the call the entity answered with. */
  private interface Answer {
    SipResponse from(Call call) throws SipParseException;
  }

  /**
   * Answers {@code tx} once the entity has: with {@code answer} if it accepted, else the refusal.
   * An INVITE that got its final response meanwhile was cancelled (487, by the transactions): its
   * call, set up all the same, is stopped, as the SRC will not record it.
   */
  private void answerLater(
      ServerTransaction tx, CompletionStage<CallRecording.Reply> reply, Answer answer) {
    SipRequest request = tx.request();
    reply.whenCompleteAsync(
        (r, failure) -> {
          if (tx.finalResponse().isPresent() || tx.state() == ServerTransaction.State.TERMINATED) {
            if (r instanceof CallRecording.Accepted a
                && request.isMethod("INVITE")
                && !request.to().tag().isPresent()) {
              calls.stop(a.call().callId(), "sip:CANCEL");
            }
            return;
          }
          try {
            if (failure != null) {
              log.warn(
                  "{} {}: the call did not answer: {}",
                  request.method(),
                  request.callId(),
                  failure.toString());
              tx.respond(Answers.notAnswered(request, failure, settings.retryAfterSeconds()));
            } else if (r instanceof CallRecording.Accepted accepted) {
              tx.respond(answer.from(accepted.call()));
            } else {
              tx.respond(Answers.rejected(request, (CallRecording.Rejected) r));
            }
          } catch (SipParseException e) {
            tx.respond(Answers.refusal(request, e.statusCode(), e.reason()));
          }
        },
        loop);
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
      sessions.end(ok.callId());
      calls.stop(callIdOf(ok.callId()), "sip:no-ACK");
    }
  }
}
