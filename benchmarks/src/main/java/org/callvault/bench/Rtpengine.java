package org.callvault.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The peer recorder of the side-by-side benchmark: Debian's {@code rtpengine} in user space ({@code
 * --table=-1}), recording to pcap, driven through its NG control protocol (bencoded dictionaries
 * over UDP, each request and answer prefixed by a cookie). A call is an {@code offer} (the caller's
 * SDP, {@code record call: yes}) and an {@code answer} (the callee's); rtpengine answers each with
 * SDP naming the port the other side sends to. It relays what it receives to the other side's
 * declared address, so the benchmark runs a sink on the senders' ports.
 */
final class Rtpengine implements AutoCloseable {

  private static final Pattern MEDIA_PORT = Pattern.compile("(?m)^m=audio (\\d+) ");

  private final InetSocketAddress ng;
  private final DatagramSocket socket;
  private final AtomicLong cookies = new AtomicLong();

  Rtpengine(InetSocketAddress ng) throws IOException {
    this.ng = ng;
    this.socket = new DatagramSocket();
    socket.setSoTimeout(5000);
  }

  /**
   * Sets up a call whose caller sends from {@code callerPort} and callee from {@code calleePort}
   * (both on 127.0.0.1), recorded; returns {caller's destination port, callee's destination port}.
   */
  synchronized int[] call(String callId, int callerPort, int calleePort) throws IOException {
    Map<String, Object> offer = new LinkedHashMap<>();
    offer.put("command", "offer");
    offer.put("call-id", callId);
    offer.put("from-tag", "caller");
    offer.put("record call", "yes");
    offer.put("sdp", sdp(callerPort));
    int calleeSends = mediaPort(request(offer));
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("command", "answer");
    answer.put("call-id", callId);
    answer.put("from-tag", "caller");
    answer.put("to-tag", "callee");
    answer.put("sdp", sdp(calleePort));
    int callerSends = mediaPort(request(answer));
    return new int[] {callerSends, calleeSends};
  }

  /** Ends a call; rtpengine closes its pcap. */
  synchronized void delete(String callId) throws IOException {
    Map<String, Object> delete = new LinkedHashMap<>();
    delete.put("command", "delete");
    delete.put("call-id", callId);
    delete.put("from-tag", "caller");
    request(delete);
  }

  /** rtpengine's answer to {@code ping}: true when it answers {@code pong}. */
  synchronized boolean ping() {
    try {
      return "pong".equals(request(Map.of("command", "ping")).get("result"));
    } catch (IOException e) {
      return false;
    }
  }

  private static String sdp(int port) {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio "
        + port
        + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
  }

  private static int mediaPort(Map<String, Object> answer) throws IOException {
    if (!"ok".equals(answer.get("result"))) throw new IOException("rtpengine refused: " + answer);
    Matcher port = MEDIA_PORT.matcher(String.valueOf(answer.get("sdp")));
    if (!port.find()) throw new IOException("rtpengine's SDP names no audio port: " + answer);
    return Integer.parseInt(port.group(1));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> request(Map<String, Object> message) throws IOException {
    String cookie = "cv" + cookies.incrementAndGet();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes((cookie + " ").getBytes(StandardCharsets.US_ASCII));
    encode(message, out);
    byte[] bytes = out.toByteArray();
    socket.send(new DatagramPacket(bytes, bytes.length, ng));
    byte[] buffer = new byte[65535];
    for (int attempt = 0; attempt < 3; attempt++) {
      DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(reply);
      } catch (SocketTimeoutException e) {
        socket.send(new DatagramPacket(bytes, bytes.length, ng)); // NG requests are idempotent
        continue;
      }
      String text = new String(buffer, 0, reply.getLength(), StandardCharsets.ISO_8859_1);
      int space = text.indexOf(' ');
      if (space < 0 || !text.substring(0, space).equals(cookie)) continue; // an older answer
      return (Map<String, Object>) new Decoder(text, space + 1).value();
    }
    throw new IOException("rtpengine did not answer " + message.get("command") + " at " + ng);
  }

  private static void encode(Object value, ByteArrayOutputStream out) {
    if (value instanceof String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.writeBytes((b.length + ":").getBytes(StandardCharsets.US_ASCII));
      out.writeBytes(b);
    } else if (value instanceof Integer || value instanceof Long) {
      out.writeBytes(("i" + value + "e").getBytes(StandardCharsets.US_ASCII));
    } else if (value instanceof List<?> list) {
      out.write('l');
      for (Object item : list) encode(item, out);
      out.write('e');
    } else if (value instanceof Map<?, ?> map) {
      out.write('d');
      map.entrySet().stream()
          .sorted(Map.Entry.comparingByKey((a, b) -> a.toString().compareTo(b.toString())))
          .forEach(
              e -> {
                encode(e.getKey().toString(), out);
                encode(e.getValue(), out);
              });
      out.write('e');
    } else {
      throw new IllegalArgumentException("cannot bencode " + value);
    }
  }

  /** A bencode reader over the answer's text (ISO-8859-1, so that byte lengths are char counts). */
  private static final class Decoder {
    private final String text;
    private int at;

    Decoder(String text, int at) {
      this.text = text;
      this.at = at;
    }

    Object value() {
      char c = text.charAt(at);
      if (c == 'i') {
        int end = text.indexOf('e', at);
        long n = Long.parseLong(text.substring(at + 1, end));
        at = end + 1;
        return n;
      }
      if (c == 'l') {
        at++;
        List<Object> list = new ArrayList<>();
        while (text.charAt(at) != 'e') list.add(value());
        at++;
        return list;
      }
      if (c == 'd') {
        at++;
        Map<String, Object> map = new LinkedHashMap<>();
        while (text.charAt(at) != 'e') {
          String key = (String) value();
          map.put(key, value());
        }
        at++;
        return map;
      }
      int colon = text.indexOf(':', at);
      int length = Integer.parseInt(text.substring(at, colon));
      String s = text.substring(colon + 1, colon + 1 + length);
      at = colon + 1 + length;
      return new String(s.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }
  }

  /**
   * RTP packets in the pcap files under {@code dir} whose names start with {@code prefix} (the call
   * id): each record after the 24-byte file header.
   */
  static long packetsRecorded(Path dir, String prefix) throws IOException {
    if (!Files.isDirectory(dir)) return 0;
    long packets = 0;
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path pcap :
          files
              .filter(p -> p.getFileName().toString().startsWith(prefix))
              .filter(p -> p.toString().endsWith(".pcap"))
              .toList()) {
        byte[] b = Files.readAllBytes(pcap);
        boolean little = b.length >= 4 && (b[0] & 0xFF) == 0xD4;
        int at = 24;
        while (at + 16 <= b.length) {
          int captured =
              little
                  ? (b[at + 8] & 0xFF)
                      | (b[at + 9] & 0xFF) << 8
                      | (b[at + 10] & 0xFF) << 16
                      | (b[at + 11] & 0xFF) << 24
                  : (b[at + 8] & 0xFF) << 24
                      | (b[at + 9] & 0xFF) << 16
                      | (b[at + 10] & 0xFF) << 8
                      | (b[at + 11] & 0xFF);
          if (at + 16 + captured > b.length) break; // cut short while being written
          packets++;
          at += 16 + captured;
        }
      }
    }
    return packets;
  }

  @Override
  public void close() {
    socket.close();
  }
}
