package org.callvault.siprec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.callvault.call.CallRecording;
import org.callvault.sip.SipParser;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;
import org.callvault.sip.SipTestMessages;
import org.junit.jupiter.api.Test;

/** How the server's own responses read, without a server. */
class AnswersTest {

  private static SipRequest request(String method) throws Exception {
    String text =
        method
            + " sip:srs@10.0.0.5 SIP/2.0\n"
            + "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKans\n"
            + "From: <sip:src@example.com>;tag=s1\n"
            + "To: <sip:srs@10.0.0.5>"
            + (method.equals("BYE") ? ";tag=r1" : "")
            + "\n"
            + "Call-ID: answers@src.example.com\n"
            + "CSeq: 2 "
            + method
            + "\n"
            + "Content-Length: 0\n\n";
    byte[] bytes = SipTestMessages.crlf(text);
    return (SipRequest) new SipParser().parseDatagram(bytes, 0, bytes.length);
  }

  private static String header(SipResponse r, String name) {
    return r.headers().first(name).orElse(null);
  }

  @Test
  void aRefusalSaysWhyInItsStatusLineAndA488AlsoInAWarning() throws Exception {
    SipResponse forbidden = Answers.refusal(request("INVITE"), 403, "Forbidden: no");
    assertEquals("SIP/2.0 403 Forbidden: no", forbidden.startLine());
    assertNull(header(forbidden, "Warning"));
    assertTrue(forbidden.to().tag().isPresent(), "a To tag of its own");
    SipResponse refused =
        Answers.refusal(request("INVITE"), 488, "Not Acceptable Here: m-line 0 is \"video\"");
    assertEquals("SIP/2.0 488 Not Acceptable Here: m-line 0 is \"video\"", refused.startLine());
    assertEquals(
        "399 callvault \"m-line 0 is 'video'\"",
        header(refused, "Warning"),
        "RFC 3261 §20.43: the text after the status, quoted");
    SipResponse broken =
        Answers.refusal(request("INVITE"), 488, "Not Acceptable Here: one\r\nVia: injected");
    assertEquals(
        "SIP/2.0 488 Not Acceptable Here: one  Via: injected",
        broken.startLine(),
        "no line break in a reason phrase");
    assertEquals(
        "399 callvault \"one  Via: injected\"", header(broken, "Warning"), "nor in the Warning");
    assertEquals(1, broken.headers().all("Via").size());
  }

  @Test
  void aCallsRefusalBecomesTheStatusItsCauseCallsFor() throws Exception {
    assertEquals(
        "SIP/2.0 481 Call/Transaction Does Not Exist: no call 'x'",
        Answers.rejected(
                request("BYE"),
                new CallRecording.Rejected(CallRecording.Rejection.NOT_FOUND, "no call 'x'"))
            .startLine());
    assertEquals(
        200,
        Answers.rejected(
                request("BYE"),
                new CallRecording.Rejected(CallRecording.Rejection.CONFLICT, "already stopped"))
            .statusCode(),
        "a BYE for a stopped call did its work");
    assertEquals(
        488,
        Answers.rejected(
                request("INVITE"),
                new CallRecording.Rejected(CallRecording.Rejection.CONFLICT, "exists"))
            .statusCode());
    assertEquals(
        488,
        Answers.rejected(
                request("INVITE"),
                new CallRecording.Rejected(CallRecording.Rejection.INVALID, "bad"))
            .statusCode());
  }

  @Test
  void aCallThatDidNotAnswerIsA503WithRetryAfter() throws Exception {
    SipResponse late =
        Answers.notAnswered(request("INVITE"), new CompletionException(new TimeoutException()), 7);
    assertEquals(
        "SIP/2.0 503 Service Unavailable: the recording did not answer in time", late.startLine());
    assertEquals("7", header(late, "Retry-After"));
    assertEquals(
        "SIP/2.0 503 Service Unavailable",
        Answers.notAnswered(request("INVITE"), new IllegalStateException("down"), 7).startLine());
  }

  @Test
  void optionsSayWhatTheServerTakes() throws Exception {
    SipResponse ok = Answers.options(request("OPTIONS"));
    assertEquals(200, ok.statusCode());
    assertEquals(
        "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE", String.join(", ", ok.headers().all("Allow")));
    assertEquals("siprec, timer", String.join(", ", ok.headers().all("Supported")));
    assertEquals(
        "application/sdp, application/rs-metadata+xml, multipart/mixed",
        String.join(", ", ok.headers().all("Accept")));
  }
}
