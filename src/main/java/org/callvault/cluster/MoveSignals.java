package org.callvault.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.OptionalLong;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.callvault.call.CallRecording.MediaReleased;
import org.callvault.call.CallSpec;
import org.callvault.call.ChunkInfo;
import org.callvault.sip.RecordingServer;
import org.callvault.call.Endpoint;
import org.callvault.call.Gates;
import org.callvault.call.MediaBinder;
import org.callvault.call.MediaReport;
import org.callvault.call.StreamCounters;
import org.callvault.call.StreamSpec;
import org.callvault.media.MediaServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's media plane as a call sees it, plus the signal that its media moved: for a SIPREC
 * call a re-INVITE to its recording client; otherwise a {@code media.moved} POST to the call's
 * webhook (or the node's), so call-control can send the media to the new endpoints.
 *
 * <pre>
 * {"event":"media.moved","callId":"…","cause":"NODE_FAILURE","node":"pekko://…",
 *  "streams":[{"label":"agent","host":"10.0.0.5","port":20004}, …]}
 * </pre>
 *
 * A notice is retried (1 s, 2 s, 4 s) until it is answered 2xx; a notice that never is, is
 * logged. The call resource shows the same endpoints, for senders that poll.
 *
 * <p>After a handoff it also asks the node that handed the call off to relay what still reaches
 * the old endpoints (see {@link MediaRelay}), so that no packet is lost while the sender moves.
 */
final class MoveSignals implements MediaBinder {

  private static final Logger log = LoggerFactory.getLogger(MoveSignals.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ATTEMPTS = 4;

  private final MediaServer media;
  private final String nodeWebhook;
  private final ActorSystem<?> system;
  private final RecordingServer sip;
  private final String node;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * @param nodeWebhook where notices of calls without a webhook of their own go; empty for nowhere
   * @param sip         the node's SIPREC server, which re-INVITEs the client of a SIPREC call; null without one
   */
  MoveSignals(MediaServer media, String nodeWebhook, ActorSystem<?> system, RecordingServer sip) {
    this.media = media;
    this.nodeWebhook = nodeWebhook;
    this.system = system;
    this.sip = sip;
    this.node = system.address().toString();
  }

  @Override
  public Session bind(
      String callId,
      List<StreamSpec> streams,
      Gates gates,
      Map<String, StreamCounters> baseline,
      Map<String, ChunkInfo> lastStored,
      Consumer<MediaReport> reports)
      throws MediaUnavailableException {
    return media.bind(callId, streams, gates, baseline, lastStored, reports);
  }

  @Override
  public boolean anotherNodeIsUp() {
    Cluster cluster = Cluster.get(system);
    for (Member m : cluster.state().getMembers())
      if (m.status() == MemberStatus.up() && !m.equals(cluster.selfMember())) return true;
    return false;
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(String callId, String label, long epoch, long afterN) {
    return media.storedAfter(callId, label, epoch, afterN);
  }

  @Override
  public void moved(CallSpec spec, Map<String, Endpoint> endpoints, String cause, String from) {
    String callId = spec.callId();
    askForRelay(callId, endpoints, cause, from);
    if (spec.sip() != null && sip != null) {
      reInvite(spec, endpoints);
      return;
    }
    String webhook = spec.webhook();
    String url = webhook != null ? webhook : nodeWebhook;
    if (url == null || url.isBlank()) return;
    ObjectNode notice = JSON.createObjectNode();
    notice.put("event", "media.moved").put("callId", callId).put("cause", cause).put("node", node);
    var streams = notice.putArray("streams");
    endpoints.forEach((label, endpoint) -> streams.addObject().put("label", label).put("host", endpoint.host()).put("port", endpoint.port()));
    send(URI.create(url), notice.toString(), callId, 1);
  }

  /**
   * The SRC of a SIPREC call learns the new endpoints by a re-INVITE, sent by the node that
   * answered its INVITE while that node is up (the SRC knows that address), else by this one.
   */
  private void reInvite(CallSpec spec, Map<String, Endpoint> endpoints) {
    String answered = spec.sip().node();
    boolean up = false;
    if (answered != null && !answered.equals(node)) {
      for (Member m : Cluster.get(system).state().getMembers())
        if (m.address().toString().equals(answered) && m.status() == MemberStatus.up()) up = true;
    }
    if (up) {
      ActorSelection signals = system.classicSystem().actorSelection(answered + "/user/" + SipSignals.NAME);
      signals.tell(new SipSignals.ReInvite(spec.sip(), spec.streams(), endpoints), ActorRef.noSender());
    } else {
      sip.mediaMoved(spec.sip(), spec.streams(), endpoints);
    }
  }

  /** A node that handed the call off still receives what was sent to it: it relays that here. */
  private void askForRelay(String callId, Map<String, Endpoint> endpoints, String cause, String from) {
    if (!MediaReleased.HANDOFF.equals(cause) || from == null || from.equals(node)) return;
    OptionalLong token = media.relayToken(callId);
    if (token.isEmpty()) return;
    media.expectRelay(callId);
    ActorSelection relay = system.classicSystem().actorSelection(from + "/user/" + MediaRelay.NAME);
    relay.tell(new MediaRelay.RelayTo(callId, endpoints, token.getAsLong()), ActorRef.noSender());
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
