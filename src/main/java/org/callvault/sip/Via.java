package org.callvault.sip;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One Via header field value: one hop the request travelled, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-20.42">RFC 3261 §20.42</a>.
 *
 * <pre>
 * via-parm      =  sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol =  protocol-name SLASH protocol-version SLASH transport
 * sent-by       =  host [ COLON port ]
 * via-params    =  via-ttl / via-maddr / via-received / via-branch / via-extension
 *
 * Via: SIP/2.0/UDP pc33.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5061
 * </pre>
 *
 * <p>The recording server reads the top Via to match transactions (branch and sent-by, §17.2.3) and
 * to send responses back (received and {@code rport}, §18.2.2 and <a
 * href="https://www.rfc-editor.org/rfc/rfc3581">RFC 3581</a>).
 *
 * @param protocol always {@code SIP/2.0} for a message that passed the parser's version check; kept
 *     as received for the hops of a response
 * @param transport upper-cased, e.g. {@code UDP}, {@code TCP}, {@code TLS}
 * @param host a host name, IPv4 address or bracketed IPv6 reference, as received
 * @param port the sent-by port, or -1 when the hop gave none (the transport default applies)
 * @param params parameters by lower-cased name, values as received (see {@link SipText})
 */
public record Via(
    String protocol, String transport, String host, int port, Map<String, String> params) {

  /** RFC 3261 §8.1.1.7: branches of RFC 3261 clients start with this, so they are unique. */
  public static final String MAGIC_COOKIE = "z9hG4bK";

  public Via {
    params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  /** A Via for a request this server sends, with a fresh {@link SipIds#newBranch() branch}. */
  public static Via of(String transport, String host, int port) {
    return new Via(
        "SIP/2.0",
        transport.toUpperCase(Locale.ROOT),
        host,
        port,
        Map.of("branch", SipIds.newBranch()));
  }

  /**
   * Parses one Via value (one element of the list).
   *
   * @throws SipParseException 400 with the reason when it does not follow the grammar above
   */
  public static Via parse(String value) throws SipParseException {
    String v = value.trim();
    int at = 0;
    String[] protocol = new String[3];
    for (int part = 0; part < 3; part++) {
      at = skipWhitespace(v, at);
      int start = at;
      while (at < v.length() && SipText.isTokenChar(v.charAt(at))) at++;
      protocol[part] = v.substring(start, at);
      if (protocol[part].isEmpty()) throw malformed(value, "sent-protocol");
      at = skipWhitespace(v, at);
      if (part < 2) {
        if (at >= v.length() || v.charAt(at) != '/') throw malformed(value, "sent-protocol");
        at++;
      }
    }
    if (at >= v.length()) throw malformed(value, "sent-by");
    int semi = v.indexOf(';', at);
    String sentBy = (semi < 0 ? v.substring(at) : v.substring(at, semi)).trim();
    if (sentBy.isEmpty()) throw malformed(value, "sent-by");
    String host;
    int port = -1;
    if (sentBy.startsWith("[")) {
      int close = sentBy.indexOf(']');
      if (close < 0) throw malformed(value, "IPv6 reference");
      host = sentBy.substring(0, close + 1);
      String rest = sentBy.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) throw malformed(value, "sent-by");
        port = parsePort(rest.substring(1).trim(), value);
      }
    } else {
      int colon = sentBy.indexOf(':');
      host = (colon < 0 ? sentBy : sentBy.substring(0, colon)).trim();
      if (colon >= 0) port = parsePort(sentBy.substring(colon + 1).trim(), value);
    }
    if (!isHost(host)) throw malformed(value, "sent-by host");
    Map<String, String> params = SipText.parseParams(semi < 0 ? "" : v.substring(semi + 1), "Via");
    String rport = params.get("rport");
    if (rport != null && !rport.isEmpty()) parsePort(rport, value);
    String name = protocol[0].toUpperCase(Locale.ROOT) + "/" + protocol[1];
    return new Via(name, protocol[2].toUpperCase(Locale.ROOT), host, port, params);
  }

  private static int skipWhitespace(String s, int at) {
    while (at < s.length() && SipText.isWhitespace(s.charAt(at))) at++;
    return at;
  }

  private static int parsePort(String digits, String value) throws SipParseException {
    if (!SipText.isDigits(digits) || digits.length() > 5) throw malformed(value, "port");
    int port = Integer.parseInt(digits);
    if (port < 1 || port > 65535) throw malformed(value, "port");
    return port;
  }

  /** A host name, IPv4 address or bracketed IPv6 reference (RFC 3261 §25.1 {@code host}). */
  static boolean isHost(String host) {
    if (host.isEmpty()) return false;
    if (host.startsWith("[")) {
      if (!host.endsWith("]") || host.length() < 4) return false;
      for (int i = 1; i < host.length() - 1; i++) {
        char c = host.charAt(i);
        if (Character.digit(c, 16) < 0 && c != ':' && c != '.') return false;
      }
      return true;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!Character.isLetterOrDigit(c) && c != '-' && c != '.') return false;
      if (c > 0x7F) return false;
    }
    return true;
  }

  private static SipParseException malformed(String value, String part) {
    return SipParseException.badRequest(
        "malformed Via " + part + " in \"" + SipText.printable(value, 80) + "\"");
  }

  /** The branch parameter, the transaction id of RFC 3261 clients. */
  public Optional<String> branch() {
    return param("branch");
  }

  /**
   * Whether the branch starts with the RFC 3261 magic cookie, so it alone identifies the
   * transaction.
   */
  public boolean hasMagicCookie() {
    return branch().map(b -> b.startsWith(MAGIC_COOKIE)).orElse(false);
  }

  /** The received parameter a server added for a sender whose sent-by host was not its source. */
  public Optional<String> received() {
    return param("received");
  }

  /** Whether the hop asked for symmetric response routing (RFC 3581), with or without a value. */
  public boolean hasRport() {
    return params.containsKey("rport");
  }

  /** The rport value a server filled in, if any (RFC 3581 §4). */
  public OptionalInt rport() {
    String v = params.get("rport");
    return v == null || v.isEmpty() ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(v));
  }

  public Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
  }

  /** {@code host} or {@code host:port}, lower-cased so two spellings of one host compare equal. */
  public String sentBy() {
    String h = host.toLowerCase(Locale.ROOT);
    return port < 0 ? h : h + ":" + port;
  }

  /** This hop with one parameter added or replaced (an empty value is a flag parameter). */
  public Via withParam(String name, String value) {
    Map<String, String> p = new LinkedHashMap<>(params);
    p.put(name.toLowerCase(Locale.ROOT), value);
    return new Via(protocol, transport, host, port, p);
  }

  /**
   * This hop as a server stamps it on receipt (RFC 3261 §18.2.1, RFC 3581 §4): {@code received}
   * when the source address differs from the sent-by host, and the source port in {@code rport}
   * when the client asked for it.
   */
  public Via stampedWithSource(String sourceAddress, int sourcePort) {
    Via v = this;
    if (!host.equalsIgnoreCase(sourceAddress) || hasRport())
      v = v.withParam("received", sourceAddress);
    if (hasRport()) v = v.withParam("rport", Integer.toString(sourcePort));
    return v;
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(64).append(protocol).append('/').append(transport);
    out.append(' ').append(host);
    if (port >= 0) out.append(':').append(port);
    return out.append(SipText.formatParams(params)).toString();
  }
}
