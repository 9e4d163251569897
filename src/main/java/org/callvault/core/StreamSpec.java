package org.callvault.core;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One recorded media stream: its label, the party whose voice it carries, and its codec.
 *
 * @param source the only address its RTP may come from: {@code ip:port}, or {@code ip} alone for
 *     any port of that host (the first packet's port is then latched); null to latch on the source
 *     of the first packet
 * @param dtmfPayloadType the dynamic RTP payload type of RFC 4733 telephone-events on this stream;
 *     null when none was negotiated
 */
public record StreamSpec(
    String label, String party, Codec codec, String source, Integer dtmfPayloadType)
    implements CborSerializable {

  private static final String LABEL_CHARS = "A-Za-z0-9._-";

  /** A stream's label, and a party's id: they appear in URLs, file names and SDP. */
  public static final Pattern LABEL = Pattern.compile("[" + LABEL_CHARS + "]{1,64}");

  /** How {@link #LABEL} reads in an error message. */
  public static final String LABEL_RULE = "1 to 64 letters, digits or . _ -";

  /**
   * {@code text} made a {@link #LABEL}: every character it may not hold replaced by {@code _}, cut
   * to 64; {@code otherwise} when nothing is left.
   */
  public static String labelFrom(String text, String otherwise) {
    String label = text.replaceAll("[^" + LABEL_CHARS + "]", "_");
    if (label.isEmpty()) return otherwise;
    return label.length() > 64 ? label.substring(0, 64) : label;
  }

  public StreamSpec(String label, String party, Codec codec) {
    this(label, party, codec, null, null);
  }

  /**
   * What is wrong with the optional fields, named under {@code field} (e.g. {@code streams[0]}).
   */
  public List<String> problems(String field) {
    List<String> problems = new ArrayList<>();
    if (source != null && parseSource(source) == null)
      problems.add(
          field
              + ".source must be an IPv4 address and port, e.g. 192.0.2.10:40000, or an address"
              + " alone, was '"
              + source
              + "'");
    if (dtmfPayloadType != null && (dtmfPayloadType < 96 || dtmfPayloadType > 127))
      problems.add(
          field
              + ".dtmfPayloadType must be a dynamic payload type, 96 to 127, was "
              + dtmfPayloadType);
    return problems;
  }

  /**
   * The declared source as a socket address (port 0 for an address alone), or null when there is
   * none or it is malformed.
   */
  public static InetSocketAddress parseSource(String source) {
    if (source == null) return null;
    int colon = source.lastIndexOf(':');
    if (colon < 0 && source.matches("\\d{1,3}(\\.\\d{1,3}){3}")) source = source + ":0";
    colon = source.lastIndexOf(':');
    if (colon <= 0) return null;
    String host = source.substring(0, colon);
    if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) return null;
    for (String part : host.split("\\.")) if (Integer.parseInt(part) > 255) return null;
    try {
      int port = Integer.parseInt(source.substring(colon + 1));
      if (port < 0 || port > 65535 || (port == 0 && !source.endsWith(":0"))) return null;
      return new InetSocketAddress(host, port);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
