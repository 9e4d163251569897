package org.callvault.sip;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The header fields of a SIP message in the order they were received or added, looked up by name
 * without regard to case (<a href="https://www.rfc-editor.org/rfc/rfc3261#section-7.3.1">RFC 3261
 * §7.3.1</a>).
 *
 * <p>Names are stored in canonical form: compact forms (§7.3.3, e.g. {@code i} → {@code Call-ID})
 * are expanded and well-known names get their usual spelling, so {@code call-id}, {@code CALL-ID}
 * and {@code i} all become {@code Call-ID}. Unknown names are kept as received.
 *
 * <p>For the headers whose grammar is a comma-separated list ({@link #isListHeader}), every element
 * is stored as its own field, whether it arrived on its own line or several to a line; RFC 3261
 * §7.3.1 makes the two forms equivalent, and one field per element is what lets {@code all("Via")}
 * list the hops. Values are unfolded (line continuations replaced by one space) and trimmed.
 * Immutable.
 */
public final class Headers {

  /** One header field: a canonical name and its value. */
  public record Field(String name, String value) {}

  public static final Headers EMPTY = new Headers(List.of());

  private static final Map<String, String> CANONICAL = new HashMap<>();

  /** RFC 3261 §7.3.3 and the registry of compact forms (RFC 3262, 3265, 3515, 4028, ...). */
  private static final Map<Character, String> COMPACT =
      Map.ofEntries(
          Map.entry('i', "Call-ID"),
          Map.entry('m', "Contact"),
          Map.entry('f', "From"),
          Map.entry('t', "To"),
          Map.entry('v', "Via"),
          Map.entry('l', "Content-Length"),
          Map.entry('c', "Content-Type"),
          Map.entry('k', "Supported"),
          Map.entry('s', "Subject"),
          Map.entry('e', "Content-Encoding"),
          Map.entry('o', "Event"),
          Map.entry('r', "Refer-To"),
          Map.entry('u', "Allow-Events"),
          Map.entry('b', "Referred-By"),
          Map.entry('x', "Session-Expires"),
          Map.entry('a', "Accept-Contact"),
          Map.entry('j', "Reject-Contact"),
          Map.entry('d', "Request-Disposition"),
          Map.entry('y', "Identity"));

  /**
   * Headers whose ABNF is {@code #element}. Headers such as Date, WWW-Authenticate or Subject may
   * contain commas that are not separators, so only these are split.
   */
  private static final Set<String> LIST_HEADERS =
      Set.of(
          "Via",
          "Route",
          "Record-Route",
          "Contact",
          "Require",
          "Supported",
          "Unsupported",
          "Proxy-Require",
          "Allow",
          "Allow-Events",
          "Accept",
          "Accept-Encoding",
          "Accept-Language",
          "Content-Encoding",
          "P-Asserted-Identity");

  static {
    for (String name :
        List.of(
            "Accept",
            "Accept-Contact",
            "Accept-Encoding",
            "Accept-Language",
            "Alert-Info",
            "Allow",
            "Allow-Events",
            "Authorization",
            "Call-ID",
            "Call-Info",
            "Contact",
            "Content-Disposition",
            "Content-Encoding",
            "Content-Language",
            "Content-Length",
            "Content-Type",
            "CSeq",
            "Date",
            "Error-Info",
            "Event",
            "Expires",
            "From",
            "Identity",
            "In-Reply-To",
            "Max-Forwards",
            "Min-Expires",
            "Min-SE",
            "MIME-Version",
            "Organization",
            "P-Asserted-Identity",
            "Priority",
            "Privacy",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            "Proxy-Require",
            "RAck",
            "Reason",
            "Record-Route",
            "Refer-To",
            "Referred-By",
            "Reject-Contact",
            "Reply-To",
            "Request-Disposition",
            "Require",
            "Retry-After",
            "Route",
            "RSeq",
            "Server",
            "Session-Expires",
            "Session-ID",
            "Subject",
            "Supported",
            "Timestamp",
            "To",
            "Unsupported",
            "User-Agent",
            "Via",
            "Warning",
            "WWW-Authenticate")) {
      CANONICAL.put(name.toLowerCase(Locale.ROOT), name);
    }
  }

  private final List<Field> fields;

  private Headers(List<Field> fields) {
    this.fields = List.copyOf(fields);
  }

  /**
   * The canonical spelling of a header name: compact forms expanded, known names in their usual
   * case, unknown names unchanged.
   */
  public static String canonicalName(String name) {
    if (name.length() == 1) {
      String full = COMPACT.get(Character.toLowerCase(name.charAt(0)));
      if (full != null) return full;
    }
    return CANONICAL.getOrDefault(name.toLowerCase(Locale.ROOT), name);
  }

  /** Whether values of this header are comma-separated lists that are stored one per field. */
  public static boolean isListHeader(String name) {
    return LIST_HEADERS.contains(canonicalName(name));
  }

  /** All fields in order. */
  public List<Field> fields() {
    return fields;
  }

  /** The value of the first field with this name (any case, compact form allowed). */
  public Optional<String> first(String name) {
    String canonical = canonicalName(name);
    for (Field f : fields) {
      if (f.name().equalsIgnoreCase(canonical)) return Optional.of(f.value());
    }
    return Optional.empty();
  }

  /** The values of every field with this name, in order; empty if there is none. */
  public List<String> all(String name) {
    String canonical = canonicalName(name);
    List<String> out = new ArrayList<>();
    for (Field f : fields) {
      if (f.name().equalsIgnoreCase(canonical)) out.add(f.value());
    }
    return List.copyOf(out);
  }

  public boolean contains(String name) {
    return first(name).isPresent();
  }

  public int size() {
    return fields.size();
  }

  /** A builder that starts with these fields. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.fields.addAll(fields);
    return b;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Headers h && h.fields.equals(fields);
  }

  @Override
  public int hashCode() {
    return fields.hashCode();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    for (Field f : fields) out.append(f.name()).append(": ").append(f.value()).append("\r\n");
    return out.toString();
  }

  /** Collects fields in order; names are canonicalised as they are added. */
  public static final class Builder {
    private final List<Field> fields = new ArrayList<>();

    private Builder() {}

    /**
     * Appends a field. A value of a list header is stored as given (one field); use {@link
     * #addSplitting} for a value that may hold several elements.
     *
     * @throws IllegalArgumentException if the name is not a token or the value has a line break,
     *     which would let a caller's string inject header lines into a message we send
     */
    public Builder add(String name, String value) {
      if (!SipText.isToken(name)) throw new IllegalArgumentException("not a header name: " + name);
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("line break in the value of " + name);
      }
      fields.add(new Field(canonicalName(name), value.trim()));
      return this;
    }

    /**
     * Appends a received field: for a list header each comma-separated element becomes a field.
     *
     * @throws SipParseException 400 when a list has an empty element
     */
    Builder addSplitting(String name, String value) throws SipParseException {
      String canonical = canonicalName(name);
      if (!LIST_HEADERS.contains(canonical)) {
        fields.add(new Field(canonical, value));
        return this;
      }
      for (String element : SipText.split(value, ',')) {
        if (element.isEmpty()) {
          throw SipParseException.badRequest("empty element in the " + canonical + " list");
        }
        fields.add(new Field(canonical, element));
      }
      return this;
    }

    /** Removes every field with this name, then appends one with this value. */
    public Builder set(String name, String value) {
      remove(name);
      return add(name, value);
    }

    /** Removes every field with this name. */
    public Builder remove(String name) {
      String canonical = canonicalName(name);
      fields.removeIf(f -> f.name().equalsIgnoreCase(canonical));
      return this;
    }

    public Headers build() {
      return new Headers(fields);
    }
  }
}
