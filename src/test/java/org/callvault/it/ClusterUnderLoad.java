package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;

/**
 * What the cluster tests share: three node processes on the real Cassandra (multi-node overlay,
 * node 1 the seed), call-control's side of the {@code media.moved} webhook, and two-stream calls
 * from the load generator following moves through node 1's API, as through a load balancer.
 */
final class ClusterUnderLoad implements AutoCloseable {

  final List<NodeProcess> nodes = new ArrayList<>();

  /** The media.moved notices received, in order. */
  final List<JsonNode> notices = Collections.synchronizedList(new ArrayList<>());

  private final HttpServer webhook;

  /** Where the webhook receiver and the load generator are, as the nodes reach them. */
  private final String here;

  Http api;
  LoadGenerator.Running load;

  /** The nodes' webhook secret (base64 of 32 bytes), and why notices failed its check. */
  private static final String WEBHOOK_KEY = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";

  private final List<String> unsigned = new ArrayList<>();

  /**
   * Why a notice is not signed as Standard Webhooks asks (checked here with the JDK's HMAC, not the
   * node's code), or null: its id, its timestamp within 5 minutes, its {@code v1} signature.
   */
  private static String unsigned(com.sun.net.httpserver.Headers headers, byte[] body) {
    String id = headers.getFirst("webhook-id");
    String timestamp = headers.getFirst("webhook-timestamp");
    String signature = headers.getFirst("webhook-signature");
    if (id == null || timestamp == null || signature == null) return "headers missing: " + headers;
    if (Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) > 300)
      return "timestamp " + timestamp;
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              java.util.Base64.getDecoder().decode(WEBHOOK_KEY), "HmacSHA256"));
      mac.update((id + "." + timestamp + ".").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      String expected = "v1," + java.util.Base64.getEncoder().encodeToString(mac.doFinal(body));
      for (String given : signature.split(" ")) if (given.equals(expected)) return null;
      return "signature " + signature + ", expected " + expected;
    } catch (java.security.GeneralSecurityException e) {
      return e.toString();
    }
  }

  private ClusterUnderLoad(String here) throws Exception {
    this.here = here;
    webhook = HttpServer.create(new InetSocketAddress(here, 0), 0);
    webhook.createContext(
        "/moved",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          String why = unsigned(exchange.getRequestHeaders(), body);
          if (why != null)
            synchronized (notices) {
              unsigned.add(why);
            }
          JsonNode notice = new ObjectMapper().readTree(body);
          // The recording.* notices come to the same address; these tests count media.moved.
          if (notice.path("event").asText().equals("media.moved")) notices.add(notice);
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    webhook.start();
  }

  /** Three nodes in one cluster on loopback, each with its own ports and RTP range. */
  static ClusterUnderLoad start(String name, int rtpBase) throws Exception {
    return start(name, rtpBase, null);
  }

  /**
   * As above; with {@code net}, node i is host i of those namespaces, and Cassandra, the webhook
   * receiver and the load generator are reached at its gateway.
   */
  static ClusterUnderLoad start(String name, int rtpBase, Netns net) throws Exception {
    ClusterUnderLoad cluster = new ClusterUnderLoad(net == null ? "127.0.0.1" : Netns.GATEWAY);
    try {
      String keyspace = name + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      int seedPort = NodeProcess.freePort();
      List<CompletableFuture<NodeProcess>> starting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int index = i;
        String host = net == null ? "127.0.0.1" : net.address(i + 1);
        Map<String, String> env = new HashMap<>();
        env.put(
            "CALLVAULT_SEED_NODE",
            "pekko://callvault@" + (net == null ? "127.0.0.1" : net.address(1)) + ":" + seedPort);
        env.put(
            "CALLVAULT_WEBHOOK_URL",
            "http://" + cluster.here + ":" + cluster.webhook.getAddress().getPort() + "/moved");
        env.put("CALLVAULT_WEBHOOK_SECRET", "whsec_" + WEBHOOK_KEY);
        env.put("CALLVAULT_RTP_PORT_MIN", String.valueOf(rtpBase + 1000 * i));
        env.put("CALLVAULT_RTP_PORT_MAX", String.valueOf(rtpBase + 999 + 1000 * i));
        if (i == 0) env.put("CALLVAULT_REMOTE_PORT", String.valueOf(seedPort));
        if (net != null)
          env.put("CASSANDRA_CONTACT_POINTS", Netns.GATEWAY + ":" + NodeProcess.cassandraPort());
        starting.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    String config =
                        "-Dconfig.file=" + Path.of("cluster-conf/multi-node.conf").toAbsolutePath();
                    return NodeProcess.start(
                        name + "-" + (index + 1),
                        keyspace,
                        net == null ? null : net.name(index + 1),
                        host,
                        env,
                        config);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                }));
        if (i == 0) starting.get(0).join(); // the seed first, so the others join it
      }
      for (CompletableFuture<NodeProcess> node : starting) cluster.nodes.add(node.join());
      cluster.api = new Http(cluster.nodes.get(0).base());
      cluster.awaitMembers(3);
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Starts {@code calls} calls of {@code duration} through node 1, following moves. */
  LoadGenerator.Running load(String prefix, int calls, Duration duration) throws Exception {
    load =
        LoadGenerator.start(
            new Options()
                .apiKey(TestKeys.ALL)
                .api(nodes.get(0).base())
                .bindAddress(here)
                .prefix(prefix + "-" + UUID.randomUUID().toString().substring(0, 8))
                .calls(calls)
                .codec(Codec.PCMU)
                .duration(duration)
                .seed(4)
                .followMoves(true)
                .followInterval(Duration.ofMillis(500))
                .stopCallsAtEnd(true)
                .stopDelay(Duration.ofMillis(500)));
    return load;
  }

  /** Each call's resource now, by call id. */
  Map<String, JsonNode> calls() throws Exception {
    Map<String, JsonNode> calls = new HashMap<>();
    for (String callId : load.callIds()) calls.put(callId, api.get("/v1/calls/" + callId, 200));
    return calls;
  }

  /** The calls whose media {@code node} receives, from {@link #calls()}. */
  static List<String> callsOn(NodeProcess node, Map<String, JsonNode> calls) {
    List<String> on = new ArrayList<>();
    calls.forEach(
        (callId, call) -> {
          if (nodeOf(call).endsWith(":" + node.remotePort)) on.add(callId);
        });
    Collections.sort(on);
    return on;
  }

  /** Of nodes 2 and 3 (node 1 serves the load generator's API), the one receiving most calls. */
  NodeProcess busiest(Map<String, JsonNode> calls) {
    NodeProcess busiest = nodes.get(1);
    if (callsOn(nodes.get(2), calls).size() > callsOn(busiest, calls).size())
      busiest = nodes.get(2);
    return busiest;
  }

  /** How many calls each node receives, for the test's output. */
  String perNode(Map<String, JsonNode> calls) {
    List<String> parts = new ArrayList<>();
    for (NodeProcess node : nodes) parts.add(node.name + ": " + callsOn(node, calls).size());
    return String.join(", ", parts);
  }

  static String nodeOf(JsonNode call) {
    return call.path("media").path("node").asText();
  }

  /**
   * Waits until each of {@code moved} records on a node other than the one in {@code before}, with
   * a packet that arrived there after {@code since}; returns how long each took.
   */
  Map<String, Duration> awaitRecordingElsewhere(
      List<String> moved, Map<String, JsonNode> before, Instant since, Duration timeout)
      throws Exception {
    long sinceMicros = since.toEpochMilli() * 1000;
    Map<String, Duration> recovery = new HashMap<>();
    Map<String, JsonNode> lastSeen = new HashMap<>();
    Instant deadline = since.plus(timeout);
    while (recovery.size() < moved.size() && Instant.now().isBefore(deadline)) {
      for (String callId : moved) {
        if (recovery.containsKey(callId)) continue;
        JsonNode call = api.send("GET", "/v1/calls/" + callId, null, Http.ANY_OK);
        if (call != null) lastSeen.put(callId, call);
        if (call != null
            && call.path("state").asText().equals("RECORDING")
            && !nodeOf(call).equals(nodeOf(before.get(callId)))
            && call.path("streams").get(0).path("stats").path("lastPacketAt").asLong() * 1000
                > sinceMicros) recovery.put(callId, Duration.between(since, Instant.now()));
      }
      Thread.sleep(200);
    }
    if (recovery.size() < moved.size()) {
      StringBuilder why = new StringBuilder();
      for (String callId : moved) {
        if (recovery.containsKey(callId)) continue;
        JsonNode call = lastSeen.get(callId);
        why.append("\n").append(callId).append(" last seen: ");
        if (call == null) why.append("never answered");
        else {
          why.append(call.path("state").asText()).append(" media ").append(call.path("media"));
          for (JsonNode stream : call.path("streams"))
            why.append(" ")
                .append(stream.path("label").asText())
                .append(" rtp ")
                .append(stream.path("rtp"))
                .append(" lastPacketAt ")
                .append(stream.path("stats").path("lastPacketAt").asLong() - since.toEpochMilli())
                .append(" ms after the kill");
        }
        for (NodeProcess node : nodes)
          for (String line : Files.readAllLines(node.log))
            if (line.contains(callId) && !line.contains(" INFO "))
              why.append("\n  ")
                  .append(node.name)
                  .append(": ")
                  .append(line, 0, Math.min(300, line.length()));
      }
      throw new AssertionError(
          "calls recording again: " + recovery.keySet() + " of " + moved + why);
    }
    return recovery;
  }

  /**
   * How long each phase of a failover took, from the survivors' logs: from the kill to the victim
   * being downed, found unreachable by the failure detector, removed, and to the first and last
   * moved call's media bound on a survivor; then the calls recording again, as measured.
   */
  String phases(NodeProcess victim, Instant killed, Map<String, Duration> recovery)
      throws Exception {
    String address = "pekko://callvault@" + victim.host + ":" + victim.remotePort;
    java.time.LocalTime at = killed.atZone(java.time.ZoneOffset.UTC).toLocalTime();
    Map<String, Long> first = new java.util.TreeMap<>();
    long lastBound = -1;
    for (NodeProcess node : nodes) {
      if (node == victim) continue;
      for (String line : Files.readAllLines(node.log)) {
        if (line.length() < 12 || !Character.isDigit(line.charAt(0))) continue;
        long ms;
        try {
          ms = Duration.between(at, java.time.LocalTime.parse(line.substring(0, 12))).toMillis();
        } catch (java.time.format.DateTimeParseException e) {
          continue;
        }
        if (ms < 0) continue;
        String phase = null;
        if (line.contains("downing it now") && line.contains(address)) phase = "downed";
        else if (line.contains("SBR took decision") && line.contains(address)) phase = "downed";
        else if (line.contains("Marking node as UNREACHABLE") && line.contains(address))
          phase = "unreachable";
        else if (line.contains("Leader is removing") && line.contains(address)) phase = "removed";
        else if (line.contains("media moved here from " + address)) {
          phase = "first bound";
          lastBound = Math.max(lastBound, ms);
        }
        if (phase != null) first.merge(phase, ms, Math::min);
      }
    }
    List<Long> again = recovery.values().stream().map(Duration::toMillis).sorted().toList();
    return String.format(
        "failover phases after the kill (ms): downed %s, unreachable %s, removed %s, first call"
            + " bound %s, last bound %s, recording again %d–%d",
        first.get("downed"),
        first.get("unreachable"),
        first.get("removed"),
        first.get("first bound"),
        lastBound,
        again.get(0),
        again.get(again.size() - 1));
  }

  /**
   * Every moved call got a media.moved notice with {@code cause} naming its new node and ports; no
   * other call got one.
   */
  void checkNotices(List<String> moved, String cause) throws Exception {
    synchronized (notices) {
      assertTrue(unsigned.isEmpty(), "notices not signed as Standard Webhooks asks: " + unsigned);
    }
    for (String callId : moved) {
      JsonNode call = api.get("/v1/calls/" + callId, 200);
      JsonNode notice = null;
      synchronized (notices) {
        for (JsonNode n : notices) if (n.path("callId").asText().equals(callId)) notice = n;
      }
      assertTrue(notice != null, "no media.moved notice for " + callId + ": " + notices);
      assertEquals("media.moved", notice.path("event").asText());
      assertEquals(cause, notice.path("cause").asText());
      assertEquals(nodeOf(call), notice.path("node").asText());
      for (JsonNode s : notice.path("streams"))
        assertEquals(
            Recordings.streamOf(call, s.path("label").asText()).path("rtp").path("port").asInt(),
            s.path("port").asInt(),
            "the notice names the new port");
    }
    synchronized (notices) {
      for (JsonNode n : notices)
        assertTrue(
            moved.contains(n.path("callId").asText()),
            "a notice for a call that did not move: " + n);
    }
  }

  /**
   * A call's ledger, checked: it verifies, and no chunk is listed twice. Returns its MediaGap
   * events' details by stream label.
   */
  Map<String, List<JsonNode>> checkedGaps(String callId) throws Exception {
    JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
    assertTrue(
        api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean(),
        callId + ": the ledger verifies");
    Set<String> chunks = new HashSet<>();
    Map<String, List<JsonNode>> gaps = new HashMap<>();
    for (JsonNode event : ledger.path("events")) {
      JsonNode details = event.path("details");
      if (event.path("type").asText().equals("ChunkStored")) {
        JsonNode c = details.path("chunk");
        assertTrue(
            chunks.add(
                c.path("label").asText()
                    + "/"
                    + c.path("epoch").asLong()
                    + "/"
                    + c.path("n").asLong()),
            callId + ": a chunk listed twice");
      }
      if (event.path("type").asText().equals("MediaGap"))
        gaps.computeIfAbsent(details.path("label").asText(), l -> new ArrayList<>()).add(details);
    }
    return gaps;
  }

  /** One stream's export, as 16-bit samples. */
  short[] exported(String callId, String label) throws Exception {
    return Recordings.pcm(
        api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + label), 1)[0];
  }

  void awaitMembers(int members) throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    while (true) {
      JsonNode health = api.get("/v1/health", 200);
      if (health.path("members").asInt() >= members) return;
      if (Instant.now().isAfter(deadline))
        throw new AssertionError("the cluster did not reach " + members + " members: " + health);
      Thread.sleep(300);
    }
  }

  @Override
  public void close() throws Exception {
    for (NodeProcess node : nodes) node.close();
    webhook.stop(0);
  }
}
