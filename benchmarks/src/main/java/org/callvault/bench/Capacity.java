package org.callvault.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * {@code benchmarks/capacity}: how many concurrent two-stream calls one node holds, with Cassandra
 * and the load generator on the same machine, and what each packet costs it against a receiver that
 * only discards.
 *
 * <pre>
 * benchmarks/capacity [--calls "500 1000 1500 2000"] [--duration 60] [--warmup 120] [--max-loss 0.01]
 *                     [--sink-seconds 15] [--threads 2] [--out DIR]
 * </pre>
 *
 * For each call count of the ramp, in order:
 *
 * <ol>
 *   <li>(once, before the ramp: {@code --warmup} seconds at the first count, not measured, so that
 *       the JIT has compiled the media and storage paths; on two cores that takes a minute or more)
 *   <li>the baseline: {@code rtpsink} (an epoll and {@code recvmmsg} loop that discards) receives
 *       the same load from the same sender for {@code --sink-seconds}; its CPU per packet is what
 *       the kernel alone charges a receiver;
 *   <li>the calls are created through the REST API (32 at a time, each declaring its streams'
 *       source ports; a 503 is retried after its Retry-After), their setup rate and latency
 *       measured;
 *   <li>{@code rtpsend} sends G.711 at 20 ms on every stream for {@code --duration} seconds while
 *       the CPU of the node, Cassandra and the sender, the node's heap and Cassandra's local writes
 *       per second are sampled every 5 s;
 *   <li>the calls are stopped, and their streams' counters read until they stop changing: loss is
 *       {@code 1 − stored / sent}.
 * </ol>
 *
 * The ramp stops after the first count whose loss exceeds {@code --max-loss} (a percentage). The
 * results, stamped with the machine, go to {@code capacity-<time>.md}, {@code .csv} (one row per
 * count), {@code -samples.csv}, {@code .png} and {@code -gc.log} under {@code benchmarks/results}.
 */
public final class Capacity {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String API = "http://127.0.0.1:18080";
  private static final int SOURCE_PORT = 10000; // stream i sends from 127.0.0.1:10000+i
  private static final int SINK_PORT = 45000;
  private static final Pattern PAUSE = Pattern.compile("Pause.*?([0-9.]+)ms$");

  private final Stack stack = new Stack("capacity", "capacity", 29042, 29000, 29199);
  private final HttpClient http =
      HttpClient.newBuilder()
          .executor(Executors.newFixedThreadPool(4))
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final ExecutorService setupPool = Executors.newFixedThreadPool(32);
  private final long startNanos = System.nanoTime();
  private final List<double[]> samples = new ArrayList<>();
  private final List<Step> steps = new ArrayList<>();

  private int[] ramp = {500, 1000, 1500, 2000};
  private int duration = 60;
  private int warmup = 120;
  private double maxLoss = 0.01;
  private int sinkSeconds = 15;
  private int threads = 2;
  private Path out = stack.root.resolve("benchmarks/results");
  private Process node;
  private String stamp;

  /** One count of the ramp, measured. */
  record Step(
      int calls,
      long sent,
      long stored,
      long lostOnNetwork,
      double lossPercent,
      double nodeCpu,
      double cassandraCpu,
      double senderCpu,
      double nodeMicrosPerPacket,
      double sinkMicrosPerPacket,
      double senderMicrosPerPacket,
      double heapMaxMb,
      double writesPerSecond,
      double latenessP50Ms,
      double latenessP99Ms,
      double setupPerSecond,
      double setupP50Ms,
      double setupP99Ms,
      double settleSeconds) {

    boolean held(double maxLoss) {
      return lossPercent <= maxLoss;
    }
  }

  private Capacity() throws IOException, java.security.GeneralSecurityException {}

  public static void main(String[] args) throws Exception {
    Capacity capacity = new Capacity();
    capacity.parse(args);
    try {
      capacity.run();
    } finally {
      capacity.stack.stopAll();
      capacity.http.executor().ifPresent(e -> ((ExecutorService) e).shutdownNow());
      capacity.setupPool.shutdownNow();
    }
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--calls" ->
            ramp =
                Arrays.stream(args[++i].trim().split("[ ,]+"))
                    .mapToInt(Integer::parseInt)
                    .toArray();
        case "--duration" -> duration = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--max-loss" -> maxLoss = Double.parseDouble(args[++i]);
        case "--sink-seconds" -> sinkSeconds = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        default -> {
          System.err.println(
              "usage: benchmarks/capacity [--calls \"500 1000 1500 2000\"] [--duration 60]"
                  + " [--warmup 120] [--max-loss 0.01] [--sink-seconds 15] [--threads 2] [--out"
                  + " DIR]");
          System.exit(2);
        }
      }
    }
  }

  private double now() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private void run() throws Exception {
    Files.createDirectories(out);
    stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    stack.cassandra("start");
    int maxCalls = Arrays.stream(ramp).max().orElse(0) * 2;
    node =
        stack.startNode(
            "local.conf",
            stack.home.resolve("node"),
            List.of(
                "-Xmx1g",
                "-Xlog:gc:file=" + out.resolve("capacity-" + stamp + "-gc.log") + ":uptime"),
            Map.of(
                "CALLVAULT_HTTP_PORT", "18080",
                "CALLVAULT_REMOTE_PORT", "27520",
                "CALLVAULT_SIP_PORT", "15160",
                "CALLVAULT_RTP_PORT_MIN", "16000",
                "CALLVAULT_RTP_PORT_MAX", String.valueOf(16000 + 4 * maxCalls + 100),
                "CALLVAULT_MAX_CALLS", String.valueOf(maxCalls)));
    stack.awaitHealthy(API, Duration.ofSeconds(180));
    System.out.printf(
        Locale.ROOT,
        "capacity: ramp %s, %d s each, loss at most %.4f %%; node pid %d, Cassandra pid %d%n",
        Arrays.toString(ramp),
        duration,
        maxLoss,
        node.pid(),
        stack.cassandraPid());
    try (CqlSession cql =
            CqlSession.builder()
                .addContactPoint(new InetSocketAddress("127.0.0.1", stack.cassandraPort()))
                .withLocalDatacenter("datacenter1")
                .build();
        PrintWriter sampleRows =
            new PrintWriter(
                Files.newBufferedWriter(out.resolve("capacity-" + stamp + "-samples.csv")))) {
      sampleRows.println(
          "seconds,calls,node_cpu_pct,cassandra_cpu_pct,sender_cpu_pct,heap_mb,cassandra_writes_per_s");
      if (warmup > 0) {
        int calls = ramp[0];
        System.out.printf(
            Locale.ROOT,
            "%ncapacity: warming up (the JIT compiles the media and storage paths) with %d calls"
                + " for %d s, not measured%n",
            calls,
            warmup);
        Step warm = step(calls, warmup, cql, sampleRows);
        System.out.printf(
            Locale.ROOT, "capacity: warm-up done, %.4f %% lost%n", warm.lossPercent());
      }
      for (int calls : ramp) {
        Step step = step(calls, duration, cql, sampleRows);
        steps.add(step);
        System.out.println(row(step));
        if (!step.held(maxLoss)) {
          System.out.printf(
              Locale.ROOT,
              "capacity: %.4f %% lost at %d calls, above %.4f %%: the ramp stops%n",
              step.lossPercent(),
              calls,
              maxLoss);
          break;
        }
      }
    }
    report();
  }

  // ------------------------------------------------------------------------------ one step

  private Step step(int calls, int seconds, CqlSession cql, PrintWriter sampleRows)
      throws Exception {
    int streams = 2 * calls;
    System.out.printf(Locale.ROOT, "%n[%d calls] baseline: rtpsink for %d s%n", calls, sinkSeconds);
    Path sinkPlan = stack.home.resolve("sink-plan.txt");
    StringBuilder plan = new StringBuilder();
    for (int i = 0; i < streams; i++)
      plan.append(SOURCE_PORT + i).append(' ').append(SINK_PORT + i).append('\n');
    Files.writeString(sinkPlan, plan);
    Process sink =
        new ProcessBuilder(
                native_("rtpsink"),
                "--port",
                String.valueOf(SINK_PORT),
                "--count",
                String.valueOf(streams),
                "--duration",
                String.valueOf(sinkSeconds + 3))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    TimeUnit.MILLISECONDS.sleep(500);
    Map<String, String> sinkSend = send(sinkPlan, sinkSeconds);
    Map<String, String> sunk = keyValues(new String(sink.getInputStream().readAllBytes()));
    sink.waitFor();
    double sinkMicros = Double.parseDouble(sunk.getOrDefault("cpu_us_per_packet", "NaN"));
    System.out.printf(
        Locale.ROOT,
        "[%d calls] rtpsink: %s packets of %s sent, %.2f µs CPU per packet%n",
        calls,
        sunk.get("packets"),
        sinkSend.get("sent"),
        sinkMicros);

    String prefix = "cap" + calls + "-" + System.currentTimeMillis() % 1_000_000;
    System.out.printf(Locale.ROOT, "[%d calls] creating the calls through the API%n", calls);
    Setup setup = createCalls(prefix, calls);
    Files.writeString(stack.home.resolve("plan.txt"), setup.plan());
    System.out.printf(
        Locale.ROOT,
        "[%d calls] created in %.1f s (%.0f/s), setup p50 %.0f ms, p99 %.0f ms; %d answered 503"
            + " first%n",
        calls,
        setup.seconds(),
        calls / setup.seconds(),
        setup.p50Ms(),
        setup.p99Ms(),
        setup.refusals());

    double nodeCpu0 = Stack.cpuSeconds(node.pid());
    double cassandraCpu0 = Stack.cpuSeconds(stack.cassandraPid());
    long writes0 = cassandraWrites(cql);
    double t0 = now();
    Process sender = startSender(stack.home.resolve("plan.txt"), seconds);
    double heapMax = 0;
    double[] last = {t0, nodeCpu0, cassandraCpu0, 0, writes0};
    while (!sender.waitFor(5, TimeUnit.SECONDS)) {
      double t = now();
      double n = Stack.cpuSeconds(node.pid());
      double c = Stack.cpuSeconds(stack.cassandraPid());
      double s = Stack.cpuSeconds(sender.pid());
      long w = cassandraWrites(cql);
      double heap = Stack.heapMb(node);
      heapMax = Math.max(heapMax, Double.isNaN(heap) ? 0 : heap);
      double dt = t - last[0];
      double[] sample = {
        t,
        calls,
        100 * (n - last[1]) / dt,
        100 * (c - last[2]) / dt,
        100 * (s - last[3]) / dt,
        heap,
        (w - last[4]) / dt
      };
      samples.add(sample);
      sampleRows.println(
          String.format(
              Locale.ROOT,
              "%.1f,%d,%.1f,%.1f,%.1f,%.1f,%.0f",
              sample[0],
              calls,
              sample[2],
              sample[3],
              sample[4],
              sample[5],
              sample[6]));
      sampleRows.flush();
      System.out.printf(
          Locale.ROOT,
          "[%d calls] %3.0f s: node %3.0f %%, Cassandra %3.0f %%, sender %3.0f %% CPU; heap %4.0f"
              + " MB; %5.0f Cassandra writes/s%n",
          calls,
          t - t0,
          sample[2],
          sample[3],
          sample[4],
          heap,
          sample[6]);
      last = new double[] {t, n, c, s, w};
    }
    Map<String, String> sent = keyValues(new String(sender.getInputStream().readAllBytes()));
    double elapsed = now() - t0;
    double nodeCpu = Stack.cpuSeconds(node.pid()) - nodeCpu0;
    double cassandraCpu = Stack.cpuSeconds(stack.cassandraPid()) - cassandraCpu0;
    long writes = cassandraWrites(cql) - writes0;
    double stopAt = now();
    stopCalls(setup.callIds());
    Counted counted = settle(setup.callIds());
    double settled = now() - stopAt;
    long sentPackets = Long.parseLong(sent.getOrDefault("sent", "0"));
    double senderCpu = Double.parseDouble(sent.getOrDefault("cpu_s", "NaN"));
    return new Step(
        calls,
        sentPackets,
        counted.stored(),
        counted.lost(),
        sentPackets == 0 ? 100 : 100.0 * (sentPackets - counted.stored()) / sentPackets,
        100 * nodeCpu / elapsed,
        100 * cassandraCpu / elapsed,
        100 * senderCpu / elapsed,
        nodeCpu * 1e6 / Math.max(1, counted.received()),
        sinkMicros,
        senderCpu * 1e6 / Math.max(1, sentPackets),
        heapMax,
        writes / elapsed,
        Double.parseDouble(sent.getOrDefault("late_p50_us", "NaN")) / 1000,
        Double.parseDouble(sent.getOrDefault("late_p99_us", "NaN")) / 1000,
        calls / setup.seconds(),
        setup.p50Ms(),
        setup.p99Ms(),
        settled);
  }

  private Process startSender(Path plan, int seconds) throws IOException {
    return new ProcessBuilder(
            native_("rtpsend"),
            "--plan",
            plan.toString(),
            "--duration",
            String.valueOf(seconds),
            "--threads",
            String.valueOf(threads),
            "--progress",
            "0")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private Map<String, String> send(Path plan, int seconds) throws Exception {
    Process sender = startSender(plan, seconds);
    String text = new String(sender.getInputStream().readAllBytes());
    if (sender.waitFor() != 0) throw new IllegalStateException("rtpsend failed: " + text);
    return keyValues(text);
  }

  private String native_(String program) {
    return stack.root.resolve("target/native").resolve(program).toString();
  }

  private static Map<String, String> keyValues(String line) {
    Map<String, String> values = new HashMap<>();
    for (String pair : line.trim().split("\\s+")) {
      int eq = pair.indexOf('=');
      if (eq > 0) values.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return values;
  }

  /** Every write Cassandra's storage has taken, of every table (its local write latency count). */
  private static long cassandraWrites(CqlSession cql) {
    long total = 0;
    for (Row row : cql.execute("SELECT count FROM system_views.local_write_latency"))
      total += row.getLong("count");
    return total;
  }

  // ------------------------------------------------------------------------------ the API

  record Setup(
      List<String> callIds,
      String plan,
      double seconds,
      double p50Ms,
      double p99Ms,
      int refusals) {}

  private Setup createCalls(String prefix, int calls) throws Exception {
    List<String> ids = new ArrayList<>();
    List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
    double[] latencies = new double[calls];
    int[] refusals = {0};
    java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(32);
    long begin = System.nanoTime();
    for (int c = 0; c < calls; c++) {
      String id = prefix + "-" + (c + 1);
      ids.add(id);
      ObjectNode body = JSON.createObjectNode().put("callId", id);
      body.putArray("parties")
          .add(JSON.createObjectNode().put("id", "agent").put("role", "AGENT"))
          .add(JSON.createObjectNode().put("id", "customer").put("role", "CUSTOMER"));
      var streamsJson = body.putArray("streams");
      String[] labels = {"agent", "customer"};
      for (int s = 0; s < 2; s++)
        streamsJson
            .addObject()
            .put("label", labels[s])
            .put("party", labels[s])
            .put("codec", "PCMU")
            .put("source", "127.0.0.1:" + (SOURCE_PORT + 2 * c + s));
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
              setupPool));
    }
    StringBuilder plan = new StringBuilder();
    for (int c = 0; c < calls; c++) {
      JsonNode call = answers.get(c).join();
      for (int s = 0; s < 2; s++) {
        JsonNode stream = call.path("streams").get(s);
        plan.append(SOURCE_PORT + 2 * c + s)
            .append(' ')
            .append(stream.path("rtp").path("port").asInt())
            .append('\n');
      }
    }
    double seconds = (System.nanoTime() - begin) / 1e9;
    Arrays.sort(latencies);
    return new Setup(
        ids,
        plan.toString(),
        seconds,
        latencies[calls / 2],
        latencies[Math.min(calls - 1, (int) Math.ceil(calls * 0.99) - 1)],
        refusals[0]);
  }

  private HttpRequest post(String path, String json) {
    return HttpRequest.newBuilder(URI.create(API + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + stack.key.key())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
  }

  private void stopCalls(List<String> ids) {
    forEach(ids, id -> post("/v1/calls/" + id + "/stop", "{\"by\":\"capacity\"}"));
  }

  /** Sends one request per call, 32 at a time, and returns the answers' bodies in order. */
  private List<String> forEach(
      List<String> ids, java.util.function.Function<String, HttpRequest> request) {
    java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(32);
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (String id : ids) {
      inFlight.acquireUninterruptibly();
      answers.add(
          http.sendAsync(request.apply(id), HttpResponse.BodyHandlers.ofString())
              .whenComplete((r, e) -> inFlight.release()));
    }
    List<String> bodies = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> answer : answers) bodies.add(answer.join().body());
    return bodies;
  }

  record Counted(long received, long stored, long lost) {}

  /** The streams' counters summed, read until two reads a second apart agree (30 s at most). */
  private Counted settle(List<String> ids) throws Exception {
    Counted previous = null;
    for (int round = 0; round < 30; round++) {
      List<String> calls =
          forEach(
              ids,
              id ->
                  HttpRequest.newBuilder(URI.create(API + "/v1/calls/" + id))
                      .timeout(Duration.ofSeconds(30))
                      .header("Authorization", "Bearer " + stack.key.key())
                      .build());
      long received = 0;
      long stored = 0;
      long lost = 0;
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

  // ------------------------------------------------------------------------------ results

  private static final String HEADER =
      "| calls | packets/s | sent | stored | loss | node CPU | Cassandra CPU | sender CPU |"
          + " node µs/packet | sink µs/packet | node ÷ sink | heap max | Cassandra writes/s |"
          + " sender lateness p50 / p99 | setups/s, p50 / p99 | stored after stop |";

  private static String row(Step s) {
    return String.format(
        Locale.ROOT,
        "| %,d | %,d | %,d | %,d | %.4f %% | %.0f %% | %.0f %% | %.0f %% | %.2f | %.2f | %.2f |"
            + " %.0f MB | %,.0f | %.1f / %.1f ms | %.0f, %.0f / %.0f ms | %.1f s |",
        s.calls(),
        s.calls() * 100,
        s.sent(),
        s.stored(),
        s.lossPercent(),
        s.nodeCpu(),
        s.cassandraCpu(),
        s.senderCpu(),
        s.nodeMicrosPerPacket(),
        s.sinkMicrosPerPacket(),
        s.nodeMicrosPerPacket() / s.sinkMicrosPerPacket(),
        s.heapMaxMb(),
        s.writesPerSecond(),
        s.latenessP50Ms(),
        s.latenessP99Ms(),
        s.setupPerSecond(),
        s.setupP50Ms(),
        s.setupP99Ms(),
        s.settleSeconds());
  }

  private void report() throws IOException {
    int held = 0;
    for (Step s : steps) if (s.held(maxLoss)) held = Math.max(held, s.calls());
    List<Double> pauses = new ArrayList<>();
    Path gcLog = out.resolve("capacity-" + stamp + "-gc.log");
    if (Files.exists(gcLog))
      for (String line : Files.readAllLines(gcLog)) {
        Matcher m = PAUSE.matcher(line);
        if (m.find()) pauses.add(Double.parseDouble(m.group(1)));
      }
    pauses.sort(Double::compare);

    StringBuilder md = new StringBuilder();
    md.append("# Capacity of one node, ").append(stamp).append("\n\n");
    md.append(MachineStamp.describe(stack.root)).append("\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/capacity --calls \"%s\" --duration %d --warmup %d --max-loss %s --threads"
                + " %d`: one node (1 GB heap, audio sealed) with Cassandra and the sender"
                + " (`rtpsend`, %d threads) on the same machine. Each count first sends the same"
                + " load to `rtpsink` for %d s (the discard baseline).%n%n",
            String.join(" ", Arrays.stream(ramp).mapToObj(String::valueOf).toList()),
            duration,
            warmup,
            maxLoss,
            threads,
            threads,
            sinkSeconds));
    md.append(
        String.format(
            Locale.ROOT,
            "**Held at ≤%s %% loss for %d s: %,d calls.**%n%n",
            maxLoss,
            duration,
            held));
    md.append(HEADER).append("\n");
    md.append("|").append(" --- |".repeat(16)).append("\n");
    for (Step s : steps) md.append(row(s)).append("\n");
    if (!pauses.isEmpty())
      md.append(
          String.format(
              Locale.ROOT,
              "%nGC: %d pauses, median %.1f ms, p99 %.1f ms, max %.1f ms (`capacity-%s-gc.log`).%n",
              pauses.size(),
              pauses.get(pauses.size() / 2),
              pauses.get(Math.min(pauses.size() - 1, (int) (pauses.size() * 0.99))),
              pauses.get(pauses.size() - 1),
              stamp));
    md.append(
        String.format(
            Locale.ROOT,
            "%nCPU is of one core (100 %% = one core busy). Per packet: CPU seconds over packets"
                + " received (node) or discarded (sink). Samples every 5 s:"
                + " `capacity-%s-samples.csv`; chart: `capacity-%s.png`.%n",
            stamp,
            stamp));
    Files.writeString(out.resolve("capacity-" + stamp + ".md"), md);

    try (PrintWriter csv =
        new PrintWriter(Files.newBufferedWriter(out.resolve("capacity-" + stamp + ".csv")))) {
      csv.println(
          "calls,sent,stored,loss_pct,node_cpu_pct,cassandra_cpu_pct,sender_cpu_pct,"
              + "node_us_per_packet,sink_us_per_packet,sender_us_per_packet,heap_max_mb,"
              + "cassandra_writes_per_s,lateness_p50_ms,lateness_p99_ms,setups_per_s,"
              + "setup_p50_ms,setup_p99_ms,stored_after_stop_s");
      for (Step s : steps)
        csv.println(
            String.format(
                Locale.ROOT,
                "%d,%d,%d,%.5f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%.0f,%.0f,%.2f,%.2f,%.1f,%.1f,%.1f,%.1f",
                s.calls(),
                s.sent(),
                s.stored(),
                s.lossPercent(),
                s.nodeCpu(),
                s.cassandraCpu(),
                s.senderCpu(),
                s.nodeMicrosPerPacket(),
                s.sinkMicrosPerPacket(),
                s.senderMicrosPerPacket(),
                s.heapMaxMb(),
                s.writesPerSecond(),
                s.latenessP50Ms(),
                s.latenessP99Ms(),
                s.setupPerSecond(),
                s.setupP50Ms(),
                s.setupP99Ms(),
                s.settleSeconds()));
    }
    chart(out.resolve("capacity-" + stamp + ".png"));
    System.out.println();
    System.out.println(md);
  }

  private void chart(Path png) throws IOException {
    if (samples.isEmpty()) return;
    XYChart chart =
        new XYChartBuilder()
            .width(1100)
            .height(550)
            .title("CallVault capacity ramp: CPU, heap and Cassandra writes")
            .xAxisTitle("seconds")
            .build();
    double[] t = samples.stream().mapToDouble(r -> r[0]).toArray();
    String[] names = {"node CPU %", "Cassandra CPU %", "sender CPU %"};
    for (int i = 0; i < names.length; i++) {
      int column = 2 + i;
      chart.addSeries(names[i], t, samples.stream().mapToDouble(r -> r[column]).toArray());
    }
    XYSeries heap =
        chart.addSeries("node heap MB", t, samples.stream().mapToDouble(r -> r[5]).toArray());
    heap.setYAxisGroup(1);
    XYSeries writes =
        chart.addSeries(
            "Cassandra writes/s ÷ 10", t, samples.stream().mapToDouble(r -> r[6] / 10).toArray());
    writes.setYAxisGroup(1);
    XYSeries calls =
        chart.addSeries("calls ÷ 10", t, samples.stream().mapToDouble(r -> r[1] / 10).toArray());
    calls.setYAxisGroup(1);
    chart.setYAxisGroupTitle(0, "CPU % of one core");
    chart.setYAxisGroupTitle(1, "MB, writes/s ÷ 10, calls ÷ 10");
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
