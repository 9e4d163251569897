package org.callvault.sip;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A SIP request, <a href="https://www.rfc-editor.org/rfc/rfc3261#section-7.1">RFC 3261 §7.1</a>.
 *
 * <pre>
 * Request-Line  =  Method SP Request-URI SP SIP-Version CRLF
 *
 * INVITE sip:recorder@srs.example.com SIP/2.0
 * </pre>
 *
 * <p>Received requests come from {@link SipParser}; requests the server sends (BYE, re-INVITE
 * within a recording dialog) are built with {@link #builder(String, String)}, usually through
 * {@link DialogState#newRequest}. Immutable.
 */
public final class SipRequest extends SipMessage {

  private final String method;
  private final String requestUri;

  private SipRequest(String method, String requestUri, Headers headers, byte[] body)
      throws SipParseException {
    super(headers, body);
    this.method = method;
    this.requestUri = requestUri;
    // §8.2 relies on CSeq naming the request's own method: a mismatch means a broken client or a
    // forged message, and a transaction keyed on it would match the wrong request.
    if (!cseq().method().equals(method)) {
      throw SipParseException.badRequest(
          "CSeq method " + cseq().method() + " does not match request method " + method);
    }
  }

  /**
   * A request from its parts, checked as the parser checks a received one.
   *
   * @throws SipParseException 400 with the reason when a part is malformed or a mandatory header is
   *     missing
   */
  static SipRequest create(String method, String requestUri, Headers headers, byte[] body)
      throws SipParseException {
    if (!SipText.isToken(method)) {
      throw SipParseException.badRequest(
          "malformed method \"" + SipText.printable(method, 20) + "\"");
    }
    if (!SipText.isAbsoluteUri(requestUri)) {
      throw SipParseException.badRequest(
          "malformed Request-URI \"" + SipText.printable(requestUri, 80) + "\"");
    }
    return new SipRequest(method, requestUri, headers, body);
  }

  /** The method, case-sensitive as §7.1 says, e.g. {@code INVITE}. */
  public String method() {
    return method;
  }

  public String requestUri() {
    return requestUri;
  }

  /**
   * This request as the server must see it after receipt (RFC 3261 §18.2.1, RFC 3581 §4): the top
   * Via stamped with {@code received} (and {@code rport} when the client asked for it) from the
   * packet's source, so that the responses built from it by {@link SipResponse#to} carry them back.
   * Returns this request when the stamp changes nothing. Transaction matching is unaffected: it
   * uses the branch and sent-by, which stay as they were.
   */
  public SipRequest withSource(String sourceAddress, int sourcePort) {
    Via stamped = topVia().stampedWithSource(sourceAddress, sourcePort);
    if (stamped.equals(topVia())) return this;
    Headers.Builder h = Headers.builder();
    boolean top = true;
    for (Headers.Field f : headers().fields()) {
      if (top && f.name().equals("Via")) {
        h.add("Via", stamped.toString());
        top = false;
      } else {
        h.add(f.name(), f.value());
      }
    }
    try {
      return create(method, requestUri, h.build(), body());
    } catch (SipParseException e) {
      throw new IllegalStateException("stamping the Via broke a parsed request: " + e.reason(), e);
    }
  }

  public boolean isMethod(String m) {
    return method.equals(m);
  }

  @Override
  public String startLine() {
    return method + " " + requestUri + " SIP/2.0";
  }

  /**
   * A builder for a request this server sends (§8.1.1): Max-Forwards 70 unless set, a Via with a
   * fresh {@code z9hG4bK} branch from {@link #via(String, String, int)}.
   */
  public static Builder builder(String method, String requestUri) {
    return new Builder(method, requestUri);
  }

  /** Builds a request the server sends; see {@link SipRequest#builder}. */
  public static final class Builder {
    private final String method;
    private final String requestUri;
    private Via via;
    private NameAddr from;
    private NameAddr to;
    private String callId;
    private Long cseq;
    private int maxForwards = 70;
    private NameAddr contact;
    private final List<String> routes = new ArrayList<>();
    private final Headers.Builder extra = Headers.builder();
    private ContentType contentType;
    private byte[] body = new byte[0];

    private Builder(String method, String requestUri) {
      this.method = Objects.requireNonNull(method);
      this.requestUri = Objects.requireNonNull(requestUri);
    }

    /** The Via of this server with a fresh branch (§8.1.1.7); {@code port} -1 for the default. */
    public Builder via(String transport, String host, int port) {
      this.via = Via.of(transport, host, port);
      return this;
    }

    /** A Via given whole, e.g. to reuse the branch of the INVITE for a CANCEL (§9.1). */
    public Builder via(Via via) {
      this.via = via;
      return this;
    }

    public Builder from(NameAddr from) {
      this.from = from;
      return this;
    }

    public Builder to(NameAddr to) {
      this.to = to;
      return this;
    }

    public Builder callId(String callId) {
      this.callId = callId;
      return this;
    }

    /** The CSeq number; the method is the request's own. */
    public Builder cseq(long number) {
      this.cseq = number;
      return this;
    }

    public Builder maxForwards(int maxForwards) {
      this.maxForwards = maxForwards;
      return this;
    }

    public Builder contact(NameAddr contact) {
      this.contact = contact;
      return this;
    }

    /** Appends one Route value (a name-addr, as kept in a route set). */
    public Builder route(String route) {
      routes.add(route);
      return this;
    }

    public Builder routes(List<String> routeSet) {
      routes.addAll(routeSet);
      return this;
    }

    /** Adds any other header field; Content-Length is always computed and may not be given. */
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

    /**
     * The request.
     *
     * @throws IllegalStateException when Via, From, To, Call-ID or CSeq is missing or a value does
     *     not parse: a bug in the caller, not bad input from the network
     */
    public SipRequest build() {
      if (via == null || from == null || to == null || callId == null || cseq == null) {
        throw new IllegalStateException("a request needs Via, From, To, Call-ID and CSeq");
      }
      Headers.Builder h = Headers.builder();
      h.add("Via", via.toString());
      h.add("Max-Forwards", Integer.toString(maxForwards));
      for (String route : routes) h.add("Route", route);
      h.add("From", from.toString());
      h.add("To", to.toString());
      h.add("Call-ID", callId);
      h.add("CSeq", cseq + " " + method);
      if (contact != null) h.add("Contact", contact.toString());
      for (Headers.Field f : extra.build().fields()) h.add(f.name(), f.value());
      if (contentType != null) h.set("Content-Type", contentType.toString());
      try {
        return create(method, requestUri, h.build(), body);
      } catch (SipParseException e) {
        throw new IllegalStateException("request built from invalid parts: " + e.reason(), e);
      }
    }
  }
}
