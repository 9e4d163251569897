package org.callvault.siprec;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.callvault.call.SipSession;
import org.callvault.core.CborSerializable;
import org.callvault.core.Endpoint;
import org.callvault.core.Peers;
import org.callvault.core.StreamSpec;

/**
 * Where the node that took a SIPREC call over asks the node that answered the call's INVITE to
 * re-INVITE its recording client: that node's address is the one the SRC knows (the Contact of the
 * 200, where the SRC sends its requests and responses), so the re-INVITE goes out from there while
 * that node is up. One message per moved call. Every node with SIP runs one, a service of {@link
 * Peers}; when the answering node's is not listed in time, this node re-INVITEs itself.
 */
public final class SipSignals {

  /** How long to wait for the answering node's signals to be listed (gossip after it joined). */
  private static final Duration PATIENCE = Duration.ofSeconds(3);

  /**
   * Re-INVITE the SRC of {@code sip}: its streams are received at {@code endpoints} now, under
   * media epoch {@code mediaEpoch}.
   */
  public record ReInvite(
      SipSession sip, List<StreamSpec> streams, Map<String, Endpoint> endpoints, long mediaEpoch)
      implements CborSerializable {}

  /** How a node asks: from the node at {@code node} if it can, else (or with null) from here. */
  public interface Requests {
    void reInvite(String node, ReInvite request);
  }

  private SipSignals() {}

  /** Starts this node's signals, for {@code server}; returns how to ask. */
  public static Requests start(ActorSystem<?> system, RecordingServer server) {
    Peers.Directory<ReInvite> signals =
        Peers.start(system, "sip-signals", ReInvite.class, ask -> here(server, ask), PATIENCE);
    return (node, request) -> {
      if (node == null) here(server, request);
      else signals.tell(node, request, unlisted -> here(server, unlisted));
    };
  }

  private static void here(RecordingServer server, ReInvite ask) {
    server.mediaMoved(ask.sip(), ask.streams(), ask.endpoints(), ask.mediaEpoch());
  }
}
