package org.callvault.siprec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.callvault.call.Policy;
import org.callvault.sip.SipParser;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;
import org.callvault.sip.SipTestMessages;
import org.junit.jupiter.api.Test;

/** Which new INVITEs become calls, and under which policy, without a server or an entity. */
class AdmissionTest {

  private static final Policy DEFAULT =
      new Policy(
          Policy.ConsentMode.ONE_PARTY,
          Policy.OnDecline.STOP,
          true,
          300,
          Policy.PauseRendering.SILENCE,
          90);
  private static final Policy TRUNK =
      new Policy(
          Policy.ConsentMode.ALL_PARTY,
          Policy.OnDecline.STOP,
          false,
          60,
          Policy.PauseRendering.SKIP,
          30);

  private final AtomicInteger active = new AtomicInteger();
  private final Admission admission =
      new Admission(
          new RecordingServer.Settings(
              "sip:srs@10.0.0.5:5060",
              Set.of("192.0.2.10", "192.0.2.11"),
              DEFAULT,
              Map.of("192.0.2.11", TRUNK),
              2,
              7,
              "node",
              1800,
              90),
          active::get);

  /** An INVITE from {@code source} with these Require and Contact lines. */
  private static SipRequest invite(String source, String require, String contact) throws Exception {
    String text =
        "INVITE sip:srs@10.0.0.5 SIP/2.0\n"
            + "Via: SIP/2.0/UDP src.example.com:5062;branch=z9hG4bKadm;rport\n"
            + "From: <sip:src@example.com>;tag=s1\n"
            + "To: <sip:srs@10.0.0.5>\n"
            + "Call-ID: admission@src.example.com\n"
            + "CSeq: 1 INVITE\n"
            + require
            + "Contact: "
            + contact
            + "\n"
            + "Content-Length: 0\n\n";
    byte[] bytes = SipTestMessages.crlf(text);
    return ((SipRequest) new SipParser().parseDatagram(bytes, 0, bytes.length))
        .withSource(source, 5070);
  }

  private static SipRequest siprec(String source) throws Exception {
    return invite(source, "Require: siprec\n", "<sip:src@192.0.2.10>;+sip.src");
  }

  private static String header(SipResponse r, String name) {
    return r.headers().first(name).orElse(null);
  }

  @Test
  void aRecordingSessionFromAConfiguredSourceUnderTheLimitIsAdmitted() throws Exception {
    assertEquals(Optional.empty(), admission.refusal(siprec("192.0.2.10")));
    assertEquals(
        Optional.empty(),
        admission.refusal(invite("192.0.2.10", "Require: SIPREC\n", "<sip:src@192.0.2.10>")),
        "option tags have no case");
    assertEquals(
        Optional.empty(),
        admission.refusal(invite("192.0.2.10", "", "<sip:src@192.0.2.10>;+sip.src")),
        "RFC 7866 §6.1.1: the feature tag alone will do");
  }

  @Test
  void anUnconfiguredSourceIsForbiddenBeforeAnythingElseIsLookedAt() throws Exception {
    SipResponse r =
        admission
            .refusal(invite("198.51.100.9", "Require: foo\n", "<sip:src@198.51.100.9>"))
            .orElseThrow();
    assertEquals(
        "SIP/2.0 403 Forbidden: 198.51.100.9 is not a configured recording client", r.startLine());
    assertEquals(null, header(r, "Warning"));
    assertTrue(r.to().tag().isPresent());
  }

  @Test
  void anOptionTagThisServerDoesNotSupportGets420NamingIt() throws Exception {
    SipResponse r =
        admission
            .refusal(
                invite(
                    "192.0.2.10",
                    "Require: siprec, foo, 100rel\n",
                    "<sip:src@192.0.2.10>;+sip.src"))
            .orElseThrow();
    assertEquals("SIP/2.0 420 Bad Extension: foo, 100rel", r.startLine());
    assertEquals("foo, 100rel", header(r, "Unsupported"));
  }

  @Test
  void aCallThatIsNoRecordingSessionGets488WithAWarning() throws Exception {
    SipResponse r =
        admission.refusal(invite("192.0.2.10", "", "<sip:src@192.0.2.10>")).orElseThrow();
    assertEquals(
        "SIP/2.0 488 Not Acceptable Here: not a recording session (expected Require: siprec or a"
            + " +sip.src Contact)",
        r.startLine());
    assertEquals(
        "399 callvault \"not a recording session (expected Require: siprec or a +sip.src"
            + " Contact)\"",
        header(r, "Warning"));
  }

  @Test
  void atTheCallLimitASessionGets503WithRetryAfterButOnlyOneItWouldTake() throws Exception {
    active.set(2);
    SipResponse r = admission.refusal(siprec("192.0.2.10")).orElseThrow();
    assertEquals(
        "SIP/2.0 503 Service Unavailable: this recorder is at its limit of 2 calls", r.startLine());
    assertEquals("7", header(r, "Retry-After"));
    assertEquals(
        488,
        admission
            .refusal(invite("192.0.2.10", "", "<sip:src@192.0.2.10>"))
            .orElseThrow()
            .statusCode(),
        "not told to come back");
    active.set(1);
    assertEquals(Optional.empty(), admission.refusal(siprec("192.0.2.10")));
  }

  @Test
  void aSourceWithAPolicyOfItsOwnGetsItAndOthersTheDefault() {
    assertEquals(TRUNK, admission.policyOf("192.0.2.11"));
    assertEquals(DEFAULT, admission.policyOf("192.0.2.10"));
  }

  @Test
  void theSourceIsWhereThePacketCameFromNotWhatTheViaClaims() throws Exception {
    SipRequest r = siprec("192.0.2.10");
    assertEquals("192.0.2.10", Admission.sourceOf(r), "received, as stamped on receipt");
    assertEquals(5070, Admission.sourcePortOf(r), "rport");
    String plain =
        "OPTIONS sip:srs@10.0.0.5 SIP/2.0\n"
            + "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKo\n"
            + "From: <sip:a@b>;tag=1\n"
            + "To: <sip:srs@10.0.0.5>\n"
            + "Call-ID: o@b\n"
            + "CSeq: 1 OPTIONS\n"
            + "Content-Length: 0\n\n";
    byte[] bytes = SipTestMessages.crlf(plain);
    SipRequest options = (SipRequest) new SipParser().parseDatagram(bytes, 0, bytes.length);
    assertEquals("192.0.2.10", Admission.sourceOf(options), "no received: the sent-by host");
    assertEquals(5060, Admission.sourcePortOf(options), "no port anywhere: 5060");
  }
}
