package org.callvault.sip;

import java.util.Map;
import java.util.Objects;

/**
 * A SIP response, <a href="https://www.rfc-editor.org/rfc/rfc3261#section-7.2">RFC 3261 §7.2</a>.
 *
 * <pre>
 * Status-Line  =  SIP-Version SP Status-Code SP Reason-Phrase CRLF
 *
 * SIP/2.0 200 OK
 * </pre>
 *
 * <p>Responses the server sends are built from the request with {@link #to(SipRequest, int)}, as
 * §8.2.6 prescribes. Responses it receives (to its BYE and re-INVITE) come from {@link SipParser}.
 * Immutable.
 */
public final class SipResponse extends SipMessage {

  private static final Map<Integer, String> REASONS =
      Map.ofEntries(
          Map.entry(100, "Trying"),
          Map.entry(180, "Ringing"),
          Map.entry(183, "Session Progress"),
          Map.entry(200, "OK"),
          Map.entry(202, "Accepted"),
          Map.entry(400, "Bad Request"),
          Map.entry(403, "Forbidden"),
          Map.entry(404, "Not Found"),
          Map.entry(405, "Method Not Allowed"),
          Map.entry(408, "Request Timeout"),
          Map.entry(415, "Unsupported Media Type"),
          Map.entry(416, "Unsupported URI Scheme"),
          Map.entry(420, "Bad Extension"),
          Map.entry(421, "Extension Required"),
          Map.entry(480, "Temporarily Unavailable"),
          Map.entry(481, "Call/Transaction Does Not Exist"),
          Map.entry(482, "Loop Detected"),
          Map.entry(483, "Too Many Hops"),
          Map.entry(486, "Busy Here"),
          Map.entry(487, "Request Terminated"),
          Map.entry(488, "Not Acceptable Here"),
          Map.entry(491, "Request Pending"),
          Map.entry(500, "Server Internal Error"),
          Map.entry(501, "Not Implemented"),
          Map.entry(503, "Service Unavailable"),
          Map.entry(504, "Server Time-out"),
          Map.entry(505, "Version Not Supported"),
          Map.entry(513, "Message Too Large"),
          Map.entry(603, "Decline"));

  private final int statusCode;
  private final String reasonPhrase;

  private SipResponse(int statusCode, String reasonPhrase, Headers headers, byte[] body)
      throws SipParseException {
    super(headers, body);
    this.statusCode = statusCode;
    this.reasonPhrase = reasonPhrase;
  }

  /** This response with one header field more (the body and its length unchanged). */
  public SipResponse withHeader(String name, String value) {
    try {
      return new SipResponse(
          statusCode, reasonPhrase, headers().toBuilder().add(name, value).build(), body());
    } catch (SipParseException e) {
      throw new IllegalArgumentException("header " + name + ": " + value + ": " + e.reason(), e);
    }
  }

  /**
   * A response from its parts, checked as the parser checks a received one.
   *
   * @throws SipParseException 400 with the reason when a part is malformed or a mandatory header is
   *     missing
   */
  static SipResponse create(int statusCode, String reasonPhrase, Headers headers, byte[] body)
      throws SipParseException {
    if (statusCode < 100 || statusCode > 699) {
      throw SipParseException.badRequest("status code " + statusCode + " is not 100-699");
    }
    return new SipResponse(statusCode, reasonPhrase, headers, body);
  }

  /** The default reason phrase of a status code, e.g. "Not Acceptable Here" for 488. */
  public static String reasonPhrase(int statusCode) {
    String r = REASONS.get(statusCode);
    if (r != null) return r;
    return switch (statusCode / 100) {
      case 1 -> "Provisional";
      case 2 -> "Success";
      case 3 -> "Redirection";
      case 4 -> "Client Error";
      case 5 -> "Server Error";
      default -> "Global Failure";
    };
  }

  public int statusCode() {
    return statusCode;
  }

  public String reasonPhrase() {
    return reasonPhrase;
  }

  /** 1xx. */
  public boolean isProvisional() {
    return statusCode < 200;
  }

  /** 2xx. */
  public boolean isSuccess() {
    return statusCode >= 200 && statusCode < 300;
  }

  @Override
  public String startLine() {
    return "SIP/2.0 " + statusCode + " " + reasonPhrase;
  }

  /**
   * A builder for the response to {@code request}, RFC 3261 §8.2.6: every Via, the From, the To,
   * the Call-ID and the CSeq are copied as received, so the client matches the response to its
   * transaction byte for byte; 100 Trying also copies the Timestamp (§8.2.6.1).
   */
  public static Builder to(SipRequest request, int statusCode) {
    return new Builder(request, statusCode);
  }

  /** Builds the response to one request; see {@link SipResponse#to}. */
  public static final class Builder {
    private final SipRequest request;
    private final int statusCode;
    private String reason;
    private String toTag;
    private final Headers.Builder extra = Headers.builder();
    private ContentType contentType;
    private byte[] body = new byte[0];

    private Builder(SipRequest request, int statusCode) {
      if (statusCode < 100 || statusCode > 699)
        throw new IllegalArgumentException("status " + statusCode);
      this.request = Objects.requireNonNull(request);
      this.statusCode = statusCode;
      this.reason = reasonPhrase(statusCode);
    }

    public Builder reason(String reason) {
      if (reason.indexOf('\r') >= 0 || reason.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("line break in reason phrase");
      }
      this.reason = reason;
      return this;
    }

    /**
     * The tag this server adds to the To header (§8.2.6.2), which makes it the local tag of the
     * dialog. Ignored when the request's To already has a tag: within a dialog the To of the
     * response must equal that of the request.
     */
    public Builder toTag(String tag) {
      this.toTag = tag;
      return this;
    }

    /** Adds a header field after the copied ones (Contact, Require, Supported, Allow, ...). */
    public Builder header(String name, String value) {
      if (Headers.canonicalName(name).equals("Content-Length")) {
        throw new IllegalArgumentException("Content-Length is computed from the body");
      }
      extra.add(name, value);
      return this;
    }

    public Builder body(ContentType type, byte[] body) {
      this.contentType = Objects.requireNonNull(type);
      this.body = body.clone();
      return this;
    }

    public SipResponse build() {
      Headers received = request.headers();
      Headers.Builder h = Headers.builder();
      for (String via : received.all("Via")) h.add("Via", via);
      h.add("From", received.first("From").orElseThrow());
      String to = received.first("To").orElseThrow();
      if (toTag != null && request.to().tag().isEmpty())
        to = request.to().withTag(toTag).toString();
      h.add("To", to);
      h.add("Call-ID", received.first("Call-ID").orElseThrow());
      h.add("CSeq", received.first("CSeq").orElseThrow());
      if (statusCode == 100) received.first("Timestamp").ifPresent(t -> h.add("Timestamp", t));
      for (Headers.Field f : extra.build().fields()) h.add(f.name(), f.value());
      if (contentType != null) h.set("Content-Type", contentType.toString());
      try {
        return create(statusCode, reason, h.build(), body);
      } catch (SipParseException e) {
        throw new IllegalStateException("response built from invalid parts: " + e.reason(), e);
      }
    }
  }
}
