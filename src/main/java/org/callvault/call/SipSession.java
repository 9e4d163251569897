package org.callvault.call;

import java.util.List;
import org.callvault.core.CborSerializable;

/**
 * How a call recorded through SIPREC (RFC 7866) was set up: the SIP dialog with its recording
 * client (SRC), kept in the ledger with the call so that any node holding the call can answer its
 * in-dialog requests and send it one (a re-INVITE after the media moved).
 *
 * @param sipCallId the dialog's Call-ID
 * @param metadataSessionId the recording metadata's session id (RFC 7865), or null
 * @param src where the SRC's INVITE came from, {@code host:port}
 * @param transport UDP or TCP
 * @param localTag the recorder's tag (To of the INVITE's 200)
 * @param remoteTag the SRC's tag (From)
 * @param localUri the recorder's URI (To)
 * @param remoteUri the SRC's URI (From)
 * @param remoteTarget the SRC's Contact URI: where in-dialog requests go
 * @param routeSet the Record-Route URIs, in the order in-dialog requests use them
 * @param node the cluster node whose SIP server answered the INVITE (its Contact is the SRC's
 *     remote target); null when not known
 */
public record SipSession(
    String sipCallId,
    String metadataSessionId,
    String src,
    String transport,
    String localTag,
    String remoteTag,
    String localUri,
    String remoteUri,
    String remoteTarget,
    List<String> routeSet,
    String node)
    implements CborSerializable {

  public SipSession {
    routeSet = routeSet == null ? List.of() : List.copyOf(routeSet);
  }
}
