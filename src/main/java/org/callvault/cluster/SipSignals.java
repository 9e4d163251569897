package org.callvault.cluster;

import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.callvault.core.CborSerializable;
import org.callvault.core.Endpoint;
import org.callvault.call.SipSession;
import org.callvault.core.StreamSpec;
import org.callvault.siprec.RecordingServer;

/**
 * Where the node that took a SIPREC call over asks the node that answered the call's INVITE to
 * re-INVITE its recording client: that node's address is the one the SRC knows (the Contact of
 * the 200, where the SRC sends its requests and responses), so the re-INVITE goes out from there
 * while that node is up. One message per moved call. Every node with SIP runs one, at {@code
 * /user/sip-signals}.
 */
final class SipSignals {

  static final String NAME = "sip-signals";

  /** Re-INVITE the SRC of {@code sip}: its streams are received at {@code endpoints} now, bound under media epoch {@code mediaEpoch}. */
  record ReInvite(SipSession sip, List<StreamSpec> streams, Map<String, Endpoint> endpoints, long mediaEpoch) implements CborSerializable {}

  private SipSignals() {}

  static Behavior<ReInvite> create(RecordingServer server) {
    return Behaviors.receive(ReInvite.class)
        .onMessage(
            ReInvite.class,
            ask -> {
              server.mediaMoved(ask.sip(), ask.streams(), ask.endpoints(), ask.mediaEpoch());
              return Behaviors.same();
            })
        .build();
  }
}
