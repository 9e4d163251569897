package org.callvault.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The session timer the recording server answers (RFC 4028 §9), from the request's headers. */
class SessionTimerTest {

  private final SipParser parser = new SipParser();

  private SipRequest request(String headers) throws SipParseException {
    byte[] data =
        SipTestMessages.crlf(
            "UPDATE sip:srs@10.0.0.5 SIP/2.0\n"
                + "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\n"
                + "Max-Forwards: 70\n"
                + "From: <sip:src@example.com>;tag=a\n"
                + "To: <sip:srs@10.0.0.5>;tag=b\n"
                + "Call-ID: c-1\n"
                + "CSeq: 7 UPDATE\n"
                + headers
                + "Content-Length: 0\n\n");
    return (SipRequest) parser.parseDatagram(data, 0, data.length);
  }

  private Optional<SessionTimer> answer(String headers) throws SipParseException {
    return SessionTimer.answer(request(headers), 1800, 90);
  }

  @Test
  void aClientWithoutTimersGetsNone() throws SipParseException {
    assertEquals(Optional.empty(), answer(""));
    assertEquals(Optional.empty(), answer("Supported: 100rel, siprec\n"));
  }

  @Test
  void theIntervalIsTheOneAskedForAtMostThisSidesAndTheClientRefreshes() throws SipParseException {
    assertEquals(new SessionTimer(1800, "uac"), answer("Supported: timer\n").orElseThrow());
    assertEquals(new SessionTimer(600, "uac"), answer("Session-Expires: 600\n").orElseThrow());
    assertEquals(
        new SessionTimer(1800, "uac"), answer("k: timer\nx: 7200;refresher=uac\n").orElseThrow());
    SessionTimer uas = answer("Session-Expires: 300;refresher=UAS\n").orElseThrow();
    assertEquals(new SessionTimer(300, "uas"), uas);
    assertFalse(uas.clientRefreshes());
    assertTrue(answer("Require: timer\n").orElseThrow().clientRefreshes());
    assertEquals("600;refresher=uac", answer("Session-Expires: 600\n").orElseThrow().value());
  }

  @Test
  void neverUnderEitherSidesMinimum() throws SipParseException {
    assertEquals(
        new SessionTimer(1800, "uac"),
        answer("Session-Expires: 120\nMin-SE: 1800\n").orElseThrow(),
        "the client's Min-SE raises the interval");
    SipParseException small =
        assertThrows(SipParseException.class, () -> answer("Session-Expires: 89\n"));
    assertEquals(422, small.statusCode());
    assertTrue(SessionTimer.isTooSmall(small));
  }

  @Test
  void malformedValuesAreRefusedWith400() {
    for (String bad :
        new String[] {
          "Session-Expires: soon\n",
          "Session-Expires: -5\n",
          "Session-Expires: 99999999999\n",
          "Session-Expires: 600;refresher=proxy\n",
          "Supported: timer\nMin-SE: x\n"
        }) {
      SipParseException e = assertThrows(SipParseException.class, () -> answer(bad), bad);
      assertEquals(400, e.statusCode(), bad);
    }
  }
}
