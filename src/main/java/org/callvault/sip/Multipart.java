package org.callvault.sip;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@code multipart/mixed} body, <a
 * href="https://www.rfc-editor.org/rfc/rfc2046#section-5.1.1">RFC 2046 §5.1.1</a>, as a SIPREC
 * INVITE carries SDP and recording metadata together (<a
 * href="https://www.rfc-editor.org/rfc/rfc7866#section-6.3">RFC 7866 §6.3</a>).
 *
 * <pre>
 * multipart-body := [preamble CRLF]
 *                   dash-boundary transport-padding CRLF
 *                   body-part *encapsulation
 *                   close-delimiter transport-padding
 *                   [CRLF epilogue]
 * encapsulation  := delimiter transport-padding CRLF body-part
 * delimiter      := CRLF dash-boundary          ; dash-boundary := "--" boundary
 * close-delimiter := delimiter "--"
 * body-part      := MIME-part-headers [CRLF *OCTET]
 * </pre>
 *
 * <p>The CRLF before a delimiter belongs to the delimiter, not to the part, so a part's body ends
 * exactly where its sender wrote it. A delimiter counts only at the start of a line and only when
 * followed by optional padding and a line end (or {@code --}), so a boundary that appears inside a
 * body, or as the prefix of a longer line, does not split it. Preamble and epilogue are ignored.
 * Bare LF is accepted wherever CRLF is expected, because some SBCs build bodies with it. Nested
 * multiparts are returned as parts; the caller may parse them again.
 *
 * @param parts in the order they appeared, at least one
 */
public record Multipart(List<Part> parts) {

  public Multipart {
    parts = List.copyOf(parts);
  }

  /**
   * One body part: its MIME headers and its bytes.
   *
   * @param contentType the part's Content-Type; {@code text/plain} when it has none (RFC 2046 §5.1)
   * @param disposition its Content-Disposition, or null when it has none
   */
  public record Part(
      Headers headers, ContentType contentType, ContentDisposition disposition, byte[] body) {

    public Part {
      body = body.clone();
    }

    /** A part with only a Content-Type, for {@link #toBytes}. */
    public static Part of(ContentType type, byte[] body) {
      return new Part(
          Headers.builder().add("Content-Type", type.toString()).build(), type, null, body);
    }

    /** A copy of the bytes between the part's empty line and the next delimiter. */
    @Override
    public byte[] body() {
      return body.clone();
    }

    public Optional<ContentDisposition> contentDisposition() {
      return Optional.ofNullable(disposition);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Part p
          && p.headers.equals(headers)
          && p.contentType.equals(contentType)
          && Objects.equals(p.disposition, disposition)
          && Arrays.equals(p.body, body);
    }

    @Override
    public int hashCode() {
      return Objects.hash(headers, contentType, disposition, Arrays.hashCode(body));
    }

    @Override
    public String toString() {
      return "Part[" + contentType + ", " + body.length + " bytes]";
    }
  }

  /**
   * Parses a multipart body with the boundary of its Content-Type.
   *
   * @throws SipParseException 400 when the type has no usable boundary, the boundary does not occur
   *     in the body, there is no close delimiter, no part, or a part's headers are malformed
   */
  public static Multipart parse(ContentType type, byte[] body) throws SipParseException {
    if (!type.type().equals("multipart")) {
      throw SipParseException.badRequest("Content-Type " + type.mediaType() + " is not multipart");
    }
    String boundary =
        type.boundary()
            .orElseThrow(
                () ->
                    SipParseException.badRequest(
                        "multipart Content-Type has no boundary parameter"));
    checkBoundary(boundary);
    byte[] dash = ("--" + boundary).getBytes(StandardCharsets.UTF_8);

    Delimiter first = nextDelimiter(body, dash, 0);
    if (first == null) {
      throw SipParseException.badRequest(
          "multipart boundary \""
              + SipText.printable(boundary, 70)
              + "\" does not occur in the body");
    }
    if (first.close) throw SipParseException.badRequest("multipart body has no parts");
    List<Part> parts = new ArrayList<>();
    Delimiter at = first;
    while (!at.close) {
      Delimiter next = nextDelimiter(body, dash, at.contentStart);
      if (next == null) {
        throw SipParseException.badRequest(
            "multipart body has no close delimiter \"--"
                + SipText.printable(boundary, 70)
                + "--\"");
      }
      parts.add(part(body, at.contentStart, next.partEnd, parts.size() + 1));
      at = next;
    }
    return new Multipart(parts);
  }

  /** RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending in a space. */
  private static void checkBoundary(String boundary) throws SipParseException {
    boolean ok = !boundary.isEmpty() && boundary.length() <= 70 && !boundary.endsWith(" ");
    for (int i = 0; ok && i < boundary.length(); i++) {
      char c = boundary.charAt(i);
      ok =
          (c >= '0' && c <= '9')
              || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || "'()+_,-./:=? ".indexOf(c) >= 0;
    }
    if (!ok) {
      throw SipParseException.badRequest(
          "malformed multipart boundary \"" + SipText.printable(boundary, 80) + "\"");
    }
  }

  /**
   * @param partEnd where the part before this delimiter ends (before the CRLF that precedes it)
   * @param contentStart where the part after it starts (after its line end), or the end for close
   */
  private record Delimiter(int partEnd, int contentStart, boolean close) {}

  /** The next delimiter line at or after {@code from}, or null. */
  private static Delimiter nextDelimiter(byte[] body, byte[] dash, int from) {
    for (int i = from; i + dash.length <= body.length; i++) {
      boolean lineStart = i == 0 || body[i - 1] == '\n';
      if (!lineStart || !startsWith(body, i, dash)) continue;
      int partEnd = i;
      if (partEnd > from && body[partEnd - 1] == '\n') partEnd--;
      if (partEnd > from && body[partEnd - 1] == '\r') partEnd--;
      int after = i + dash.length;
      boolean close = after + 2 <= body.length && body[after] == '-' && body[after + 1] == '-';
      if (close) return new Delimiter(partEnd, body.length, true);
      int j = after;
      while (j < body.length && (body[j] == ' ' || body[j] == '\t')) j++;
      if (j < body.length && body[j] == '\r') j++;
      if (j < body.length && body[j] == '\n') return new Delimiter(partEnd, j + 1, false);
      // The boundary is a prefix of a longer line (or ends the body without line end): not a
      // delimiter, keep looking.
    }
    return null;
  }

  private static boolean startsWith(byte[] data, int at, byte[] prefix) {
    for (int k = 0; k < prefix.length; k++) {
      if (data[at + k] != prefix[k]) return false;
    }
    return true;
  }

  private static Part part(byte[] body, int start, int end, int number) throws SipParseException {
    // Headers end at the first empty line; a part that starts with one has no headers.
    int headerEnd = -1;
    int bodyStart = end;
    int lineStart = start;
    while (lineStart < end) {
      int lf = lineStart;
      while (lf < end && body[lf] != '\n') lf++;
      int lineEnd = lf > lineStart && body[lf - 1] == '\r' ? lf - 1 : lf;
      if (lineEnd == lineStart) {
        headerEnd = lineStart;
        bodyStart = Math.min(lf + 1, end);
        break;
      }
      lineStart = lf + 1;
    }
    if (headerEnd < 0) headerEnd = end; // headers only, no body (RFC 2046 allows it)
    Headers headers =
        partHeaders(new String(body, start, headerEnd - start, StandardCharsets.UTF_8), number);
    ContentType type = ContentType.of("text/plain");
    ContentDisposition disposition = null;
    try {
      if (headers.all("Content-Type").size() > 1 || headers.all("Content-Disposition").size() > 1) {
        throw SipParseException.badRequest("repeated Content-Type or Content-Disposition");
      }
      if (headers.contains("Content-Type"))
        type = ContentType.parse(headers.first("Content-Type").orElseThrow());
      if (headers.contains("Content-Disposition")) {
        disposition = ContentDisposition.parse(headers.first("Content-Disposition").orElseThrow());
      }
    } catch (SipParseException e) {
      throw SipParseException.badRequest("multipart part " + number + ": " + e.reason());
    }
    return new Part(headers, type, disposition, Arrays.copyOfRange(body, bodyStart, end));
  }

  private static Headers partHeaders(String text, int number) throws SipParseException {
    Headers.Builder h = Headers.builder();
    String name = null;
    StringBuilder value = new StringBuilder();
    for (String line : text.split("\r?\n")) {
      if (line.isEmpty()) continue;
      if (SipText.isWhitespace(line.charAt(0)) && name != null) {
        value.append(' ').append(line.trim());
        continue;
      }
      if (name != null) h.add(name, value.toString());
      int colon = line.indexOf(':');
      String candidate = colon < 0 ? "" : line.substring(0, colon).trim();
      if (!SipText.isToken(candidate) || line.indexOf('\r') >= 0) {
        throw SipParseException.badRequest(
            "multipart part "
                + number
                + " has a malformed header line \""
                + SipText.printable(line, 60)
                + "\"");
      }
      name = candidate;
      value.setLength(0);
      value.append(line.substring(colon + 1).trim());
    }
    if (name != null) h.add(name, value.toString());
    return h.build();
  }

  /** The first part of this media type (e.g. {@code application/sdp}), if any. */
  public Optional<Part> first(String mediaType) {
    return parts.stream().filter(p -> p.contentType().is(mediaType)).findFirst();
  }

  /**
   * This body on the wire with the given boundary: each part's headers, an empty line, its bytes,
   * and the close delimiter, all with CRLF.
   *
   * @throws IllegalArgumentException if the boundary is malformed or a part contains a line that
   *     starts with it, which would cut that part short at the receiver
   */
  public byte[] toBytes(String boundary) {
    try {
      checkBoundary(boundary);
    } catch (SipParseException e) {
      throw new IllegalArgumentException(e.reason(), e);
    }
    byte[] dash = ("--" + boundary).getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Part p : parts) {
      for (int i = 0; i + dash.length <= p.body.length; i++) {
        if ((i == 0 || p.body[i - 1] == '\n') && startsWith(p.body, i, dash)) {
          throw new IllegalArgumentException("a part contains the boundary " + boundary);
        }
      }
      out.writeBytes(dash);
      out.writeBytes(crlf(""));
      for (Headers.Field f : p.headers().fields())
        out.writeBytes(crlf(f.name() + ": " + f.value()));
      out.writeBytes(crlf(""));
      out.writeBytes(p.body);
      out.writeBytes(crlf(""));
    }
    out.writeBytes(dash);
    out.writeBytes(crlf("--"));
    return out.toByteArray();
  }

  /** The Content-Type of a body written by {@link #toBytes(String)} with this boundary. */
  public static ContentType contentType(String boundary) {
    return ContentType.of(ContentType.MULTIPART_MIXED).withParam("boundary", boundary);
  }

  private static byte[] crlf(String line) {
    return (line + "\r\n").getBytes(StandardCharsets.UTF_8);
  }
}
