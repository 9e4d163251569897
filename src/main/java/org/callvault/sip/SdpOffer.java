package org.callvault.sip;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The SDP offer of the recording server's own re-INVITE (<a
 * href="https://www.rfc-editor.org/rfc/rfc7866#section-8.1.1">RFC 7866 §8.1.1</a>, RFC 3264 §5):
 * after the call moved to another node, it tells the recording client where each stream is received
 * now, {@code recvonly}, with the stream's label, codec and telephone-event type.
 */
public final class SdpOffer {

  /** One stream of the offer: where it is received and what it carries. */
  public record Stream(String label, int port, int payloadType, Integer telephoneEvent) {}

  private SdpOffer() {}

  /** The offer, CRLF line ends (RFC 8866 §5). */
  public static byte[] recvonly(SdpOrigin origin, String address, List<Stream> streams) {
    String type = address.indexOf(':') >= 0 ? "IP6" : "IP4";
    StringBuilder out = new StringBuilder(256);
    out.append("v=0\r\n");
    out.append("o=")
        .append(origin.username())
        .append(' ')
        .append(origin.sessionId())
        .append(' ')
        .append(origin.version());
    out.append(" IN ").append(type).append(' ').append(address).append("\r\n");
    out.append("s=-\r\nc=IN ").append(type).append(' ').append(address).append("\r\nt=0 0\r\n");
    for (Stream s : streams) {
      out.append("m=audio ").append(s.port()).append(" RTP/AVP ").append(s.payloadType());
      if (s.telephoneEvent() != null) out.append(' ').append(s.telephoneEvent());
      out.append("\r\na=rtpmap:")
          .append(s.payloadType())
          .append(s.payloadType() == 8 ? " PCMA/8000" : " PCMU/8000")
          .append("\r\n");
      if (s.telephoneEvent() != null)
        out.append("a=rtpmap:").append(s.telephoneEvent()).append(" telephone-event/8000\r\n");
      out.append("a=label:").append(s.label()).append("\r\na=recvonly\r\n");
    }
    return out.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
