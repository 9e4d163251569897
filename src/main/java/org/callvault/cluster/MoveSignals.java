package org.callvault.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.callvault.call.CallSpec;
import org.callvault.call.MediaMoves;
import org.callvault.core.Endpoint;
import org.callvault.core.Json;
import org.callvault.core.GapCause;
import org.callvault.siprec.RecordingServer;
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
 * A notice is retried (1 s, 2 s, 4 s) until it is answered 2xx; a notice that never is, is
 * logged. The call resource shows the same endpoints, for senders that poll.
 */
final class MoveSignals implements MediaMoves {

  private static final Logger log = LoggerFactory.getLogger(MoveSignals.class);
  private static final int ATTEMPTS = 4;

  private final String nodeWebhook;
  private final ActorSystem<?> system;
  private final RecordingServer sip;
  private final String node;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * @param nodeWebhook where notices of calls without a webhook of their own go; empty for nowhere
   * @param sip         the node's SIPREC server, which re-INVITEs the client of a SIPREC call; null without one
   */
  MoveSignals(String nodeWebhook, ActorSystem<?> system, RecordingServer sip) {
    this.nodeWebhook = nodeWebhook;
    this.system = system;
    this.sip = sip;
    this.node = system.address().toString();
  }

  @Override
  public boolean anotherNodeIsUp() {
    Cluster cluster = Cluster.get(system);
    for (Member m : cluster.state().getMembers())
      if (m.status() == MemberStatus.up() && !m.equals(cluster.selfMember())) return true;
    return false;
  }

  @Override
  public void moved(CallSpec spec, long epoch, Map<String, Endpoint> endpoints, GapCause cause) {
    String callId = spec.callId();
    if (spec.sip() != null && sip != null) {
      reInvite(spec, epoch, endpoints);
      return;
    }
    String webhook = spec.webhook();
    String url = webhook != null ? webhook : nodeWebhook;
    if (url == null || url.isBlank()) return;
    ObjectNode notice = Json.MAPPER.createObjectNode();
    notice.put("event", "media.moved").put("callId", callId).put("cause", cause.name()).put("node", node);
    var streams = notice.putArray("streams");
    endpoints.forEach((label, endpoint) -> streams.addObject().put("label", label).put("host", endpoint.host()).put("port", endpoint.port()));
    send(URI.create(url), notice.toString(), callId, 1);
  }

  /**
   * The SRC of a SIPREC call learns the new endpoints by a re-INVITE, sent by the node that
   * answered its INVITE while that node is up (the SRC knows that address), else by this one.
   */
  private void reInvite(CallSpec spec, long epoch, Map<String, Endpoint> endpoints) {
    String answered = spec.sip().node();
    boolean up = false;
    if (answered != null && !answered.equals(node)) {
      for (Member m : Cluster.get(system).state().getMembers())
        if (m.address().toString().equals(answered) && m.status() == MemberStatus.up()) up = true;
    }
    if (up) {
      ActorSelection signals = system.classicSystem().actorSelection(answered + "/user/" + SipSignals.NAME);
      signals.tell(new SipSignals.ReInvite(spec.sip(), spec.streams(), endpoints, epoch), ActorRef.noSender());
    } else {
      sip.mediaMoved(spec.sip(), spec.streams(), endpoints, epoch);
    }
  }

  private void send(URI url, String body, String callId, int attempt) {
    HttpRequest request =
        HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .whenComplete(
            (response, failure) -> {
              if (failure == null && response.statusCode() / 100 == 2) return;
              String why = failure != null ? failure.toString() : "status " + response.statusCode();
              if (attempt >= ATTEMPTS) {
                log.error("call {}: media.moved to {} failed {} times, last: {}", callId, url, attempt, why);
                return;
              }
              CompletableFuture.delayedExecutor(1L << (attempt - 1), TimeUnit.SECONDS).execute(() -> send(url, body, callId, attempt + 1));
            });
  }
}
