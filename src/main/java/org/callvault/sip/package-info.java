/**
 * The SIP protocol of CallVault's SIPREC recording server (<a
 * href="https://www.rfc-editor.org/rfc/rfc7866">RFC 7866</a>): SIP messages, their parser and
 * builders, URIs and header values, server transactions and the client transaction of the server's
 * own re-INVITE, dialogs (<a href="https://www.rfc-editor.org/rfc/rfc3261">RFC 3261</a>), the
 * multipart bodies that carry SDP (<a href="https://www.rfc-editor.org/rfc/rfc8866">RFC 8866</a>)
 * and recording metadata (<a href="https://www.rfc-editor.org/rfc/rfc7865">RFC 7865</a>), the SDP
 * answer to a recording client's offer and the server's own offer after a call moved. Plain Java
 * with no framework imports and none of the rest of CallVault: {@code org.callvault.siprec} (the
 * server and its Netty transport) uses it; calls, media and the cluster never see a SIP type.
 *
 * <pre>
 * SipParser, SipParseException           bytes to messages; a refusal carries its status and reason
 * SipMessage, SipRequest, SipResponse,   the messages, immutable, with builders for what the server
 *   Headers, MessageHeaders                sends (§8.1.1, §8.2.6)
 * Via, NameAddr, SipUri, CSeq,           header values; SipUri: the host and port a request to a
 *   ContentType, ContentDisposition        URI goes to
 * ServerTransactions, ServerTransaction, §17.2: retransmissions absorbed, 100 Trying, CANCEL, every
 *   OkRetransmissions                      2xx sent again until its ACK
 * ClientTransactions                     §17.1.1: the server's own INVITEs (Timers A, B, D)
 * SipTimers                              the clock both kinds of transaction run on
 * DialogState, SipIds                    §12: a dialog, kept in the ledger; fresh tags and branches
 * SiprecBody, Multipart, Sdp,            the body of a SIPREC INVITE
 *   RecordingMetadata
 * SdpAnswer, SdpOrigin                   the server's answer to an offer
 * MediaReInvite, SdpOffer                the server's re-INVITE after a call's media moved
 * </pre>
 *
 * <p>How a request travels through it (the decisions in between are {@code siprec}'s):
 *
 * <pre>
 * datagram / stream bytes
 *   SipParser.keepAliveLength            CRLF keep-alives: drop (UDP) or answer CRLF (TCP)
 *   SipParser.streamMessageLength        TCP framing; an exception means: answer, close
 *   SipParser.parseDatagram / parseStreamMessage
 *     SipParseException                  count it; send e.answer(SipIds.newTag()) if present
 *   SipRequest.withSource(addr, port)    received/rport on the top Via (§18.2.1, RFC 3581)
 *   ServerTransactions.receive           retransmissions absorbed, 100 Trying, CANCEL, 2xx
 *     TransactionUser.onRequest          each request once
 *       SiprecBody.of                    SDP and metadata parts (400, 415)
 *       Sdp.parse, RecordingMetadata.parse          (400)
 *       DialogState.fromInvite           a new dialog (400 without a usable Contact)
 *       SdpAnswer.answer                 the SDP of the 200, one m-line per offered one
 *       ServerTransaction.respond(SipResponse.to(invite, 200)...)
 * </pre>
 *
 * <p>And the server's own re-INVITE, after a call's media moved to another node:
 *
 * <pre>
 * DialogState (from the ledger)
 *   MediaReInvite.build(dialog, cseq, contact, origin, address, streams)
 *     DialogState.nextHop                the first route, else the remote target (SipUri)
 *     DialogState.newRequest             in the dialog, with the CSeq the caller chose
 *     SdpOffer.recvonly                  every stream at its new port
 *   ClientTransactions.invite            sent, retransmitted, given up at Timer B
 *   ClientTransactions.receive(response) 1xx: no more retransmissions; 300-699: ACKed here
 *     Outcome.answered(2xx)              the user sends MediaReInvite.ack (§13.2.2.4)
 * </pre>
 *
 * <p>Errors are {@link org.callvault.sip.SipParseException}s that carry the status to answer and a
 * reason precise enough for the reason phrase. Every parser refuses bad input that way and never
 * with another exception (see {@code ParserRobustnessTest}); an {@code IllegalArgumentException} or
 * {@code IllegalStateException} always means a bug in the calling code.
 *
 * <p>Threading: parsers and value types are immutable or stateless and may be shared; {@link
 * org.callvault.sip.ServerTransactions} and {@link org.callvault.sip.ClientTransactions} are
 * confined to one thread together with their {@link org.callvault.sip.SipTimers}.
 *
 * <p>Not here: client transactions of other methods (Timers E, F and K; the server sends no BYE of
 * its own), RFC 6026's Accepted state (a 2xx retransmitted after the first one finds no
 * transaction), RFC 3263's DNS procedures (a URI's host is taken as the address), and TLS.
 */
package org.callvault.sip;
