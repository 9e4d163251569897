package org.callvault.sip;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A session description as a SIPREC client offers it, <a
 * href="https://www.rfc-editor.org/rfc/rfc8866#section-5">RFC 8866 §5</a> (which replaced RFC
 * 4566), read for what a recording server needs: where each stream's media comes from, in which
 * codec, and which participant stream it is ({@code a=label}, <a
 * href="https://www.rfc-editor.org/rfc/rfc7866#section-8.1.1">RFC 7866 §8.1.1</a>).
 *
 * <pre>
 * v=0                                             session description: v, o, s first
 * o=SRC 2890844526 2890844526 IN IP4 198.51.100.1
 * s=-
 * c=IN IP4 198.51.100.1                           session-level connection (default for m-lines)
 * t=0 0
 * a=sendonly                                      session-level direction (default for m-lines)
 * m=audio 12240 RTP/AVP 0 8 101                   media description: type port proto formats
 * c=IN IP4 198.51.100.2                           media-level connection (overrides)
 * a=rtpmap:101 telephone-event/8000
 * a=ptime:20
 * a=rtcp:12245
 * a=label:1
 * </pre>
 *
 * <p>What it refuses (400, or 488 at the caller's choice), with the line number: a first line that
 * is not {@code v=0}, a missing {@code o=} right after it, no {@code m=} line, a line that is not
 * {@code <letter>=<value>}, a malformed o=/c=/m= line, a port outside 0-65535, a network type other
 * than IN or an address type other than IP4/IP6, an m-line without formats, a malformed
 * rtpmap/ptime/rtcp attribute, two direction attributes at one level, and an m-line with a non-zero
 * port and no connection address at either level (§5.7).
 *
 * <p>What it tolerates: a missing {@code s=} or {@code t=} (required by §5 but meaningless to a
 * recorder; refusing a call over them would lose a recording), empty lines, bare LF, a last line
 * without line end (the multipart delimiter takes it, RFC 2046 §5.1.1), unknown line types and
 * attributes (§5: ignored), and session-level lines in any order after {@code o=}.
 *
 * @param origin the o= line
 * @param sessionName the s= value, {@code -} when absent
 * @param connection the session-level c=, if any
 * @param direction the session-level direction, {@link Direction#SENDRECV} by default (§6.7)
 * @param attributes session-level attributes as {@code name} or {@code name:value}
 * @param media the m= sections in order, at least one
 */
public record Sdp(
    Origin origin,
    String sessionName,
    Optional<Connection> connection,
    Direction direction,
    List<String> attributes,
    List<Media> media) {

  public Sdp {
    attributes = List.copyOf(attributes);
    media = List.copyOf(media);
  }

  /** {@code o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>}, §5.2. */
  public record Origin(
      String username,
      String sessionId,
      String sessionVersion,
      String addressType,
      String address) {}

  /** {@code c=IN <addrtype> <address>}, §5.7; the address without any {@code /ttl} suffix. */
  public record Connection(String addressType, String address) {}

  /** The direction attributes of §6.7, as seen from the side that wrote the SDP. */
  public enum Direction {
    SENDRECV,
    SENDONLY,
    RECVONLY,
    INACTIVE;

    /** The attribute name, e.g. {@code recvonly}. */
    public String attribute() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Optional<Direction> of(String attribute) {
      for (Direction d : values()) {
        if (d.attribute().equals(attribute)) return Optional.of(d);
      }
      return Optional.empty();
    }
  }

  /** {@code a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]}, §6.6. */
  public record RtpMap(int payloadType, String encodingName, int clockRate, int channels) {

    /** Whether this is the encoding, by name without case, at this clock rate. */
    public boolean is(String name, int rate) {
      return encodingName.equalsIgnoreCase(name) && clockRate == rate;
    }
  }

  /** RFC 3551 §6 table 4: the static audio payload types a sender may use without rtpmap. */
  private static final Map<Integer, RtpMap> STATIC =
      Map.of(
          0, new RtpMap(0, "PCMU", 8000, 1),
          3, new RtpMap(3, "GSM", 8000, 1),
          4, new RtpMap(4, "G723", 8000, 1),
          8, new RtpMap(8, "PCMA", 8000, 1),
          9, new RtpMap(9, "G722", 8000, 1),
          13, new RtpMap(13, "CN", 8000, 1),
          18, new RtpMap(18, "G729", 8000, 1));

  /**
   * One m= section.
   *
   * @param index 0-based position among the m-lines; the answer keeps it (RFC 3264 §6)
   * @param type {@code audio}, {@code video}, ...
   * @param port 0 for a disabled or rejected stream
   * @param proto e.g. {@code RTP/AVP}
   * @param formats the format list as written (payload type numbers for RTP)
   * @param connection the media-level c=, else the session-level one
   * @param direction the media-level direction, else the session-level one
   * @param label the {@code a=label} value (RFC 4574) that ties the stream to the metadata
   * @param rtpMaps the {@code a=rtpmap} attributes by payload type
   * @param ptime the {@code a=ptime} in milliseconds
   * @param rtcpPort the {@code a=rtcp} port (RFC 3605); otherwise RTCP uses port + 1
   * @param attributes every media-level attribute as {@code name} or {@code name:value}
   */
  public record Media(
      int index,
      String type,
      int port,
      int portCount,
      String proto,
      List<String> formats,
      Optional<Connection> connection,
      Direction direction,
      Optional<String> label,
      Map<Integer, RtpMap> rtpMaps,
      OptionalInt ptime,
      OptionalInt rtcpPort,
      List<String> attributes) {

    public Media {
      formats = List.copyOf(formats);
      rtpMaps = Collections.unmodifiableMap(new LinkedHashMap<>(rtpMaps));
      attributes = List.copyOf(attributes);
    }

    /**
     * Whether the transport is RTP ({@code RTP/AVP}, {@code RTP/SAVP}, {@code UDP/TLS/RTP/SAVPF},
     * ...).
     */
    public boolean isRtp() {
      return proto.toUpperCase(Locale.ROOT).contains("RTP/");
    }

    /**
     * The encoding of a payload type: its rtpmap, else the static assignment of RFC 3551 for RTP
     * (PCMU for 0, PCMA for 8, ...).
     */
    public Optional<RtpMap> encoding(int payloadType) {
      RtpMap mapped = rtpMaps.get(payloadType);
      if (mapped != null) return Optional.of(mapped);
      return isRtp() ? Optional.ofNullable(STATIC.get(payloadType)) : Optional.empty();
    }

    /** The formats that are RTP payload type numbers, in offer order. */
    public List<Integer> payloadTypes() {
      List<Integer> out = new ArrayList<>();
      for (String f : formats) {
        if (SipText.isDigits(f) && f.length() <= 3 && Integer.parseInt(f) <= 127)
          out.add(Integer.parseInt(f));
      }
      return out;
    }

    /**
     * The first listed payload type mapped to {@code telephone-event} (RFC 4733 §7) at this rate.
     */
    public OptionalInt telephoneEventPayloadType(int clockRate) {
      for (int pt : payloadTypes()) {
        RtpMap m = rtpMaps.get(pt);
        if (m != null && m.is("telephone-event", clockRate)) return OptionalInt.of(pt);
      }
      return OptionalInt.empty();
    }

    /** The first listed payload type mapped to {@code telephone-event} at any rate. */
    public OptionalInt telephoneEventPayloadType() {
      for (int pt : payloadTypes()) {
        RtpMap m = rtpMaps.get(pt);
        if (m != null && m.encodingName().equalsIgnoreCase("telephone-event"))
          return OptionalInt.of(pt);
      }
      return OptionalInt.empty();
    }

    /** The value of the first {@code a=name:value} attribute with this name, if any. */
    public Optional<String> attribute(String name) {
      String prefix = name + ":";
      for (String a : attributes) {
        if (a.startsWith(prefix)) return Optional.of(a.substring(prefix.length()));
        if (a.equals(name)) return Optional.of("");
      }
      return Optional.empty();
    }

    /** The {@code a=fmtp} parameters of a payload type (§6.15), e.g. {@code 0-15}. */
    public Optional<String> fmtp(int payloadType) {
      String prefix = "fmtp:" + payloadType + " ";
      for (String a : attributes) {
        if (a.startsWith(prefix)) return Optional.of(a.substring(prefix.length()).trim());
      }
      return Optional.empty();
    }
  }

  /** Parses UTF-8 SDP bytes; see {@link #parse(String)}. */
  public static Sdp parse(byte[] sdp) throws SipParseException {
    return parse(new String(sdp, StandardCharsets.UTF_8));
  }

  /**
   * Parses a session description.
   *
   * @throws SipParseException 400 with the reason and line number
   */
  public static Sdp parse(String text) throws SipParseException {
    List<String[]> lines = new ArrayList<>(); // {type, value, line number}
    String[] raw = text.split("\n", -1);
    for (int i = 0; i < raw.length; i++) {
      String line = raw[i].endsWith("\r") ? raw[i].substring(0, raw[i].length() - 1) : raw[i];
      if (line.isEmpty()) continue;
      if (line.length() < 2
          || line.charAt(1) != '='
          || line.charAt(0) < 'a'
          || line.charAt(0) > 'z') {
        throw error(i + 1, "is not <type>=<value>: \"" + SipText.printable(line, 60) + "\"");
      }
      lines.add(new String[] {line.substring(0, 1), line.substring(2), Integer.toString(i + 1)});
    }
    if (lines.isEmpty() || !lines.get(0)[0].equals("v")) {
      throw SipParseException.badRequest("SDP does not start with a v= line");
    }
    if (!lines.get(0)[1].equals("0")) {
      throw SipParseException.badRequest(
          "unsupported SDP version v=" + SipText.printable(lines.get(0)[1], 10));
    }
    if (lines.size() < 2 || !lines.get(1)[0].equals("o")) {
      throw SipParseException.badRequest("missing o= line after v=");
    }
    Origin origin = origin(lines.get(1));

    String sessionName = "-";
    Connection sessionConnection = null;
    Direction sessionDirection = null;
    List<String> sessionAttributes = new ArrayList<>();
    int at = 2;
    for (; at < lines.size() && !lines.get(at)[0].equals("m"); at++) {
      String[] l = lines.get(at);
      switch (l[0]) {
        case "v", "o" -> throw error(l, "repeats the " + l[0] + "= line");
        case "s" -> sessionName = l[1];
        case "c" -> {
          if (sessionConnection != null) throw error(l, "is a second session-level c= line");
          sessionConnection = connection(l);
        }
        case "a" -> {
          sessionAttributes.add(l[1]);
          Optional<Direction> d = Direction.of(l[1]);
          if (d.isPresent()) {
            if (sessionDirection != null)
              throw error(l, "is a second session-level direction attribute");
            sessionDirection = d.get();
          }
        }
        default -> {
          // i, u, e, p, b, t, r, z, k and unknown types carry nothing the recorder uses (§5).
        }
      }
    }
    if (at == lines.size()) throw SipParseException.badRequest("SDP has no m= line");
    Direction defaultDirection = sessionDirection == null ? Direction.SENDRECV : sessionDirection;

    List<Media> media = new ArrayList<>();
    while (at < lines.size()) {
      int end = at + 1;
      while (end < lines.size() && !lines.get(end)[0].equals("m")) end++;
      media.add(media(lines.subList(at, end), media.size(), sessionConnection, defaultDirection));
      at = end;
    }
    return new Sdp(
        origin,
        sessionName,
        Optional.ofNullable(sessionConnection),
        defaultDirection,
        sessionAttributes,
        media);
  }

  private static Origin origin(String[] line) throws SipParseException {
    String[] f = line[1].trim().split(" +");
    if (f.length != 6)
      throw error(line, "is not a valid o= line: \"" + SipText.printable(line[1], 80) + "\"");
    networkType(line, f[3]);
    addressType(line, f[4]);
    return new Origin(f[0], f[1], f[2], f[4], f[5]);
  }

  private static Connection connection(String[] line) throws SipParseException {
    String[] f = line[1].trim().split(" +");
    if (f.length != 3)
      throw error(line, "is not a valid c= line: \"" + SipText.printable(line[1], 80) + "\"");
    networkType(line, f[0]);
    addressType(line, f[1]);
    int slash = f[2].indexOf('/'); // multicast TTL / count (§5.7) is no concern of ours
    String address = slash < 0 ? f[2] : f[2].substring(0, slash);
    if (address.isEmpty()) throw error(line, "has an empty connection address");
    return new Connection(f[1], address);
  }

  private static void networkType(String[] line, String type) throws SipParseException {
    if (!type.equals("IN"))
      throw error(line, "has unknown network type " + SipText.printable(type, 20));
  }

  private static void addressType(String[] line, String type) throws SipParseException {
    if (!type.equals("IP4") && !type.equals("IP6")) {
      throw error(line, "has unknown connection address type " + SipText.printable(type, 20));
    }
  }

  private static Media media(
      List<String[]> section, int index, Connection sessionConnection, Direction sessionDirection)
      throws SipParseException {
    String[] mLine = section.get(0);
    String[] f = mLine[1].trim().split(" +");
    if (f.length < 3)
      throw error(mLine, "is not a valid m= line: \"" + SipText.printable(mLine[1], 80) + "\"");
    if (f.length == 3) throw error(mLine, "has no formats");
    String portText = f[1];
    int portCount = 1;
    int slash = portText.indexOf('/');
    if (slash >= 0) {
      String count = portText.substring(slash + 1);
      portText = portText.substring(0, slash);
      if (!SipText.isDigits(count) || count.length() > 5 || Integer.parseInt(count) < 1) {
        throw error(mLine, "has a bad port count \"" + SipText.printable(count, 10) + "\"");
      }
      portCount = Integer.parseInt(count);
    }
    if (!SipText.isDigits(portText)
        || portText.length() > 5
        || Integer.parseInt(portText) > 65535) {
      throw error(mLine, "has a bad port \"" + SipText.printable(portText, 10) + "\"");
    }
    int port = Integer.parseInt(portText);
    List<String> formats = List.of(f).subList(3, f.length);

    Connection connection = null;
    Direction direction = null;
    String label = null;
    Map<Integer, RtpMap> rtpMaps = new LinkedHashMap<>();
    OptionalInt ptime = OptionalInt.empty();
    OptionalInt rtcp = OptionalInt.empty();
    List<String> attributes = new ArrayList<>();
    for (String[] l : section.subList(1, section.size())) {
      if (l[0].equals("c")) {
        // Several c= lines are for layered multicast (§5.7); the first is the one to listen to.
        if (connection == null) connection = connection(l);
        continue;
      }
      if (!l[0].equals("a")) continue;
      String a = l[1];
      attributes.add(a);
      int colon = a.indexOf(':');
      String name = colon < 0 ? a : a.substring(0, colon);
      String value = colon < 0 ? "" : a.substring(colon + 1).trim();
      switch (name) {
        case "rtpmap" -> {
          RtpMap m = rtpMap(l, value);
          rtpMaps.putIfAbsent(m.payloadType(), m);
        }
        case "ptime" -> ptime = OptionalInt.of(ptime(l, value));
        case "rtcp" -> {
          String p = value.split(" +")[0];
          if (!SipText.isDigits(p) || p.length() > 5 || Integer.parseInt(p) > 65535) {
            throw error(l, "has a malformed a=rtcp \"" + SipText.printable(value, 40) + "\"");
          }
          rtcp = OptionalInt.of(Integer.parseInt(p));
        }
        case "label" -> {
          if (value.isEmpty()) throw error(l, "has an empty a=label");
          if (label == null) label = value;
        }
        default -> {
          Optional<Direction> d = Direction.of(a);
          if (d.isPresent()) {
            if (direction != null)
              throw error(l, "is a second direction attribute in m-line " + (index + 1));
            direction = d.get();
          }
        }
      }
    }
    if (connection == null) connection = sessionConnection;
    if (connection == null && port != 0) {
      throw error(mLine, "has no connection address (no c= line for it or for the session)");
    }
    return new Media(
        index,
        f[0],
        port,
        portCount,
        f[2],
        formats,
        Optional.ofNullable(connection),
        direction == null ? sessionDirection : direction,
        Optional.ofNullable(label),
        rtpMaps,
        ptime,
        rtcp,
        attributes);
  }

  private static RtpMap rtpMap(String[] line, String value) throws SipParseException {
    String[] f = value.split(" +", 2);
    String[] enc = f.length == 2 ? f[1].trim().split("/") : new String[0];
    boolean ok =
        f.length == 2
            && SipText.isDigits(f[0])
            && f[0].length() <= 3
            && Integer.parseInt(f[0]) <= 127
            && (enc.length == 2 || enc.length == 3)
            && !enc[0].isEmpty()
            && SipText.isDigits(enc[1])
            && enc[1].length() <= 9
            && (enc.length == 2 || (SipText.isDigits(enc[2]) && enc[2].length() <= 3));
    if (!ok) throw error(line, "has a malformed a=rtpmap \"" + SipText.printable(value, 60) + "\"");
    return new RtpMap(
        Integer.parseInt(f[0]),
        enc[0],
        Integer.parseInt(enc[1]),
        enc.length == 3 ? Integer.parseInt(enc[2]) : 1);
  }

  /** §6.4: milliseconds; a decimal fraction is allowed and rounded. */
  private static int ptime(String[] line, String value) throws SipParseException {
    int dot = value.indexOf('.');
    String whole = dot < 0 ? value : value.substring(0, dot);
    String fraction = dot < 0 ? "0" : value.substring(dot + 1);
    if (!SipText.isDigits(whole) || whole.length() > 6 || !SipText.isDigits(fraction)) {
      throw error(line, "has a malformed a=ptime \"" + SipText.printable(value, 20) + "\"");
    }
    int ms = Integer.parseInt(whole) + (fraction.charAt(0) >= '5' ? 1 : 0);
    if (ms == 0) throw error(line, "has a zero a=ptime");
    return ms;
  }

  private static SipParseException error(String[] line, String what) {
    return error(Integer.parseInt(line[2]), what);
  }

  private static SipParseException error(int lineNumber, String what) {
    return SipParseException.badRequest("SDP line " + lineNumber + " " + what);
  }
}
