package org.callvault.sip;

import java.util.List;

/**
 * The re-INVITE with which the recording server tells a recording client where a call's media is
 * received after the call moved to another node (<a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-14">RFC 3261 §14</a>: either side may modify
 * the session; RFC 3264 §8: with a new offer), over UDP.
 *
 * <pre>
 * INVITE &lt;remote target&gt; SIP/2.0              in the dialog, routed by its route set (§12.2.1.1)
 * Via: SIP/2.0/UDP &lt;server host:port&gt;;branch=z9hG4bK…
 * CSeq: &lt;cseq&gt; INVITE                           as the caller chose it
 * Contact: &lt;server contact&gt;;+sip.srs            the SRS feature tag, RFC 7866 §6.1.1
 * Content-Type: application/sdp                 every stream recvonly at its new port ({@link SdpOffer})
 * </pre>
 *
 * @param request the re-INVITE
 * @param dialog the dialog state after it: the local CSeq is the re-INVITE's
 * @param destination where it goes, the dialog's {@link DialogState#nextHop() next hop}
 * @param server the server's own URI, whose host and port the Vias give
 */
public record MediaReInvite(
    SipRequest request, DialogState dialog, SipUri destination, SipUri server) {

  /**
   * Builds the re-INVITE.
   *
   * @param cseq its CSeq number, above the dialog's local CSeq
   * @param contact the server's Contact URI, e.g. {@code sip:srs@10.0.0.5:5060}
   * @param mediaAddress where the streams are received, an IPv4 or IPv6 literal
   * @throws SipParseException 400 when the dialog's next hop or {@code contact} is not a SIP or
   *     SIPS URI, so there is nowhere to send it from or to
   */
  public static MediaReInvite build(
      DialogState dialog,
      long cseq,
      String contact,
      SdpOrigin origin,
      String mediaAddress,
      List<SdpOffer.Stream> streams)
      throws SipParseException {
    SipUri server = SipUri.parse(contact);
    SipUri destination = dialog.nextHop();
    DialogState.Outgoing out =
        dialog.newRequest(
            "INVITE",
            cseq,
            Via.of("UDP", server.host(), server.port()),
            NameAddr.of(contact).withParam("+sip.srs", ""),
            ContentType.of(ContentType.SDP),
            SdpOffer.recvonly(origin, mediaAddress, streams));
    return new MediaReInvite(out.request(), out.state(), destination, server);
  }

  /**
   * The ACK of the client's 2xx (§13.2.2.4): the re-INVITE's CSeq number, routed as the re-INVITE,
   * with a Via of its own branch.
   */
  public SipRequest ack() {
    return dialog.ack(request.cseq().number(), Via.of("UDP", server.host(), server.port()));
  }
}
