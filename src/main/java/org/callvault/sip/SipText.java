package org.callvault.sip;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lexical rules shared by the header parsers: tokens, quoted strings, comma-separated lists and
 * {@code ;name=value} parameters, as the ABNF of <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-25.1">RFC 3261 §25.1</a> defines them.
 *
 * <p>Every splitter here skips separators inside quoted strings (honouring backslash escapes) and
 * inside {@code <...>}, because a display name may contain commas and a URI in angle brackets may
 * contain commas and semicolons of its own (RFC 3261 §20).
 */
final class SipText {

  private SipText() {}

  /**
   * RFC 3261 §25.1: {@code token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
   * "'" / "~")}.
   */
  static boolean isTokenChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "-.!%*_+`'~".indexOf(c) >= 0;
  }

  static boolean isToken(String s) {
    if (s.isEmpty()) return false;
    for (int i = 0; i < s.length(); i++) {
      if (!isTokenChar(s.charAt(i))) return false;
    }
    return true;
  }

  static boolean isDigits(String s) {
    if (s.isEmpty()) return false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') return false;
    }
    return true;
  }

  static boolean isWhitespace(char c) {
    return c == ' ' || c == '\t';
  }

  /**
   * Splits {@code value} at every {@code separator} that is outside quotes and angle brackets.
   * Elements are trimmed; empty elements are kept so the caller can refuse them with its own words.
   */
  static List<String> split(String value, char separator) {
    List<String> out = new ArrayList<>();
    int start = 0;
    boolean quoted = false;
    int angle = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (quoted) {
        if (c == '\\') i++; // quoted-pair: the next character is literal, even a quote
        else if (c == '"') quoted = false;
      } else if (c == '"') {
        quoted = true;
      } else if (c == '<') {
        angle++;
      } else if (c == '>' && angle > 0) {
        angle--;
      } else if (c == separator && angle == 0) {
        out.add(value.substring(start, i).trim());
        start = i + 1;
      }
    }
    out.add(value.substring(start).trim());
    return out;
  }

  /** Whether every quote in {@code value} is closed. */
  static boolean quotesBalanced(String value) {
    boolean quoted = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (quoted && c == '\\') i++;
      else if (c == '"') quoted = !quoted;
    }
    return !quoted;
  }

  /** Removes the quotes and backslash escapes of a quoted string; returns other text unchanged. */
  static String unquote(String s) {
    if (s.length() < 2 || s.charAt(0) != '"' || s.charAt(s.length() - 1) != '"') return s;
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 1; i < s.length() - 1; i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() - 1) c = s.charAt(++i);
      out.append(c);
    }
    return out.toString();
  }

  /** A token as it is; anything else as a quoted string with {@code "} and {@code \} escaped. */
  static String quoteIfNeeded(String s) {
    if (isToken(s)) return s;
    return quote(s);
  }

  static String quote(String s) {
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') out.append('\\');
      out.append(c);
    }
    return out.append('"').toString();
  }

  /**
   * Parses a sequence of {@code ;name[=value]} parameters ({@code text} starts after the first
   * semicolon, or is empty). Names are lower-cased because RFC 3261 §7.3.1 compares them without
   * case; values are kept exactly as received, quotes included, because some (tags, branches) are
   * compared byte for byte and {@code +sip.instance}-style values must be echoed as they came. A
   * parameter without a value maps to the empty string. The first occurrence of a name wins.
   *
   * @param what names the header in the error reason, e.g. "Via"
   */
  static Map<String, String> parseParams(String text, String what) throws SipParseException {
    Map<String, String> params = new LinkedHashMap<>();
    if (text.isBlank()) return Collections.unmodifiableMap(params);
    for (String param : split(text, ';')) {
      if (param.isEmpty()) throw SipParseException.badRequest("empty parameter in " + what);
      int eq = param.indexOf('=');
      String name = (eq < 0 ? param : param.substring(0, eq)).trim();
      String value = eq < 0 ? "" : param.substring(eq + 1).trim();
      if (!isToken(name)) {
        throw SipParseException.badRequest("malformed parameter name \"" + name + "\" in " + what);
      }
      if (eq >= 0 && value.isEmpty()) {
        throw SipParseException.badRequest(
            "parameter " + name + " in " + what + " has an empty value");
      }
      if (value.startsWith("\"")
          && (value.length() < 2 || !value.endsWith("\"") || !quotesBalanced(value))) {
        throw SipParseException.badRequest("unterminated quoted value of " + name + " in " + what);
      }
      params.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), value);
    }
    return Collections.unmodifiableMap(params);
  }

  /**
   * The inverse of {@link #parseParams}: {@code ;name=value} for each entry, {@code ;name} for
   * flags.
   */
  static String formatParams(Map<String, String> params) {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, String> e : params.entrySet()) {
      out.append(';').append(e.getKey());
      if (!e.getValue().isEmpty()) out.append('=').append(e.getValue());
    }
    return out.toString();
  }

  /**
   * A {@code scheme:rest} URI as RFC 3261 §25.1 {@code absoluteURI} allows, without whitespace. The
   * recorder never dereferences these, so checking the shape is enough.
   */
  static boolean isAbsoluteUri(String uri) {
    int colon = uri.indexOf(':');
    if (colon <= 0 || colon == uri.length() - 1) return false;
    if (!Character.isLetter(uri.charAt(0))) return false;
    for (int i = 1; i < colon; i++) {
      char c = uri.charAt(i);
      if (!Character.isLetterOrDigit(c) && c != '+' && c != '-' && c != '.') return false;
    }
    for (int i = colon + 1; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == 0x7F) return false;
    }
    return true;
  }

  /** Control characters and line breaks removed, so text can go into a reason phrase safely. */
  static String printable(String s, int maxLength) {
    StringBuilder out = new StringBuilder(Math.min(s.length(), maxLength));
    for (int i = 0; i < s.length() && out.length() < maxLength; i++) {
      char c = s.charAt(i);
      out.append(c < ' ' || c == 0x7F ? ' ' : c);
    }
    return out.toString();
  }
}
