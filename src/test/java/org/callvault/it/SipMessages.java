package org.callvault.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SIP requests the tests send without sipp, as exact texts: a valid SIPREC INVITE (sent twice as a
 * retransmission), and the malformed or unacceptable requests that sipp cannot send, each with the
 * status the recording server must answer. Plus the raw exchange over a plain socket.
 *
 * <p>Texts are written with LF; {@link Message#bytes} turns every LF into CRLF and fills in: {@code
 * {{local}}} the sending socket's host:port, {@code {{server}}} the server's, {@code {{id}}} a
 * token unique to the send (in Call-ID, branch and tags, so no two sends are one transaction) and
 * {@code {{length}}} the body's length in bytes. A message that lies about its Content-Length has
 * the number written out.
 */
final class SipMessages {

  private SipMessages() {}

  /**
   * The expected "status" of a request the server must drop without answering: one without a Via
   * has nowhere to be answered along. A request missing From, To, Call-ID or CSeq is answered 400
   * with the headers it has, so that whoever reads the trace learns why ({@code
   * SipParseException#answer}).
   */
  static final int NO_ANSWER = 0;

  enum Transport {
    UDP,
    TCP
  }

  /**
   * A request and what the server must answer.
   *
   * @param fault what is wrong with it, in words, for assertion messages
   * @param expectedStatus the final status the server answers, or {@link #NO_ANSWER}
   */
  record Message(String fault, Transport transport, String text, int expectedStatus) {

    /** The bytes to send from {@code local} to {@code server}, with CRLF line ends. */
    byte[] bytes(InetSocketAddress local, InetSocketAddress server, String id) {
      String filled =
          text.replace("{{local}}", hostPort(local))
              .replace("{{server}}", hostPort(server))
              .replace("{{id}}", id)
              .replace("\r\n", "\n")
              .replace("\n", "\r\n");
      int bodyStart = filled.indexOf("\r\n\r\n") + 4;
      int length = filled.substring(bodyStart).getBytes(StandardCharsets.UTF_8).length;
      return filled.replace("{{length}}", String.valueOf(length)).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return fault
          + " (expect "
          + (expectedStatus == NO_ANSWER ? "no answer" : expectedStatus)
          + ")";
    }
  }

  /** The SDP offer of a SIPREC INVITE: two sendonly PCMU streams, labels 1 and 2. */
  static final String SDP =
      """
      v=0
      o=SRC 1 1 IN IP4 127.0.0.1
      s=SIPREC
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio 49170 RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendonly
      a=label:1
      m=audio 49172 RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendonly
      a=label:2
      """;

  /** RFC 7865 metadata: Alice sends on label 1, Bob on label 2 (ids fixed; Call-IDs differ). */
  static final String METADATA =
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <recording xmlns="urn:ietf:params:xml:ns:recording:1">
        <dataMode>complete</dataMode>
        <group group_id="7+OTCyoxTmqmqyA/1weDAg=="/>
        <session session_id="0PdEJ5xu2vo4cVq3ukmsQw==">
          <group-ref>7+OTCyoxTmqmqyA/1weDAg==</group-ref>
        </session>
        <participant participant_id="srfBElmCRp2QB23b7Mpk0w==">
          <nameID aor="sip:alice@example.com"><name>Alice Agent</name></nameID>
        </participant>
        <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
          <nameID aor="sip:bob@example.com"><name>Bob Customer</name></nameID>
        </participant>
        <stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="0PdEJ5xu2vo4cVq3ukmsQw=="><label>1</label></stream>
        <stream stream_id="i1Pz3to5hGk8fuXl+PbwCw==" session_id="0PdEJ5xu2vo4cVq3ukmsQw=="><label>2</label></stream>
        <participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w==">
          <send>UAAMm5GRQKSCMVvLyl4rFw==</send>
        </participantstreamassoc>
        <participantstreamassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
          <send>i1Pz3to5hGk8fuXl+PbwCw==</send>
        </participantstreamassoc>
      </recording>
      """;

  /** The multipart body of a SIPREC INVITE; the last CRLF before each delimiter belongs to it. */
  static final String SIPREC_BODY =
      "--sipmessages-boundary\n"
          + "Content-Type: application/sdp\n\n"
          + SDP
          + "--sipmessages-boundary\n"
          + "Content-Type: application/rs-metadata+xml\n"
          + "Content-Disposition: recording-session\n\n"
          + METADATA
          + "--sipmessages-boundary--\n";

  /** A valid SIPREC INVITE: the server answers 100 and 200 (retransmit test sends it twice). */
  static final Message SIPREC_INVITE =
      new Message(
          "none",
          Transport.UDP,
          """
          INVITE sip:srs@{{server}} SIP/2.0
          Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
          Max-Forwards: 70
          From: <sip:src@{{local}}>;tag=src-{{id}}
          To: <sip:srs@{{server}}>
          Call-ID: {{id}}@sipmessages
          CSeq: 1 INVITE
          Require: siprec
          Contact: <sip:src@{{local}}>;+sip.src
          Content-Type: multipart/mixed;boundary=sipmessages-boundary
          Content-Length: {{length}}

          """
              + SIPREC_BODY,
          200);

  /** The head of a well-formed SIPREC INVITE up to (not including) Content-Type. */
  private static final String INVITE_HEAD =
      """
      INVITE sip:srs@{{server}} SIP/2.0
      Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
      Max-Forwards: 70
      From: <sip:src@{{local}}>;tag=src-{{id}}
      To: <sip:srs@{{server}}>
      Call-ID: {{id}}@sipmessages
      CSeq: 1 INVITE
      Require: siprec
      Contact: <sip:src@{{local}}>;+sip.src
      """;

  /** Requests the server must refuse, each with the status it must answer (or none). */
  static final List<Message> MALFORMED =
      List.of(
          new Message(
              "request line without a SIP version",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}}
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Length: 0

              """,
              400),
          new Message(
              "SIP/3.0",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/3.0
              Via: SIP/3.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Length: 0

              """,
              505),
          new Message(
              "no Via",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Length: 0

              """,
              NO_ANSWER),
          new Message(
              "no From",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Length: 0

              """,
              400),
          new Message(
              "no To",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Length: 0

              """,
              400),
          new Message(
              "no Call-ID",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              CSeq: 1 OPTIONS
              Content-Length: 0

              """,
              400),
          new Message(
              "no CSeq",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              Content-Length: 0

              """,
              400),
          new Message(
              "CSeq method is not the request's",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 INVITE
              Content-Length: 0

              """,
              400),
          new Message(
              "Content-Length larger than the body received",
              Transport.UDP,
              INVITE_HEAD
                  + """
                  Content-Type: application/sdp
                  Content-Length: 5000

                  """
                  + SDP,
              400),
          new Message(
              "Content-Length not a number",
              Transport.UDP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Length: zero

              """,
              400),
          // RFC 3261 §8.2.2.3: 420 with an Unsupported header listing foo.
          new Message(
              "Require: foo, an extension the server does not support",
              Transport.UDP,
              """
              INVITE sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/UDP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 INVITE
              Require: siprec, foo
              Contact: <sip:src@{{local}}>;+sip.src
              Content-Type: multipart/mixed;boundary=sipmessages-boundary
              Content-Length: {{length}}

              """
                  + SIPREC_BODY,
              420),
          new Message(
              "multipart boundary that never occurs in the body",
              Transport.UDP,
              INVITE_HEAD
                  + """
                  Content-Type: multipart/mixed;boundary=not-the-boundary
                  Content-Length: {{length}}

                  """
                  + SIPREC_BODY,
              400),
          new Message(
              "multipart part of a type the server does not know, not marked optional",
              Transport.UDP,
              INVITE_HEAD
                  + """
                  Content-Type: multipart/mixed;boundary=sipmessages-boundary
                  Content-Length: {{length}}

                  --sipmessages-boundary
                  Content-Type: application/sdp

                  """
                  + SDP
                  + """
                  --sipmessages-boundary
                  Content-Type: application/x-vendor-blob

                  0123456789
                  --sipmessages-boundary--
                  """,
              415),
          new Message(
              "SDP offering only G.729 (payload type 18)",
              Transport.UDP,
              INVITE_HEAD
                  + """
                  Content-Type: multipart/mixed;boundary=sipmessages-boundary
                  Content-Length: {{length}}

                  --sipmessages-boundary
                  Content-Type: application/sdp

                  v=0
                  o=SRC 1 1 IN IP4 127.0.0.1
                  s=SIPREC
                  c=IN IP4 127.0.0.1
                  t=0 0
                  m=audio 49170 RTP/AVP 18
                  a=rtpmap:18 G729/8000
                  a=sendonly
                  a=label:1
                  m=audio 49172 RTP/AVP 18
                  a=rtpmap:18 G729/8000
                  a=sendonly
                  a=label:2
                  --sipmessages-boundary
                  Content-Type: application/rs-metadata+xml
                  Content-Disposition: recording-session

                  """
                  + METADATA
                  + "--sipmessages-boundary--\n",
              488),
          new Message(
              "recording metadata that is not well-formed XML",
              Transport.UDP,
              INVITE_HEAD
                  + """
                  Content-Type: multipart/mixed;boundary=sipmessages-boundary
                  Content-Length: {{length}}

                  --sipmessages-boundary
                  Content-Type: application/sdp

                  """
                  + SDP
                  + """
                  --sipmessages-boundary
                  Content-Type: application/rs-metadata+xml
                  Content-Disposition: recording-session

                  <recording xmlns="urn:ietf:params:xml:ns:recording:1"><dataMode>complete</recording>
                  --sipmessages-boundary--
                  """,
              400),
          // Over TCP: one UDP datagram cannot carry more than 65,507 bytes (IPv4), so a message
          // over the server's 65,535-byte limit can only arrive on a stream.
          new Message(
              "message of 70,000 bytes, over the 65,535-byte limit",
              Transport.TCP,
              """
              OPTIONS sip:srs@{{server}} SIP/2.0
              Via: SIP/2.0/TCP {{local}};branch=z9hG4bK-{{id}};rport
              Max-Forwards: 70
              From: <sip:src@{{local}}>;tag=src-{{id}}
              To: <sip:srs@{{server}}>
              Call-ID: {{id}}@sipmessages
              CSeq: 1 OPTIONS
              Content-Type: text/plain
              Content-Length: {{length}}

              """
                  + "x".repeat(69_700)
                  + "\n",
              513));

  /**
   * Sends {@code message} from a new socket on loopback to {@code server} and returns the first
   * final response (a provisional one is skipped) that arrives within {@code wait}, or empty. A
   * final answer to an INVITE other than 2xx is acknowledged, as a client must (RFC 3261
   * §17.1.1.3), so the server stops retransmitting it.
   */
  static Optional<byte[]> exchange(
      Message message, InetSocketAddress server, String id, Duration wait) throws IOException {
    return message.transport() == Transport.UDP
        ? exchangeUdp(message, server, id, wait)
        : exchangeTcp(message, server, id, wait);
  }

  private static Optional<byte[]> exchangeUdp(
      Message message, InetSocketAddress server, String id, Duration wait) throws IOException {
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      byte[] request =
          message.bytes((InetSocketAddress) socket.getLocalSocketAddress(), server, id);
      socket.send(new DatagramPacket(request, request.length, server));
      Optional<byte[]> answer = receiveFinal(socket, wait);
      if (answer.isPresent() && isInvite(request) && status(answer.get()) >= 300) {
        byte[] ack = ack(request, answer.get());
        socket.send(new DatagramPacket(ack, ack.length, server));
      }
      return answer;
    }
  }

  /**
   * The next final response on {@code socket} within {@code wait}; provisional ones are skipped.
   */
  static Optional<byte[]> receiveFinal(DatagramSocket socket, Duration wait) throws IOException {
    Instant deadline = Instant.now().plus(wait);
    byte[] buffer = new byte[65_536];
    while (true) {
      long left = Duration.between(Instant.now(), deadline).toMillis();
      if (left <= 0) return Optional.empty();
      socket.setSoTimeout((int) left);
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
      } catch (SocketTimeoutException nothingCame) {
        return Optional.empty();
      }
      byte[] response = Arrays.copyOf(packet.getData(), packet.getLength());
      if (status(response) >= 200) return Optional.of(response);
    }
  }

  private static Optional<byte[]> exchangeTcp(
      Message message, InetSocketAddress server, String id, Duration wait) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(server, (int) wait.toMillis());
      byte[] request =
          message.bytes((InetSocketAddress) socket.getLocalSocketAddress(), server, id);
      socket.setSoTimeout((int) wait.toMillis());
      try {
        socket.getOutputStream().write(request);
      } catch (IOException closedEarly) {
        // A server may answer 513 after the header section and close before the body is read.
      }
      InputStream in = socket.getInputStream();
      while (true) {
        byte[] response;
        try {
          response = readStreamMessage(in);
        } catch (SocketTimeoutException nothingCame) {
          return Optional.empty();
        }
        if (response == null) return Optional.empty();
        if (status(response) >= 200) return Optional.of(response);
      }
    }
  }

  /**
   * One message from a stream: the header section and Content-Length bytes; null at end of stream.
   */
  private static byte[] readStreamMessage(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      byte[] h = head.toByteArray();
      int n = h.length;
      if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n')
        break;
    }
    if (b < 0) return head.size() == 0 ? null : head.toByteArray();
    int length =
        header(head.toByteArray(), "Content-Length").map(v -> Integer.parseInt(v.trim())).orElse(0);
    head.write(in.readNBytes(length));
    return head.toByteArray();
  }

  /** The status code of a response, or -1 if the bytes are not a response. */
  static int status(byte[] response) {
    Matcher m =
        Pattern.compile("^SIP/2\\.0 (\\d{3}) ")
            .matcher(
                new String(response, 0, Math.min(response.length, 64), StandardCharsets.UTF_8));
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The first value of header {@code name} (long form, any case), if present. */
  static Optional<String> header(byte[] message, String name) {
    Matcher m =
        Pattern.compile("(?im)^" + Pattern.quote(name) + "[ \\t]*:[ \\t]*(.*?)\\r?$")
            .matcher(new String(message, StandardCharsets.UTF_8));
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  private static boolean isInvite(byte[] request) {
    return new String(request, 0, 7, StandardCharsets.US_ASCII).equals("INVITE ");
  }

  /**
   * The ACK of a non-2xx final answer to {@code invite}: same Request-URI, top Via, From, Call-ID
   * and CSeq number, the answer's To (with its tag), RFC 3261 §17.1.1.3.
   */
  static byte[] ack(byte[] invite, byte[] answer) {
    String requestLine =
        new String(invite, StandardCharsets.UTF_8).lines().findFirst().orElseThrow();
    String uri = requestLine.split(" ")[1];
    String cseq = header(invite, "CSeq").orElseThrow().split(" ")[0];
    String text =
        "ACK "
            + uri
            + " SIP/2.0\r\n"
            + "Via: "
            + header(invite, "Via").orElseThrow()
            + "\r\n"
            + "Max-Forwards: 70\r\n"
            + "From: "
            + header(invite, "From").orElseThrow()
            + "\r\n"
            + "To: "
            + header(answer, "To").orElseThrow()
            + "\r\n"
            + "Call-ID: "
            + header(invite, "Call-ID").orElseThrow()
            + "\r\n"
            + "CSeq: "
            + cseq
            + " ACK\r\n"
            + "Content-Length: 0\r\n\r\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A request inside the dialog that {@code ok} (a 2xx to {@code invite}) set up: the ACK of the
   * 2xx (method ACK, CSeq number of the INVITE) or a BYE (next CSeq number), each a new transaction
   * ({@code branchSuffix} makes its branch), sent to the answer's Contact.
   */
  static byte[] inDialog(String method, byte[] invite, byte[] ok, String branchSuffix) {
    String target =
        header(ok, "Contact").map(c -> c.replaceAll("^[^<]*<([^>]*)>.*$", "$1")).orElseThrow();
    String via =
        header(invite, "Via")
            .orElseThrow()
            .replaceAll("branch=[^;]*", "branch=z9hG4bK-" + branchSuffix);
    int cseq =
        Integer.parseInt(header(invite, "CSeq").orElseThrow().split(" ")[0])
            + (method.equals("ACK") ? 0 : 1);
    String text =
        method
            + " "
            + target
            + " SIP/2.0\r\n"
            + "Via: "
            + via
            + "\r\n"
            + "Max-Forwards: 70\r\n"
            + "From: "
            + header(invite, "From").orElseThrow()
            + "\r\n"
            + "To: "
            + header(ok, "To").orElseThrow()
            + "\r\n"
            + "Call-ID: "
            + header(invite, "Call-ID").orElseThrow()
            + "\r\n"
            + "CSeq: "
            + cseq
            + " "
            + method
            + "\r\n"
            + "Content-Length: 0\r\n\r\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }
}
