package org.callvault.sip;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The value of a From, To, Contact, Route or Record-Route header field: an optional display name, a
 * URI and header parameters, <a href="https://www.rfc-editor.org/rfc/rfc3261#section-20.10">RFC
 * 3261 §20.10</a> and §20.20, §20.39.
 *
 * <pre>
 * name-addr    =  [ display-name ] LAQUOT addr-spec RAQUOT
 * display-name =  *(token LWS) / quoted-string
 * from-spec    =  ( name-addr / addr-spec ) *( SEMI from-param )
 *
 * From: "Alice Smith" &lt;sip:alice@example.com;transport=tcp&gt;;tag=1928301774
 * To: sip:recorder@example.com
 * Contact: &lt;sip:src@192.0.2.10:5060&gt;;+sip.src
 * </pre>
 *
 * <p>Without angle brackets everything after the first semicolon is a header parameter, not part of
 * the URI (§20.10); with them, URI parameters stay inside the URI. The URI is kept as text: the
 * recorder only compares and echoes it. Parameter names are lower-cased, values kept as received (a
 * tag is compared byte for byte, §19.3).
 *
 * @param displayName the display name without quotes or escapes; empty when there is none
 * @param uri the URI as received, e.g. {@code sip:alice@example.com;transport=tcp}
 * @param params header parameters such as {@code tag}, {@code expires} or {@code +sip.src}
 */
public record NameAddr(String displayName, String uri, Map<String, String> params) {

  public NameAddr {
    params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  /** A bare URI without display name or parameters. */
  public static NameAddr of(String uri) {
    return new NameAddr("", uri, Map.of());
  }

  /**
   * Parses a name-addr or addr-spec with its parameters. The Contact value {@code *} (only
   * meaningful in REGISTER) is returned as a URI {@code *}.
   *
   * @throws SipParseException 400 with the reason
   */
  public static NameAddr parse(String value) throws SipParseException {
    String v = value.trim();
    if (v.equals("*")) return new NameAddr("", "*", Map.of());
    if (v.startsWith("\"") && closingQuote(v) < 0)
      throw malformed(value, "unterminated quoted display name");
    int open = indexOfUnquoted(v, '<');
    if (open < 0) {
      // addr-spec: the URI ends at the first semicolon; what follows are header parameters.
      int semi = v.indexOf(';');
      String uri = (semi < 0 ? v : v.substring(0, semi)).trim();
      if (!SipText.isAbsoluteUri(uri)) throw malformed(value, "not a URI");
      return new NameAddr(
          "", uri, SipText.parseParams(semi < 0 ? "" : v.substring(semi + 1), "address"));
    }
    int close = v.indexOf('>', open);
    if (close < 0) throw malformed(value, "missing '>'");
    String display = v.substring(0, open).trim();
    if (display.startsWith("\"")) {
      if (display.length() < 2 || !display.endsWith("\""))
        throw malformed(value, "bad display name");
      display = SipText.unquote(display);
    } else if (!display.isEmpty()) {
      for (String word : display.split("[ \t]+")) {
        if (!SipText.isToken(word)) throw malformed(value, "display name must be quoted");
      }
    }
    String uri = v.substring(open + 1, close).trim();
    if (!SipText.isAbsoluteUri(uri)) throw malformed(value, "not a URI");
    String rest = v.substring(close + 1).trim();
    if (!rest.isEmpty() && !rest.startsWith(";")) throw malformed(value, "text after '>'");
    Map<String, String> params =
        SipText.parseParams(rest.isEmpty() ? "" : rest.substring(1), "address");
    return new NameAddr(display, uri, params);
  }

  /** The index of the quote that closes the quoted string at the start of {@code s}, or -1. */
  private static int closingQuote(String s) {
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\') i++;
      else if (c == '"') return i;
    }
    return -1;
  }

  private static int indexOfUnquoted(String s, char target) {
    boolean quoted = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted && c == '\\') i++;
      else if (c == '"') quoted = !quoted;
      else if (!quoted && c == target) return i;
    }
    return -1;
  }

  private static SipParseException malformed(String value, String why) {
    return SipParseException.badRequest(
        "malformed address \"" + SipText.printable(value, 80) + "\": " + why);
  }

  /** The tag parameter of a From or To (§19.3), which with the Call-ID identifies a dialog. */
  public Optional<String> tag() {
    return param("tag");
  }

  /** A parameter by name, without regard to case; a flag parameter yields the empty string. */
  public Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
  }

  /**
   * Whether a parameter is present, e.g. the Contact feature tag {@code +sip.src} of RFC 7866
   * §6.1.1.
   */
  public boolean hasParam(String name) {
    return params.containsKey(name.toLowerCase(Locale.ROOT));
  }

  /** This address with its tag set (replacing any tag it had). */
  public NameAddr withTag(String tag) {
    return withParam("tag", tag);
  }

  public NameAddr withParam(String name, String value) {
    Map<String, String> p = new LinkedHashMap<>(params);
    p.put(name.toLowerCase(Locale.ROOT), value);
    return new NameAddr(displayName, uri, p);
  }

  /**
   * The name-addr form: always with angle brackets, so URI parameters can never be mistaken for
   * header parameters by the reader, and a quoted display name when there is one.
   */
  @Override
  public String toString() {
    if (uri.equals("*")) return "*";
    StringBuilder out = new StringBuilder(uri.length() + 32);
    if (!displayName.isEmpty()) out.append(SipText.quote(displayName)).append(' ');
    out.append('<').append(uri).append('>');
    return out.append(SipText.formatParams(params)).toString();
  }
}
