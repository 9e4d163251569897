package org.callvault.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.callvault.call.CallSpec;
import org.callvault.call.MediaMoves;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.Json;
import org.callvault.siprec.SipSignals;
import org.callvault.webhooks.WebhookSender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signal that a call's media moved: for a SIPREC call a re-INVITE to its recording client;
 * otherwise a {@code media.moved} POST to the call's webhook (or the node's), so call-control can
 * send the media to the new endpoints.
 *
 * <pre>
 * {"event":"media.moved","callId":"…","cause":"NODE_FAILURE","node":"pekko://…",
 *  "streams":[{"label":"agent","host":"10.0.0.5","port":20004}, …]}
 * </pre>
 *
 * A notice is retried (1 s, 2 s, 4 s, on the actor system's scheduler) until it is answered 2xx; a
 * notice that never is, is logged. The call resource shows the same endpoints, for senders that
 * poll.
 */
final class MoveSignals implements MediaMoves {

  private static final Logger log = LoggerFactory.getLogger(MoveSignals.class);
  private static final int ATTEMPTS = 4;

  private final String nodeWebhook;
  private final WebhookSender sender;
  private final ActorSystem<?> system;
  private final Members members;
  private final SipSignals.Requests sip;

  /**
   * @param nodeWebhook where notices of calls without a webhook of their own go; empty for nowhere
   * @param sender how notices are sent
   * @param sip how the node's SIPREC server re-INVITEs the client of a SIPREC call; null without
   *     one
   */
  MoveSignals(
      String nodeWebhook,
      WebhookSender sender,
      ActorSystem<?> system,
      Members members,
      SipSignals.Requests sip) {
    this.nodeWebhook = nodeWebhook;
    this.sender = sender;
    this.system = system;
    this.members = members;
    this.sip = sip;
  }

  @Override
  public boolean anotherNodeIsUp() {
    return members.anotherUp();
  }

  @Override
  public void moved(CallSpec spec, long epoch, Map<String, Endpoint> endpoints, GapCause cause) {
    if (spec.sip() != null && sip != null) {
      // From the node that answered the INVITE while it is up (the SRC knows that address), else
      // from here.
      String answered = spec.sip().node();
      boolean there =
          answered != null && !answered.equals(members.self()) && members.isUp(answered);
      sip.reInvite(
          there ? answered : null,
          new SipSignals.ReInvite(spec.sip(), spec.streams(), endpoints, epoch));
      return;
    }
    String url = spec.webhook() != null ? spec.webhook() : nodeWebhook;
    if (url == null || url.isBlank()) return;
    ObjectNode notice = Json.MAPPER.createObjectNode();
    notice
        .put("event", "media.moved")
        .put("callId", spec.callId())
        .put("cause", cause.name())
        .put("node", members.self());
    var streams = notice.putArray("streams");
    endpoints.forEach(
        (label, endpoint) ->
            streams
                .addObject()
                .put("label", label)
                .put("host", endpoint.host())
                .put("port", endpoint.port()));
    String id = "msg_" + java.util.UUID.randomUUID().toString().replace("-", "");
    send(URI.create(url), id, notice.toString(), spec.callId(), 1);
  }

  /** One attempt to deliver notice {@code id}; its retries keep the id, each signed anew. */
  private void send(URI url, String id, String body, String callId, int attempt) {
    sender
        .post(url, "media.moved", id, body)
        .thenAccept(
            outcome -> {
              if (outcome.delivered()) return;
              if (attempt >= ATTEMPTS) {
                log.error(
                    "call {}: media.moved to {} failed {} times, last: {}",
                    callId,
                    url,
                    attempt,
                    outcome.why());
                return;
              }
              system
                  .scheduler()
                  .scheduleOnce(
                      Duration.ofSeconds(1L << (attempt - 1)),
                      () -> send(url, id, body, callId, attempt + 1),
                      system.executionContext());
            });
  }
}
