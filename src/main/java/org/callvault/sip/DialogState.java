package org.callvault.sip;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What the recording server must remember of a SIP dialog to receive and send requests in it, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-12">RFC 3261 §12</a>: the state a UAS
 * creates from the INVITE (§12.1.1), checks every in-dialog request against (§12.2.2), and builds
 * its own BYE and re-INVITE from (§12.2.1.1).
 *
 * <pre>
 *   dialog id      Call-ID, local tag (our To tag), remote tag (their From tag)
 *   local URI      the To URI of the INVITE          -&gt; From of our requests
 *   remote URI     the From URI of the INVITE        -&gt; To of our requests
 *   remote target  the Contact URI of the INVITE (updated by re-INVITE/UPDATE)
 *   route set      the Record-Route values of the INVITE, in order (a UAS does not reverse them)
 *   local CSeq     the last CSeq number we sent, 0 before the first
 *   remote CSeq    the highest CSeq number received
 * </pre>
 *
 * <p>Kept in the call's ledger so that, after a failover, another node can send a re-INVITE or BYE
 * in this dialog: only strings, longs and a list of strings, immutable, every change returns a new
 * state. The ledger must hold the incremented local CSeq before the request built with it is sent,
 * or a node taking over could reuse the number.
 *
 * @param remoteTag empty when the client sent no From tag (RFC 2543 clients, §12.1.1)
 * @param routeSet Route values (name-addr) to put on our requests, in order
 */
public record DialogState(
    String callId,
    String localTag,
    String remoteTag,
    String localUri,
    String remoteUri,
    String remoteTarget,
    List<String> routeSet,
    long localCSeq,
    long remoteCSeq) {

  public DialogState {
    Objects.requireNonNull(callId);
    Objects.requireNonNull(localTag);
    Objects.requireNonNull(remoteTag);
    Objects.requireNonNull(localUri);
    Objects.requireNonNull(remoteUri);
    Objects.requireNonNull(remoteTarget);
    routeSet = List.copyOf(routeSet);
  }

  /** The identity of a dialog, §12: Call-ID and both tags, as seen from this server. */
  public record DialogId(String callId, String localTag, String remoteTag) {

    /** The dialog a received request belongs to: our tag is in its To, theirs in its From. */
    public static DialogId ofIncoming(SipRequest request) {
      return new DialogId(
          request.callId(), request.to().tag().orElse(""), request.from().tag().orElse(""));
    }
  }

  /** A request to send and the dialog state to persist before sending it. */
  public record Outgoing(DialogState state, SipRequest request) {}

  /**
   * The dialog a 2xx to this INVITE creates at the server (§12.1.1).
   *
   * @param localTag the To tag the server puts in its 2xx
   * @throws SipParseException 400 when the INVITE has no single usable Contact (§8.1.1.8 requires
   *     one; without it there is nowhere to send the BYE)
   */
  public static DialogState fromInvite(SipRequest invite, String localTag)
      throws SipParseException {
    if (!invite.isMethod("INVITE"))
      throw new IllegalArgumentException("not an INVITE: " + invite.method());
    if (invite.contacts().size() != 1 || invite.contacts().get(0).uri().equals("*")) {
      throw SipParseException.badRequest("INVITE must have exactly one Contact with a URI");
    }
    List<String> routes = new ArrayList<>();
    for (NameAddr rr : invite.recordRoutes()) routes.add(rr.toString());
    return new DialogState(
        invite.callId(),
        localTag,
        invite.from().tag().orElse(""),
        invite.to().uri(),
        invite.from().uri(),
        invite.contacts().get(0).uri(),
        routes,
        0,
        invite.cseq().number());
  }

  public DialogId id() {
    return new DialogId(callId, localTag, remoteTag);
  }

  /** Whether a received request belongs to this dialog. */
  public boolean matches(SipRequest request) {
    return DialogId.ofIncoming(request).equals(id());
  }

  /**
   * The dialog after a request from the peer (§12.2.2): the remote CSeq advances, and a target
   * refresh request (re-INVITE, UPDATE) with a Contact moves the remote target. ACK and CANCEL
   * carry the CSeq of the INVITE they belong to and change nothing. A request with the same CSeq as
   * the highest seen is accepted: §12.2.2 refuses only lower ones, and a retransmission with the
   * same number is absorbed by its transaction before it gets here.
   *
   * @throws SipParseException 500 when the CSeq is lower than one already received (§12.2.2)
   * @throws IllegalArgumentException when the request is not in this dialog, a caller bug
   */
  public DialogState acceptRemoteRequest(SipRequest request) throws SipParseException {
    if (!matches(request)) throw new IllegalArgumentException("request is not in dialog " + id());
    if (request.isMethod("ACK") || request.isMethod("CANCEL")) return this;
    long cseq = request.cseq().number();
    if (cseq < remoteCSeq) {
      throw new SipParseException(
          500,
          "CSeq " + cseq + " is lower than " + remoteCSeq + " already received in this dialog");
    }
    String target = remoteTarget;
    boolean targetRefresh = request.isMethod("INVITE") || request.isMethod("UPDATE");
    if (targetRefresh
        && request.contacts().size() == 1
        && !request.contacts().get(0).uri().equals("*")) {
      target = request.contacts().get(0).uri();
    }
    return new DialogState(
        callId, localTag, remoteTag, localUri, remoteUri, target, routeSet, localCSeq, cseq);
  }

  /**
   * A request the server sends in this dialog (§12.2.1.1), e.g. BYE or re-INVITE, with the next
   * local CSeq. Persist {@link Outgoing#state()} before sending {@link Outgoing#request()}.
   *
   * @param via the server's Via for this request, with a fresh branch ({@link Via#of})
   * @param contact the server's Contact (required in a re-INVITE, §12.2.1.1; may be null for BYE)
   * @param body the SDP for a re-INVITE, or null
   */
  public Outgoing newRequest(
      String method, Via via, NameAddr contact, ContentType bodyType, byte[] body) {
    // §12.2.1.1; a first request after an empty local CSeq gets 1
    return newRequest(method, localCSeq + 1, via, contact, bodyType, body);
  }

  /**
   * A request the server sends in this dialog with a CSeq number the caller chose, for a dialog
   * whose local sequence is kept elsewhere (the recorder's re-INVITE after a move takes the call's
   * media epoch, which every node reads alike). §12.2.1.1 only asks that the numbers increase; the
   * peer accepts any number above the last one it received from this side (§12.2.2).
   *
   * @throws IllegalArgumentException when {@code cseq} is not above the local CSeq or not below
   *     2<sup>31</sup> (§8.1.1.5): a caller bug
   */
  public Outgoing newRequest(
      String method, long cseq, Via via, NameAddr contact, ContentType bodyType, byte[] body) {
    if (method.equals("ACK") || method.equals("CANCEL")) {
      throw new IllegalArgumentException(method + " takes the CSeq of its INVITE; use ack()");
    }
    if (cseq <= localCSeq || cseq > CSeq.MAX_NUMBER) {
      throw new IllegalArgumentException(
          "CSeq " + cseq + " is not above " + localCSeq + " and below 2^31");
    }
    DialogState state =
        new DialogState(
            callId,
            localTag,
            remoteTag,
            localUri,
            remoteUri,
            remoteTarget,
            routeSet,
            cseq,
            remoteCSeq);
    return new Outgoing(state, build(method, cseq, via, contact, bodyType, body));
  }

  /**
   * A request without body; see {@link #newRequest(String, Via, NameAddr, ContentType, byte[])}.
   */
  public Outgoing newRequest(String method, Via via, NameAddr contact) {
    return newRequest(method, via, contact, null, null);
  }

  /**
   * The ACK for a 2xx to the server's own re-INVITE with CSeq {@code inviteCSeq} (§13.2.2.4): same
   * CSeq number, method ACK, routed like the re-INVITE, with its own Via branch.
   */
  public SipRequest ack(long inviteCSeq, Via via) {
    return build("ACK", inviteCSeq, via, null, null, null);
  }

  private SipRequest build(
      String method, long cseq, Via via, NameAddr contact, ContentType bodyType, byte[] body) {
    String requestUri = remoteTarget;
    List<String> routes = new ArrayList<>(routeSet);
    if (!routes.isEmpty() && !isLooseRoute(routes.get(0))) {
      // §12.2.1.1, strict routing (pre-RFC 3261 proxies): the first route becomes the Request-URI
      // and the remote target goes to the end of the Route list.
      requestUri = uriOf(routes.remove(0));
      routes.add("<" + remoteTarget + ">");
    }
    SipRequest.Builder b =
        SipRequest.builder(method, requestUri)
            .via(via)
            .from(NameAddr.of(localUri).withTag(localTag))
            .to(
                remoteTag.isEmpty()
                    ? NameAddr.of(remoteUri)
                    : NameAddr.of(remoteUri).withTag(remoteTag))
            .callId(callId)
            .cseq(cseq)
            .routes(routes);
    if (contact != null) b.contact(contact);
    if (bodyType != null && body != null) b.body(bodyType, body);
    return b.build();
  }

  /**
   * Where a request in this dialog goes (§8.1.2, §12.2.1.1): the first entry of the route set when
   * there is one (a loose router takes it on, a strict router is its Request-URI), else the remote
   * target.
   *
   * @throws SipParseException 400 when that URI is not a SIP or SIPS URI (say, a {@code tel:}
   *     Contact), so no address follows from it
   */
  public SipUri nextHop() throws SipParseException {
    return SipUri.parse(routeSet.isEmpty() ? remoteTarget : uriOf(routeSet.get(0)));
  }

  /** Whether a route's URI has the {@code lr} parameter of a loose router (§19.1.1). */
  static boolean isLooseRoute(String route) {
    String uri = uriOf(route).toLowerCase(Locale.ROOT);
    int at = uri.indexOf(";lr");
    while (at >= 0) {
      int end = at + 3;
      if (end == uri.length()
          || uri.charAt(end) == ';'
          || uri.charAt(end) == '='
          || uri.charAt(end) == '?') return true;
      at = uri.indexOf(";lr", end);
    }
    return false;
  }

  private static String uriOf(String route) {
    try {
      return NameAddr.parse(route).uri();
    } catch (SipParseException e) {
      // Route values in the state come from parsed Record-Route headers, so this is a corrupted
      // ledger entry, not network input.
      throw new IllegalStateException("route set entry is not a name-addr: " + route, e);
    }
  }
}
