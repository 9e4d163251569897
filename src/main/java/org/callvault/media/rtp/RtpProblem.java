package org.callvault.media.rtp;

/**
 * Why {@link RtpPacket#parse} refused a datagram, or {@link #NONE} when it did not.
 *
 * <p>An enum rather than an exception because the media path sees about 100,000 packets per second
 * per node and garbage on a public UDP port is normal, not exceptional: the receiver counts these
 * values per stream without allocating anything. Reasons that need the receiver's state (foreign
 * SSRC, payload type not negotiated, flood) are the receiver's own and are not listed here.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc3550#appendix-A.1">RFC 3550, Appendix A.1: RTP
 *     data header validity checks</a>
 */
public enum RtpProblem {
  NONE("valid RTP packet"),
  TOO_SHORT("shorter than the 12-byte fixed RTP header"),
  BAD_VERSION("RTP version is not 2"),
  CSRC_BEYOND_PACKET("CSRC list runs past the end of the packet"),
  EXTENSION_BEYOND_PACKET("header extension runs past the end of the packet"),
  BAD_PADDING("padding count is zero or larger than what follows the header"),
  EMPTY_PAYLOAD("no payload left after header and padding"),
  RTCP_ON_RTP_PORT("RTCP packet received on the RTP port");

  private final String description;

  RtpProblem(String description) {
    this.description = description;
  }

  /** A short phrase for logs and metrics labels' help text. */
  public String description() {
    return description;
  }
}
