package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The real Cassandra stopped for 30 s under three live two-stream calls on one node, and started
 * again: the calls' sockets never stop receiving, their audio waits in the node's spool and is
 * stored and listed once Cassandra is back, so every packet sent is in the export at its place and
 * the ledger has no gap. A pause asked during the outage closes its call's gates at once and is in
 * the ledger, at the time it was asked, once Cassandra is back. During the outage the API answers
 * from what the calls know or with 503, never another error, and health says UNAVAILABLE with what
 * the spool holds.
 *
 * <p>The Cassandra these tests stop is their own (512 MB of heap, fresh data under {@code
 * target/it-outage}), so that the tests running beside them go on.
 */
@Order(1) // first, so that the others run beside it
class CassandraOutageIT {

  private static ItCassandra CASSANDRA;

  @BeforeAll
  static void startCassandra() throws Exception {
    CASSANDRA = ItCassandra.own("outage", 19242, 17300, 17399);
    CASSANDRA.start();
  }

  @AfterAll
  static void stopCassandra() throws Exception {
    if (CASSANDRA != null) CASSANDRA.stop();
  }

  /** The environment of a node on this class's Cassandra, with {@code more}. */
  private static Map<String, String> onOwnCassandra(Map<String, String> more) {
    Map<String, String> env = new java.util.HashMap<>(more);
    env.put("CASSANDRA_CONTACT_POINTS", CASSANDRA.contactPoint());
    return env;
  }

  /** The load generators a test started: one left sending would reach the next test's ports. */
  private final List<LoadGenerator.Running> running = new ArrayList<>();

  @AfterEach
  void stopLoads() {
    running.forEach(LoadGenerator.Running::close);
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void aThirtySecondOutageUnderThreeLiveCallsLosesNoPacketAndLeavesNoGap() throws Exception {
    String keyspace = "outage_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (NodeProcess node = NodeProcess.start("outage", keyspace, onOwnCassandra(Map.of()))) {
      Http api = new Http(node.base());
      LoadGenerator.Running load =
          LoadGenerator.start(
              new Options()
                  .apiKey(TestKeys.ALL)
                  .api(node.base())
                  .prefix("outage-" + UUID.randomUUID().toString().substring(0, 8))
                  .calls(3)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(90))
                  .stopCallsAtEnd(true)
                  .stopDelay(Duration.ofMillis(500))
                  .seed(30));
      running.add(load); // stopped after the test, pass or fail
      String watched = load.callIds().get(0);
      String paused = load.callIds().get(1);
      Thread.sleep(8000);

      long stoppedAt = System.nanoTime();
      CASSANDRA.stop();
      Map<Integer, Integer> statuses = new TreeMap<>();
      JsonNode unavailable = null;
      long pauseAskedAt = 0;
      int pauseStatus = 0;
      while (System.nanoTime() - stoppedAt < Duration.ofSeconds(30).toNanos()) {
        if (pauseAskedAt == 0 && System.nanoTime() - stoppedAt > Duration.ofSeconds(10).toNanos()) {
          pauseAskedAt = System.currentTimeMillis() * 1000;
          pauseStatus =
              send(node, "/v1/calls/" + paused + "/pause", "{\"reason\":\"card\",\"by\":\"qa\"}")
                  .statusCode();
          System.out.println("outage: the pause asked 10 s in was answered " + pauseStatus);
          assertTrue(pauseStatus == 200 || pauseStatus == 503, "the pause: " + pauseStatus);
        }
        HttpResponse<String> read = get(node, "/v1/calls/" + watched);
        statuses.merge(read.statusCode(), 1, Integer::sum);
        if (read.statusCode() != 200 && read.statusCode() != 503)
          throw new AssertionError("during the outage: " + read.statusCode() + " " + read.body());
        HttpResponse<String> health = get(node, "/v1/health");
        if (health.statusCode() == 503) unavailable = JSON.readTree(health.body());
        Thread.sleep(1000);
      }
      System.out.println("outage: answers to GET /v1/calls/{id} by status: " + statuses);
      assertTrue(unavailable != null, "health is 503 during the outage");
      assertEquals("UNAVAILABLE", unavailable.path("status").asText(), unavailable.toString());
      assertTrue(
          unavailable.path("spool").path("chunks").asInt() > 0,
          "the calls' audio waits in the spool: " + unavailable);

      CASSANDRA.start();
      long backAt = System.nanoTime();
      long upAfter = -1;
      while (System.nanoTime() - backAt < Duration.ofSeconds(60).toNanos()) {
        HttpResponse<String> health = get(node, "/v1/health");
        JsonNode h = JSON.readTree(health.body());
        if (health.statusCode() == 200
            && h.path("spool").path("chunks").asInt() == 0
            && get(node, "/v1/calls/" + watched).statusCode() == 200) {
          upAfter = (System.nanoTime() - backAt) / 1_000_000;
          break;
        }
        Thread.sleep(250);
      }
      System.out.println(
          "outage: "
              + (backAt - stoppedAt) / 1_000_000
              + " ms without Cassandra; spool empty and the call answering "
              + upAfter
              + " ms after Cassandra answered again");
      assertTrue(upAfter >= 0, "the node is UP with its spool stored within 60 s:\n" + node.tail());

      // The paused call's pause is in its ledger once its entity has listed what the spool held
      // (which reached it first), at the time it was asked; it resumes.
      JsonNode pausedCall = api.get("/v1/calls/" + paused, 200);
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (!pausedCall.path("state").asText().equals("PAUSED") && System.nanoTime() < deadline) {
        Thread.sleep(200);
        pausedCall = api.get("/v1/calls/" + paused, 200);
      }
      assertEquals("PAUSED", pausedCall.path("state").asText(), pausedCall.toString());
      long pausedAt =
          java.time.Instant.parse(pausedCall.path("pauses").get(0).path("start").asText())
                  .toEpochMilli()
              * 1000;
      assertEquals(pauseAskedAt, pausedAt, 1_500_000, "recorded when it was asked");
      api.post("/v1/calls/" + paused + "/resume", "{\"by\":\"qa\"}", 200);

      Summary summary = load.await();
      summary.requireActionsOk();
      for (CallRecord sent : summary.calls()) assertRecordedWhole(api, sent);
      node.stop();
    } finally {
      // The tests after this one use this Cassandra too.
      CASSANDRA.start();
    }
  }

  /**
   * The same outage, with two nodes under three calls each, both killed ({@code kill -9}) 15 s into
   * it. One is started again while Cassandra is still down: it waits {@code replay-wait} (2 s here)
   * for its spool, starts anyway, and its calls recover once Cassandra is back, racing the spool's
   * storing; whichever comes first, every chunk the spool held is listed once stored (late, after
   * the call moved on, if it must). The other is started once Cassandra is back: it stores its
   * spool before its calls recover. Either way each stream's recording holds every packet sent
   * until about a second before the kill (what the dead node held in memory), then one {@code
   * NODE_FAILURE} gap, then the audio received after the node is back.
   */
  @Test
  void aNodeKilledDuringTheOutageStoresItsSpoolWhetherItStartsBeforeCassandraOrAfter()
      throws Exception {
    // Both nodes are up before either's calls start, so that both have their time to run.
    Killed early = new Killed("outage-early");
    Killed late = new Killed("outage-late");
    early.startLoad(31);
    late.startLoad(32);
    NodeProcess earlyAgain = null;
    NodeProcess lateAgain = null;
    try {
      Thread.sleep(8000);
      long outageAt = System.currentTimeMillis() * 1000;
      CASSANDRA.stop();
      Thread.sleep(15_000);
      long killedAt = early.kill();
      late.kill();
      var starting =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return early.startAgain("-Dcallvault.spool.replay-wait=2s");
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              });
      Thread.sleep(12_000);
      CASSANDRA.start();
      earlyAgain = starting.join();
      assertTrue(
          Files.readString(earlyAgain.log).contains("starting anyway"),
          "the node started before its spool was stored:\n" + earlyAgain.tail());
      lateAgain = late.startAgain();
      assertTrue(
          Files.readString(lateAgain.log).contains("chunks the spool held"),
          "the node stored its spool when it started:\n" + lateAgain.tail());

      early.assertOneGapAtTheKill(outageAt, killedAt);
      late.assertOneGapAtTheKill(outageAt, killedAt);
      earlyAgain.stop();
      lateAgain.stop();
    } finally {
      early.first.close();
      late.first.close();
      if (earlyAgain != null) earlyAgain.close();
      if (lateAgain != null) lateAgain.close();
      CASSANDRA.start();
    }
  }

  /** A node of its own, with its keyspace and spool, under three calls that follow its moves. */
  private final class Killed {
    final String name;
    final String keyspace;
    final Map<String, String> env;
    final NodeProcess first;
    LoadGenerator.Running load;

    Killed(String name) throws Exception {
      this.name = name;
      keyspace = "outkill_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      env =
          onOwnCassandra(
              Map.of(
                  "CALLVAULT_HTTP_PORT", String.valueOf(NodeProcess.freePort()),
                  "CALLVAULT_SPOOL_DIR",
                      java.nio.file.Path.of(System.getProperty("user.dir"))
                          .resolve("target/it-spool/" + name)
                          .toString()));
      first = NodeProcess.start(name + "-1", keyspace, env);
    }

    /**
     * Three calls on the node, which follow its moves, of 160 s: they must still send when the node
     * started after Cassandra's return has bound them again, which on a busy machine was more than
     * 100 s after they began (their recording then ended at the kill, and had no gap to check).
     */
    void startLoad(long seed) throws Exception {
      load =
          LoadGenerator.start(
              new Options()
                  .apiKey(TestKeys.ALL)
                  .api(first.base())
                  .prefix(name + "-" + UUID.randomUUID().toString().substring(0, 8))
                  .calls(3)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(160))
                  .followMoves(true)
                  .stopCallsAtEnd(true)
                  .stopDelay(Duration.ofMillis(500))
                  .seed(seed));
      running.add(load); // stopped after the test, pass or fail
    }

    /** Kills the node once its spool holds what it could not store; the time of the kill. */
    long kill() throws Exception {
      JsonNode spooling = JSON.readTree(get(first, "/v1/health").body());
      long killedAt = System.currentTimeMillis() * 1000;
      first.kill();
      System.out.println(name + ": killed with " + spooling.path("spool") + " in its spool");
      assertTrue(spooling.path("spool").path("chunks").asInt() >= 6 * 10, spooling.toString());
      return killedAt;
    }

    NodeProcess startAgain(String... jvmOptions) throws Exception {
      return NodeProcess.start(name + "-2", keyspace, env, jvmOptions);
    }

    void assertOneGapAtTheKill(long outageAt, long killedAt) throws Exception {
      Http api = new Http(first.base());
      Summary summary = load.await();
      int listedLate = 0;
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
        assertTrue(
            api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
        JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
        for (StreamRecord stream : sent.streams()) {
          List<JsonNode> gaps = new java.util.ArrayList<>();
          long firstEpoch = Long.MAX_VALUE;
          int bindings = 0;
          for (JsonNode event : ledger.path("events")) {
            JsonNode d = event.path("details");
            String type = event.path("type").asText();
            if (type.equals("MediaBound")) bindings++;
            if (type.equals("MediaGap") && d.path("label").asText().equals(stream.label()))
              gaps.add(d);
            if (type.equals("ChunkStored")
                && d.path("chunk").path("label").asText().equals(stream.label())) {
              firstEpoch = Math.min(firstEpoch, d.path("chunk").path("epoch").asLong());
              // Listed after the call was bound again: stored from the spool after it recovered.
              if (bindings > 1 && d.path("chunk").path("epoch").asLong() == firstEpoch)
                listedLate++;
            }
          }
          String where = name + " " + callId + "/" + stream.label();
          assertEquals(1, gaps.size(), where + ": one gap: " + gaps);
          assertEquals("NODE_FAILURE", gaps.get(0).path("cause").asText());
          // The dead node's last stored audio and the new node's first, by their place in time.
          List<JsonNode> chunks = Recordings.chunksOf(timeline, stream.label());
          long epochBefore = firstEpoch;
          JsonNode last =
              chunks.stream()
                  .filter(c -> c.path("epoch").asLong() == epochBefore)
                  .max(java.util.Comparator.comparingLong(c -> c.path("n").asLong()))
                  .orElseThrow();
          // None when the call was stopped before its recovered entity bound new sockets (its
          // Cassandra slow to return): the gap then runs to the stop.
          JsonNode next =
              chunks.stream()
                  .filter(c -> c.path("epoch").asLong() > epochBefore)
                  .min(java.util.Comparator.comparingLong(c -> c.path("startWallMicros").asLong()))
                  .orElse(null);
          org.callvault.bench.SentPacket lastStored =
              Recordings.sentWith(
                  stream, last.path("ssrc").asLong(), last.path("lastSeq").asLong());
          // Without the spool the last audio stored would be from before the outage, 15 s earlier.
          assertTrue(
              lastStored.sendWallMicros() > killedAt - 2_500_000,
              where
                  + ": the last audio before the gap was sent "
                  + (killedAt - lastStored.sendWallMicros()) / 1000
                  + " ms before the kill, "
                  + (lastStored.sendWallMicros() - outageAt) / 1000
                  + " ms into the outage");
          long nextSent =
              next == null
                  ? Long.MAX_VALUE
                  : Recordings.sentWith(
                          stream, next.path("ssrc").asLong(), next.path("firstSeq").asLong())
                      .sendWallMicros();
          // Every packet outside the gap is in the export at its place.
          short[] exported =
              Recordings.pcm(
                  api.bytes(
                      "/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()),
                  1)[0];
          Recordings.checkStream(
              stream,
              exported,
              chunks,
              List.of(),
              List.of(new long[] {lastStored.sendWallMicros() + 1, nextSent}));
        }
      }
      System.out.println(
          name
              + ": "
              + listedLate
              + " chunks of the dead node listed after their call bound again");
    }
  }

  /**
   * A spool too small for the outage (200 KB, about 21 chunks): what it held is stored and listed
   * once Cassandra is back; each chunk it refused is a {@code MediaGap} with cause {@code
   * SPOOL_FULL} whose packets are missing from the export, and every other packet is there in
   * place.
   */
  @Test
  void whatASpoolTooSmallForTheOutageRefusesIsAGapWithItsCause() throws Exception {
    String keyspace = "spoolful_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    try (NodeProcess node =
        NodeProcess.start(
            "spool-full",
            keyspace,
            onOwnCassandra(Map.of("CALLVAULT_SPOOL_MAX_BYTES", "200000")))) {
      Http api = new Http(node.base());
      LoadGenerator.Running load =
          LoadGenerator.start(
              new Options()
                  .apiKey(TestKeys.ALL)
                  .api(node.base())
                  .prefix("spoolfull-" + UUID.randomUUID().toString().substring(0, 8))
                  .calls(1)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(60))
                  .stopCallsAtEnd(true)
                  .stopDelay(Duration.ofMillis(500))
                  .seed(33));
      running.add(load); // stopped after the test, pass or fail
      Thread.sleep(6000);
      CASSANDRA.stop();
      Thread.sleep(20_000);
      CASSANDRA.start();
      Summary summary = load.await();
      CallRecord sent = summary.calls().get(0);
      String callId = sent.callId();
      JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
      assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
      JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
      for (StreamRecord stream : sent.streams()) {
        List<long[]> refused = new java.util.ArrayList<>();
        long refusedPackets = 0;
        int stored = 0;
        for (JsonNode event : ledger.path("events")) {
          JsonNode d = event.path("details");
          String type = event.path("type").asText();
          if (type.equals("ChunkStored")
              && d.path("chunk").path("label").asText().equals(stream.label())) stored++;
          if (!type.equals("MediaGap") || !d.path("label").asText().equals(stream.label()))
            continue;
          assertEquals("SPOOL_FULL", d.path("cause").asText(), d.toString());
          assertTrue(d.path("detail").asText().contains("its limit is 200000"), d.toString());
          // The span holds the packets the node read in it. A packet is read after it was sent (a
          // few hundred milliseconds on a loaded machine), so one sent in the span's last 250 ms
          // may have been read into the next chunk, which was stored.
          refused.add(
              new long[] {
                d.path("startWallMicros").asLong(), d.path("endWallMicros").asLong() - 250_000
              });
          refusedPackets += d.path("packets").asLong();
        }
        String where = callId + "/" + stream.label();
        System.out.println(
            "spool-full: "
                + where
                + ": "
                + refused.size()
                + " chunks refused ("
                + refusedPackets
                + " packets), "
                + stored
                + " stored");
        assertTrue(refused.size() >= 5, where + ": the spool refused chunks: " + refused.size());
        short[] exported =
            Recordings.pcm(
                api.bytes(
                    "/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()),
                1)[0];
        int present =
            Recordings.checkStream(
                stream, exported, Recordings.chunksOf(timeline, stream.label()), refused);
        long sentPackets = stream.sent().stream().filter(p -> !p.duplicate()).count();
        assertEquals(
            sentPackets - refusedPackets,
            present,
            where + ": every packet but those of the refused chunks is in the export");
      }
      node.stop();
    } finally {
      CASSANDRA.start();
    }
  }

  /**
   * Cassandra stalls for 5 s under three calls (a proxy in front of its CQL port holds every byte,
   * connections open): writes time out instead of failing fast, and still nothing is lost: every
   * packet sent is in the export at its place, no gap, the sockets bound once.
   */
  @Test
  void aCassandraThatStallsForFiveSecondsLosesNothing() throws Exception {
    String keyspace = "stall_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (StallingProxy proxy =
            new StallingProxy(new java.net.InetSocketAddress("127.0.0.1", CASSANDRA.port()));
        NodeProcess node =
            NodeProcess.start(
                "stalled",
                keyspace,
                Map.of("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + proxy.port()))) {
      Http api = new Http(node.base());
      LoadGenerator.Running load =
          LoadGenerator.start(
              new Options()
                  .apiKey(TestKeys.ALL)
                  .api(node.base())
                  .prefix("stall-" + UUID.randomUUID().toString().substring(0, 8))
                  .calls(3)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(35))
                  .stopCallsAtEnd(true)
                  .stopDelay(Duration.ofMillis(500))
                  .seed(32));
      running.add(load); // stopped after the test, pass or fail
      Thread.sleep(8000);
      assertTrue(proxy.connections() > 0, "the node reaches Cassandra through the proxy");
      proxy.stall(Duration.ofSeconds(5));
      Thread.sleep(500);
      // The stall is real: the health check's storage probe times out.
      HttpResponse<String> health = get(node, "/v1/health");
      assertEquals(503, health.statusCode(), health.body());
      assertTrue(health.body().contains("storage does not answer"), health.body());
      Thread.sleep(1500);
      Summary summary = load.await();
      for (CallRecord sent : summary.calls()) assertRecordedWhole(api, sent);
      node.stop();
    }
  }

  /**
   * {@code sent} recorded whole: stopped, its ledger verifies and has no gap, its sockets were
   * bound once, and each stream's export holds every packet sent outside the call's pauses at its
   * place and none inside them; a stream of a call never paused holds every packet sent.
   */
  /**
   * A stopped call whose ledger verifies, has no gap and one binding, and whose export holds every
   * packet sent (outside its pauses) at its place.
   */
  static void assertRecordedWhole(Http api, CallRecord sent) throws Exception {
    String callId = sent.callId();
    JsonNode call = api.get("/v1/calls/" + callId, 200);
    assertEquals("STOPPED", call.path("state").asText());
    assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
    int bindings = 0;
    for (JsonNode event : api.get("/v1/calls/" + callId + "/ledger", 200).path("events")) {
      String type = event.path("type").asText();
      assertTrue(!type.equals("MediaGap"), callId + ": no gap, yet " + event);
      if (type.equals("MediaBound")) bindings++;
    }
    assertEquals(1, bindings, callId + ": the sockets were bound once and never again");
    List<long[]> paused = new java.util.ArrayList<>();
    for (JsonNode pause : call.path("pauses"))
      paused.add(
          new long[] {
            java.time.Instant.parse(pause.path("start").asText()).toEpochMilli() * 1000,
            java.time.Instant.parse(pause.path("end").asText()).toEpochMilli() * 1000
          });
    JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
    for (StreamRecord stream : sent.streams()) {
      String where = callId + "/" + stream.label();
      short[] exported =
          Recordings.pcm(
              api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()),
              1)[0];
      int present =
          Recordings.checkStream(
              stream, exported, Recordings.chunksOf(timeline, stream.label()), paused);
      if (paused.isEmpty())
        assertEquals(
            stream.sent().stream().filter(p -> !p.duplicate()).count(),
            present,
            where + ": every packet sent is in the export");
      assertTrue(present > 1000, where + ": the call ran through the fault: " + present);
    }
  }

  static HttpResponse<String> send(NodeProcess node, String path, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(node.base() + path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + TestKeys.ALL)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A GET; the node must answer. */
  static HttpResponse<String> get(NodeProcess node, String path) throws Exception {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create(node.base() + path))
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", "Bearer " + TestKeys.ALL)
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new AssertionError("the node did not answer " + path + ": " + e, e);
    }
  }
}
