package org.callvault.cluster;

import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.callvault.core.CborSerializable;
import org.callvault.core.Endpoint;
import org.callvault.media.MediaServer;

/**
 * Where a node that took a call over asks the node that handed it off to relay what the call's
 * old sockets still receive: one message per moved call, never per packet (the packets go from
 * socket to socket). Every node runs one, at {@code /user/media-relay}.
 */
final class MediaRelay {

  static final String NAME = "media-relay";

  /** The coordinated-shutdown phase (reference.conf) in which a leaving node's relays finish. */
  static final String SHUTDOWN_PHASE = "callvault-relay-media";

  /** The call is received at {@code endpoints} now; relayed datagrams carry {@code token}. */
  record RelayTo(String callId, Map<String, Endpoint> endpoints, long token) implements CborSerializable {}

  private MediaRelay() {}

  static Behavior<RelayTo> create(MediaServer media) {
    return Behaviors.setup(
        context ->
            Behaviors.receive(RelayTo.class)
                .onMessage(
                    RelayTo.class,
                    ask -> {
                      if (!media.relayTo(ask.callId(), ask.endpoints(), ask.token()))
                        context.getLog().info("call {}: asked to relay, but its old sockets here have already closed", ask.callId());
                      return Behaviors.same();
                    })
                .build());
  }
}
