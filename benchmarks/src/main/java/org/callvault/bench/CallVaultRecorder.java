package org.callvault.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * CallVault under the capacity benchmark: one node ({@code cluster-conf/local.conf}, 1 GB heap,
 * audio sealed) on its own Cassandra, both under {@code target/capacity}; calls created through the
 * REST API, 32 at a time, each declaring its streams' source addresses; what was stored read from
 * the streams' counters.
 *
 * <p>To find the capacity, the node's admission by headroom is off and a 503 is retried after its
 * Retry-After. With {@code admission} on (the node's defaults), a call refused with 503 is counted
 * and not offered again, as an SBC would record the call elsewhere: what matters is that the calls
 * admitted lose nothing.
 */
final class CallVaultRecorder implements Recorder {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String API = "http://127.0.0.1:18080";

  /** The node's SIPREC port (UDP and TCP). */
  static final int SIP_PORT = 15160;

  private static final int IN_FLIGHT = 32;

  private final Stack stack;
  private final Process node;
  private final CqlSession cql;
  private final boolean admission;
  private final ExecutorService pool = Executors.newFixedThreadPool(IN_FLIGHT);
  private final HttpClient http =
      HttpClient.newBuilder()
          .executor(Executors.newFixedThreadPool(4))
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  /**
   * Starts Cassandra and the node, with the node's GC log at {@code gcLog} and {@code options}
   * added to its JVM's, for at most {@code maxCalls} calls.
   */
  CallVaultRecorder(Path gcLog, List<String> options, int maxCalls, boolean admission)
      throws Exception {
    this.admission = admission;
    stack = new Stack("capacity", "capacity", 29042, 29000, 29199);
    try {
      stack.cassandra("start");
      node = startNode(gcLog, options, maxCalls);
      stack.awaitHealthy(API, Duration.ofSeconds(180));
      cql =
          CqlSession.builder()
              .addContactPoint(new InetSocketAddress("127.0.0.1", stack.cassandraPort()))
              .withLocalDatacenter("datacenter1")
              .build();
    } catch (Exception e) {
      stack.stopAll();
      throw e;
    }
  }

  private Process startNode(Path gcLog, List<String> options, int maxCalls) throws IOException {
    return stack.startNode(
        "local.conf",
        stack.home.resolve("node"),
        Stream.of(
                Stream.of("-Xmx1g", "-Xlog:gc:file=" + gcLog + ":uptime"),
                admission
                    ? Stream.<String>empty()
                    : Stream.of(
                        "-Dcallvault.media.admission.max-event-loop-lag=0",
                        "-Dcallvault.media.admission.max-cpu=1.0"),
                options.stream())
            .flatMap(s -> s)
            .toList(),
        Map.of(
            "CALLVAULT_HTTP_PORT",
            "18080",
            "CALLVAULT_REMOTE_PORT",
            "27520",
            "CALLVAULT_SIP_PORT",
            String.valueOf(SIP_PORT),
            "CALLVAULT_RTP_PORT_MIN",
            "16000",
            "CALLVAULT_RTP_PORT_MAX",
            String.valueOf(16000 + 4 * maxCalls + 100),
            "CALLVAULT_MAX_CALLS",
            String.valueOf(maxCalls)));
  }

  @Override
  public String name() {
    return "CallVault";
  }

  @Override
  public long pid() {
    return node.pid();
  }

  @Override
  public long storePid() {
    try {
      return stack.cassandraPid();
    } catch (IOException e) {
      return 0;
    }
  }

  /** Every write Cassandra's storage has taken, of every table (its local write latency count). */
  @Override
  public long storeWrites() {
    long total = 0;
    for (Row row : cql.execute("SELECT count FROM system_views.local_write_latency"))
      total += row.getLong("count");
    return total;
  }

  @Override
  public double heapMb() {
    return Stack.heapMb(node);
  }

  @Override
  public Setup create(String prefix, int calls, int firstSource) throws Exception {
    List<String> ids = new ArrayList<>();
    List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
    double[] latencies = new double[calls];
    int[] refusals = {0};
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    long began = System.nanoTime();
    for (int c = 0; c < calls; c++) {
      String id = prefix + "-" + (c + 1);
      ids.add(id);
      ObjectNode body = JSON.createObjectNode().put("callId", id);
      ArrayNode parties = body.putArray("parties");
      parties.addObject().put("id", "agent").put("role", "AGENT");
      parties.addObject().put("id", "customer").put("role", "CUSTOMER");
      ArrayNode streams = body.putArray("streams");
      String[] labels = {"agent", "customer"};
      for (int s = 0; s < 2; s++)
        streams
            .addObject()
            .put("label", labels[s])
            .put("party", labels[s])
            .put("codec", "PCMU")
            .put("source", "127.0.0.1:" + (firstSource + 2 * c + s));
      int index = c;
      inFlight.acquire();
      answers.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  long sentAt = System.nanoTime();
                  for (int attempt = 0; ; attempt++) {
                    HttpResponse<String> r =
                        http.send(
                            post("/v1/calls", body.toString()),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 201 || r.statusCode() == 200) {
                      latencies[index] = (System.nanoTime() - sentAt) / 1e6;
                      return JSON.readTree(r.body());
                    }
                    if (r.statusCode() == 503 && admission) {
                      synchronized (refusals) {
                        refusals[0]++;
                      }
                      return null; // refused for want of headroom: counted, not offered again
                    }
                    if (r.statusCode() != 503 || attempt == 20)
                      throw new IllegalStateException(
                          "POST /v1/calls answered " + r.statusCode() + ": " + r.body());
                    synchronized (refusals) {
                      refusals[0]++;
                    }
                    long wait = r.headers().firstValueAsLong("Retry-After").orElse(1);
                    TimeUnit.SECONDS.sleep(Math.max(1, wait));
                  }
                } catch (IOException | InterruptedException e) {
                  throw new IllegalStateException("POST /v1/calls: " + e, e);
                } finally {
                  inFlight.release();
                }
              },
              pool));
    }
    StringBuilder plan = new StringBuilder();
    List<String> admitted = new ArrayList<>();
    List<Double> admittedLatencies = new ArrayList<>();
    for (int c = 0; c < calls; c++) {
      JsonNode call = answers.get(c).join();
      if (call == null) continue;
      admitted.add(ids.get(c));
      admittedLatencies.add(latencies[c]);
      for (int s = 0; s < 2; s++)
        plan.append(firstSource + 2 * c + s)
            .append(' ')
            .append(call.path("streams").get(s).path("rtp").path("port").asInt())
            .append('\n');
    }
    return Setup.of(
        admitted,
        plan.toString(),
        began,
        admittedLatencies.stream().mapToDouble(Double::doubleValue).toArray(),
        refusals[0]);
  }

  @Override
  public void stop(List<String> callIds) {
    forEach(callIds, id -> post("/v1/calls/" + id + "/stop", "{\"by\":\"capacity\"}"));
  }

  /** The streams' counters summed, read until two reads a second apart agree (30 s at most). */
  @Override
  public Counted settle(List<String> callIds) throws Exception {
    Counted previous = null;
    for (int round = 0; round < 30; round++) {
      long received = 0;
      long stored = 0;
      long lost = 0;
      List<String> calls =
          forEach(
              callIds,
              id ->
                  HttpRequest.newBuilder(URI.create(API + "/v1/calls/" + id))
                      .timeout(Duration.ofSeconds(30))
                      .header("Authorization", "Bearer " + stack.key.key())
                      .build());
      for (String call : calls) {
        for (JsonNode stream : JSON.readTree(call).path("streams")) {
          JsonNode stats = stream.path("stats");
          received += stats.path("received").asLong();
          stored += stats.path("stored").asLong();
          lost += stats.path("lost").asLong();
        }
      }
      Counted now = new Counted(received, stored, lost);
      if (now.equals(previous)) return now;
      previous = now;
      TimeUnit.SECONDS.sleep(1);
    }
    return previous;
  }

  /**
   * From the ledgers of up to 40 of the calls: each listed chunk's event time less the wall-clock
   * time of its first packet (the chunk's anchored start). The event's time is taken when the
   * listing is sealed, after Cassandra acknowledged the chunk; its journal write follows.
   */
  @Override
  public double[] durability(List<String> callIds) throws Exception {
    List<String> sample = new ArrayList<>();
    int step = Math.max(1, callIds.size() / 40);
    for (int i = 0; i < callIds.size(); i += step) sample.add(callIds.get(i));
    List<Double> millis = new ArrayList<>();
    for (String ledger : forEach(sample, id -> get("/v1/calls/" + id + "/ledger"))) {
      for (JsonNode event : JSON.readTree(ledger).path("events")) {
        if (!event.path("type").asText().equals("ChunkStored")) continue;
        if (event.path("details").path("adopted").asBoolean()) continue;
        JsonNode time = event.path("time");
        Instant listed =
            time.isNumber()
                ? Instant.ofEpochSecond(0, time.decimalValue().movePointRight(9).longValue())
                : Instant.parse(time.asText());
        long firstPacketMicros =
            event.path("details").path("chunk").path("startWallMicros").asLong();
        millis.add(
            (listed.toEpochMilli() * 1000 + listed.getNano() / 1000 % 1000 - firstPacketMicros)
                / 1000.0);
      }
    }
    if (millis.isEmpty()) return null;
    millis.sort(Double::compare);
    return new double[] {
      millis.get(millis.size() / 2),
      millis.get(Math.min(millis.size() - 1, (int) Math.ceil(millis.size() * 0.99) - 1)),
      millis.get(millis.size() - 1)
    };
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(URI.create(API + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + stack.key.key())
        .build();
  }

  /** Sends one request per call, 32 at a time, and returns the answers' bodies in order. */
  private List<String> forEach(List<String> ids, Function<String, HttpRequest> request) {
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (String id : ids) {
      inFlight.acquireUninterruptibly();
      HttpRequest r = request.apply(id);
      answers.add(
          http.sendAsync(r, HttpResponse.BodyHandlers.ofString())
              // A pooled connection the node closed as idle fails at once: once more on a new one.
              .exceptionallyCompose(e -> http.sendAsync(r, HttpResponse.BodyHandlers.ofString()))
              .whenComplete((answer, e) -> inFlight.release()));
    }
    List<String> bodies = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> answer : answers) bodies.add(answer.join().body());
    return bodies;
  }

  private HttpRequest post(String path, String json) {
    return HttpRequest.newBuilder(URI.create(API + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + stack.key.key())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
  }

  @Override
  public void close() {
    cql.close();
    pool.shutdownNow();
    http.executor().ifPresent(e -> ((ExecutorService) e).shutdownNow());
    stack.stopAll();
  }
}
