/**
 * The protocol layer of CallVault's SIPREC recording server (<a
 * href="https://www.rfc-editor.org/rfc/rfc7866">RFC 7866</a>): SIP messages, transactions and
 * dialogs (<a href="https://www.rfc-editor.org/rfc/rfc3261">RFC 3261</a>), the multipart bodies
 * that carry SDP (<a href="https://www.rfc-editor.org/rfc/rfc8866">RFC 8866</a>) and recording
 * metadata (<a href="https://www.rfc-editor.org/rfc/rfc7865">RFC 7865</a>), and the SDP answer.
 * Plain Java with no framework imports: the Netty handlers and the call entity use it, it uses
 * neither.
 *
 * <p>How a request travels through it:
 *
 * <pre>
 * datagram / stream bytes
 *   SipParser.keepAliveLength            CRLF keep-alives: drop (UDP) or answer CRLF (TCP)
 *   SipParser.streamMessageLength        TCP/TLS framing; an exception means: answer, close
 *   SipParser.parseDatagram / parseStreamMessage
 *     SipParseException                  count it; send e.answer(SipIds.newTag()) if present
 *   SipRequest.withSource(addr, port)    received/rport on the top Via (§18.2.1, RFC 3581)
 *   ServerTransactions.receive           retransmissions absorbed, 100 Trying, CANCEL, 2xx
 *     TransactionUser.onRequest          each request once
 *       DialogState.DialogId.ofIncoming  in-dialog? then DialogState.acceptRemoteRequest (500)
 *       SiprecBody.of                    SDP and metadata parts (400, 415)
 *       Sdp.parse, RecordingMetadata.parse          (400)
 *       SdpAnswer.answer                 none accepted: answer 488
 *       DialogState.fromInvite           persist with the SdpOrigin, then
 *       ServerTransaction.respond(SipResponse.to(invite, 200)...)
 * </pre>
 *
 * <p>Errors are {@link org.callvault.sip.SipParseException}s that carry the status to answer and a
 * reason precise enough for the reason phrase. Every parser refuses bad input that way and never
 * with another exception (see {@code ParserRobustnessTest}); an {@code IllegalArgumentException}
 * or {@code IllegalStateException} always means a bug in the calling code.
 *
 * <p>Threading: parsers and value types are immutable or stateless and may be shared; {@link
 * org.callvault.sip.ServerTransactions} is confined to one thread together with its {@link
 * org.callvault.sip.SipTimers}.
 *
 * <p>Not here yet: client transactions for the requests the server sends itself (BYE, re-INVITE:
 * Timers A/B/E/F/K and response matching), and an SDP offer for a re-INVITE after failover.
 */
package org.callvault.sip;
