package org.callvault.sip;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A Content-Disposition header field value, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-20.11">RFC 3261 §20.11</a>.
 *
 * <pre>
 * Content-Disposition  =  "Content-Disposition" HCOLON disp-type *( SEMI disp-param )
 * handling-param       =  "handling" EQUAL ( "optional" / "required" / other-handling )
 *
 * Content-Disposition: recording-session            (RFC 7866 §6.3, the metadata part)
 * Content-Disposition: session;handling=required
 * </pre>
 *
 * @param type the disposition type, lower-cased, e.g. {@code session} or {@code recording-session}
 * @param params unquoted parameter values by lower-cased name
 */
public record ContentDisposition(String type, Map<String, String> params) {

  public ContentDisposition {
    type = type.toLowerCase(Locale.ROOT);
    params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  /**
   * Parses a Content-Disposition value.
   *
   * @throws SipParseException 400 with the reason
   */
  public static ContentDisposition parse(String value) throws SipParseException {
    String v = value.trim();
    int semi = v.indexOf(';');
    String type = (semi < 0 ? v : v.substring(0, semi)).trim();
    if (!SipText.isToken(type)) {
      throw SipParseException.badRequest(
          "malformed Content-Disposition \"" + SipText.printable(value, 80) + "\"");
    }
    Map<String, String> raw =
        SipText.parseParams(semi < 0 ? "" : v.substring(semi + 1), "Content-Disposition");
    Map<String, String> params = new LinkedHashMap<>();
    raw.forEach((k, val) -> params.put(k, SipText.unquote(val)));
    return new ContentDisposition(type, params);
  }

  public Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
  }

  /**
   * The handling parameter, lower-cased; {@code required} when absent, the default of §20.11. A
   * body part the server does not understand may be ignored only when this is {@code optional}.
   */
  public String handling() {
    return param("handling").map(h -> h.toLowerCase(Locale.ROOT)).orElse("required");
  }

  public boolean isOptional() {
    return handling().equals("optional");
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(type);
    params.forEach(
        (k, v) -> out.append(';').append(k).append('=').append(SipText.quoteIfNeeded(v)));
    return out.toString();
  }
}
