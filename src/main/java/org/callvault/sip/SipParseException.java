package org.callvault.sip;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Why a SIP message, or a body it carries (multipart, SDP, recording metadata), was refused, with
 * the status code the recording server should answer.
 *
 * <p>Codes used: 400 for malformed input (<a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-21.4.1">RFC 3261 §21.4.1</a>), 505 for a SIP
 * version other than 2.0 (§21.5.6), 513 for a message larger than the configured limit (§21.5.7),
 * 500 for an out-of-order CSeq in a dialog (§12.2.2) and 488 for an SDP offer the server cannot
 * accept (§21.4.26). The {@link #reason()} is precise enough to put in the reason phrase: a client
 * operator reading "400 missing Call-ID header" in a trace knows what to fix.
 *
 * <p>When the message was a request whose header section could be read, the exception keeps the
 * Via, From, To, Call-ID and CSeq header values that were found, raw and unvalidated, so that the
 * server can still answer a malformed request (RFC 3261 §8.2.6 needs exactly these) with {@link
 * #answer(String)}. A malformed message that cannot be answered is counted and dropped.
 *
 * <p>A checked exception, unlike {@code RtpProblem}: a SIP request is a control message that
 * arrives a few times per call, the caller must answer it, and the reason is a sentence for the
 * answer rather than a counter label.
 */
public final class SipParseException extends Exception {

  private final int statusCode;
  private final String reason;
  private final Headers partialHeaders;
  private final String requestMethod;

  /** A refusal without message context, for bodies and header values. */
  public SipParseException(int statusCode, String reason) {
    this(statusCode, reason, Headers.EMPTY, null);
  }

  SipParseException(int statusCode, String reason, Headers partialHeaders, String requestMethod) {
    super(statusCode + " " + reason);
    if (statusCode < 300 || statusCode > 699) {
      throw new IllegalArgumentException("not an error status: " + statusCode);
    }
    this.statusCode = statusCode;
    this.reason = reason;
    this.partialHeaders = partialHeaders;
    this.requestMethod = requestMethod;
  }

  static SipParseException badRequest(String reason) {
    return new SipParseException(400, reason);
  }

  /** The same refusal, with what the parser could read of the message around it. */
  SipParseException withContext(Headers partialHeaders, String requestMethod) {
    SipParseException e = new SipParseException(statusCode, reason, partialHeaders, requestMethod);
    e.setStackTrace(getStackTrace());
    return e;
  }

  /** The SIP status code to answer with: 400, 488, 500, 505 or 513. */
  public int statusCode() {
    return statusCode;
  }

  /** What was wrong, in words, e.g. {@code missing Call-ID header}. */
  public String reason() {
    return reason;
  }

  /**
   * The Via (all of them), From, To, Call-ID and CSeq header fields that were found, as received;
   * empty when the header section could not be read or the refusal is not about a message.
   */
  public Headers partialHeaders() {
    return partialHeaders;
  }

  /**
   * The method of the refused request when its start line could be read far enough to tell; empty
   * for a response, for unreadable start lines and for body-level refusals.
   */
  public Optional<String> requestMethod() {
    return Optional.ofNullable(requestMethod);
  }

  /**
   * The bytes of the error response for the refused request, per RFC 3261 §8.2.6: status {@link
   * #statusCode()}, the {@link #reason()} as reason phrase, every Via, From, Call-ID and CSeq
   * copied as received, the To copied with {@code toTag} added when it had none and it can be
   * parsed, and {@code Content-Length: 0}.
   *
   * <p>A request missing From, To, Call-ID or CSeq is still answered, with those it has: the client
   * cannot match such an answer to its transaction, but whoever reads the trace learns why the
   * request was refused, which silence would not tell.
   *
   * <p>Empty when no answer is possible: the refused message was a response or its method is
   * unknown, it was an ACK (RFC 3261 §17.1.1.1: an ACK is never answered), or it has no Via to
   * answer along. The server sends these bytes straight back to where the request came from: a
   * request that cannot be parsed cannot be matched to a transaction either.
   */
  public Optional<byte[]> answer(String toTag) {
    if (requestMethod == null || requestMethod.equals("ACK")) return Optional.empty();
    List<String> vias = partialHeaders.all("Via");
    Optional<String> from = partialHeaders.first("From");
    Optional<String> to = partialHeaders.first("To");
    Optional<String> callId = partialHeaders.first("Call-ID");
    Optional<String> cseq = partialHeaders.first("CSeq");
    if (vias.isEmpty()) return Optional.empty();
    Optional<String> toValue =
        to.map(
            value -> {
              try {
                NameAddr parsed = NameAddr.parse(value);
                return parsed.tag().isEmpty() ? parsed.withTag(toTag).toString() : value;
              } catch (SipParseException unparsableTo) {
                // The To header may be what is malformed: echo it as received, which is all
                // §8.2.6.2
                // asks of a To that the server cannot read, and what lets the client match the
                // answer.
                return value;
              }
            });
    StringBuilder out = new StringBuilder(256);
    out.append("SIP/2.0 ").append(statusCode).append(' ').append(SipText.printable(reason, 200));
    out.append("\r\n");
    for (String via : vias) out.append("Via: ").append(via).append("\r\n");
    from.ifPresent(v -> out.append("From: ").append(v).append("\r\n"));
    toValue.ifPresent(v -> out.append("To: ").append(v).append("\r\n"));
    callId.ifPresent(v -> out.append("Call-ID: ").append(v).append("\r\n"));
    cseq.ifPresent(v -> out.append("CSeq: ").append(v).append("\r\n"));
    out.append("Content-Length: 0\r\n\r\n");
    return Optional.of(out.toString().getBytes(StandardCharsets.UTF_8));
  }
}
