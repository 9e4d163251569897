package org.callvault.sip;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Parses SIP messages from bytes: one datagram, or one message framed out of a stream, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-7">RFC 3261 §7</a> and <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-18.3">§18.3</a>.
 *
 * <pre>
 * INVITE sip:srs@example.com SIP/2.0            start line
 * Via: SIP/2.0/UDP src.example.com;branch=z9... header fields; a line starting with
 * v: SIP/2.0/TCP proxy.example.com;branch=...     SP or HTAB continues the previous one
 * Content-Length: 120                           (compact forms and any case allowed)
 *                                               empty line (CRLF)
 * v=0 ...                                       body, Content-Length bytes
 * </pre>
 *
 * <p>What the parser tolerates, because real peers send it and nothing is lost by accepting it:
 * CRLFs before the start line (keep-alives, §7.5), bare LF instead of CRLF as line end, folded
 * header lines, whitespace before the colon of a header, compact header names. What it refuses,
 * with a {@link SipParseException} naming the problem: a start line that is not {@code Method SP
 * Request-URI SP SIP/2.0} or {@code SIP/2.0 SP code SP reason} (400; 505 for another version), a
 * header line without colon, a missing Via/From/To/Call-ID/CSeq, a repeated single-valued header, a
 * CSeq whose method is not the request's, a Content-Length that is not a number or promises more
 * bytes than arrived (400), and a message larger than the configured limit (513).
 *
 * <p>Max-Forwards is not required. §8.1.1 makes it mandatory for a client, but it only matters to
 * proxies that forward requests; the recording server is the final destination of every request,
 * and refusing a well-formed INVITE from an SBC that omits it would lose a recording for nothing.
 * When present it must be 0-255.
 *
 * <p>Stateless and thread-safe; one instance per server is enough.
 */
public final class SipParser {

  /** The largest UDP payload; also the limit for a stream message unless configured otherwise. */
  public static final int DEFAULT_MAX_MESSAGE_SIZE = 65_535;

  private final int maxMessageSize;

  public SipParser() {
    this(DEFAULT_MAX_MESSAGE_SIZE);
  }

  /**
   * @param maxMessageSize messages longer than this (keep-alive CRLFs not counted) get 513
   */
  public SipParser(int maxMessageSize) {
    if (maxMessageSize < 64) throw new IllegalArgumentException("maxMessageSize " + maxMessageSize);
    this.maxMessageSize = maxMessageSize;
  }

  public int maxMessageSize() {
    return maxMessageSize;
  }

  /**
   * The number of CR and LF bytes at the start of {@code data[offset, offset + length)}. When it
   * equals {@code length} the bytes are only a keep-alive: RFC 5626 §3.5.1 asks a server to answer
   * a double CRLF on a stream with a single CRLF, and a datagram of CRLFs is dropped.
   */
  public static int keepAliveLength(byte[] data, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, data.length);
    int n = 0;
    while (n < length && (data[offset + n] == '\r' || data[offset + n] == '\n')) n++;
    return n;
  }

  /**
   * Parses one UDP datagram (§18.3): a Content-Length larger than the bytes after the header
   * section is an error, a smaller one discards the extra bytes, and without Content-Length the
   * body is the rest of the datagram.
   *
   * @throws SipParseException with the status to answer and what could be read of the request
   * @throws IndexOutOfBoundsException if the range does not lie within {@code data}, a caller bug
   */
  public SipMessage parseDatagram(byte[] data, int offset, int length) throws SipParseException {
    return parse(data, offset, length, false);
  }

  /**
   * Parses one message framed out of a TCP or TLS stream by {@link #streamMessageLength}: the
   * Content-Length header is mandatory (§18.3, §20.14) and must account for every byte after the
   * header section.
   *
   * @throws SipParseException with the status to answer and what could be read of the request
   * @throws IndexOutOfBoundsException if the range does not lie within {@code data}, a caller bug
   */
  public SipMessage parseStreamMessage(byte[] data, int offset, int length)
      throws SipParseException {
    return parse(data, offset, length, true);
  }

  /**
   * Frames a stream: given the bytes accumulated so far, the length of the first complete message,
   * counted from {@code offset} and including any CRLFs before it, or -1 when more bytes are
   * needed. The message ends Content-Length bytes after the empty line that ends its header section
   * (§18.3).
   *
   * <p>An exception means the stream cannot be framed any further (there is no way to find where
   * the next message starts): the server answers if it can and closes the connection.
   *
   * @throws SipParseException 400 when the header section has no or a malformed Content-Length, 513
   *     when the header section or the whole message exceeds the size limit
   * @throws IndexOutOfBoundsException if the range does not lie within {@code data}, a caller bug
   */
  public int streamMessageLength(byte[] data, int offset, int length) throws SipParseException {
    Objects.checkFromIndexSize(offset, length, data.length);
    int leading = keepAliveLength(data, offset, length);
    if (leading == length) return -1;
    int start = offset + leading;
    int available = length - leading;
    Head head = readHead(data, start, Math.min(available, maxMessageSize));
    if (!head.complete) {
      if (available >= maxMessageSize) {
        throw new SipParseException(
                513, "header section exceeds the limit of " + maxMessageSize + " bytes")
            .withContext(head.partial(), head.requestMethod());
      }
      return -1;
    }
    int contentLength;
    try {
      contentLength = head.contentLength(true);
    } catch (SipParseException e) {
      throw e.withContext(head.partial(), head.requestMethod());
    }
    long total = (long) (head.bodyStart - start) + contentLength;
    if (total > maxMessageSize) {
      throw tooLarge(total).withContext(head.partial(), head.requestMethod());
    }
    if (available < total) return -1;
    return leading + (int) total;
  }

  private SipParseException tooLarge(long size) {
    return new SipParseException(
        513, "message of " + size + " bytes exceeds the limit of " + maxMessageSize + " bytes");
  }

  private SipMessage parse(byte[] data, int offset, int length, boolean stream)
      throws SipParseException {
    Objects.checkFromIndexSize(offset, length, data.length);
    int leading = keepAliveLength(data, offset, length);
    int start = offset + leading;
    int available = length - leading;
    if (available == 0) throw SipParseException.badRequest("empty message");
    Head head = readHead(data, start, available);
    try {
      if (available > maxMessageSize) throw tooLarge(available);
      if (!head.complete)
        throw SipParseException.badRequest("no empty line after the header section");
      StartLine line = head.startLine();
      Headers headers = head.headers();
      int received = start + available - head.bodyStart;
      int contentLength = head.contentLength(stream);
      if (contentLength < 0) {
        contentLength = received; // §18.3: on UDP, without Content-Length the body is the rest
      } else if (contentLength > received) {
        throw SipParseException.badRequest(
            "Content-Length " + contentLength + " exceeds the " + received + " bytes received");
      } else if (stream && contentLength < received) {
        throw SipParseException.badRequest(
            (received - contentLength)
                + " bytes follow the body of Content-Length "
                + contentLength);
      }
      // On UDP, bytes beyond Content-Length are discarded (§18.3).
      byte[] body = Arrays.copyOfRange(data, head.bodyStart, head.bodyStart + contentLength);
      if (line.isRequest()) return SipRequest.create(line.method, line.uri, headers, body);
      return SipResponse.create(line.statusCode, line.reason, headers, body);
    } catch (SipParseException e) {
      throw e.withContext(head.partial(), head.requestMethod());
    }
  }

  /** The start line and header lines of a message, before any of them is validated. */
  private static Head readHead(byte[] data, int start, int length) {
    int end = start + length;
    List<String> lines = new ArrayList<>();
    int lineStart = start;
    while (lineStart < end) {
      int lf = indexOf(data, (byte) '\n', lineStart, end);
      if (lf < 0) break;
      int lineEnd = lf > lineStart && data[lf - 1] == '\r' ? lf - 1 : lf;
      if (lineEnd == lineStart) return new Head(lines, true, lf + 1);
      lines.add(new String(data, lineStart, lineEnd - lineStart, StandardCharsets.UTF_8));
      lineStart = lf + 1;
    }
    return new Head(lines, false, end);
  }

  private static int indexOf(byte[] data, byte b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (data[i] == b) return i;
    }
    return -1;
  }

  private record StartLine(String method, String uri, int statusCode, String reason) {
    boolean isRequest() {
      return method != null;
    }
  }

  /** A header field as read: canonical name, unfolded and trimmed value. */
  private record RawField(String name, String value) {}

  /**
   * The lines of a header section; each step of validation is a method so that a failure in one
   * still leaves the others available for {@link #partial()}.
   */
  private static final class Head {
    final List<String> lines;
    final boolean complete;
    final int bodyStart;
    private final List<RawField> fields = new ArrayList<>();
    private SipParseException fieldError;

    Head(List<String> lines, boolean complete, int bodyStart) {
      this.lines = lines;
      this.complete = complete;
      this.bodyStart = bodyStart;
      unfold();
    }

    /** Joins continuation lines (§7.3.1) and splits each logical line at its colon. */
    private void unfold() {
      List<String> logical = new ArrayList<>();
      for (int i = 1; i < lines.size(); i++) {
        String line = lines.get(i);
        if (!line.isEmpty() && SipText.isWhitespace(line.charAt(0))) {
          if (logical.isEmpty()) {
            fieldError =
                SipParseException.badRequest("header section starts with a continuation line");
            continue;
          }
          int last = logical.size() - 1;
          logical.set(last, logical.get(last) + " " + line.trim());
        } else {
          logical.add(line);
        }
      }
      for (String line : logical) {
        if (hasControlCharacter(line)) {
          // A stray CR or NUL would end up in the Via and From we echo in our answer.
          if (fieldError == null) {
            fieldError =
                SipParseException.badRequest(
                    "control character in header line \"" + SipText.printable(line, 60) + "\"");
          }
          continue;
        }
        int colon = line.indexOf(':');
        String name = colon < 0 ? "" : line.substring(0, colon).trim();
        if (colon < 0 || !SipText.isToken(name)) {
          if (fieldError == null) {
            fieldError =
                SipParseException.badRequest(
                    "malformed header line \"" + SipText.printable(line, 60) + "\"");
          }
          continue;
        }
        fields.add(new RawField(Headers.canonicalName(name), line.substring(colon + 1).trim()));
      }
    }

    private static boolean hasControlCharacter(String line) {
      for (int i = 0; i < line.length(); i++) {
        char c = line.charAt(i);
        if ((c < ' ' && c != '\t') || c == 0x7F) return true;
      }
      return false;
    }

    StartLine startLine() throws SipParseException {
      if (lines.isEmpty()) throw SipParseException.badRequest("malformed start line");
      String line = lines.get(0);
      if (hasControlCharacter(line)) throw malformedStartLine(line);
      String[] parts = line.split(" ", -1);
      if (line.regionMatches(true, 0, "SIP/", 0, 4)) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; the phrase may hold spaces.
        String[] status = line.split(" ", 3);
        if (status.length < 2
            || !isVersion(status[0])
            || !SipText.isDigits(status[1])
            || status[1].length() != 3) {
          throw malformedStartLine(line);
        }
        checkVersion(status[0]);
        int code = Integer.parseInt(status[1]);
        if (code < 100 || code > 699) throw malformedStartLine(line);
        return new StartLine(null, null, code, status.length == 3 ? status[2] : "");
      }
      if (parts.length != 3
          || !SipText.isToken(parts[0])
          || parts[1].isEmpty()
          || !isVersion(parts[2])) {
        throw malformedStartLine(line);
      }
      checkVersion(parts[2]);
      if (!SipText.isAbsoluteUri(parts[1])) {
        throw SipParseException.badRequest(
            "malformed Request-URI \"" + SipText.printable(parts[1], 80) + "\"");
      }
      return new StartLine(parts[0], parts[1], 0, null);
    }

    private static SipParseException malformedStartLine(String line) {
      return SipParseException.badRequest(
          "malformed start line \"" + SipText.printable(line, 60) + "\"");
    }

    /** §7.1: SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, "SIP" in any case. */
    private static boolean isVersion(String s) {
      if (s.length() < 7 || !s.regionMatches(true, 0, "SIP/", 0, 4)) return false;
      String number = s.substring(4);
      int dot = number.indexOf('.');
      return dot > 0
          && SipText.isDigits(number.substring(0, dot))
          && SipText.isDigits(number.substring(dot + 1));
    }

    private static void checkVersion(String version) throws SipParseException {
      if (!version.substring(4).equals("2.0")) {
        throw new SipParseException(
            505, "SIP version " + SipText.printable(version, 20) + " is not supported");
      }
    }

    /** The method when the start line looks like a request, even if it is otherwise malformed. */
    String requestMethod() {
      if (lines.isEmpty()) return null;
      String line = lines.get(0);
      if (line.regionMatches(true, 0, "SIP/", 0, 4)) return null;
      int sp = line.indexOf(' ');
      String method = sp < 0 ? line : line.substring(0, sp);
      return SipText.isToken(method) ? method : null;
    }

    Headers headers() throws SipParseException {
      if (fieldError != null) throw fieldError;
      Headers.Builder h = Headers.builder();
      for (RawField f : fields) h.addSplitting(f.name(), f.value());
      return h.build();
    }

    /**
     * Content-Length, or -1 when absent on a datagram.
     *
     * @throws SipParseException 400 when absent on a stream, repeated or not a number
     */
    int contentLength(boolean stream) throws SipParseException {
      String value = null;
      for (RawField f : fields) {
        if (!f.name().equals("Content-Length")) continue;
        if (value != null)
          throw SipParseException.badRequest("more than one Content-Length header");
        value = f.value();
      }
      if (value == null) {
        if (stream) {
          throw SipParseException.badRequest(
              "missing Content-Length header, required on a stream transport");
        }
        return -1;
      }
      if (!SipText.isDigits(value) || value.length() > 9) {
        throw SipParseException.badRequest(
            "malformed Content-Length \"" + SipText.printable(value, 20) + "\"");
      }
      return Integer.parseInt(value);
    }

    /** Via, From, To, Call-ID and CSeq as found, for answering a refused request. */
    Headers partial() {
      Headers.Builder h = Headers.builder();
      for (String wanted : List.of("Via", "From", "To", "Call-ID", "CSeq")) {
        for (RawField f : fields) {
          if (!f.name().equals(wanted) || f.value().isEmpty()) continue;
          if (wanted.equals("Via")) {
            for (String hop : SipText.split(f.value(), ',')) {
              if (!hop.isEmpty() && hop.indexOf('\r') < 0) h.add("Via", hop);
            }
          } else {
            h.add(wanted, f.value());
            break; // only the first of a single-valued header is echoed
          }
        }
      }
      return h.build();
    }
  }

  @Override
  public String toString() {
    return "SipParser[maxMessageSize=" + maxMessageSize + "]";
  }
}
