package org.callvault.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code benchmarks/loadgen}: options, progress, the summary and the server's counters. */
final class Cli {

  static final String USAGE =
      String.join(
          "\n",
          "usage: benchmarks/loadgen [options]",
          "",
          "Creates calls through the CallVault REST API and sends G.711 RTP on their two streams",
          "(agent, customer) at 20 ms pacing from one sender thread, then prints what was sent and",
          "the server's per-stream counters.",
          "",
          "  --api URL               API base (default http://127.0.0.1:8080)",
          "  --api-key KEY           the API key (a recorder's and supervisor's; default"
              + " $CALLVAULT_KEY, else ops/run's .callvault/dev-api-key)",
          "  --calls N               concurrent calls, 2 streams each (default 10)",
          "  --duration S            seconds each call sends (default 30)",
          "  --ramp S                spread the calls' starts over S seconds (default 0); the run"
              + " lasts ramp + duration",
          "  --codec PCMU|PCMA       (default PCMU)",
          "  --loss P                probability a packet is not sent (P is 0..1, or a percentage"
              + " like 1%)",
          "  --reorder P             probability a packet is swapped with the next",
          "  --duplicate P           probability a packet is sent twice",
          "  --malformed P           probability per packet of an extra malformed packet from the"
              + " real source",
          "  --malformed-kinds K,…   which: "
              + String.join(",", names(Malformation.values()))
              + " (default all)",
          "  --foreign P             probability per packet of an extra packet with the stream's"
              + " SSRC from another socket",
          "  --ssrc-change-at S[,S…] every stream changes SSRC, sequence and timestamp base S"
              + " seconds into its call",
          "  --sender-pause AT:LEN   the sender sends nothing from AT for LEN seconds into each"
              + " call (silence); repeatable",
          "  --pause-calls AT:LEN    POST pause at AT and resume at AT+LEN seconds into the run,"
              + " for every call; repeatable",
          "  --policy JSON           the policy object of every call (default: the server's)",
          "  --seed N                seeds SSRCs, bases, impairments and the audio pattern (default"
              + " 1)",
          "  --prefix NAME           call ids are NAME-1 … NAME-N (default load-<yyMMdd-HHmmss>)",
          "  --stop-at-end           POST stop for each call after its last packet",
          "  --stop-delay S          … this long after it (default 0.3)",
          "  --follow-moves          poll each call and send to a stream's new rtp endpoint when it"
              + " moves",
          "  --follow-interval S     how often each call is polled (default 3)",
          "  --settle S              wait up to S seconds for the server's counters to stop"
              + " changing (default 10)",
          "  --max-loss PERCENT      exit 1 when the loss the server's counters show exceeds this",
          "  --list-streams          print every stream's counts (done anyway for up to 10 calls)",
          "  --progress S            progress line every S seconds, 0 for none (default 5)",
          "  --no-source             do not declare the streams' source addresses",
          "  --bind ADDRESS          local address of the sending sockets (default 127.0.0.1)",
          "  --http-concurrency N    API requests in flight at once (default 16)",
          "  --help                  this text",
          "",
          "Exit status: 0; 1 when the API is unreachable or refuses the calls, an action failed, or"
              + " --max-loss",
          "is exceeded or cannot be checked; 2 for bad options.");

  private static final java.util.Set<String> VALUED =
      java.util.Set.of(
          "--api",
          "--api-key",
          "--calls",
          "--duration",
          "--ramp",
          "--codec",
          "--loss",
          "--reorder",
          "--duplicate",
          "--malformed",
          "--malformed-kinds",
          "--foreign",
          "--ssrc-change-at",
          "--sender-pause",
          "--pause-calls",
          "--policy",
          "--seed",
          "--prefix",
          "--stop-delay",
          "--follow-interval",
          "--settle",
          "--max-loss",
          "--progress",
          "--bind",
          "--http-concurrency");

  private Cli() {}

  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** Parsed command line: the options plus what only the command does. */
  record Command(
      Options options, Double maxLossPercent, Duration settle, boolean listStreams, boolean help) {}

  static int run(String[] args, PrintStream out, PrintStream err) {
    Command command;
    try {
      command = parse(args, out);
    } catch (UsageException | IllegalArgumentException e) {
      err.println("loadgen: " + e.getMessage());
      err.println("try --help");
      return 2;
    }
    if (command.help()) {
      out.println(USAGE);
      return 0;
    }
    Options o = command.options();
    out.printf(
        Locale.ROOT,
        "loadgen: %s calls x 2 streams, %s, %s s each, ramp %s s, seed %d, ids %s-1..%d -> %s%n",
        n(o.calls()),
        o.codec(),
        seconds(o.duration()),
        seconds(o.ramp()),
        o.seed(),
        o.prefix(),
        o.calls(),
        o.api());
    CountDownLatch printed = new CountDownLatch(1);
    LoadGenerator.Running[] running = new LoadGenerator.Running[1];
    Thread hook =
        new Thread(
            () -> {
              LoadGenerator.Running r = running[0];
              if (r != null) r.cancel();
              try {
                printed.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    boolean hooked = false;
    try {
      Runtime.getRuntime().addShutdownHook(hook);
      hooked = true;
    } catch (IllegalStateException | SecurityException e) {
      // shutting down already, or not allowed: no summary on Ctrl-C
    }
    try {
      long t = System.nanoTime();
      running[0] = LoadGenerator.start(o);
      out.printf(
          Locale.ROOT, "created %s calls in %.1f s%n", n(o.calls()), (System.nanoTime() - t) / 1e9);
      Summary summary;
      int status = 0;
      try {
        summary = running[0].await();
      } catch (LoadGenerator.ActionFailedException e) {
        err.println("loadgen: " + e.getMessage());
        summary = e.summary();
        status = 1;
      }
      printSummary(summary, running[0].problems(), command.listStreams(), out);
      int server = server(o, command, summary, out, err);
      return Math.max(status, server);
    } catch (ConnectException | HttpConnectTimeoutException e) {
      err.println("loadgen: the API is unreachable at " + o.api() + ": " + e.getMessage());
      return 1;
    } catch (Api.ApiException e) {
      err.println("loadgen: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      err.println("loadgen: " + e);
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("loadgen: interrupted");
      return 1;
    } finally {
      if (running[0] != null) running[0].close();
      printed.countDown();
      if (hooked) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // shutting down: the hook is running
        }
      }
    }
  }

  static Command parse(String[] args, PrintStream out) throws UsageException {
    Options o = new Options().calls(10).duration(Duration.ofSeconds(30)).recordPackets(false);
    Double maxLoss = null;
    Duration settle = Duration.ofSeconds(10);
    Duration progress = Duration.ofSeconds(5);
    boolean listStreams = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      switch (a) {
        case "--help", "-h" -> {
          return new Command(o, null, settle, false, true);
        }
        case "--list-streams" -> listStreams = true;
        case "--stop-at-end" -> o.stopCallsAtEnd(true);
        case "--follow-moves" -> o.followMoves(true);
        case "--no-source" -> o.declareSource(false);
        default -> {
          if (!VALUED.contains(a))
            throw new UsageException(
                a.startsWith("-")
                    ? "unknown option '" + a + "'"
                    : "unexpected argument '" + a + "'");
          if (value == null) {
            if (i + 1 >= args.length) throw new UsageException(a + " needs a value");
            value = args[++i];
          }
          switch (a) {
            case "--api" -> o.api(URI.create(value));
            case "--api-key" -> o.apiKey(value);
            case "--calls" -> o.calls(integer(a, value));
            case "--duration" -> o.duration(duration(a, value));
            case "--ramp" -> o.ramp(duration(a, value));
            case "--codec" -> o.codec(codec(value));
            case "--loss" -> o.loss(probability(a, value));
            case "--reorder" -> o.reorder(probability(a, value));
            case "--duplicate" -> o.duplicate(probability(a, value));
            case "--malformed" -> o.malformed(probability(a, value));
            case "--malformed-kinds" -> o.malformations(kinds(value));
            case "--foreign" -> o.foreign(probability(a, value));
            case "--ssrc-change-at" -> {
              for (String t : value.split(",")) o.ssrcChangeAt(number(a, t));
            }
            case "--sender-pause" -> {
              double[] span = span(a, value);
              o.senderPause(span[0], span[1]);
            }
            case "--pause-calls" -> {
              double[] span = span(a, value);
              o.postToEachCall(span[0], "/pause", "{\"reason\":\"loadgen\",\"by\":\"loadgen\"}");
              o.postToEachCall(span[0] + span[1], "/resume", "{\"by\":\"loadgen\"}");
            }
            case "--policy" -> {
              try {
                if (!Api.MAPPER.readTree(value).isObject())
                  throw new UsageException("--policy must be a JSON object, was " + value);
              } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new UsageException("--policy is not JSON: " + e.getOriginalMessage());
              }
              o.policy(value);
            }
            case "--seed" -> o.seed(longValue(a, value));
            case "--prefix" -> o.prefix(value);
            case "--stop-delay" -> o.stopDelay(duration(a, value));
            case "--follow-interval" -> o.followInterval(duration(a, value));
            case "--settle" -> settle = duration(a, value);
            case "--max-loss" ->
                maxLoss =
                    number(a, value.endsWith("%") ? value.substring(0, value.length() - 1) : value);
            case "--progress" -> progress = duration(a, value);
            case "--bind" -> o.bindAddress(value);
            case "--http-concurrency" -> o.httpConcurrency(integer(a, value));
            default -> throw new UsageException("unknown option '" + a + "'");
          }
        }
      }
    }
    if (!o.prefix().matches("[A-Za-z0-9._\\-:@]{1,100}"))
      throw new UsageException(
          "--prefix must be letters, digits or . _ - : @, was '" + o.prefix() + "'");
    if (!progress.isZero()) o.progress(progress, p -> printProgress(p, out));
    return new Command(o, maxLoss, settle, listStreams, false);
  }

  private static void printProgress(Progress p, PrintStream out) {
    out.printf(
        Locale.ROOT,
        "[%6.1f s] calls active %s, done %s, packets sent %s, lateness max %s ms (last interval),"
            + " slots late >1 ms %s, >20 ms %s%n",
        p.elapsedSeconds(),
        n(p.callsActive()),
        n(p.callsDone()),
        n(p.datagrams()),
        ms(p.maxLatenessNanos()),
        n(p.lateOver1ms()),
        n(p.lateOver20ms()));
  }

  static void printSummary(Summary s, List<String> problems, boolean listStreams, PrintStream out) {
    Counts t = s.totals();
    long min = Long.MAX_VALUE, max = 0;
    int streams = 0;
    for (CallRecord c : s.calls())
      for (StreamRecord r : c.streams()) {
        streams++;
        min = Math.min(min, r.counts().unique());
        max = Math.max(max, r.counts().unique());
      }
    out.println();
    out.println(
        "== sent"
            + (s.cancelled() ? " (cancelled)" : "")
            + String.format(Locale.ROOT, " in %.1f s ==", s.elapsedSeconds()));
    out.printf(
        Locale.ROOT,
        "calls %s, streams %s, slots %s%n",
        n(s.calls().size()),
        n(streams),
        n(t.slots()));
    out.printf(
        Locale.ROOT,
        "genuine packets: %s distinct + %s duplicates = %s datagrams; distinct per stream min %s,"
            + " max %s%n",
        n(t.unique()),
        n(t.duplicates()),
        n(t.datagrams()),
        n(streams == 0 ? 0 : min),
        n(max));
    if (listStreams || s.calls().size() <= 10)
      for (CallRecord c : s.calls())
        for (StreamRecord r : c.streams())
          out.printf(
              Locale.ROOT,
              "  %s %-8s %s distinct, %s lost, %s duplicates, %s reordered%n",
              c.callId(),
              r.label(),
              n(r.counts().unique()),
              n(r.counts().lost()),
              n(r.counts().duplicates()),
              n(r.counts().reordered()));
    out.printf(
        Locale.ROOT,
        "injected: lost %s (%s), reordered %s, duplicated %s, malformed %s, foreign %s, ssrc"
            + " changes %s, sender-paused slots %s%n",
        n(t.lost()),
        percent(t.lost(), t.unique() + t.lost()),
        n(t.reordered()),
        n(t.duplicates()),
        n(t.malformed()),
        n(t.foreign()),
        n(t.ssrcChanges()),
        n(t.silenced()));
    Pacing p = s.pacing();
    out.printf(
        Locale.ROOT,
        "pacing: %s slots/s; lateness p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms; slots late >1"
            + " ms %s, >20 ms %s; timeline shifted %s ms by blocking actions%n",
        n(Math.round(p.slotsPerSecond())),
        ms(p.p50Nanos()),
        ms(p.p99Nanos()),
        ms(p.p999Nanos()),
        ms(p.maxNanos()),
        n(p.lateOver1ms()),
        n(p.lateOver20ms()),
        ms(p.timelineShiftNanos()));
    if (p.senderCpuNanos() >= 0)
      out.printf(
          Locale.ROOT,
          "sender thread: %.1f s CPU for %s datagrams, %.1f µs each (one core sends at most ~%s/s"
              + " at that cost)%n",
          p.senderCpuNanos() / 1e9,
          n(p.datagrams()),
          p.cpuNanosPerDatagram() / 1e3,
          n(Math.round(1e9 / Math.max(1, p.cpuNanosPerDatagram()))));
    if (t.sendErrors() > 0) out.printf(Locale.ROOT, "send errors: %s%n", n(t.sendErrors()));
    for (ActionResult a : s.actions())
      out.printf(
          Locale.ROOT,
          "action at %.3f s: %s: %s%n",
          a.atSeconds(),
          a.description(),
          a.ok()
              ? String.format(Locale.ROOT, "ok in %s ms", ms(a.endNanos() - a.startNanos()))
              : "FAILED " + a.error());
    for (Move m : s.moves())
      out.printf(Locale.ROOT, "moved: %s %s %s -> %s%n", m.callId(), m.label(), m.from(), m.to());
    for (String problem : problems) out.println("problem: " + problem);
  }

  private static int server(
      Options o, Command command, Summary summary, PrintStream out, PrintStream err)
      throws InterruptedException, IOException {
    Api api = new Api(o.api(), o.httpTimeout(), o.apiKey());
    long deadline = System.nanoTime() + command.settle().toNanos();
    ServerReport report = ServerReport.collect(api, summary, o.httpConcurrency());
    if (report.errors().size() == summary.calls().size() && !summary.calls().isEmpty()) {
      String first = report.errors().get(0);
      if (first.contains("ConnectException") || first.contains("HttpConnectTimeoutException"))
        throw new ConnectException(first);
    }
    while (report.statsPresent() && System.nanoTime() < deadline) {
      TimeUnit.SECONDS.sleep(1);
      ServerReport again = ServerReport.collect(api, summary, o.httpConcurrency());
      boolean settled = again.stored() == report.stored() && again.expected() == report.expected();
      report = again;
      if (settled) break;
    }
    out.println();
    out.println("== server ==");
    for (String e : report.errors().subList(0, Math.min(5, report.errors().size())))
      out.println("error: " + e);
    if (report.errors().size() > 5)
      out.println("… and " + (report.errors().size() - 5) + " more calls could not be read");
    if (!report.statsPresent()) {
      out.println("the call resources carry no streams[].stats: loss not computed");
      if (command.maxLossPercent() != null) {
        err.println("loadgen: --max-loss cannot be checked without the server's stats");
        return 1;
      }
      return 0;
    }
    boolean perStream = command.listStreams() || summary.calls().size() <= 10;
    long received = 0, stored = 0, gate = 0, lost = 0, dup = 0, late = 0, chunks = 0;
    Map<String, Long> rejected = new TreeMap<>();
    List<ServerReport.StreamStats> worst = new ArrayList<>();
    for (ServerReport.StreamStats st : report.streams()) {
      if (!st.present()) continue;
      received += orZero(st.received());
      stored += orZero(st.stored());
      gate += orZero(st.droppedByGate());
      lost += orZero(st.lost());
      dup += orZero(st.duplicated());
      late += orZero(st.late());
      chunks += orZero(st.chunksStored());
      st.rejected().forEach((k, v) -> rejected.merge(k, v, Long::sum));
      if (perStream) out.println(streamLine(st));
      else worst.add(st);
    }
    if (!perStream) {
      worst.sort(
          (a, b) ->
              Long.compare(b.expected() - orZero(b.stored()), a.expected() - orZero(a.stored())));
      worst.removeIf(st -> st.expected() - orZero(st.stored()) <= 0);
      if (worst.isEmpty()) out.println("no stream is missing packets");
      else
        out.println(
            "streams missing the most packets (" + n(worst.size()) + " streams miss some):");
      for (ServerReport.StreamStats st : worst.subList(0, Math.min(5, worst.size())))
        out.println(streamLine(st));
    }
    out.printf(
        Locale.ROOT,
        "totals: received %s, stored %s, droppedByGate %s, rejected %s, lost %s, duplicated %s,"
            + " late %s, chunksStored %s%n",
        n(received),
        n(stored),
        n(gate),
        rejected,
        n(lost),
        n(dup),
        n(late),
        n(chunks));
    long missing = report.missing();
    if (missing >= 0)
      out.printf(
          Locale.ROOT,
          "loss: %s (%s of %s packets)%n",
          percent4(report.lossRatio()),
          n(missing),
          n(report.expected()));
    else
      out.printf(
          Locale.ROOT,
          "loss: 0%% (the server stored %s more packets than the %s expected)%n",
          n(-missing),
          n(report.expected()));
    if (command.maxLossPercent() != null && report.lossRatio() * 100 > command.maxLossPercent()) {
      err.printf(
          Locale.ROOT,
          "loadgen: loss %s exceeds --max-loss %s%%%n",
          percent4(report.lossRatio()),
          command.maxLossPercent());
      return 1;
    }
    return 0;
  }

  private static String streamLine(ServerReport.StreamStats st) {
    return String.format(
        Locale.ROOT,
        "  %s %-8s sent %s (expected stored %s) | received %s, stored %s, droppedByGate %s,"
            + " rejected %s, lost %s, duplicated %s, late %s, chunksStored %s, lastPacketAt %s",
        st.callId(),
        st.label(),
        n(st.sent().unique()),
        n(st.expected()),
        n(st.received()),
        n(st.stored()),
        n(st.droppedByGate()),
        st.rejected(),
        n(st.lost()),
        n(st.duplicated()),
        n(st.late()),
        n(st.chunksStored()),
        st.lastPacketAt());
  }

  private static long orZero(Long v) {
    return v == null ? 0 : v;
  }

  static String n(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }

  static String n(Long v) {
    return v == null ? "n/a" : n(v.longValue());
  }

  static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "0%" : String.format(Locale.ROOT, "%.2f%%", 100.0 * part / whole);
  }

  static String percent4(double ratio) {
    return String.format(Locale.ROOT, "%.4f%%", ratio * 100);
  }

  private static String seconds(Duration d) {
    double s = d.toNanos() / 1e9;
    return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s);
  }

  private static String[] names(Malformation[] kinds) {
    String[] names = new String[kinds.length];
    for (int i = 0; i < kinds.length; i++) names[i] = kinds[i].name();
    return names;
  }

  private static int integer(String option, String value) throws UsageException {
    try {
      return Integer.parseInt(value.replace("_", "").replace(",", ""));
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs a whole number, was '" + value + "'");
    }
  }

  private static long longValue(String option, String value) throws UsageException {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs a whole number, was '" + value + "'");
    }
  }

  private static double number(String option, String value) throws UsageException {
    try {
      double d = Double.parseDouble(value.strip());
      if (Double.isNaN(d) || Double.isInfinite(d)) throw new NumberFormatException();
      return d;
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs a number, was '" + value + "'");
    }
  }

  private static Duration duration(String option, String value) throws UsageException {
    double s = number(option, value);
    if (s < 0) throw new UsageException(option + " must be >= 0 seconds, was " + value);
    return Duration.ofNanos(Math.round(s * 1e9));
  }

  private static double probability(String option, String value) throws UsageException {
    double p =
        value.endsWith("%")
            ? number(option, value.substring(0, value.length() - 1)) / 100
            : number(option, value);
    if (p < 0 || p > 1)
      throw new UsageException(option + " must be a probability 0..1 (or 0%..100%), was " + value);
    return p;
  }

  private static double[] span(String option, String value) throws UsageException {
    String[] parts = value.split(":");
    if (parts.length != 2)
      throw new UsageException(option + " needs AT:SECONDS, was '" + value + "'");
    return new double[] {number(option, parts[0]), number(option, parts[1])};
  }

  private static Codec codec(String value) throws UsageException {
    try {
      return Codec.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--codec must be PCMU or PCMA, was '" + value + "'");
    }
  }

  private static EnumSet<Malformation> kinds(String value) throws UsageException {
    EnumSet<Malformation> kinds = EnumSet.noneOf(Malformation.class);
    for (String k : value.split(",")) {
      try {
        kinds.add(Malformation.valueOf(k.strip().toUpperCase(Locale.ROOT).replace('-', '_')));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--malformed-kinds: unknown kind '" + k + "'");
      }
    }
    if (kinds.isEmpty()) throw new UsageException("--malformed-kinds needs at least one kind");
    return kinds;
  }
}
