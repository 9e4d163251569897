package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.StreamRecord;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.Test;

/**
 * Three node processes on the real Cassandra, 20 two-stream calls from the load generator, and
 * {@code kill -9} of the node holding the most calls: every call records again on a survivor,
 * the audio stored before the kill is sample-exact, each call's gap is in its ledger with its
 * cause, no chunk is listed twice, and every ledger verifies.
 */
class FailoverIT {

  private static final int CALLS = 20;

  @Test
  void theCallsOfAKilledNodeRecordAgainOnTheSurvivorsWithTheirGapsRecorded() throws Exception {
    String keyspace = "failover_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    int seedPort = NodeProcess.freePort();
    String seed = "pekko://callvault@127.0.0.1:" + seedPort;
    List<NodeProcess> nodes = new ArrayList<>();
    // Call-control's side of the media.moved webhook.
    List<JsonNode> notices = java.util.Collections.synchronizedList(new ArrayList<>());
    com.sun.net.httpserver.HttpServer webhook = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    webhook.createContext("/moved", exchange -> {
      notices.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(exchange.getRequestBody()));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    webhook.start();
    try {
      List<CompletableFuture<NodeProcess>> starting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int index = i;
        Map<String, String> env = new HashMap<>();
        env.put("CALLVAULT_SEED_NODE", seed);
        env.put("CALLVAULT_WEBHOOK_URL", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/moved");
        env.put("CALLVAULT_RTP_PORT_MIN", String.valueOf(44000 + 1000 * i));
        env.put("CALLVAULT_RTP_PORT_MAX", String.valueOf(44999 + 1000 * i));
        if (i == 0) env.put("CALLVAULT_REMOTE_PORT", String.valueOf(seedPort));
        starting.add(
            CompletableFuture.supplyAsync(() -> {
              try {
                return NodeProcess.start("failover-" + (index + 1), keyspace, env, "-Dconfig.file=" + java.nio.file.Path.of("cluster-conf/multi-node.conf").toAbsolutePath());
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
        if (i == 0) starting.get(0).join(); // the seed first, so the others join it
      }
      for (CompletableFuture<NodeProcess> node : starting) nodes.add(node.join());
      NodeProcess entry = nodes.get(0); // the load generator's API; a deployment puts a load balancer here
      Http api = new Http(entry.base());
      awaitMembers(api, 3);

      LoadGenerator.Running load =
          LoadGenerator.start(
              new Options()
                  .api(entry.base())
                  .prefix("failover-" + UUID.randomUUID().toString().substring(0, 8))
                  .calls(CALLS)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(40))
                  .seed(4)
                  .followMoves(true)
                  .followInterval(Duration.ofMillis(500))
                  .stopCallsAtEnd(true)
                  .stopDelay(Duration.ofMillis(500)));
      Thread.sleep(7000);

      Map<String, List<String>> callsByNode = new HashMap<>();
      Map<String, JsonNode> before = new HashMap<>();
      for (String callId : load.callIds()) {
        JsonNode call = api.get("/v1/calls/" + callId, 200);
        before.put(callId, call);
        callsByNode.computeIfAbsent(call.path("media").path("node").asText(), n -> new ArrayList<>()).add(callId);
      }
      NodeProcess victim = null;
      for (NodeProcess node : nodes.subList(1, 3)) {
        if (victim == null || calls(callsByNode, node).size() > calls(callsByNode, victim).size()) victim = node;
      }
      List<String> moved = calls(callsByNode, victim);
      System.out.println("calls per node before the kill: " + sizes(callsByNode) + "; killing " + victim.name + " with " + moved.size());
      assertFalse(moved.isEmpty(), "the killed node holds calls: " + sizes(callsByNode));

      long killedAt = System.currentTimeMillis() * 1000;
      Instant killed = Instant.now();
      victim.kill();

      // Every call of the dead node records again on a survivor, at new endpoints.
      Map<String, Duration> recovery = new HashMap<>();
      Instant deadline = killed.plusSeconds(40);
      while (recovery.size() < moved.size() && Instant.now().isBefore(deadline)) {
        for (String callId : moved) {
          if (recovery.containsKey(callId)) continue;
          JsonNode call = api.send("GET", "/v1/calls/" + callId, null, Http.ANY_OK);
          // On another node, and a packet arrived there after the kill.
          if (call != null && call.path("state").asText().equals("RECORDING") && !call.path("media").path("node").asText().equals(nodeOf(before.get(callId)))
              && call.path("streams").get(0).path("stats").path("lastPacketAt").asLong() * 1000 > killedAt)
            recovery.put(callId, Duration.between(killed, Instant.now()));
        }
        Thread.sleep(200);
      }
      assertEquals(moved.size(), recovery.size(), "calls recording again: " + recovery.keySet() + " of " + moved);
      for (String callId : moved) {
        JsonNode call = api.get("/v1/calls/" + callId, 200);
        JsonNode notice = null;
        synchronized (notices) {
          for (JsonNode n : notices) if (n.path("callId").asText().equals(callId)) notice = n;
        }
        assertTrue(notice != null, "no media.moved notice for " + callId + ": " + notices);
        assertEquals("media.moved", notice.path("event").asText());
        assertEquals("NODE_FAILURE", notice.path("cause").asText());
        assertEquals(call.path("media").path("node").asText(), notice.path("node").asText());
        for (JsonNode s : notice.path("streams"))
          assertEquals(Recordings.streamOf(call, s.path("label").asText()).path("rtp").path("port").asInt(), s.path("port").asInt(), "the notice names the new port");
      }
      synchronized (notices) {
        for (JsonNode n : notices) assertTrue(moved.contains(n.path("callId").asText()), "a notice for a call that did not move: " + n);
      }

      Summary summary = load.await();
      List<Double> gaps = new ArrayList<>();
      Set<String> movedSet = new HashSet<>(moved);
      for (CallRecord sent : summary.calls()) {
        String callId = sent.callId();
        JsonNode ledger = api.get("/v1/calls/" + callId + "/ledger", 200);
        assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean(), callId);
        Set<String> chunks = new HashSet<>();
        Map<String, JsonNode> gapOf = new HashMap<>();
        for (JsonNode event : ledger.path("events")) {
          JsonNode details = event.path("details");
          if (event.path("type").asText().equals("ChunkStored")) {
            JsonNode c = details.path("chunk");
            assertTrue(chunks.add(c.path("label").asText() + "/" + c.path("epoch").asLong() + "/" + c.path("n").asLong()), callId + ": a chunk listed twice");
          }
          if (event.path("type").asText().equals("MediaGap")) gapOf.put(details.path("label").asText(), details);
        }
        JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
        for (StreamRecord stream : sent.streams()) {
          short[] exported = Recordings.pcm(api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=" + stream.label()), 1)[0];
          if (movedSet.contains(callId)) {
            JsonNode gap = gapOf.get(stream.label());
            assertTrue(gap != null, callId + "/" + stream.label() + " has no MediaGap: " + ledger);
            assertEquals("NODE_FAILURE", gap.path("cause").asText());
            long from = gap.path("startWallMicros").asLong();
            long to = gap.path("endWallMicros").asLong();
            assertTrue(from <= killedAt && to > killedAt, "the gap spans the kill: " + gap);
            gaps.add((to - from) / 1000.0);
            // What a dead node held in memory (its last second) is lost; everything stored is in place.
            Recordings.checkStream(stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of(), List.of(new long[] {from - 1_500_000, to + 1_000_000}));
          } else {
            assertFalse(gapOf.containsKey(stream.label()), callId + " did not move but has a gap");
            Recordings.checkStream(stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of());
          }
        }
      }
      Collections.sort(gaps);
      List<Long> times = recovery.values().stream().map(Duration::toMillis).sorted().toList();
      System.out.printf(
          "failover of %d calls: gaps min %.0f ms, median %.0f ms, max %.0f ms; recording again after min %d ms, median %d ms, max %d ms%n",
          moved.size(), gaps.get(0), gaps.get(gaps.size() / 2), gaps.get(gaps.size() - 1), times.get(0), times.get(times.size() / 2), times.get(times.size() - 1));
    } finally {
      for (NodeProcess node : nodes) node.close();
      webhook.stop(0);
    }
  }

  private static String nodeOf(JsonNode call) {
    return call.path("media").path("node").asText();
  }

  private static List<String> calls(Map<String, List<String>> byNode, NodeProcess node) {
    for (var e : byNode.entrySet()) if (e.getKey().endsWith(":" + node.remotePort)) return e.getValue();
    return List.of();
  }

  private static Map<String, Integer> sizes(Map<String, List<String>> byNode) {
    Map<String, Integer> sizes = new HashMap<>();
    byNode.forEach((node, calls) -> sizes.put(node, calls.size()));
    return sizes;
  }

  private static void awaitMembers(Http api, int members) throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    while (true) {
      JsonNode health = api.get("/v1/health", 200);
      if (health.path("members").asInt() >= members) return;
      if (Instant.now().isAfter(deadline)) throw new AssertionError("the cluster did not reach " + members + " members: " + health);
      Thread.sleep(300);
    }
  }
}
