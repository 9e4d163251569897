package org.callvault.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * {@code benchmarks/capacity}: how many concurrent two-stream calls a recorder holds, with its
 * store and the load generator on the same machine, and what each packet costs it against a
 * receiver that only discards. CallVault ({@link CallVaultRecorder}) and rtpengine ({@link
 * RtpengineRecorder}) go through the same ramp with the same sender, one after the other.
 *
 * <pre>
 * benchmarks/capacity [--recorders "callvault rtpengine"] [--calls "500 1000 1500 2000"]
 *                     [--duration 60] [--warmup 120] [--max-loss 0.01] [--sink-seconds 15]
 *                     [--threads 2] [--out DIR] [--node-option OPTION]…
 * </pre>
 *
 * For each recorder:
 *
 * <ol>
 *   <li>once, before the ramp: {@code --warmup} seconds at the first count, not measured, so that a
 *       JVM has compiled its hot paths (on two cores that takes a minute or more);
 *   <li>then for each count of the ramp: the baseline first, {@code rtpsink} (an epoll and {@code
 *       recvmmsg} loop that discards) receiving the same load from the same sender for {@code
 *       --sink-seconds}: its CPU per packet is what the kernel alone charges a receiver;
 *   <li>the calls are set up through the recorder's control interface, their setup rate and latency
 *       measured;
 *   <li>{@code rtpsend} sends G.711 at 20 ms on every stream for {@code --duration} seconds while
 *       the CPU of the recorder, its store and the sender, the recorder's heap and the store's
 *       writes per second are sampled every 5 s;
 *   <li>the calls are ended and what was stored counted until it stops changing: loss is {@code 1 −
 *       stored / sent}.
 * </ol>
 *
 * A recorder's ramp stops after the first count whose loss exceeds {@code --max-loss} (a
 * percentage). {@code --node-option} passes a JVM option to the CallVault node, e.g. a setting to
 * compare: {@code -Dcallvault.media.chunk-duration=2s}. The results, stamped with the machine, go
 * to {@code capacity-<time>.md}, {@code .csv} (one row per count), {@code -samples.csv}, {@code
 * .png} and {@code -gc.log} under {@code benchmarks/results}.
 */
public final class Capacity {

  private static final int SOURCE_PORT = 10000; // stream i sends from 127.0.0.1:10000+i
  private static final int SINK_PORT = 45000;
  private static final Pattern PAUSE = Pattern.compile("Pause.*?([0-9.]+)ms$");

  private final Path root = Path.of("").toAbsolutePath();
  private final Path home = root.resolve("target/capacity");
  private final long startNanos = System.nanoTime();
  private final List<double[]> samples = new ArrayList<>();
  private final Map<String, List<Step>> results = new LinkedHashMap<>();

  private int[] ramp = {500, 1000, 1500, 2000};
  private int duration = 60;
  private int warmup = 120;
  private double maxLoss = 0.01;
  private int sinkSeconds = 15;
  private int threads = 2;
  private List<String> recorders = List.of("callvault");
  private boolean admission;
  private final List<String> nodeOptions = new ArrayList<>();
  private Path out = root.resolve("benchmarks/results");
  private String stamp;

  /** One count of the ramp, measured. */
  record Step(
      int calls,
      int refused,
      long sent,
      long received,
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
      double settleSeconds,
      double[] durableMs) {

    boolean held(double maxLoss) {
      return lossPercent <= maxLoss;
    }
  }

  public static void main(String[] args) throws Exception {
    // Below the node's idle timeout (60 s), so the client does not reuse a connection it closed.
    System.setProperty("jdk.httpclient.keepalive.timeout", "20");
    Capacity capacity = new Capacity();
    capacity.parse(args);
    capacity.run();
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
        case "--node-option" -> nodeOptions.add(args[++i]);
        case "--recorders" -> recorders = List.of(args[++i].trim().split("[ ,]+"));
        case "--admission" -> admission = true;
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        default -> {
          System.err.println(
              "usage: benchmarks/capacity [--calls \"500 1000 1500 2000\"] [--duration 60]"
                  + " [--warmup 120] [--max-loss 0.01] [--sink-seconds 15] [--threads 2] [--out"
                  + " DIR] [--node-option OPTION]… [--recorders \"callvault rtpengine\"]"
                  + " [--admission]");
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
    Files.createDirectories(home);
    stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    int maxCalls = Arrays.stream(ramp).max().orElse(0) * 2;
    try (PrintWriter sampleRows =
        new PrintWriter(
            Files.newBufferedWriter(out.resolve("capacity-" + stamp + "-samples.csv")))) {
      sampleRows.println(
          "recorder,seconds,calls,recorder_cpu_pct,store_cpu_pct,sender_cpu_pct,heap_mb,"
              + "store_writes_per_s");
      for (String name : recorders) {
        try (Recorder recorder = start(name, maxCalls)) {
          results.put(recorder.name(), ramp(recorder, sampleRows));
        }
      }
    }
    report();
  }

  private Recorder start(String name, int maxCalls) throws Exception {
    return switch (name) {
      case "callvault" ->
          new CallVaultRecorder(
              out.resolve("capacity-" + stamp + "-gc.log"), nodeOptions, maxCalls, admission);
      case "rtpengine" ->
          new RtpengineRecorder(
              home.resolve("rtpengine"), root.resolve("target/native/rtpsink"), maxCalls);
      default ->
          throw new IllegalArgumentException("--recorders: callvault or rtpengine, not " + name);
    };
  }

  private List<Step> ramp(Recorder recorder, PrintWriter sampleRows) throws Exception {
    System.out.printf(
        Locale.ROOT,
        "capacity: %s, ramp %s, %d s each, loss at most %.4f %%; its pid %d%n",
        recorder.name(),
        Arrays.toString(ramp),
        duration,
        maxLoss,
        recorder.pid());
    if (warmup > 0) {
      int calls = ramp[0];
      System.out.printf(
          Locale.ROOT,
          "%ncapacity: warming up %s (a JVM's JIT compiles its hot paths) with %d calls for %d s,"
              + " not measured%n",
          recorder.name(),
          calls,
          warmup);
      Step warm = step(recorder, calls, warmup, sampleRows);
      System.out.printf(Locale.ROOT, "capacity: warm-up done, %.4f %% lost%n", warm.lossPercent());
    }
    List<Step> steps = new ArrayList<>();
    for (int calls : ramp) {
      Step step = step(recorder, calls, duration, sampleRows);
      steps.add(step);
      System.out.println(row(recorder.name(), step));
      if (!step.held(maxLoss)) {
        System.out.printf(
            Locale.ROOT,
            "capacity: %s lost %.4f %% at %d calls, above %.4f %%: its ramp stops%n",
            recorder.name(),
            step.lossPercent(),
            calls,
            maxLoss);
        break;
      }
    }
    return steps;
  }

  // ------------------------------------------------------------------------------ one step

  private Step step(Recorder recorder, int calls, int seconds, PrintWriter sampleRows)
      throws Exception {
    int streams = 2 * calls;
    System.out.printf(Locale.ROOT, "%n[%d calls] baseline: rtpsink for %d s%n", calls, sinkSeconds);
    Path sinkPlan = home.resolve("sink-plan.txt");
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
    System.out.printf(Locale.ROOT, "[%d calls] setting up the calls%n", calls);
    Recorder.Setup setup = recorder.create(prefix, calls, SOURCE_PORT);
    Files.writeString(home.resolve("plan.txt"), setup.plan());
    System.out.printf(
        Locale.ROOT,
        "[%d calls] %d set up in %.1f s (%.0f/s), setup p50 %.0f ms, p99 %.0f ms; %d answered"
            + " 503%s%n",
        calls,
        setup.callIds().size(),
        setup.seconds(),
        setup.callIds().size() / setup.seconds(),
        setup.p50Ms(),
        setup.p99Ms(),
        setup.refusals(),
        admission ? " (refused: not offered again)" : " (retried after its Retry-After)");

    long store = recorder.storePid();
    double nodeCpu0 = Stack.cpuSeconds(recorder.pid());
    double cassandraCpu0 = store == 0 ? 0 : Stack.cpuSeconds(store);
    long writes0 = recorder.storeWrites();
    double t0 = now();
    Process sender = startSender(home.resolve("plan.txt"), seconds);
    double heapMax = 0;
    double[] last = {t0, nodeCpu0, cassandraCpu0, 0, writes0};
    while (!sender.waitFor(5, TimeUnit.SECONDS)) {
      double t = now();
      double n = Stack.cpuSeconds(recorder.pid());
      double c = store == 0 ? 0 : Stack.cpuSeconds(store);
      double s = Stack.cpuSeconds(sender.pid());
      long w = recorder.storeWrites();
      double heap = recorder.heapMb();
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
              "%s,%.1f,%d,%.1f,%.1f,%.1f,%.1f,%.0f",
              recorder.name(),
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
          "[%d calls] %3.0f s: %s %3.0f %%, its store %3.0f %%, sender %3.0f %% CPU; heap %4.0f"
              + " MB; %5.0f store writes/s%n",
          calls,
          t - t0,
          recorder.name(),
          sample[2],
          sample[3],
          sample[4],
          heap,
          sample[6]);
      last = new double[] {t, n, c, s, w};
    }
    Map<String, String> sent = keyValues(new String(sender.getInputStream().readAllBytes()));
    double elapsed = now() - t0;
    double nodeCpu = Stack.cpuSeconds(recorder.pid()) - nodeCpu0;
    double cassandraCpu = store == 0 ? 0 : Stack.cpuSeconds(store) - cassandraCpu0;
    long writes = recorder.storeWrites() - writes0;
    double stopAt = now();
    recorder.stop(setup.callIds());
    Recorder.Counted counted = recorder.settle(setup.callIds());
    double settled = now() - stopAt;
    double[] durable = recorder.durability(setup.callIds());
    long sentPackets = Long.parseLong(sent.getOrDefault("sent", "0"));
    double senderCpu = Double.parseDouble(sent.getOrDefault("cpu_s", "NaN"));
    return new Step(
        calls,
        setup.refusals(),
        sentPackets,
        counted.received(),
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
        writes0 < 0 ? Double.NaN : writes / elapsed,
        Double.parseDouble(sent.getOrDefault("late_p50_us", "NaN")) / 1000,
        Double.parseDouble(sent.getOrDefault("late_p99_us", "NaN")) / 1000,
        setup.callIds().size() / setup.seconds(),
        setup.p50Ms(),
        setup.p99Ms(),
        settled,
        durable);
  }

  private Process startSender(Path plan, int seconds) throws IOException {
    return startSender(root, plan, seconds, threads);
  }

  /**
   * {@code rtpsend} (built into {@code target/native} by {@code benchmarks/native/build}) on every
   * stream of {@code plan} for {@code seconds}; it prints its {@code key=value} result at the end.
   */
  static Process startSender(Path root, Path plan, int seconds, int threads) throws IOException {
    return new ProcessBuilder(
            root.resolve("target/native/rtpsend").toString(),
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
    return root.resolve("target/native").resolve(program).toString();
  }

  private static Map<String, String> keyValues(String line) {
    Map<String, String> values = new HashMap<>();
    for (String pair : line.trim().split("\\s+")) {
      int eq = pair.indexOf('=');
      if (eq > 0) values.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return values;
  }

  // ------------------------------------------------------------------------------ results

  private static final String HEADER =
      "| recorder | calls offered | refused | packets/s | sent | received | stored | loss |"
          + " recorder CPU | its store's CPU | sender CPU | recorder µs/packet | sink µs/packet |"
          + " recorder ÷ sink | heap max | store writes/s | sender lateness p50 / p99 | setups/s,"
          + " p50 / p99 | stored after stop | first packet → listed p50 / p99 / max |";

  private static String row(String recorder, Step s) {
    return String.format(
        Locale.ROOT,
        "| %s | %,d | %,d | %,d | %,d | %,d | %,d | %.4f %% | %.0f %% | %s | %.0f %% | %.2f | %.2f"
            + " | %.2f | %s | %s | %.1f / %.1f ms | %.0f, %.0f / %.0f ms | %.1f s | %s |",
        recorder,
        s.calls(),
        s.refused(),
        (s.calls() - s.refused()) * 100,
        s.sent(),
        s.received(),
        s.stored(),
        s.lossPercent(),
        s.nodeCpu(),
        s.writesPerSecond() != s.writesPerSecond()
            ? "–"
            : String.format(Locale.ROOT, "%.0f %%", s.cassandraCpu()),
        s.senderCpu(),
        s.nodeMicrosPerPacket(),
        s.sinkMicrosPerPacket(),
        s.nodeMicrosPerPacket() / s.sinkMicrosPerPacket(),
        Double.isNaN(s.heapMaxMb()) || s.heapMaxMb() == 0
            ? "–"
            : String.format(Locale.ROOT, "%.0f MB", s.heapMaxMb()),
        Double.isNaN(s.writesPerSecond())
            ? "–"
            : String.format(Locale.ROOT, "%,.0f", s.writesPerSecond()),
        s.latenessP50Ms(),
        s.latenessP99Ms(),
        s.setupPerSecond(),
        s.setupP50Ms(),
        s.setupP99Ms(),
        s.settleSeconds(),
        s.durableMs() == null
            ? "–"
            : String.format(
                Locale.ROOT,
                "%.0f / %.0f / %.0f ms",
                s.durableMs()[0],
                s.durableMs()[1],
                s.durableMs()[2]));
  }

  /** The most calls a recorder held at the loss allowed; 0 when it held none of the ramp. */
  private int held(List<Step> steps) {
    int held = 0;
    for (Step s : steps) if (s.held(maxLoss)) held = Math.max(held, s.calls());
    return held;
  }

  private void report() throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("# Capacity of one recorder, ").append(stamp).append("\n\n");
    md.append(MachineStamp.describe(root)).append("\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/capacity --recorders \"%s\" --calls \"%s\" --duration %d --warmup %d"
                + " --max-loss %s --threads %d%s`. CallVault: one node (1 GB heap, audio sealed)"
                + " with its Cassandra on the same machine. rtpengine: user space, recording to"
                + " pcap. The sender (`rtpsend`, %d threads) runs on the same machine too. Each"
                + " count first sends the same load to `rtpsink` for %d s (the discard"
                + " baseline).%s%n%n",
            String.join(" ", recorders),
            String.join(" ", Arrays.stream(ramp).mapToObj(String::valueOf).toList()),
            duration,
            warmup,
            maxLoss,
            threads,
            admission ? " --admission" : "",
            threads,
            sinkSeconds,
            nodeOptions.isEmpty()
                ? ""
                : " Node options: `" + String.join(" ", nodeOptions) + "`."));
    md.append(
            admission
                ? "**Admission by headroom on** (the node's defaults): a call refused with 503 is"
                    + " counted and not offered again; loss is of the calls admitted."
                : "Admission by headroom off, a 503 retried: the ramp finds the loss limit.")
        .append("\n\n");
    for (Map.Entry<String, List<Step>> r : results.entrySet()) {
      List<Step> steps = r.getValue();
      Step top = null;
      for (Step s : steps) if (s.held(maxLoss) && (top == null || s.calls() > top.calls())) top = s;
      if (admission) {
        for (Step s : steps)
          md.append(
              String.format(
                  Locale.ROOT,
                  "- %s offered %,d calls: **%,d admitted, %,d refused at admission; the admitted"
                      + " lost %.4f %%**%n",
                  r.getKey(),
                  s.calls(),
                  s.calls() - s.refused(),
                  s.refused(),
                  s.lossPercent()));
        continue;
      }
      md.append(
          String.format(
              Locale.ROOT,
              "- **%s held %,d calls** at ≤%s %% loss for %d s%s%n",
              r.getKey(),
              held(steps),
              maxLoss,
              duration,
              top == null
                  ? ""
                  : String.format(
                      Locale.ROOT,
                      ", at %.2f µs of its CPU per packet (%.2f× the discard sink's %.2f)",
                      top.nodeMicrosPerPacket(),
                      top.nodeMicrosPerPacket() / top.sinkMicrosPerPacket(),
                      top.sinkMicrosPerPacket())));
    }
    md.append("\n").append(HEADER).append("\n");
    md.append("|").append(" --- |".repeat(20)).append("\n");
    for (Map.Entry<String, List<Step>> r : results.entrySet())
      for (Step s : r.getValue()) md.append(row(r.getKey(), s)).append("\n");

    List<Double> pauses = new ArrayList<>();
    Path gcLog = out.resolve("capacity-" + stamp + "-gc.log");
    if (Files.exists(gcLog))
      for (String line : Files.readAllLines(gcLog)) {
        Matcher m = PAUSE.matcher(line);
        if (m.find()) pauses.add(Double.parseDouble(m.group(1)));
      }
    pauses.sort(Double::compare);
    if (!pauses.isEmpty())
      md.append(
          String.format(
              Locale.ROOT,
              "%nCallVault's GC over the whole run: %d pauses, median %.1f ms, p99 %.1f ms, max"
                  + " %.1f ms (`capacity-%s-gc.log`).%n",
              pauses.size(),
              pauses.get(pauses.size() / 2),
              pauses.get(Math.min(pauses.size() - 1, (int) (pauses.size() * 0.99))),
              pauses.get(pauses.size() - 1),
              stamp));
    md.append(
        String.format(
            Locale.ROOT,
            "%nCPU is of one core (100 %% = one core busy). Per packet: the recorder's CPU seconds"
                + " over the packets it received, or the sink's over those it discarded. Samples"
                + " every 5 s: `capacity-%s-samples.csv`; chart: `capacity-%s.png`.%n",
            stamp,
            stamp));
    Files.writeString(out.resolve("capacity-" + stamp + ".md"), md);

    try (PrintWriter csv =
        new PrintWriter(Files.newBufferedWriter(out.resolve("capacity-" + stamp + ".csv")))) {
      csv.println(
          "recorder,calls,refused,sent,received,stored,loss_pct,recorder_cpu_pct,store_cpu_pct,sender_cpu_pct,"
              + "recorder_us_per_packet,sink_us_per_packet,sender_us_per_packet,heap_max_mb,"
              + "store_writes_per_s,lateness_p50_ms,lateness_p99_ms,setups_per_s,"
              + "setup_p50_ms,setup_p99_ms,stored_after_stop_s,durable_p50_ms,"
              + "durable_p99_ms,durable_max_ms");
      for (Map.Entry<String, List<Step>> r : results.entrySet())
        for (Step s : r.getValue())
          csv.println(
              String.format(
                  Locale.ROOT,
                  "%s,%d,%d,%d,%d,%d,%.5f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%.0f,%.0f,%.2f,%.2f,%.1f,%.1f,"
                      + "%.1f,%.1f,%.0f,%.0f,%.0f",
                  r.getKey(),
                  s.calls(),
                  s.refused(),
                  s.sent(),
                  s.received(),
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
                  s.settleSeconds(),
                  s.durableMs() == null ? Double.NaN : s.durableMs()[0],
                  s.durableMs() == null ? Double.NaN : s.durableMs()[1],
                  s.durableMs() == null ? Double.NaN : s.durableMs()[2]));
    }
    chart(out.resolve("capacity-" + stamp + ".png"));
    System.out.println();
    System.out.println(md);
  }

  /** Loss and CPU per packet against calls, one series per recorder, and the sink's cost. */
  private void chart(Path png) throws IOException {
    if (results.values().stream().allMatch(List::isEmpty)) return;
    XYChart chart =
        new XYChartBuilder()
            .width(1100)
            .height(550)
            .title("Capacity ramp: CPU per packet and loss against concurrent calls")
            .xAxisTitle("concurrent two-stream calls (100 packets/s each)")
            .build();
    List<Step> sinkSteps = new ArrayList<>();
    for (Map.Entry<String, List<Step>> r : results.entrySet()) {
      List<Step> steps = r.getValue();
      if (steps.isEmpty()) continue;
      if (sinkSteps.isEmpty()) sinkSteps = steps;
      double[] calls = steps.stream().mapToDouble(Step::calls).toArray();
      chart.addSeries(
          r.getKey() + " µs CPU per packet",
          calls,
          steps.stream().mapToDouble(Step::nodeMicrosPerPacket).toArray());
      XYSeries loss =
          chart.addSeries(
              r.getKey() + " loss %",
              calls,
              steps.stream().mapToDouble(Step::lossPercent).toArray());
      loss.setYAxisGroup(1);
    }
    chart.addSeries(
        "discard sink µs CPU per packet",
        sinkSteps.stream().mapToDouble(Step::calls).toArray(),
        sinkSteps.stream().mapToDouble(Step::sinkMicrosPerPacket).toArray());
    chart.setYAxisGroupTitle(0, "µs of CPU per packet");
    chart.setYAxisGroupTitle(1, "loss %");
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
