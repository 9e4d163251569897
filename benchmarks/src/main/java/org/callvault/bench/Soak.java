package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * {@code benchmarks/soak}: a three-node cluster on its own Cassandra under constant calls for an
 * hour, Cassandra restarted every 10 minutes and a node killed ({@code kill -9}, started again 10 s
 * later, as a supervisor would) every 15. It reports the packets lost outside the failover gaps
 * (the goal is 0), each failover's gaps, and the nodes' heap and spool over time, as a CSV, a
 * summary and a chart under {@code benchmarks/results/}.
 *
 * <pre>
 * benchmarks/soak [--short] [--calls N] [--duration S] [--cassandra-restart-every S]
 *                 [--node-kill-every S] [--out DIR]
 * </pre>
 *
 * {@code --short} runs 12 minutes, restarting Cassandra every 4 and killing a node every 6. Node 1
 * serves the load generator's API and is never killed; nodes 2 and 3 are, in turn. Everything it
 * starts lives under {@code target/soak} on ports apart from {@code ops/run}'s and the tests', and
 * is stopped at the end.
 */
public final class Soak {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int NODES = 3;

  private final Stack stack = new Stack("soak", "soak", 39042, 37000, 37199);
  private final Process[] nodes = new Process[NODES];
  private final long startNanos = System.nanoTime();
  private final long startWallMicros = System.currentTimeMillis() * 1000;
  private final List<String> faults = new ArrayList<>(); // "seconds,what"
  private final List<Double> kills = new ArrayList<>();

  private int calls = 100;
  private long duration = 3600;
  private long cassandraEvery = 600;
  private long killEvery = 900;
  private Path out = stack.root.resolve("benchmarks/results");

  private Soak() throws IOException, java.security.GeneralSecurityException {}

  public static void main(String[] args) throws Exception {
    Soak soak = new Soak();
    soak.parse(args);
    try {
      soak.run();
    } finally {
      soak.stack.stopAll();
    }
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--short" -> {
          duration = 720;
          cassandraEvery = 240;
          killEvery = 360;
        }
        case "--calls" -> calls = Integer.parseInt(args[++i]);
        case "--duration" -> duration = Long.parseLong(args[++i]);
        case "--cassandra-restart-every" -> cassandraEvery = Long.parseLong(args[++i]);
        case "--node-kill-every" -> killEvery = Long.parseLong(args[++i]);
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        default -> {
          System.err.println(
              "usage: benchmarks/soak [--short] [--calls N] [--duration S]"
                  + " [--cassandra-restart-every S] [--node-kill-every S] [--out DIR]");
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
    stack.cassandra("start");
    for (int i = 0; i < NODES; i++) startNode(i);
    for (int i = 0; i < NODES; i++) stack.awaitHealthy(base(i), Duration.ofSeconds(120));
    System.out.printf(
        Locale.ROOT,
        "soak: %d calls for %d s; Cassandra restarted every %d s, a node killed every %d s%n",
        calls,
        duration,
        cassandraEvery,
        killEvery);

    LoadGenerator.Running load =
        LoadGenerator.start(
            new Options()
                .api(URI.create(base(0)))
                .apiKey(stack.key.key())
                .prefix("soak-" + System.currentTimeMillis())
                .calls(calls)
                .codec(Codec.PCMU)
                .duration(Duration.ofSeconds(duration))
                .ramp(Duration.ofSeconds(Math.min(30, duration / 10)))
                .recordPackets(false)
                .followMoves(true)
                .followInterval(Duration.ofSeconds(1))
                .stopCallsAtEnd(true)
                .stopDelay(Duration.ofMillis(500))
                .seed(60));

    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    Path csv = out.resolve("soak-" + stamp + ".csv");
    List<double[]> samples = new ArrayList<>();
    long nextCassandra = cassandraEvery;
    long nextKill = killEvery;
    int killed = 1;
    try (PrintWriter rows = new PrintWriter(Files.newBufferedWriter(csv))) {
      rows.println(
          "seconds,heap1_mb,heap2_mb,heap3_mb,spool1_kb,spool2_kb,spool3_kb,spool_oldest_s");
      double nextSample = 0;
      while (!load.isDone()) {
        double t = now();
        if (t >= nextCassandra && nextCassandra < duration) {
          fault("Cassandra restart");
          stack.cassandra("stop");
          stack.cassandra("start");
          fault("Cassandra back");
          nextCassandra += cassandraEvery;
        } else if (t >= nextKill && nextKill < duration) {
          killed = killed % (NODES - 1) + 1; // nodes 2 and 3 in turn
          fault("node " + (killed + 1) + " killed");
          kills.add(now());
          nodes[killed].destroyForcibly().waitFor();
          TimeUnit.SECONDS.sleep(10);
          startNode(killed);
          fault("node " + (killed + 1) + " started");
          nextKill += killEvery;
        }
        if (now() >= nextSample) {
          double[] row = sample();
          samples.add(row);
          StringBuilder line = new StringBuilder();
          for (int i = 0; i < row.length; i++)
            line.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.1f", row[i]));
          rows.println(line);
          rows.flush();
          nextSample += 15;
        }
        TimeUnit.MILLISECONDS.sleep(500);
      }
    }
    Summary summary = load.await();
    report(summary, samples, stamp);
  }

  private void fault(String what) {
    String line = String.format(Locale.ROOT, "%.1f,%s", now(), what);
    faults.add(line);
    System.out.println("soak: " + line.replace(",", " s: "));
  }

  /** {seconds, heap MB of each node, spool KB of each node, the oldest spooled chunk's age}. */
  private double[] sample() {
    double[] row = new double[2 + 2 * NODES];
    row[0] = now();
    for (int i = 0; i < NODES; i++) {
      row[1 + i] = Stack.heapMb(nodes[i]);
      try {
        JsonNode health = JSON.readTree(stack.get(base(i) + "/v1/health").body());
        row[1 + NODES + i] = health.path("spool").path("bytes").asLong() / 1024.0;
        row[1 + 2 * NODES] =
            Math.max(row[1 + 2 * NODES], health.path("spool").path("oldestAgeSeconds").asDouble());
      } catch (Exception e) {
        row[1 + NODES + i] = Double.NaN; // not answering (killed, starting)
      }
    }
    return row;
  }

  private void report(Summary summary, List<double[]> samples, String stamp) throws Exception {
    long sent = 0;
    long stored = 0;
    long inFailoverGaps = 0;
    long filledLate = 0;
    Map<String, Long> otherGaps = new TreeMap<>();
    Map<Integer, List<Double>> gapsByKill = new TreeMap<>();
    List<String> longest = new ArrayList<>();
    for (CallRecord call : summary.calls()) {
      JsonNode ledger =
          JSON.readTree(stack.get(base(0) + "/v1/calls/" + call.callId() + "/ledger").body());
      Map<String, Long> storedOf = new HashMap<>();
      Map<String, Long> newestEpoch = new HashMap<>();
      for (JsonNode event : ledger.path("events")) {
        JsonNode d = event.path("details");
        switch (event.path("type").asText()) {
          case "ChunkStored" -> {
            String label = d.path("chunk").path("label").asText();
            long packets = d.path("chunk").path("packets").asLong();
            long epoch = d.path("chunk").path("epoch").asLong();
            storedOf.merge(label, packets, Long::sum);
            // A chunk of an earlier epoch listed after a later one: a killed node had spooled it
            // and stored it when it started again, inside the gap recorded meanwhile.
            if (epoch < newestEpoch.getOrDefault(label, epoch)) filledLate += packets;
            newestEpoch.merge(label, epoch, Math::max);
          }
          case "MediaGap" -> {
            if (d.path("cause").asText().equals("NODE_FAILURE")) {
              inFailoverGaps += d.path("packets").asLong();
              double at = (d.path("startWallMicros").asLong() - startWallMicros) / 1e6;
              int kill = 0;
              for (int k = 0; k < kills.size(); k++) if (kills.get(k) <= at + 2) kill = k + 1;
              double ms =
                  (d.path("endWallMicros").asLong() - d.path("startWallMicros").asLong()) / 1e3;
              gapsByKill.computeIfAbsent(kill, k -> new ArrayList<>()).add(ms);
              longest.add(
                  String.format(
                      Locale.ROOT, "%08.0f %s/%s", ms, call.callId(), d.path("label").asText()));
            } else {
              otherGaps.merge(d.path("cause").asText(), d.path("packets").asLong(), Long::sum);
            }
          }
          default -> {}
        }
      }
      for (StreamRecord stream : call.streams()) {
        sent += stream.counts().unique();
        stored += storedOf.getOrDefault(stream.label(), 0L);
      }
    }
    long lost = sent - stored;
    long outside = lost - (inFailoverGaps - filledLate);

    StringBuilder md = new StringBuilder();
    md.append("# Soak run ").append(stamp).append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/soak%s`: %d two-stream calls for %d s on a three-node cluster, Cassandra"
                + " restarted every %d s, a node killed every %d s (started again 10 s later).%n%n",
            duration == 720 ? " --short" : "",
            calls,
            duration,
            cassandraEvery,
            killEvery));
    md.append(
        String.format(
            Locale.ROOT,
            "- packets sent: %d; stored: %d; lost: %d, of which in failover gaps (`NODE_FAILURE`):"
                + " %d (the gaps count %d, of which %d were stored later: chunks a killed node had"
                + " spooled, stored when it started again)%n- **lost outside the failover gaps:"
                + " %d** (goal 0)%n",
            sent,
            stored,
            lost,
            inFailoverGaps - filledLate,
            inFailoverGaps,
            filledLate,
            outside));
    md.append("- other gaps by cause (packets): ").append(otherGaps).append("\n");
    for (Map.Entry<Integer, List<Double>> kill : gapsByKill.entrySet()) {
      List<Double> gaps = kill.getValue();
      gaps.sort(Double::compare);
      md.append(
          String.format(
              Locale.ROOT,
              "- failover %d: %d stream gaps, min %.0f ms, median %.0f ms, max %.0f ms%n",
              kill.getKey(),
              gaps.size(),
              gaps.get(0),
              gaps.get(gaps.size() / 2),
              gaps.get(gaps.size() - 1)));
    }
    longest.sort(java.util.Comparator.reverseOrder());
    if (!longest.isEmpty()) {
      md.append("- the longest failover gaps: ");
      for (int i = 0; i < Math.min(5, longest.size()); i++) {
        String[] g = longest.get(i).split(" ", 2);
        md.append(i == 0 ? "" : ", ")
            .append(g[1])
            .append(' ')
            .append(Long.parseLong(g[0]))
            .append(" ms");
      }
      md.append("\n");
    }
    double maxHeap = 0;
    double maxSpool = 0;
    for (double[] row : samples) {
      for (int i = 0; i < NODES; i++) {
        if (!Double.isNaN(row[1 + i])) maxHeap = Math.max(maxHeap, row[1 + i]);
        if (!Double.isNaN(row[1 + NODES + i])) maxSpool = Math.max(maxSpool, row[1 + NODES + i]);
      }
    }
    md.append(
        String.format(
            Locale.ROOT,
            "- heap used at most %.0f MB (of 512 MB per node); spool at most %.0f KB on a node%n",
            maxHeap,
            maxSpool));
    md.append("\nFaults (seconds into the run):\n\n");
    for (String f : faults) md.append("- ").append(f.replace(",", " s: ")).append("\n");
    md.append("\nSamples every 15 s: `soak-").append(stamp).append(".csv`; chart: `soak-");
    md.append(stamp).append(".png`.\n");
    Files.writeString(out.resolve("soak-" + stamp + ".md"), md);
    System.out.println(md);
    chart(samples, out.resolve("soak-" + stamp + ".png"));
  }

  private void chart(List<double[]> samples, Path png) throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(1000)
            .height(500)
            .title("CallVault soak: heap and spool per node")
            .xAxisTitle("seconds")
            .yAxisTitle("MB")
            .build();
    double[] t = samples.stream().mapToDouble(r -> r[0]).toArray();
    for (int i = 0; i < NODES; i++) {
      int n = i;
      chart.addSeries(
          "heap node " + (i + 1), t, samples.stream().mapToDouble(r -> r[1 + n]).toArray());
      chart.addSeries(
          "spool node " + (i + 1),
          t,
          samples.stream().mapToDouble(r -> r[1 + NODES + n] / 1024.0).toArray());
    }
    List<Double> at = new ArrayList<>();
    for (String f : faults)
      if (f.contains("restart") || f.contains("killed"))
        at.add(Double.parseDouble(f.split(",")[0]));
    if (!at.isEmpty()) {
      XYSeries marks =
          chart.addSeries(
              "faults (Cassandra restart, node kill)",
              at.stream().mapToDouble(Double::doubleValue).toArray(),
              new double[at.size()]);
      marks.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    }
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  // ------------------------------------------------------------------------------ processes

  private String base(int node) {
    return "http://127.0.0.1:" + (18181 + node);
  }

  private void startNode(int i) throws IOException {
    nodes[i] =
        stack.startNode(
            "multi-node.conf",
            stack.home.resolve("node-" + (i + 1)),
            List.of("-Xmx512m"),
            Map.of(
                "CALLVAULT_HTTP_PORT", String.valueOf(18181 + i),
                "CALLVAULT_REMOTE_PORT", String.valueOf(37521 + i),
                "CALLVAULT_SEED_NODE", "pekko://callvault@127.0.0.1:37521",
                "CALLVAULT_SIP_PORT", String.valueOf(15161 + i),
                // Below the kernel's ephemeral ports (32768 up), where the load generator's are.
                "CALLVAULT_RTP_PORT_MIN", String.valueOf(20000 + 2000 * i),
                "CALLVAULT_RTP_PORT_MAX", String.valueOf(21999 + 2000 * i)));
  }
}
