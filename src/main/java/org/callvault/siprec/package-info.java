/**
 * CallVault's Session Recording Server (<a href="https://www.rfc-editor.org/rfc/rfc7866">RFC
 * 7866</a>): SIP over UDP and TCP in front of the call entities. The protocol is {@code
 * org.callvault.sip}; this package decides what each request does to its call, through {@code
 * org.callvault.call.Calls}, and wires the protocol to Netty. It knows nothing of the cluster: the
 * node builds it and tells it when a call's media moved.
 *
 * <pre>
 * SipTransport      Netty on one thread: UDP and TCP on one port, parsing, the server and client
 *                   transactions, every SIP timer (SipTimers on that event loop)
 * RecordingServer   the transaction user: what each request does to its call, answered once the
 *                   call's entity has; the re-INVITE after a move
 * Admission         whether a new INVITE may become a call (403, 420, 488, 503) and its policy
 * CallMapping       offer and metadata to streams and parties; the dialog to and from the ledger
 * Answers           how the server's responses read
 * </pre>
 *
 * <p>How a request travels:
 *
 * <pre>
 * UDP datagram or TCP bytes            SipTransport, on the thread callvault-sip
 *   SipParser                          malformed: counted (refused()), answered with its status
 *   ServerTransactions.receive         a retransmission absorbed; an INVITE gets 100 Trying at
 *                                      once; a CANCEL 200, its INVITE 487
 *   RecordingServer.onRequest
 *     INVITE, no To tag                Admission.refusal, else the body parsed,
 *                                      CallMapping.recorded, CallSpec, Calls.create
 *     INVITE in a dialog               CallMapping.recorded and amendment, Calls.amend, then
 *                                      Calls.pause (every stream inactive) or Calls.resume
 *     BYE                              Calls.stop
 *     OPTIONS                          Answers.options, at once
 *   ... the entity persists, binds media, replies on its own thread ...
 *   RecordingServer.answerLater        back on callvault-sip: Answers.ok with the ports the call
 *                                      bound, or the refusal; a call whose INVITE was cancelled
 *                                      meanwhile is stopped by "sip:CANCEL"
 *   ServerTransaction.respond          a 200 to an INVITE is sent again until its ACK
 * </pre>
 *
 * <p>After a call's media moved, the node that answered its INVITE (the address the SRC knows), or
 * the node that holds the call when that one is gone, is asked {@link
 * org.callvault.siprec.RecordingServer#mediaMoved}: CallMapping.dialogOf and offered rebuild the
 * dialog and streams from the ledger, MediaReInvite builds the re-INVITE with the media epoch as
 * its CSeq, SipTransport.Client sends it in a client transaction, and its 2xx is ACKed.
 *
 * <p>Threading: everything here runs on the transport's one thread; the entity's replies come back
 * to it through the {@code loop} executor, and {@code mediaMoved} may be called from any thread.
 */
package org.callvault.siprec;
