package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * {@code benchmarks/failover}: how long the calls of a node killed outright ({@code kill -9}) take
 * to record again on the survivors of a three-node cluster, for N active calls across the cluster.
 *
 * <pre>
 * benchmarks/failover [--calls "10 100 1000"] [--media-calls 100] [--warm 20] [--out DIR]
 * </pre>
 *
 * For each N, on three fresh nodes (one Cassandra for the whole run): N two-stream calls are
 * created through node 1's API, of which {@code --media-calls} (at most N) carry G.711 from the
 * Java load generator, which follows a stream to its new ports when the call moves; the others are
 * created through the API alone (their sockets are bound and wait for a sender). After {@code
 * --warm} seconds, node 2 or 3, whichever holds more calls, is killed. For each call that was on
 * it, read from its ledger afterwards:
 *
 * <ul>
 *   <li><b>bound again</b>: from the kill to the {@code MediaBound} event of its sockets on a
 *       survivor (the call's entity recovered there, what storage held was adopted, and the new
 *       sockets store whatever arrives);
 *   <li><b>first audio stored again</b> (calls with media): from the kill to the end of the
 *       stream's {@code NODE_FAILURE} gap, the first packet stored after it. It includes the sender
 *       learning the new ports (the load generator asks every second).
 * </ul>
 *
 * Writes {@code failover-<time>.md}, {@code .csv} and {@code .png} under {@code
 * benchmarks/results/}. Everything runs on this machine's cores, the load generator included.
 */
public final class Failover {

  private static final int NODES = 3;
  private static final int IN_FLIGHT = 32;

  private final Stack stack = new Stack("failover", "failover", 49042, 47000, 47199);
  private final Process[] nodes = new Process[NODES];
  private List<Integer> counts = List.of(10, 100, 1000);
  private int mediaCalls = 100;
  private int warm = 20;
  private Path out = stack.root.resolve("benchmarks/results");

  private Failover() throws IOException, java.security.GeneralSecurityException {}

  public static void main(String[] args) throws Exception {
    Failover failover = new Failover();
    failover.parse(args);
    try {
      failover.run();
    } finally {
      failover.stack.stopAll();
    }
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--calls" ->
            counts = Arrays.stream(args[++i].trim().split("\\s+")).map(Integer::valueOf).toList();
        case "--media-calls" -> mediaCalls = Integer.parseInt(args[++i]);
        case "--warm" -> warm = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        default -> {
          System.err.println(
              "usage: benchmarks/failover [--calls \"10 100 1000\"] [--media-calls N] [--warm S]"
                  + " [--out DIR]");
          System.exit(2);
        }
      }
    }
  }

  /** One N's outcome; times in ms from the kill, sorted. */
  private record Round(
      int calls,
      int withMedia,
      int onKilled,
      int boundAgain,
      double[] bound,
      double[] firstAudio,
      int mediaStreamsOnKilled,
      long packetsInGaps) {}

  private void run() throws Exception {
    Files.createDirectories(out);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    stack.cassandra("start");
    List<Round> rounds = new ArrayList<>();
    for (int n : counts) {
      for (int i = 0; i < NODES; i++) startNode(i);
      for (int i = 0; i < NODES; i++) stack.awaitHealthy(base(i), Duration.ofSeconds(180));
      rounds.add(round(n, stamp));
      report(rounds, stamp); // after each N, so that a later one failing keeps the earlier
      for (int i = 0; i < NODES; i++) if (nodes[i] != null) nodes[i].destroy();
      for (int i = 0; i < NODES; i++) if (nodes[i] != null) nodes[i].waitFor();
    }
  }

  private Round round(int n, String stamp) throws Exception {
    int withMedia = Math.min(n, mediaCalls);
    String prefix = "fo" + n + "-" + System.currentTimeMillis();
    Api api = new Api(URI.create(base(0)), Duration.ofSeconds(30), stack.key.key());
    System.out.printf(
        Locale.ROOT, "failover: %d calls (%d with media) on three nodes%n", n, withMedia);
    LoadGenerator.Running load =
        withMedia == 0
            ? null
            : LoadGenerator.start(
                new Options()
                    .api(URI.create(base(0)))
                    .apiKey(stack.key.key())
                    .prefix(prefix + "-m")
                    .calls(withMedia)
                    .codec(Codec.PCMU)
                    .duration(Duration.ofSeconds(warm + 100))
                    .recordPackets(false)
                    .followMoves(true)
                    .followInterval(Duration.ofSeconds(1))
                    .stopCallsAtEnd(true)
                    .stopDelay(Duration.ofMillis(500))
                    .seed(90));
    List<String> idle = api.createCalls(prefix + "-i", n - withMedia, IN_FLIGHT);
    List<String> all = new ArrayList<>(idle);
    if (load != null) all.addAll(load.callIds());
    TimeUnit.SECONDS.sleep(warm);

    // Where each call records now; the busier of nodes 2 and 3 is killed (node 1 serves the API).
    Map<String, String> nodeOf = new HashMap<>();
    int[] held = new int[NODES];
    for (String id : all) {
      String node = api.getCall(id).path("media").path("node").asText();
      nodeOf.put(id, node);
      for (int i = 0; i < NODES; i++) if (node.equals(address(i))) held[i]++;
    }
    int victim = held[1] >= held[2] ? 1 : 2;
    System.out.printf(
        Locale.ROOT,
        "failover: calls per node %s; killing node %d (%d calls)%n",
        Arrays.toString(held),
        victim + 1,
        held[victim]);
    long killedAt = System.currentTimeMillis() * 1000;
    nodes[victim].destroyForcibly().waitFor();
    nodes[victim] = null;

    List<String> moved = all.stream().filter(id -> nodeOf.get(id).equals(address(victim))).toList();
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    List<String> waiting = new ArrayList<>(moved);
    while (!waiting.isEmpty() && System.nanoTime() < deadline) {
      List<String> still = new ArrayList<>();
      for (String id : waiting) {
        Api.Response r = api.get(Api.callPath(id));
        if (!r.ok() || r.json().path("media").path("node").asText().equals(address(victim)))
          still.add(id);
      }
      waiting = still;
      System.out.printf(
          Locale.ROOT,
          "failover: %.1f s after the kill, %d of %d calls bound again%n",
          (System.currentTimeMillis() * 1000 - killedAt) / 1e6,
          moved.size() - waiting.size(),
          moved.size());
      if (!waiting.isEmpty()) TimeUnit.SECONDS.sleep(1);
    }
    // Let the senders find the new ports and the first chunks be listed before the ledgers are
    // read.
    TimeUnit.SECONDS.sleep(5);

    List<Double> bound = new ArrayList<>();
    List<Double> firstAudio = new ArrayList<>();
    int mediaStreams = 0;
    long packetsInGaps = 0;
    java.util.Set<String> media =
        load == null ? java.util.Set.of() : new java.util.HashSet<>(load.callIds());
    for (String id : moved) {
      JsonNode ledger = api.get(Api.callPath(id) + "/ledger").requireOk().json();
      for (JsonNode event : ledger.path("events")) {
        JsonNode d = event.path("details");
        long at = micros(event.path("time"));
        switch (event.path("type").asText()) {
          case "MediaBound" -> {
            if (at > killedAt) bound.add((at - killedAt) / 1e3);
          }
          case "MediaGap" -> {
            if (d.path("cause").asText().equals("NODE_FAILURE") && media.contains(id)) {
              firstAudio.add((d.path("endWallMicros").asLong() - killedAt) / 1e3);
              packetsInGaps += d.path("packets").asLong();
            }
          }
          default -> {}
        }
      }
      if (media.contains(id)) mediaStreams += 2;
    }
    for (String id : idle) api.stop(id, "failover");
    if (load != null) load.await();
    Round round =
        new Round(
            n,
            withMedia,
            moved.size(),
            moved.size() - waiting.size(),
            sorted(bound),
            sorted(firstAudio),
            mediaStreams,
            packetsInGaps);
    System.out.println("failover: " + line(round));
    return round;
  }

  /** An event's {@code time} (ISO-8601, or seconds) in microseconds since the epoch. */
  static long micros(JsonNode time) {
    if (time.isNumber()) return (long) (time.asDouble() * 1e6);
    Instant at = Instant.parse(time.asText());
    return at.getEpochSecond() * 1_000_000 + at.getNano() / 1000;
  }

  private static double[] sorted(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
  }

  private static String seconds(double[] ms) {
    if (ms.length == 0) return "–";
    return String.format(
        Locale.ROOT,
        "%.1f / %.1f / %.1f s",
        Percentile.of(ms, 0.5) / 1e3,
        Percentile.of(ms, 0.99) / 1e3,
        ms[ms.length - 1] / 1e3);
  }

  private static String line(Round r) {
    return String.format(
        Locale.ROOT,
        "| %,d | %d | %d | %d | %s | %s | %,d |",
        r.calls(),
        r.withMedia(),
        r.onKilled(),
        r.boundAgain(),
        seconds(r.bound()),
        seconds(r.firstAudio()),
        r.packetsInGaps());
  }

  private void report(List<Round> rounds, String stamp) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("# Failover at scale ").append(stamp).append("\n\n");
    md.append(MachineStamp.describe(stack.root)).append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/failover --calls \"%s\" --media-calls %d --warm %d`: three nodes, one"
                + " Cassandra, on the same cores as the load generator. For each N, the busier of"
                + " nodes 2 and 3 is killed (`kill -9`) %d s after the calls were created. Times"
                + " from the kill, p50 / p99 / max.%n%n",
            String.join(" ", counts.stream().map(String::valueOf).toList()),
            mediaCalls,
            warm,
            warm));
    md.append(
        "| calls | with media | on the killed node | bound again | kill → bound again on a"
            + " survivor | kill → first audio stored again (streams with media) | packets in"
            + " the gaps |\n");
    md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
    StringBuilder csv =
        new StringBuilder(
            "calls,with_media,on_killed,bound_again,bound_p50_ms,bound_p99_ms,bound_max_ms,"
                + "audio_p50_ms,audio_p99_ms,audio_max_ms,packets_in_gaps\n");
    for (Round r : rounds) {
      md.append(line(r)).append("\n");
      csv.append(
          String.format(
              Locale.ROOT,
              "%d,%d,%d,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%d%n",
              r.calls(),
              r.withMedia(),
              r.onKilled(),
              r.boundAgain(),
              Percentile.of(r.bound(), 0.5),
              Percentile.of(r.bound(), 0.99),
              r.bound().length == 0 ? Double.NaN : r.bound()[r.bound().length - 1],
              Percentile.of(r.firstAudio(), 0.5),
              Percentile.of(r.firstAudio(), 0.99),
              r.firstAudio().length == 0 ? Double.NaN : r.firstAudio()[r.firstAudio().length - 1],
              r.packetsInGaps()));
    }
    md.append("\nChart: `failover-").append(stamp).append(".png`.\n");
    Files.writeString(out.resolve("failover-" + stamp + ".md"), md);
    Files.writeString(out.resolve("failover-" + stamp + ".csv"), csv);
    System.out.println(md);
    chart(rounds, out.resolve("failover-" + stamp + ".png"));
  }

  private void chart(List<Round> rounds, Path png) throws IOException {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(900)
            .height(450)
            .title("CallVault failover: from kill -9 to recording again")
            .xAxisTitle("active calls across the cluster")
            .yAxisTitle("seconds after the kill")
            .build();
    List<String> x = rounds.stream().map(r -> String.valueOf(r.calls())).toList();
    chart.addSeries(
        "bound again, p50",
        x,
        rounds.stream().map(r -> Percentile.of(r.bound(), 0.5) / 1e3).toList());
    chart.addSeries(
        "bound again, max",
        x,
        rounds.stream()
            .map(r -> r.bound().length == 0 ? 0 : r.bound()[r.bound().length - 1] / 1e3)
            .toList());
    chart.addSeries(
        "first audio again, p50",
        x,
        rounds.stream().map(r -> nanToZero(Percentile.of(r.firstAudio(), 0.5) / 1e3)).toList());
    chart.addSeries(
        "first audio again, max",
        x,
        rounds.stream()
            .map(
                r ->
                    r.firstAudio().length == 0
                        ? 0.0
                        : r.firstAudio()[r.firstAudio().length - 1] / 1e3)
            .toList());
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private static double nanToZero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  // ------------------------------------------------------------------------------ processes

  private String base(int node) {
    return "http://127.0.0.1:" + (18281 + node);
  }

  private String address(int node) {
    return "pekko://callvault@127.0.0.1:" + (47521 + node);
  }

  private void startNode(int i) throws IOException {
    nodes[i] =
        stack.startNode(
            "multi-node.conf",
            stack.home.resolve("node-" + (i + 1)),
            // Admission by headroom off: the creations come in bursts, and this measures failover.
            List.of(
                "-Xmx1g",
                "-Dcallvault.media.admission.max-event-loop-lag=0",
                "-Dcallvault.media.admission.max-cpu=1.0"),
            Map.of(
                "CALLVAULT_HTTP_PORT", String.valueOf(18281 + i),
                "CALLVAULT_REMOTE_PORT", String.valueOf(47521 + i),
                "CALLVAULT_SEED_NODE", "pekko://callvault@127.0.0.1:47521",
                "CALLVAULT_SIP_PORT", String.valueOf(15261 + i),
                // Below the kernel's ephemeral ports (32768 up): a survivor takes the killed
                // node's calls, four ports (RTP and RTCP) per call.
                "CALLVAULT_RTP_PORT_MIN", String.valueOf(20000 + 4000 * i),
                "CALLVAULT_RTP_PORT_MAX", String.valueOf(23999 + 4000 * i)));
  }
}
