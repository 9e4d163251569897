package org.callvault.media.relay;

import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.callvault.core.CborSerializable;
import org.callvault.core.Endpoint;
import org.callvault.core.Peers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a node that took a call over asks the node that handed it off to relay what the call's old
 * sockets still receive: one message per moved call, never per packet (the packets go from socket
 * to socket). Every node with media runs one, a service of {@link Peers}.
 */
public final class MediaRelay {

  private static final Logger log = LoggerFactory.getLogger(MediaRelay.class);

  /** The coordinated-shutdown phase (application.conf) in which a leaving node's relays finish. */
  public static final String SHUTDOWN_PHASE = "callvault-relay-media";

  /** What the old node's sockets do when asked: relay the call's held and later datagrams. */
  public interface Source {
    /** False when no handed-off call of that id receives there. */
    boolean relayTo(String callId, Map<String, Endpoint> endpoints, long token);
  }

  /**
   * How the new node asks: fire and forget; an ask that finds no relay on {@code node} is logged.
   */
  public interface Requests {
    void ask(String node, RelayTo request);
  }

  /** The call is received at {@code endpoints} now; relayed datagrams carry {@code token}. */
  public record RelayTo(String callId, Map<String, Endpoint> endpoints, long token)
      implements CborSerializable {}

  private MediaRelay() {}

  /**
   * Starts this node's relay and returns how to ask the others'. An ask waits for the other node's
   * relay to be listed up to {@code patience} (the time its old sockets hold what arrives).
   */
  public static Requests start(ActorSystem<?> system, Source source, Duration patience) {
    Peers.Directory<RelayTo> relays =
        Peers.start(
            system,
            "media-relay",
            RelayTo.class,
            ask -> {
              if (!source.relayTo(ask.callId(), ask.endpoints(), ask.token()))
                log.info(
                    "call {}: asked to relay, but its old sockets here have already closed",
                    ask.callId());
            },
            patience);
    return (node, request) ->
        relays.tell(
            node,
            request,
            unlisted ->
                log.warn(
                    "call {}: no media relay of node {} is known; what its old sockets hold is"
                        + " lost",
                    unlisted.callId(),
                    node));
  }
}
