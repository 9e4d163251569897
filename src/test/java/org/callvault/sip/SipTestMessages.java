package org.callvault.sip;

import java.nio.charset.StandardCharsets;

/** Messages written as text in the tests, with LF turned into the CRLF SIP needs. */
public final class SipTestMessages {

  private SipTestMessages() {}

  /** {@code text} with every LF replaced by CRLF, as UTF-8 bytes. */
  public static byte[] crlf(String text) {
    return text.replace("\r\n", "\n").replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
  }

  public static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  public static byte[] concat(byte[]... parts) {
    int total = 0;
    for (byte[] p : parts) total += p.length;
    byte[] out = new byte[total];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  public static final String SDP_BODY =
      """
      v=0
      o=SRC 2890844526 2890844526 IN IP4 198.51.100.1
      s=-
      c=IN IP4 198.51.100.1
      t=0 0
      m=audio 12240 RTP/AVP 0 8 101
      a=rtpmap:101 telephone-event/8000
      a=label:1
      a=sendonly
      m=audio 12242 RTP/AVP 0 8 101
      a=rtpmap:101 telephone-event/8000
      a=label:2
      a=sendonly
      """;

  /** A metadata document shaped like RFC 7866 §12.1's first INVITE. */
  public static final String METADATA_BODY =
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <recording xmlns='urn:ietf:params:xml:ns:recording:1'>
        <datamode>complete</datamode>
        <session session_id="0PdEJ5xu2vo4cVq3ukmsQw==">
          <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000</sipSessionID>
        </session>
        <participant participant_id="srfBElmCRp2QB23b7Mpk0w==">
          <nameID aor="sip:alice@example.com">
            <name xml:lang="it">Alice</name>
          </nameID>
        </participant>
        <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
          <nameID aor="sip:bob@example.com">
            <name xml:lang="it">Bob</name>
          </nameID>
        </participant>
        <stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="0PdEJ5xu2vo4cVq3ukmsQw==">
          <label>1</label>
        </stream>
        <stream stream_id="i1Pz3to5hGk8fuXl+PbwCw==" session_id="0PdEJ5xu2vo4cVq3ukmsQw==">
          <label>2</label>
        </stream>
        <participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w==">
          <send>UAAMm5GRQKSCMVvLyl4rFw==</send>
          <recv>i1Pz3to5hGk8fuXl+PbwCw==</recv>
        </participantstreamassoc>
        <participantstreamassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
          <send>i1Pz3to5hGk8fuXl+PbwCw==</send>
          <recv>UAAMm5GRQKSCMVvLyl4rFw==</recv>
        </participantstreamassoc>
      </recording>
      """;

  /** The multipart body of a SIPREC INVITE (RFC 7866 §12.1) with boundary {@code foobar}. */
  public static byte[] siprecBody() {
    return crlf(
        "--foobar\n"
            + "Content-Type: application/sdp\n\n"
            + SDP_BODY
            + "--foobar\n"
            + "Content-Type: application/rs-metadata+xml\n"
            + "Content-Disposition: recording-session\n\n"
            + METADATA_BODY
            + "--foobar--\n");
  }

  /** A complete SIPREC INVITE as an SBC sends it over UDP, Content-Length exact. */
  public static byte[] siprecInvite() {
    byte[] body = siprecBody();
    String head =
        """
        INVITE sip:recorder@srs.example.com SIP/2.0
        Via: SIP/2.0/UDP src.example.com:5060;branch=z9hG4bKdf6b622b648d9;rport
        Max-Forwards: 70
        From: "SRC" <sip:2000@src.example.com>;tag=35e195d2-947d-4585-946f-09839247
        To: <sip:recorder@srs.example.com>
        Call-ID: d253c800-b0d1ea39-4a7dd-3f0e20a
        Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000
        CSeq: 101 INVITE
        Require: siprec
        Supported: timer, replaces
        Accept: application/sdp, application/rs-metadata+xml
        Contact: <sip:2000@src.example.com:5060>;+sip.src
        Content-Type: multipart/mixed;boundary=foobar
        Content-Length: %d

        """
            .formatted(body.length);
    return concat(crlf(head), body);
  }
}
