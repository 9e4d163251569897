package org.callvault.bench;

import java.io.IOException;
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
import java.util.concurrent.TimeUnit;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * {@code benchmarks/restart}: a node killed outright ({@code kill -9}) with {@code --calls} active
 * calls and {@code --stopped} stopped ones in its journal, and started again, as a supervisor
 * would: how long until it is healthy, until it takes a new call, and until each of its active
 * calls has its sockets bound again.
 *
 * <pre>
 * benchmarks/restart [--calls 1000] [--stopped 1000] [--out DIR]
 * </pre>
 *
 * One node and its Cassandra (state under {@code target/restart}, ports apart from the others').
 * The calls are created through the API without media (their sockets bound, waiting for a sender);
 * the stopped ones are created and stopped first. Writes {@code restart-<time>.md}, {@code .csv}
 * (seconds after the start, calls bound again) and {@code .png} under {@code benchmarks/results/}.
 */
public final class Restart {

  private static final String API = "http://127.0.0.1:18480";

  private final Stack stack = new Stack("restart", "restart", 59042, 57000, 57199);
  private int calls = 1000;
  private int stopped = 1000;
  private Path out = stack.root.resolve("benchmarks/results");
  private Process node;

  private Restart() throws IOException, java.security.GeneralSecurityException {}

  public static void main(String[] args) throws Exception {
    Restart restart = new Restart();
    restart.parse(args);
    try {
      restart.run();
    } finally {
      restart.stack.stopAll();
    }
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--calls" -> calls = Integer.parseInt(args[++i]);
        case "--stopped" -> stopped = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        default -> {
          System.err.println("usage: benchmarks/restart [--calls N] [--stopped N] [--out DIR]");
          System.exit(2);
        }
      }
    }
  }

  private void run() throws Exception {
    Files.createDirectories(out);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    stack.cassandra("start");
    startNode();
    stack.awaitHealthy(API, Duration.ofSeconds(180));
    Api api = new Api(URI.create(API), Duration.ofSeconds(30), stack.key.key());

    System.out.printf(Locale.ROOT, "restart: %d calls to stop, %d to keep%n", stopped, calls);
    for (String id : api.createCalls("done-" + stamp, stopped, 32)) api.stop(id, "restart");
    List<String> active = api.createCalls("live-" + stamp, calls, 32);
    Map<String, Long> epochBefore = new HashMap<>();
    for (String id : active)
      epochBefore.put(id, api.getCall(id).path("media").path("epoch").asLong());
    TimeUnit.SECONDS.sleep(5);

    System.out.println("restart: kill -9, then start again");
    node.destroyForcibly().waitFor();
    long startedAt = System.nanoTime();
    long startedAtMicros = System.currentTimeMillis() * 1000;
    startNode();
    double healthy =
        awaitSeconds(startedAt, () -> stack.get(API + "/v1/health").statusCode() == 200);
    System.out.printf(Locale.ROOT, "restart: healthy after %.1f s%n", healthy);
    String probe =
        "{\"callId\":\"probe-"
            + stamp
            + "\",\"parties\":[{\"id\":\"a\",\"role\":\"AGENT\"}],"
            + "\"streams\":[{\"label\":\"a\",\"party\":\"a\",\"codec\":\"PCMU\"}]}";
    double takesCalls =
        awaitSeconds(startedAt, () -> api.post("/v1/calls", probe).status() / 100 == 2);
    System.out.printf(Locale.ROOT, "restart: took a new call after %.1f s%n", takesCalls);

    // Each active call is bound again once its epoch has moved on.
    List<double[]> curve = new ArrayList<>();
    List<String> waiting = new ArrayList<>(active);
    long deadline = startedAt + Duration.ofSeconds(300).toNanos();
    while (!waiting.isEmpty() && System.nanoTime() < deadline) {
      List<String> still = new ArrayList<>();
      for (String id : waiting) {
        Api.Response r = api.get(Api.callPath(id));
        if (!r.ok() || r.json().path("media").path("epoch").asLong() <= epochBefore.get(id))
          still.add(id);
      }
      waiting = still;
      double t = (System.nanoTime() - startedAt) / 1e9;
      curve.add(new double[] {t, active.size() - waiting.size()});
      System.out.printf(
          Locale.ROOT,
          "restart: %.1f s after the start, %d of %d calls bound again%n",
          t,
          active.size() - waiting.size(),
          active.size());
      if (!waiting.isEmpty()) TimeUnit.MILLISECONDS.sleep(500);
    }
    // When each was bound, exactly: its last MediaBound in its ledger.
    List<Double> boundAt = new ArrayList<>();
    for (String id : active) {
      double last = Double.NaN;
      for (var event : api.get(Api.callPath(id) + "/ledger").requireOk().json().path("events"))
        if (event.path("type").asText().equals("MediaBound"))
          last = (Failover.micros(event.path("time")) - startedAtMicros) / 1e6;
      if (last > 0) boundAt.add(last);
    }
    double[] bound = boundAt.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    for (String id : active) api.stop(id, "restart");
    report(stamp, healthy, takesCalls, bound, curve);
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  /**
   * Seconds from {@code startedAt} until {@code check} holds, asking every 200 ms (300 s at most).
   */
  private static double awaitSeconds(long startedAt, Check check) throws Exception {
    while (System.nanoTime() - startedAt < Duration.ofSeconds(300).toNanos()) {
      try {
        if (check.ok()) return (System.nanoTime() - startedAt) / 1e9;
      } catch (IOException e) {
        // not listening yet
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    throw new IllegalStateException("not within 300 s of the start");
  }

  private void report(
      String stamp, double healthy, double takesCalls, double[] bound, List<double[]> curve)
      throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("# Node restart ").append(stamp).append("\n\n");
    md.append(MachineStamp.describe(stack.root)).append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/restart --calls %d --stopped %d`: one node and its Cassandra; the node"
                + " killed (`kill -9`) with %d active calls (bound sockets, no media) and %d"
                + " stopped ones in its journal, then started again. Seconds after the start"
                + " (an active call is bound again at its new `MediaBound` in its ledger):%n%n"
                + "| healthy (`GET /v1/health` 200) | takes a new call (201) | active calls bound"
                + " again | p50 / p99 / last bound |%n| --- | --- | --- | --- |%n"
                + "| %.1f | %.1f | %d of %d | %.1f / %.1f / %.1f |%n",
            calls,
            stopped,
            calls,
            stopped,
            healthy,
            takesCalls,
            bound.length,
            calls,
            Percentile.of(bound, 0.5),
            Percentile.of(bound, 0.99),
            bound.length == 0 ? Double.NaN : bound[bound.length - 1]));
    Files.writeString(out.resolve("restart-" + stamp + ".md"), md);
    StringBuilder csv = new StringBuilder("seconds_after_start,calls_bound_again\n");
    for (double[] point : curve)
      csv.append(String.format(Locale.ROOT, "%.2f,%.0f%n", point[0], point[1]));
    Files.writeString(out.resolve("restart-" + stamp + ".csv"), csv);
    System.out.println(md);
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(450)
            .title("CallVault node restart with " + calls + " active calls")
            .xAxisTitle("seconds after the start")
            .yAxisTitle("calls bound again")
            .build();
    double[] count = new double[bound.length];
    for (int i = 0; i < count.length; i++) count[i] = i + 1;
    if (bound.length > 0) chart.addSeries("calls bound again (their ledgers)", bound, count);
    BitmapEncoder.saveBitmap(
        chart, out.resolve("restart-" + stamp + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
  }

  private void startNode() throws IOException {
    node =
        stack.startNode(
            "local.conf",
            stack.home.resolve("node"),
            List.of(
                "-Xmx1g",
                "-Dcallvault.media.admission.max-event-loop-lag=0",
                "-Dcallvault.media.admission.max-cpu=1.0"),
            Map.of(
                "CALLVAULT_HTTP_PORT", "18480",
                "CALLVAULT_REMOTE_PORT", "57520",
                "CALLVAULT_SIP_PORT", "15460",
                "CALLVAULT_RTP_PORT_MIN", "20000",
                "CALLVAULT_RTP_PORT_MAX", String.valueOf(20000 + 4 * calls + 100),
                "CALLVAULT_MAX_CALLS", String.valueOf(calls + 10)));
  }
}
