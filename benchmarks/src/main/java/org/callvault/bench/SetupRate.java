package org.callvault.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.callvault.it.SiprecSetups;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * {@code benchmarks/setup}: how many calls one node sets up per second, through the REST API and
 * through SIPREC (INVITE to 200), and how long each setup takes, right after the node started, on a
 * warm node under {@code --background} calls of media, and on the same warm node idle.
 *
 * <pre>
 * benchmarks/setup [--calls 300] [--sip-rate 100] [--background 480] [--load-seconds 150]
 *                  [--out DIR]
 * </pre>
 *
 * One node and its Cassandra ({@link CallVaultRecorder}: {@code target/capacity}, admission by
 * headroom off, so that what is measured is the setup path and not a refusal). Each phase places
 * {@code --calls} calls through the REST API (32 requests in flight, each answered before the next
 * is sent: the rate is what the node sustains) and then {@code --calls} SIPREC calls with sipp
 * ({@code load.xml}: offered at {@code --sip-rate} per second, one second of RTP each, then BYE).
 * The phases:
 *
 * <ol>
 *   <li><b>cold</b>: at once after the node answers its health check (its JIT has compiled nothing;
 *       the SIPREC burst follows the REST one, so its entities' path is already warmer);
 *   <li><b>under load</b>: {@code --background} calls sending G.711 through {@code rtpsend} (80 %
 *       of the 600 calls a node holds at no loss on this machine) for {@code --load-seconds}, the
 *       bursts placed once the first 90 s have warmed the node;
 *   <li><b>warm, idle</b>: the same node once the background calls have stopped.
 * </ol>
 *
 * Writes {@code setup-<time>.md}, {@code .csv} and {@code .png} under {@code benchmarks/results/}.
 */
public final class SetupRate {

  private static final int BACKGROUND_SOURCE = 10_000;
  private static final int BURST_SOURCE = 40_000;

  private final Path root = Path.of("").toAbsolutePath();
  private int calls = 300;
  private double sipRate = 100;
  private int background = 480;
  private int loadSeconds = 150;
  private Path out = root.resolve("benchmarks/results");

  /** One protocol's burst in one phase; times in ms. */
  private record Burst(
      String phase,
      String protocol,
      int offered,
      long answered,
      long failed,
      double perSecond,
      double p50,
      double p99,
      double max) {}

  public static void main(String[] args) throws Exception {
    System.setProperty("jdk.httpclient.keepalive.timeout", "20");
    SetupRate setup = new SetupRate();
    setup.parse(args);
    setup.run();
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--calls" -> calls = Integer.parseInt(args[++i]);
        case "--sip-rate" -> sipRate = Double.parseDouble(args[++i]);
        case "--background" -> background = Integer.parseInt(args[++i]);
        case "--load-seconds" -> loadSeconds = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        default -> {
          System.err.println(
              "usage: benchmarks/setup [--calls 300] [--sip-rate 100] [--background 480]"
                  + " [--load-seconds 150] [--out DIR]");
          System.exit(2);
        }
      }
    }
  }

  private void run() throws Exception {
    Files.createDirectories(out);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    List<Burst> bursts = new ArrayList<>();
    try (CallVaultRecorder node =
        new CallVaultRecorder(
            out.resolve("setup-" + stamp + "-gc.log"),
            List.of(),
            2 * background + 2 * calls,
            false)) {
      bursts.addAll(phase(node, "cold"));

      Recorder.Setup load = node.create("bg" + stamp, background, BACKGROUND_SOURCE);
      Path plan = root.resolve("target/capacity/setup-plan.txt");
      Files.writeString(plan, load.plan());
      Process sender = Capacity.startSender(root, plan, loadSeconds, 2);
      System.out.printf(
          Locale.ROOT,
          "setup: %d background calls sending for %d s; bursts after 90 s%n",
          background,
          loadSeconds);
      TimeUnit.SECONDS.sleep(90);
      bursts.addAll(phase(node, "under load (" + background + " calls)"));
      String sent = new String(sender.getInputStream().readAllBytes());
      sender.waitFor();
      System.out.println("setup: the background sender: " + sent.strip());
      node.stop(load.callIds());

      TimeUnit.SECONDS.sleep(10);
      bursts.addAll(phase(node, "warm, idle"));
    }
    report(bursts, stamp);
  }

  private List<Burst> phase(CallVaultRecorder node, String phase) throws Exception {
    String tag = phase.replaceAll("[^a-z]", "");
    Recorder.Setup rest =
        node.create("rest-" + tag + "-" + System.nanoTime() % 100_000, calls, BURST_SOURCE);
    Burst restBurst =
        new Burst(
            phase,
            "REST",
            calls,
            rest.callIds().size(),
            calls - rest.callIds().size(),
            rest.callIds().size() / rest.seconds(),
            rest.p50Ms(),
            rest.p99Ms(),
            Double.NaN);
    System.out.println("setup: " + line(restBurst) + " (" + rest.refusals() + " answered 503)");
    node.stop(rest.callIds());

    SiprecSetups.Burst sip =
        SiprecSetups.place(
            "127.0.0.1",
            CallVaultRecorder.SIP_PORT,
            calls,
            sipRate,
            Duration.ofSeconds(1),
            "setup-" + tag + "-" + System.nanoTime() % 100_000);
    double[] waits = sip.inviteTo200Ms();
    Burst sipBurst =
        new Burst(
            phase,
            "SIPREC",
            calls,
            sip.succeeded(),
            sip.failed(),
            waits.length / Math.max(1e-9, sip.seconds()),
            Percentile.of(waits, 0.5),
            Percentile.of(waits, 0.99),
            waits.length == 0 ? Double.NaN : waits[waits.length - 1]);
    System.out.println("setup: " + line(sipBurst));
    return List.of(restBurst, sipBurst);
  }

  private static String line(Burst b) {
    return String.format(
        Locale.ROOT,
        "| %s | %s | %d | %d | %d | %.0f | %.0f | %.0f | %s |",
        b.phase(),
        b.protocol(),
        b.offered(),
        b.answered(),
        b.failed(),
        b.perSecond(),
        b.p50(),
        b.p99(),
        Double.isNaN(b.max()) ? "–" : String.format(Locale.ROOT, "%.0f", b.max()));
  }

  private void report(List<Burst> bursts, String stamp) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("# Call setup rate ").append(stamp).append("\n\n");
    md.append(MachineStamp.describe(root)).append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/setup --calls %d --sip-rate %.0f --background %d --load-seconds %d`: one"
                + " node and its Cassandra, admission by headroom off. REST: 32 requests in"
                + " flight, the rate is what the node answered. SIPREC: sipp offers %.0f calls/s"
                + " (`load.xml`, 1 s of RTP each), INVITE → 200 per call from sipp's message"
                + " trace.%n%n",
            calls,
            sipRate,
            background,
            loadSeconds,
            sipRate));
    md.append(
        "| phase | protocol | offered | answered | failed | setups/s | p50 ms | p99 ms | max ms"
            + " |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    StringBuilder csv =
        new StringBuilder("phase,protocol,offered,answered,failed,per_s,p50_ms,p99_ms,max_ms\n");
    for (Burst b : bursts) {
      md.append(line(b)).append("\n");
      csv.append(
          String.format(
              Locale.ROOT,
              "%s,%s,%d,%d,%d,%.1f,%.1f,%.1f,%.1f%n",
              b.phase(),
              b.protocol(),
              b.offered(),
              b.answered(),
              b.failed(),
              b.perSecond(),
              b.p50(),
              b.p99(),
              b.max()));
    }
    md.append("\nChart: `setup-").append(stamp).append(".png`.\n");
    Files.writeString(out.resolve("setup-" + stamp + ".md"), md);
    Files.writeString(out.resolve("setup-" + stamp + ".csv"), csv);
    System.out.println(md);

    CategoryChart chart =
        new CategoryChartBuilder()
            .width(900)
            .height(450)
            .title("CallVault call setup: p50 and p99 latency")
            .xAxisTitle("phase")
            .yAxisTitle("ms")
            .build();
    List<String> phases = bursts.stream().map(Burst::phase).distinct().toList();
    for (String protocol : List.of("REST", "SIPREC"))
      for (String p : List.of("p50", "p99"))
        chart.addSeries(
            protocol + " " + p,
            phases,
            phases.stream()
                .map(
                    phase ->
                        bursts.stream()
                            .filter(b -> b.phase().equals(phase) && b.protocol().equals(protocol))
                            .mapToDouble(b -> p.equals("p50") ? b.p50() : b.p99())
                            .map(v -> Double.isNaN(v) ? 0 : v)
                            .findFirst()
                            .orElse(0))
                .toList());
    BitmapEncoder.saveBitmap(
        chart, out.resolve("setup-" + stamp + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
