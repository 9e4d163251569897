package org.callvault.siprec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.callvault.call.Call;
import org.callvault.call.CallRecording;
import org.callvault.core.Endpoint;
import org.callvault.sip.ContentType;
import org.callvault.sip.Sdp;
import org.callvault.sip.SdpAnswer;
import org.callvault.sip.SdpOrigin;
import org.callvault.sip.SessionTimer;
import org.callvault.sip.SipIds;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;

/**
 * The responses the recording server words itself: its 200s with their SDP answer, its refusals
 * with the reason in the status line (and, for 488, in a Warning, RFC 3261 §20.43, for clients that
 * show only the code), and what OPTIONS learns of it.
 */
final class Answers {

  /** The methods this server takes (RFC 3261 §20.5). */
  static final String ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE";

  private Answers() {}

  /** A refusal: the reason as the reason phrase, a To tag of its own (§8.2.6.2). */
  static SipResponse refusal(SipRequest request, int status, String reason) {
    String oneLine = reason.replaceAll("[\\r\\n]", " ");
    SipResponse.Builder b = SipResponse.to(request, status).reason(oneLine).toTag(SipIds.newTag());
    int colon = oneLine.indexOf(": ");
    if (status == 488 && colon > 0)
      b.header(
          "Warning", "399 callvault \"" + oneLine.substring(colon + 2).replace("\"", "'") + "\"");
    return b.build();
  }

  /** 503 with the time the client should wait before it tries again (§20.33). */
  static SipResponse unavailable(SipRequest request, String reason, int retryAfterSeconds) {
    return refusedWith(request, 503, reason, "Retry-After", String.valueOf(retryAfterSeconds));
  }

  /** A refusal with one header field that tells the client what would be accepted. */
  private static SipResponse refusedWith(
      SipRequest request, int status, String reason, String header, String value) {
    return SipResponse.to(request, status)
        .reason(reason)
        .toTag(SipIds.newTag())
        .header(header, value)
        .build();
  }

  /** What an INVITE, re-INVITE or BYE is answered when its call refused it. */
  static SipResponse rejected(SipRequest request, CallRecording.Rejected rejected) {
    if (rejected.rejection() == CallRecording.Rejection.UNAVAILABLE)
      return unavailable(
          request,
          "Service Unavailable: " + rejected.message(),
          CallRecording.Rejection.RETRY_AFTER_SECONDS);
    int status =
        switch (rejected.rejection()) {
          case NOT_FOUND -> 481;
          case CONFLICT ->
              request.isMethod("BYE") ? 200 : 488; // a BYE for a call already stopped did its work
          default -> 488;
        };
    return refusal(request, status, SipResponse.reasonPhrase(status) + ": " + rejected.message());
  }

  /**
   * What a request is answered when its call did not answer (the node starting, the journal
   * unreachable): try again later.
   */
  static SipResponse notAnswered(SipRequest request, Throwable failure, int retryAfterSeconds) {
    boolean timeout =
        failure instanceof TimeoutException || failure.getCause() instanceof TimeoutException;
    return unavailable(
        request,
        timeout
            ? "Service Unavailable: the recording did not answer in time"
            : "Service Unavailable",
        retryAfterSeconds);
  }

  /** The 422 to an interval under this server's minimum, with that minimum (RFC 4028 §8.1). */
  static SipResponse intervalTooSmall(SipRequest request, String reason, long minSeconds) {
    return refusedWith(request, 422, reason, "Min-SE", String.valueOf(minSeconds));
  }

  static SipResponse options(SipRequest request) {
    return SipResponse.to(request, 200)
        .toTag(SipIds.newTag())
        .header("Allow", ALLOW)
        .header("Supported", "siprec")
        .header("Supported", SessionTimer.TAG)
        .header("Accept", "application/sdp, application/rs-metadata+xml, multipart/mixed")
        .build();
  }

  /**
   * The 200 to an INVITE or re-INVITE: an SDP answer with, for each m-line of {@code offer}, the
   * port {@code call} receives its stream on ({@code labels}, one per m-line, null where refused),
   * and the Contact with the SRS feature tag (RFC 7866 §6.1.1); 488 when the call has no socket.
   *
   * @param localTag the To tag of a new dialog, null in an existing one
   */
  static SipResponse ok(
      SipRequest request,
      String localTag,
      String contact,
      Sdp offer,
      SdpOrigin origin,
      Call call,
      List<String> labels) {
    List<Integer> ports = new ArrayList<>();
    String host = null;
    for (String label : labels) {
      Endpoint endpoint = label == null ? null : call.endpoints().get(label);
      ports.add(endpoint == null ? 0 : endpoint.port());
      if (endpoint != null && host == null) host = endpoint.host();
    }
    if (host == null) {
      // The call has no sockets (its node receives no media, or none could be bound): say so.
      return refusal(
          request,
          488,
          "Not Acceptable Here: no media could be bound for the recording (see the call's ledger)");
    }
    SdpAnswer answer = SdpAnswer.answer(offer, origin, host, ports, SdpAnswer.G711);
    SipResponse.Builder ok =
        SipResponse.to(request, 200)
            .header("Contact", "<" + contact + ">;+sip.srs")
            .header("Allow", ALLOW)
            .header("Supported", "siprec")
            .header("Supported", SessionTimer.TAG)
            .body(ContentType.of(ContentType.SDP), answer.bytes());
    if (localTag != null) ok.toTag(localTag);
    return ok.build();
  }
}
