package org.callvault.sip;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A SIP request or response, <a href="https://www.rfc-editor.org/rfc/rfc3261#section-7">RFC 3261
 * §7</a>.
 *
 * <pre>
 * generic-message  =  start-line
 *                     *message-header
 *                     CRLF
 *                     [ message-body ]
 * start-line       =  Request-Line / Status-Line
 * </pre>
 *
 * <p>Immutable. A message only exists once its mandatory headers (Via, From, To, Call-ID, CSeq)
 * have been parsed, so the typed accessors never fail. The Content-Length header is not kept in
 * {@link #headers()}: the body length is the truth, and {@link #toBytes()} writes it from there.
 */
public abstract sealed class SipMessage permits SipRequest, SipResponse {

  private final Headers headers;
  private final byte[] body;
  private final MessageHeaders parsed;

  SipMessage(Headers headers, byte[] body) throws SipParseException {
    this.headers = headers.toBuilder().remove("Content-Length").build();
    this.body = body.clone();
    this.parsed = MessageHeaders.read(this.headers);
    if (body.length > 0 && parsed.contentType() == null) {
      // §20.15: "The Content-Type header field MUST be present if the body is not empty."
      throw SipParseException.badRequest("message has a body but no Content-Type header");
    }
  }

  /** The Request-Line or Status-Line, without CRLF. */
  public abstract String startLine();

  /** All header fields except Content-Length, in order. */
  public Headers headers() {
    return headers;
  }

  /** A copy of the body; empty when there is none. */
  public byte[] body() {
    return body.clone();
  }

  public int bodyLength() {
    return body.length;
  }

  /** The Via hops, topmost (the previous hop) first. */
  public List<Via> vias() {
    return parsed.vias();
  }

  /** The topmost Via, the one that identifies the transaction (§17.2.3). */
  public Via topVia() {
    return parsed.vias().get(0);
  }

  public NameAddr from() {
    return parsed.from();
  }

  public NameAddr to() {
    return parsed.to();
  }

  public String callId() {
    return parsed.callId();
  }

  public CSeq cseq() {
    return parsed.cseq();
  }

  /** Contact addresses in order; empty when there is no Contact header. */
  public List<NameAddr> contacts() {
    return parsed.contacts();
  }

  public Optional<ContentType> contentType() {
    return Optional.ofNullable(parsed.contentType());
  }

  /** Max-Forwards, 0-255, if present. */
  public OptionalInt maxForwards() {
    return parsed.maxForwards() < 0 ? OptionalInt.empty() : OptionalInt.of(parsed.maxForwards());
  }

  /** Option tags of the Require header(s), e.g. {@code siprec} (RFC 7866 §6.1.1). */
  public List<String> require() {
    return parsed.require();
  }

  /** Option tags of the Supported header(s). */
  public List<String> supported() {
    return parsed.supported();
  }

  /** Route header values in order. */
  public List<NameAddr> routes() {
    return parsed.routes();
  }

  /** Record-Route header values in order. */
  public List<NameAddr> recordRoutes() {
    return parsed.recordRoutes();
  }

  /**
   * The message on the wire: start line, every header on its own line in order, {@code
   * Content-Length} with the exact body length in bytes, the empty line and the body.
   */
  public byte[] toBytes() {
    StringBuilder out = new StringBuilder(512).append(startLine()).append("\r\n");
    for (Headers.Field f : headers.fields()) {
      out.append(f.name()).append(": ").append(f.value()).append("\r\n");
    }
    out.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    byte[] head = out.toString().getBytes(StandardCharsets.UTF_8);
    byte[] all = Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  @Override
  public String toString() {
    return new String(toBytes(), StandardCharsets.UTF_8);
  }
}
