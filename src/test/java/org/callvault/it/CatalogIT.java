package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Finding calls: {@code GET /v1/calls} on a node on the real Cassandra, from the read model the
 * projections keep from the journal. Calls are created, paused, stopped and one loses packets on
 * the way; the listing finds each by state, party (id and address of record), source, time range
 * and completeness, newest first, a page at a time; the read model's lag behind a stop is measured.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class CatalogIT {

  private static final String STREAMS =
      "\"streams\":[{\"label\":\"a\",\"party\":\"agent\",\"codec\":\"PCMU\"}]";

  @Test
  void callsAreFoundByStatePartySourceTimeAndCompletenessNewestFirstAPageAtATime()
      throws Exception {
    String keyspace = "it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String run = UUID.randomUUID().toString().substring(0, 8);
    try (NodeProcess node = NodeProcess.start("catalog", keyspace, Map.of())) {
      Http api = node.api();
      List<String> ids = new ArrayList<>();
      List<Instant> created = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        String id = "catalog-" + run + "-" + i;
        String aor = i == 2 ? ",\"aor\":\"sip:Alice@Example.com\"" : "";
        JsonNode call =
            api.post(
                "/v1/calls",
                "{\"callId\":\""
                    + id
                    + "\",\"parties\":[{\"id\":\"agent-"
                    + i
                    + "\",\"role\":\"AGENT\""
                    + aor
                    + "}],"
                    + STREAMS.replace("agent", "agent-" + i)
                    + "}",
                201);
        ids.add(id);
        created.add(Instant.parse(call.path("createdAt").asText()));
        Thread.sleep(5); // distinct creation times, to the millisecond
      }

      // Call 4 loses 5 of 55 packets on the network; calls 0, 1 and 4 stop, call 1 after a pause.
      JsonNode rtp = api.get("/v1/calls/" + ids.get(4), 200).path("streams").get(0).path("rtp");
      sendSkipping(new InetSocketAddress(rtp.path("host").asText(), rtp.path("port").asInt()));
      api.post(
          "/v1/calls/" + ids.get(1) + "/pause",
          "{\"reason\":\"card payment\",\"by\":\"agent-7\"}",
          200);
      api.post("/v1/calls/" + ids.get(0) + "/stop", "{}", 200);
      api.post("/v1/calls/" + ids.get(1) + "/stop", "{}", 200);
      Instant stopped = Instant.now();
      api.post("/v1/calls/" + ids.get(4) + "/stop", "{}", 200);
      api.post(
          "/v1/calls/" + ids.get(3) + "/pause",
          "{\"reason\":\"card payment\",\"by\":\"agent-7\"}",
          200);

      // The lag: from the last stop's answer to the listing showing it stopped.
      JsonNode all =
          awaitListing(
              api,
              "",
              l -> state(l, ids.get(4)).equals("STOPPED") && state(l, ids.get(3)).equals("PAUSED"));
      Duration lag = Duration.between(stopped, Instant.now());
      System.out.println("CatalogIT: the listing showed the stops after " + lag.toMillis() + " ms");
      assertTrue(lag.toSeconds() < 15, "the read model's lag behind a stop: " + lag);

      // Newest first, every call once, with its state, source and parties.
      assertEquals(
          List.of(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0)), callIds(all));
      JsonNode first = all.path("calls").get(4);
      assertEquals("STOPPED", first.path("state").asText());
      assertEquals("api", first.path("source").asText());
      assertEquals(created.get(0), Instant.parse(first.path("createdAt").asText()));
      assertEquals("agent-0", first.path("parties").get(0).path("id").asText());
      assertEquals("AGENT", first.path("parties").get(0).path("role").asText());
      assertFalse(all.has("nextPageToken"), "one page holds them all");

      // Completeness: the call that lost 5 of 55 packets, in the listing and on the call itself.
      JsonNode lossy = all.path("calls").get(0);
      assertEquals(ids.get(4), lossy.path("callId").asText());
      JsonNode completeness = awaitCompleteness(api, ids.get(4));
      assertEquals(5, completeness.path("lostOnNetwork").asLong(), completeness.toString());
      assertEquals(50, completeness.path("stored").asLong(), completeness.toString());
      assertEquals(55, completeness.path("expected").asLong());
      assertEquals(50 / 55.0, completeness.path("ratio").asDouble(), 1e-9);
      assertFalse(completeness.path("complete").asBoolean());
      JsonNode incomplete =
          awaitListing(api, "incomplete=true", l -> callIds(l).equals(List.of(ids.get(4))));
      JsonNode listedCompleteness = incomplete.path("calls").get(0).path("completeness");
      assertEquals(5, listedCompleteness.path("lostOnNetwork").asLong());
      assertEquals(50 / 55.0, listedCompleteness.path("ratio").asDouble(), 1e-9);
      assertTrue(all.path("calls").get(4).path("completeness").path("complete").asBoolean());

      // Filters.
      assertEquals(
          List.of(ids.get(4), ids.get(1), ids.get(0)),
          callIds(api.get("/v1/calls?state=STOPPED", 200)));
      assertEquals(List.of(ids.get(3)), callIds(api.get("/v1/calls?state=paused", 200)));
      assertEquals(List.of(ids.get(2)), callIds(api.get("/v1/calls?state=RECORDING", 200)));
      assertEquals(List.of(ids.get(3)), callIds(api.get("/v1/calls?party=agent-3", 200)));
      assertEquals(
          List.of(ids.get(2)),
          callIds(api.get("/v1/calls?party=" + encode("sip:alice@example.com"), 200)),
          "by address of record, in any case");
      assertEquals(
          List.of(), callIds(api.get("/v1/calls?party=" + encode("sip:bob@example.com"), 200)));
      assertEquals(5, callIds(api.get("/v1/calls?source=api", 200)).size());
      assertEquals(List.of(), callIds(api.get("/v1/calls?source=10.0.0.7", 200)));
      assertEquals(
          List.of(ids.get(2), ids.get(1)),
          callIds(api.get("/v1/calls?from=" + created.get(1) + "&to=" + created.get(2), 200)),
          "from and to are inclusive");
      assertEquals(
          List.of(ids.get(1)),
          callIds(
              api.get(
                  "/v1/calls?state=STOPPED&to=" + created.get(2) + "&from=" + created.get(1),
                  200)));

      // Pages of two: 2, 2, 1, newest first, each call once.
      List<String> paged = new ArrayList<>();
      List<Integer> sizes = new ArrayList<>();
      String token = null;
      do {
        JsonNode page =
            api.get("/v1/calls?limit=2" + (token == null ? "" : "&pageToken=" + token), 200);
        sizes.add(page.path("calls").size());
        paged.addAll(callIds(page));
        token = page.has("nextPageToken") ? page.path("nextPageToken").asText() : null;
      } while (token != null);
      assertEquals(List.of(2, 2, 1), sizes);
      assertEquals(callIds(all), paged);

      // The operators' command line lists the same, from the same route, following the pages.
      Cli listed = cli(node, "calls", "list", "--limit", "2", "--all", "--json");
      assertEquals(0, listed.status(), listed.err());
      assertEquals(callIds(all), callIds(new ObjectMapper().readTree(listed.out())));
      Cli stoppedOnly = cli(node, "calls", "list", "--state", "STOPPED", "--json");
      assertEquals(
          List.of(ids.get(4), ids.get(1), ids.get(0)),
          callIds(new ObjectMapper().readTree(stoppedOnly.out())));
      Cli table = cli(node, "calls", "list", "--incomplete");
      assertEquals(0, table.status(), table.err());
      assertTrue(
          table.out().contains(ids.get(4)) && table.out().contains("incomplete"), table.out());
      assertFalse(table.out().contains(ids.get(0)), table.out());
      Cli bad =
          cli(
              node,
              "calls",
              "list",
              "--from",
              "2026-12-06T10:00:00Z",
              "--to",
              "2026-12-05T10:00:00Z");
      assertEquals(org.callvault.cli.Cli.USAGE, bad.status(), bad.err());
      assertTrue(bad.err().contains("from must not be after to"), bad.err());

      // Bad parameters: 400, naming what is wrong.
      assertError(api, "/v1/calls?state=BOGUS", "state must be one of");
      assertError(api, "/v1/calls?limit=0", "limit must be 1 to 500");
      assertError(api, "/v1/calls?limit=501", "limit must be 1 to 500");
      assertError(api, "/v1/calls?pageToken=not-a-token", "pageToken");
      assertError(api, "/v1/calls?from=yesterday", "from must be an ISO-8601 instant");
      assertError(
          api,
          "/v1/calls?from=2026-12-06T10:00:00Z&to=2026-12-05T10:00:00Z",
          "from must not be after to");
      assertError(api, "/v1/calls?colour=blue", "unknown parameter 'colour'");
      assertError(api, "/v1/calls?incomplete=maybe", "incomplete must be true or false");
      // /metrics: the read model's lag, and the calls' shards and entities on this node (two calls
      // are still active; stopped ones passivate, so at least those two).
      Instant deadline = Instant.now().plusSeconds(20);
      Map<String, Double> metrics = metrics(api);
      while ((metrics.getOrDefault("callvault_entities", -1.0) < 2
              || metrics.getOrDefault("callvault_shards", -1.0) < 1)
          && Instant.now().isBefore(deadline)) {
        Thread.sleep(500);
        metrics = metrics(api);
      }
      assertTrue(metrics.getOrDefault("callvault_entities", -1.0) >= 2, metrics.toString());
      assertTrue(metrics.getOrDefault("callvault_shards", -1.0) >= 1, metrics.toString());
      assertTrue(
          metrics.getOrDefault("callvault_catalog_lag_seconds_count", 0.0) >= 10,
          "the tagged events applied, timed: " + metrics);
      assertTrue(
          metrics.getOrDefault("callvault_journal_write_seconds_count", 0.0) >= 15,
          "the ledger's writes timed (five creations, two pauses, three stops and more): "
              + metrics);
      assertEquals(0.0, metrics.get("callvault_journal_write_failures_total"), metrics.toString());
      node.stop();
    }
  }

  /** The node's metrics without labels, by name. */
  private static Map<String, Double> metrics(Http api) throws Exception {
    Map<String, Double> found = new java.util.HashMap<>();
    for (String line : new String(api.bytes("/metrics"), StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith("#") || line.contains("{")) continue;
      String[] parts = line.split(" ");
      if (parts.length == 2) found.put(parts[0], Double.parseDouble(parts[1]));
    }
    return found;
  }

  /** What a run of the command line printed, and its exit status. */
  private record Cli(int status, String out, String err) {}

  private static Cli cli(NodeProcess node, String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", node.base(), "--key", org.callvault.api.access.TestKeys.ALL));
    int status =
        org.callvault.cli.Cli.run(
            new java.io.PrintWriter(out, true),
            new java.io.PrintWriter(err, true),
            false,
            all.toArray(String[]::new));
    return new Cli(status, out.toString(), err.toString());
  }

  private static void assertError(Http api, String path, String message) throws Exception {
    JsonNode error = api.get(path, 400);
    assertTrue(error.toString().contains(message), path + " answered " + error);
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static JsonNode awaitListing(Http api, String query, Predicate<JsonNode> done)
      throws Exception {
    Instant deadline = Instant.now().plusSeconds(30);
    JsonNode listing;
    do {
      listing = api.get("/v1/calls" + (query.isEmpty() ? "" : "?" + query), 200);
      if (done.test(listing)) return listing;
      Thread.sleep(100);
    } while (Instant.now().isBefore(deadline));
    throw new AssertionError(
        "the listing of '" + query + "' did not become as expected: " + listing);
  }

  /** The call's completeness once its media is released (its counters are final then). */
  private static JsonNode awaitCompleteness(Http api, String callId) throws Exception {
    Instant deadline = Instant.now().plusSeconds(15);
    JsonNode call;
    do {
      call = api.get("/v1/calls/" + callId, 200);
      if (call.path("media").has("released")) return call.path("completeness");
      Thread.sleep(100);
    } while (Instant.now().isBefore(deadline));
    throw new AssertionError("the media of " + callId + " was not released: " + call);
  }

  private static String state(JsonNode listing, String callId) {
    for (JsonNode call : listing.path("calls"))
      if (call.path("callId").asText().equals(callId)) return call.path("state").asText();
    return "";
  }

  private static List<String> callIds(JsonNode listing) {
    List<String> ids = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (JsonNode call : listing.path("calls")) {
      String id = call.path("callId").asText();
      assertTrue(seen.add(id), "listed twice: " + id);
      ids.add(id);
    }
    return ids;
  }

  /** PCMU packets 1000–1054 at 20 ms, but for 1010–1014, which are never sent: 50 of 55. */
  private static void sendSkipping(InetSocketAddress to) throws Exception {
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      long start = System.nanoTime();
      for (int i = 0; i < 55; i++) {
        long due = start + (i + 1) * 20_000_000L;
        while (System.nanoTime() < due) Thread.sleep(1);
        if (i >= 10 && i < 15) continue;
        ByteBuffer rtp = ByteBuffer.allocate(12 + 160);
        rtp.put((byte) 0x80).put((byte) 0).putShort((short) (1000 + i)).putInt(8000 + 160 * i);
        rtp.putInt(0x5eed).put(new byte[160]);
        socket.send(new DatagramPacket(rtp.array(), rtp.capacity(), to));
      }
    }
    Thread.sleep(300); // the last packets are in before the stop cuts the last chunk
  }
}
