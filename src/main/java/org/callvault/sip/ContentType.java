package org.callvault.sip;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A Content-Type header field value: a media type with parameters, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-20.15">RFC 3261 §20.15</a> (the grammar of
 * <a href="https://www.rfc-editor.org/rfc/rfc2045#section-5.1">RFC 2045 §5.1</a>).
 *
 * <pre>
 * media-type =  m-type SLASH m-subtype *(SEMI m-parameter)
 * m-parameter =  m-attribute EQUAL m-value      ; m-value = token / quoted-string
 *
 * Content-Type: multipart/mixed;boundary="OSS-unique-boundary-42"
 * </pre>
 *
 * <p>Type, subtype and parameter names are lower-cased (they are case-insensitive); parameter
 * values are unquoted, because a boundary compares the same whether it was sent quoted or not.
 *
 * @param type e.g. {@code multipart}
 * @param subtype e.g. {@code mixed}
 * @param params unquoted parameter values by lower-cased name
 */
public record ContentType(String type, String subtype, Map<String, String> params) {

  public static final String SDP = "application/sdp";

  /** RFC 7865 §13 registers this name; RFC 7866's examples use {@link #RS_METADATA_SHORT}. */
  public static final String RS_METADATA = "application/rs-metadata+xml";

  public static final String RS_METADATA_SHORT = "application/rs-metadata";
  public static final String MULTIPART_MIXED = "multipart/mixed";

  public ContentType {
    type = type.toLowerCase(Locale.ROOT);
    subtype = subtype.toLowerCase(Locale.ROOT);
    params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
  }

  /** A media type without parameters, e.g. {@code of("application/sdp")}. */
  public static ContentType of(String mediaType) {
    int slash = mediaType.indexOf('/');
    if (slash <= 0) throw new IllegalArgumentException("not a media type: " + mediaType);
    return new ContentType(mediaType.substring(0, slash), mediaType.substring(slash + 1), Map.of());
  }

  /**
   * Parses a Content-Type value.
   *
   * @throws SipParseException 400 with the reason
   */
  public static ContentType parse(String value) throws SipParseException {
    String v = value.trim();
    int semi = v.indexOf(';');
    String mediaType = (semi < 0 ? v : v.substring(0, semi)).trim();
    int slash = mediaType.indexOf('/');
    String type = slash < 0 ? "" : mediaType.substring(0, slash).trim();
    String subtype = slash < 0 ? "" : mediaType.substring(slash + 1).trim();
    if (!SipText.isToken(type) || !SipText.isToken(subtype)) {
      throw SipParseException.badRequest(
          "malformed Content-Type \"" + SipText.printable(value, 80) + "\"");
    }
    Map<String, String> raw =
        SipText.parseParams(semi < 0 ? "" : v.substring(semi + 1), "Content-Type");
    Map<String, String> params = new LinkedHashMap<>();
    raw.forEach((k, val) -> params.put(k, SipText.unquote(val)));
    return new ContentType(type, subtype, params);
  }

  /** {@code type/subtype}, lower-cased. */
  public String mediaType() {
    return type + "/" + subtype;
  }

  /** Whether this is the given {@code type/subtype}, without regard to case. */
  public boolean is(String mediaType) {
    return mediaType().equalsIgnoreCase(mediaType);
  }

  public Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name.toLowerCase(Locale.ROOT)));
  }

  /** The multipart boundary (RFC 2046 §5.1.1), unquoted. */
  public Optional<String> boundary() {
    return param("boundary");
  }

  /** This type with a parameter added or replaced. */
  public ContentType withParam(String name, String value) {
    Map<String, String> p = new LinkedHashMap<>(params);
    p.put(name.toLowerCase(Locale.ROOT), value);
    return new ContentType(type, subtype, p);
  }

  /** The header value, quoting parameter values that are not tokens. */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(mediaType());
    params.forEach(
        (k, v) -> out.append(';').append(k).append('=').append(SipText.quoteIfNeeded(v)));
    return out.toString();
  }
}
