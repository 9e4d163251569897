package org.callvault.sip;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The recording server's SDP answer to a SIPREC offer, <a
 * href="https://www.rfc-editor.org/rfc/rfc3264#section-6">RFC 3264 §6</a> and <a
 * href="https://www.rfc-editor.org/rfc/rfc7866#section-8.1.1">RFC 7866 §8.1.1</a>.
 *
 * <pre>
 * v=0
 * o=callvault 3917245671 3917245672 IN IP4 10.0.0.1   session id fixed, version +1 per answer
 * s=-
 * t=0 0
 * m=audio 40000 RTP/AVP 0 101                         accepted: our port, the chosen codec
 * c=IN IP4 10.0.0.1                                   (plus telephone-event when offered)
 * a=rtpmap:0 PCMU/8000
 * a=rtpmap:101 telephone-event/8000
 * a=fmtp:101 0-15
 * a=label:1                                           the offer's label, so metadata still maps
 * a=recvonly                                          a recorder only receives
 * m=video 0 RTP/AVP 96                                rejected: port 0, first offered format
 * c=IN IP4 10.0.0.1
 * </pre>
 *
 * <p>One m-line per offered m-line, in the same order (§6). A stream is accepted when the caller
 * gave it a port, the offer did not disable it (port 0), it is {@code audio} over {@code RTP/AVP}
 * or {@code RTP/AVPF} (no SRTP: there would be keys to negotiate), and it offers one of the
 * supported G.711 payload types; the codec is the first of those in the offer's order (the
 * offerer's preference, §6.1). Direction (§6.1): sendonly and sendrecv are answered recvonly, and
 * recvonly and inactive are answered inactive (the offerer will send nothing, and the recorder
 * never sends). Every m-line carries {@code c=}, so the answer needs no session-level one.
 */
public final class SdpAnswer {

  /** PCMU and PCMA, the codecs the recorder stores (the G.711 tables in {@code media}). */
  public static final List<Integer> G711 = List.of(0, 8);

  /**
   * What the answer does with one offered m-line.
   *
   * @param index the m-line's position, 0-based
   * @param label the offered {@code a=label}, or empty
   * @param accepted whether the stream will be received
   * @param port the answered port, 0 when rejected
   * @param payloadType the chosen audio payload type, -1 when rejected
   * @param telephoneEventPayloadType the accepted telephone-event payload type, if offered
   * @param direction the answered direction
   * @param reason why the stream was rejected, empty when accepted
   */
  public record Stream(
      int index,
      String label,
      boolean accepted,
      int port,
      int payloadType,
      OptionalInt telephoneEventPayloadType,
      Sdp.Direction direction,
      String reason) {}

  private final SdpOrigin origin;
  private final List<Stream> streams;
  private final String text;

  private SdpAnswer(SdpOrigin origin, List<Stream> streams, String text) {
    this.origin = origin;
    this.streams = List.copyOf(streams);
    this.text = text;
  }

  /**
   * The audio payload type the recorder would take from an offered m-line: the first of the offer's
   * formats whose encoding is one of {@code supported} (by static number, or an rtpmap naming
   * PCMU/PCMA at 8000 Hz on that number).
   */
  public static OptionalInt chooseAudioFormat(Sdp.Media offered, List<Integer> supported) {
    for (int pt : offered.payloadTypes()) {
      if (!supported.contains(pt)) continue;
      // A sender that maps a static number to another codec breaks RFC 3551, but believe its
      // rtpmap.
      boolean g711 =
          offered.encoding(pt).map(e -> e.is("PCMU", 8000) || e.is("PCMA", 8000)).orElse(false);
      if (g711) return OptionalInt.of(pt);
    }
    return OptionalInt.empty();
  }

  /**
   * Builds the answer.
   *
   * @param offer the parsed offer
   * @param origin the o= line of this answer; for the next answer in the same dialog pass {@link
   *     SdpOrigin#next()}
   * @param address the server's media address for every {@code c=} line (IPv4 or IPv6 literal)
   * @param ports the local port for each offered m-line in order, 0 to reject it
   * @param supported the payload types the server records, in no particular order ({@link #G711})
   * @throws IllegalArgumentException if {@code ports} does not have one entry per m-line
   */
  public static SdpAnswer answer(
      Sdp offer, SdpOrigin origin, String address, List<Integer> ports, List<Integer> supported) {
    Objects.requireNonNull(address);
    if (ports.size() != offer.media().size()) {
      throw new IllegalArgumentException(
          ports.size() + " ports for " + offer.media().size() + " m-lines");
    }
    String addressType = address.indexOf(':') >= 0 ? "IP6" : "IP4";
    StringBuilder out = new StringBuilder(512);
    out.append("v=0\r\n");
    out.append("o=").append(origin.username()).append(' ').append(origin.sessionId()).append(' ');
    out.append(origin.version())
        .append(" IN ")
        .append(addressType)
        .append(' ')
        .append(address)
        .append("\r\n");
    out.append("s=-\r\nt=0 0\r\n");
    List<Stream> streams = new ArrayList<>();
    for (Sdp.Media m : offer.media()) {
      int port = ports.get(m.index());
      if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port);
      String label = m.label().orElse("");
      OptionalInt pt = chooseAudioFormat(m, supported);
      String reason = "";
      if (port == 0) reason = "no port given";
      else if (m.port() == 0) reason = "disabled in the offer";
      else if (!m.type().equalsIgnoreCase("audio"))
        reason = "media type " + m.type() + " is not recorded";
      else if (!isPlainRtp(m.proto())) reason = "transport " + m.proto() + " is not supported";
      else if (pt.isEmpty()) reason = "no supported audio format offered";
      if (!reason.isEmpty()) {
        // §6: a rejected stream keeps its m-line with port 0 and at least one offered format.
        out.append("m=")
            .append(m.type())
            .append(" 0 ")
            .append(m.proto())
            .append(' ')
            .append(m.formats().get(0))
            .append("\r\n");
        out.append("c=IN ").append(addressType).append(' ').append(address).append("\r\n");
        streams.add(
            new Stream(
                m.index(),
                label,
                false,
                0,
                -1,
                OptionalInt.empty(),
                Sdp.Direction.INACTIVE,
                reason));
        continue;
      }
      int audio = pt.getAsInt();
      int clock = m.encoding(audio).orElseThrow().clockRate();
      OptionalInt te = m.telephoneEventPayloadType(clock);
      Sdp.Direction direction =
          m.direction() == Sdp.Direction.SENDONLY || m.direction() == Sdp.Direction.SENDRECV
              ? Sdp.Direction.RECVONLY
              : Sdp.Direction.INACTIVE;
      out.append("m=audio ").append(port).append(' ').append(m.proto()).append(' ').append(audio);
      te.ifPresent(t -> out.append(' ').append(t));
      out.append("\r\n");
      out.append("c=IN ").append(addressType).append(' ').append(address).append("\r\n");
      out.append("a=rtpmap:")
          .append(audio)
          .append(' ')
          .append(
              audio == 0
                  ? "PCMU"
                  : audio == 8 ? "PCMA" : m.encoding(audio).orElseThrow().encodingName());
      out.append('/').append(clock).append("\r\n");
      if (te.isPresent()) {
        int t = te.getAsInt();
        out.append("a=rtpmap:").append(t).append(" telephone-event/").append(clock).append("\r\n");
        m.fmtp(t)
            .ifPresent(f -> out.append("a=fmtp:").append(t).append(' ').append(f).append("\r\n"));
      }
      if (!label.isEmpty()) out.append("a=label:").append(label).append("\r\n");
      out.append("a=").append(direction.attribute()).append("\r\n");
      streams.add(new Stream(m.index(), label, true, port, audio, te, direction, ""));
    }
    return new SdpAnswer(origin, streams, out.toString());
  }

  private static boolean isPlainRtp(String proto) {
    String p = proto.toUpperCase(Locale.ROOT);
    return p.equals("RTP/AVP") || p.equals("RTP/AVPF");
  }

  /** The o= values used; keep them and pass {@link SdpOrigin#next()} for the next answer. */
  public SdpOrigin origin() {
    return origin;
  }

  /** One entry per offered m-line, in order. */
  public List<Stream> streams() {
    return streams;
  }

  /** Whether at least one stream was accepted; when none is, the server answers 488 instead. */
  public boolean anyAccepted() {
    return streams.stream().anyMatch(Stream::accepted);
  }

  /** The SDP text, CRLF line ends. */
  public String text() {
    return text;
  }

  /** The SDP as UTF-8 bytes for the body of the 200 OK. */
  public byte[] bytes() {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return text;
  }
}
