package org.callvault.sip;

import java.util.Locale;

/**
 * A SIP or SIPS URI read for where a request to it goes, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-19.1">RFC 3261 §19.1</a> (grammar in §25.1).
 *
 * <pre>
 * SIP-URI        =  "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 * SIPS-URI       =  "sips:" [ userinfo ] hostport uri-parameters [ headers ]
 * userinfo       =  ( user / telephone-subscriber ) [ ":" password ] "@"
 * hostport       =  host [ ":" port ]
 * host           =  hostname / IPv4address / IPv6reference
 * IPv6reference  =  "[" IPv6address "]"
 *
 * sip:alice;day=tuesday@atlanta.com          user "alice;day=tuesday", port 5060
 * sips:[2001:db8::10]:5071;transport=tcp     host "[2001:db8::10]", port 5071
 * </pre>
 *
 * <p>No part of the URI may hold an unescaped {@code @} but the end of the userinfo (user,
 * password, parameters and headers all exclude it), so the first {@code @} ends the userinfo even
 * when the user holds {@code ;} or {@code ?}; the host then ends at the first {@code :}, {@code ;}
 * or {@code ?}, or at the bracket that closes an IPv6 reference. Parameters and headers are not
 * read: the recording server only needs the host and port (no {@code maddr}, no DNS: RFC 3263 would
 * resolve a host name further, this server takes it as the address).
 *
 * @param scheme {@code sip} or {@code sips}, lower-cased
 * @param user the user part as written (escapes kept), without the password; empty when absent
 * @param host a host name, IPv4 address or IPv6 reference with its brackets, as a Via writes it
 * @param port the port the URI gives, or {@link #DEFAULT_PORT} when it gives none
 */
public record SipUri(String scheme, String user, String host, int port) {

  /**
   * The port of a URI without one. RFC 3263 §4.2 gives a {@code sips} URI 5061 over TLS; this
   * server sends over UDP only, where the default is 5060 whatever the scheme.
   */
  public static final int DEFAULT_PORT = 5060;

  /**
   * Parses a SIP or SIPS URI.
   *
   * @throws SipParseException 400 with the reason when it is not one (a {@code tel:} URI, a missing
   *     or malformed host, a port that is not 1 to 65535)
   */
  public static SipUri parse(String uri) throws SipParseException {
    int colon = uri.indexOf(':');
    String scheme = colon < 0 ? "" : uri.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!scheme.equals("sip") && !scheme.equals("sips"))
      throw malformed(uri, "not a sip or sips URI");
    String rest = uri.substring(colon + 1);
    String user = "";
    int at = rest.indexOf('@');
    if (at >= 0) {
      String userinfo = rest.substring(0, at);
      int password = userinfo.indexOf(':');
      user = password < 0 ? userinfo : userinfo.substring(0, password);
      if (user.isEmpty()) throw malformed(uri, "empty user before '@'");
      rest = rest.substring(at + 1);
    }
    String host;
    String afterHost;
    if (rest.startsWith("[")) {
      int close = rest.indexOf(']');
      if (close < 0) throw malformed(uri, "IPv6 reference without ']'");
      host = rest.substring(0, close + 1);
      afterHost = rest.substring(close + 1);
    } else {
      int end = 0;
      while (end < rest.length() && ":;?".indexOf(rest.charAt(end)) < 0) end++;
      host = rest.substring(0, end);
      afterHost = rest.substring(end);
    }
    if (!Via.isHost(host)) throw malformed(uri, "no valid host");
    int port = DEFAULT_PORT;
    if (afterHost.startsWith(":")) {
      int end = 1;
      while (end < afterHost.length()
          && afterHost.charAt(end) != ';'
          && afterHost.charAt(end) != '?') end++;
      String digits = afterHost.substring(1, end);
      port = SipText.isDigits(digits) && digits.length() <= 5 ? Integer.parseInt(digits) : -1;
      if (port < 1 || port > 65535)
        throw malformed(uri, "port \"" + SipText.printable(digits, 10) + "\" is not 1 to 65535");
      afterHost = afterHost.substring(end);
    }
    if (!afterHost.isEmpty() && afterHost.charAt(0) != ';' && afterHost.charAt(0) != '?')
      throw malformed(uri, "text after the host");
    return new SipUri(scheme, user, host, port);
  }

  /** The host as a socket address takes it: an IPv6 reference without its brackets. */
  public String address() {
    return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
  }

  private static SipParseException malformed(String uri, String why) {
    return SipParseException.badRequest(
        "malformed SIP URI \"" + SipText.printable(uri, 80) + "\": " + why);
  }
}
