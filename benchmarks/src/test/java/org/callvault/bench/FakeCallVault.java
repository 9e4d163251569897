package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for a CallVault node, for testing the load generator without one: {@code POST
 * /v1/calls} answers a call resource whose streams point at local UDP sockets, which a selector
 * thread reads; {@code GET /v1/calls/{id}} answers the resource with simple {@code stats};
 * pause/resume/stop are remembered with their time.
 */
final class FakeCallVault implements AutoCloseable {

  static final ObjectMapper MAPPER = new ObjectMapper();

  /** One datagram as it arrived. */
  record Datagram(byte[] data, InetSocketAddress from, long nanos, DatagramChannel on) {
    int version() {
      return data.length == 0 ? -1 : (data[0] & 0xFF) >>> 6;
    }

    int seq() {
      return ((data[2] & 0xFF) << 8) | (data[3] & 0xFF);
    }

    long timestamp() {
      return ((data[4] & 0xFFL) << 24)
          | ((data[5] & 0xFFL) << 16)
          | ((data[6] & 0xFFL) << 8)
          | (data[7] & 0xFFL);
    }

    long ssrc() {
      return ((data[8] & 0xFFL) << 24)
          | ((data[9] & 0xFFL) << 16)
          | ((data[10] & 0xFFL) << 8)
          | (data[11] & 0xFFL);
    }

    boolean marker() {
      return (data[1] & 0x80) != 0;
    }

    int payloadType() {
      return data[1] & 0x7F;
    }

    /** A well-formed RTP packet with a payload, as a strict receiver would accept it. */
    boolean wellFormed() {
      int len = data.length;
      if (len < 12 || version() != 2) return false;
      int header = 12 + 4 * (data[0] & 0x0F);
      if (header > len) return false;
      if ((data[0] & 0x10) != 0) {
        if (header + 4 > len) return false;
        int words = ((data[header + 2] & 0xFF) << 8) | (data[header + 3] & 0xFF);
        header += 4 + 4 * words;
        if (header > len) return false;
      }
      int padding = (data[0] & 0x20) != 0 ? data[len - 1] & 0xFF : 0;
      if ((data[0] & 0x20) != 0 && (padding == 0 || padding > len - header)) return false;
      return len - header - padding > 0;
    }

    byte[] payload() {
      byte[] p = new byte[data.length - 12];
      System.arraycopy(data, 12, p, 0, p.length);
      return p;
    }
  }

  final class Stream {
    final String callId;
    final String label;
    final InetSocketAddress declaredSource;
    volatile DatagramChannel channel;
    final List<DatagramChannel> channels = new ArrayList<>();
    final ConcurrentLinkedQueue<Datagram> datagrams = new ConcurrentLinkedQueue<>();
    final AtomicLong count = new AtomicLong();
    final Set<Long> seen = Collections.synchronizedSet(new HashSet<>());
    final AtomicLong received = new AtomicLong(),
        duplicated = new AtomicLong(),
        malformed = new AtomicLong(),
        foreign = new AtomicLong();

    Stream(String callId, String label, InetSocketAddress declaredSource) throws IOException {
      this.callId = callId;
      this.label = label;
      this.declaredSource = declaredSource;
      this.channel = openChannel(this);
    }

    int port() {
      return ((InetSocketAddress) localAddress(channel)).getPort();
    }

    void arrived(byte[] data, InetSocketAddress from, long nanos, DatagramChannel on) {
      count.incrementAndGet();
      Datagram d = new Datagram(data, from, nanos, on);
      if (keepDatagrams) datagrams.add(d);
      if (declaredSource != null && !declaredSource.equals(from)) foreign.incrementAndGet();
      else if (!d.wellFormed()) malformed.incrementAndGet();
      else if (!seen.add((d.ssrc() << 16) | d.seq())) duplicated.incrementAndGet();
      else received.incrementAndGet();
    }

    List<Datagram> list() {
      return new ArrayList<>(datagrams);
    }
  }

  final HttpServer http;
  final Selector selector;
  final Thread reader;
  final boolean keepDatagrams;
  volatile boolean announceRtp = true;

  /**
   * When set, every stream's rtp endpoint is this port, a socket nobody reads (to measure the
   * sender alone).
   */
  volatile int blackholePort;

  final Map<String, ObjectNode> calls = new ConcurrentHashMap<>();
  final Map<String, Stream> streams = new ConcurrentHashMap<>();
  final Map<DatagramChannel, Stream> byChannel = new ConcurrentHashMap<>();
  final List<String> requests = Collections.synchronizedList(new ArrayList<>());
  final Map<String, Long> requestNanos = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<DatagramChannel> toRegister = new ConcurrentLinkedQueue<>();

  FakeCallVault(boolean keepDatagrams) throws IOException {
    this.keepDatagrams = keepDatagrams;
    this.selector = Selector.open();
    this.http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
    http.setExecutor(Executors.newFixedThreadPool(8));
    http.createContext("/v1/calls", this::handle);
    http.start();
    this.reader = new Thread(this::read, "fake-rtp-reader");
    reader.setDaemon(true);
    reader.start();
  }

  String api() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
  }

  Stream stream(String callId, String label) {
    return streams.get(callId + "/" + label);
  }

  long totalDatagrams() {
    long n = 0;
    for (Stream s : streams.values()) n += s.count.get();
    return n;
  }

  /** Moves a stream's media endpoint to a new socket; the old one keeps reading too. */
  int move(String callId, String label) throws IOException {
    Stream s = stream(callId, label);
    s.channel = openChannel(s);
    return s.port();
  }

  private DatagramChannel openChannel(Stream s) throws IOException {
    DatagramChannel ch = DatagramChannel.open();
    ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
    ch.bind(new InetSocketAddress("127.0.0.1", 0));
    ch.configureBlocking(false);
    s.channels.add(ch);
    byChannel.put(ch, s);
    toRegister.add(ch);
    selector.wakeup();
    return ch;
  }

  private static SocketAddress localAddress(DatagramChannel ch) {
    try {
      return ch.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void read() {
    ByteBuffer buf = ByteBuffer.allocateDirect(65536);
    try {
      while (selector.isOpen()) {
        DatagramChannel ch;
        while ((ch = toRegister.poll()) != null) ch.register(selector, SelectionKey.OP_READ);
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          DatagramChannel c = (DatagramChannel) key.channel();
          Stream s = byChannel.get(c);
          for (int i = 0; i < 64; i++) {
            buf.clear();
            SocketAddress from = c.receive(buf);
            if (from == null) break;
            buf.flip();
            byte[] data = new byte[buf.remaining()];
            buf.get(data);
            s.arrived(data, (InetSocketAddress) from, System.nanoTime(), c);
          }
        }
        selector.selectedKeys().clear();
      }
    } catch (ClosedSelectorException e) {
      // closed
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      String path = ex.getRequestURI().getPath();
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String method = ex.getRequestMethod();
      requests.add(method + " " + path + " " + body);
      String[] parts = path.split("/");
      if (method.equals("POST") && path.equals("/v1/calls")) {
        create(ex, MAPPER.readTree(body));
        return;
      }
      if (parts.length >= 4) {
        String id = parts[3];
        ObjectNode call = calls.get(id);
        if (call == null) {
          send(ex, 404, "{\"status\":404,\"error\":\"no call with id '" + id + "'\"}");
          return;
        }
        if (method.equals("GET") && parts.length == 4) {
          send(ex, 200, resource(id).toString());
          return;
        }
        if (method.equals("POST") && parts.length == 5) {
          requestNanos.put(parts[4] + " " + id, System.nanoTime());
          if (parts[4].equals("stop")) call.put("state", "STOPPED");
          send(ex, 200, resource(id).toString());
          return;
        }
      }
      send(ex, 404, "{\"status\":404,\"error\":\"no route\"}");
    } catch (RuntimeException e) {
      send(ex, 500, "{\"status\":500,\"error\":\"" + e + "\"}");
    }
  }

  private void create(HttpExchange ex, JsonNode body) throws IOException {
    String id = body.path("callId").asText();
    if (calls.containsKey(id)) {
      send(ex, 409, "{\"status\":409,\"error\":\"call '" + id + "' exists with another body\"}");
      return;
    }
    ObjectNode call = MAPPER.createObjectNode();
    call.put("callId", id);
    call.put("state", "RECORDING");
    if (body.has("policy")) call.set("policy", body.get("policy"));
    call.set("parties", body.get("parties"));
    ArrayNode streamsJson = call.putArray("streams");
    for (JsonNode s : body.path("streams")) {
      String label = s.path("label").asText();
      String source = s.path("source").asText(null);
      InetSocketAddress declared = null;
      if (source != null) {
        int colon = source.lastIndexOf(':');
        declared =
            new InetSocketAddress(
                source.substring(0, colon), Integer.parseInt(source.substring(colon + 1)));
      }
      streams.put(id + "/" + label, new Stream(id, label, declared));
      ObjectNode json = ((ObjectNode) s.deepCopy()).put("gate", "OPEN");
      streamsJson.add(json);
    }
    calls.put(id, call);
    send(ex, 201, resource(id).toString());
  }

  private ObjectNode resource(String id) {
    ObjectNode call = calls.get(id).deepCopy();
    for (JsonNode n : call.path("streams")) {
      ObjectNode s = (ObjectNode) n;
      Stream st = stream(id, s.path("label").asText());
      if (announceRtp)
        s.putObject("rtp")
            .put("host", "127.0.0.1")
            .put("port", blackholePort != 0 ? blackholePort : st.port());
      ObjectNode stats = s.putObject("stats");
      stats.put("received", st.received.get());
      stats.put("stored", st.received.get());
      stats.put("droppedByGate", 0);
      Map<String, Long> rejected = new TreeMap<>();
      if (st.malformed.get() > 0) rejected.put("malformed", st.malformed.get());
      if (st.foreign.get() > 0) rejected.put("foreignSource", st.foreign.get());
      stats.set("rejected", MAPPER.valueToTree(rejected));
      stats.put("duplicated", st.duplicated.get());
      stats.put("chunksStored", st.received.get() / 50);
      stats.put("lastPacketAt", System.currentTimeMillis());
    }
    return call;
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() throws IOException {
    http.stop(0);
    ((java.util.concurrent.ExecutorService) http.getExecutor()).shutdownNow();
    selector.close();
    for (Stream s : streams.values()) for (DatagramChannel ch : s.channels) ch.close();
  }

  /**
   * Runs a fake on its own: {@code java [-Dfake.blackhole=true] … FakeCallVault [api-file]}; prints
   * the API and counts datagrams. With {@code fake.blackhole} every stream is pointed at one socket
   * that is never read, so that only the sender's cost is measured.
   */
  public static void main(String[] args) throws Exception {
    try (FakeCallVault fake = new FakeCallVault(false);
        DatagramChannel blackhole = DatagramChannel.open()) {
      if (Boolean.getBoolean("fake.blackhole")) {
        blackhole.bind(new InetSocketAddress("127.0.0.1", 0));
        fake.blackholePort = ((InetSocketAddress) blackhole.getLocalAddress()).getPort();
      }
      System.out.println("fake api " + fake.api());
      if (args.length > 0)
        java.nio.file.Files.writeString(java.nio.file.Path.of(args[0]), fake.api());
      long last = 0;
      long lastAt = System.nanoTime();
      while (true) {
        Thread.sleep(5000);
        long n = fake.totalDatagrams();
        long now = System.nanoTime();
        System.out.printf(
            "fake: %d calls, %d datagrams, %.0f/s%n",
            fake.calls.size(), n, (n - last) / ((now - lastAt) / 1e9));
        last = n;
        lastAt = now;
      }
    }
  }
}
