package org.callvault.it;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * sipp (SIPp 3.6.1, Debian's {@code sip-tester}) run as a process with a scenario from {@code
 * src/test/resources/sipp/}: the SIPREC client side of the integration tests against CallVault's
 * recording server.
 *
 * <pre>
 * Sipp.Result r = Sipp.client("siprec-call", "127.0.0.1", sipPort)
 *     .rtpAudio(audio.writeRaw(...), 1)
 *     .run();                                   // waits, then reads the statistics file
 * assertEquals(1, r.successfulCalls(), r.describe());
 * </pre>
 *
 * <p>Every run writes to {@code target/it-logs/}, named after the run ({@link #name}):
 *
 * <pre>
 * sipp-NAME.log            sipp's output: its screens, the last one with the message counts
 * sipp-NAME-messages.log   every SIP message sent and received (-trace_msg), see {@link Result#messages}
 * sipp-NAME-errors.log     why calls failed (-trace_err)
 * sipp-NAME-stats.csv      statistics (-trace_stat): the result's call counts come from its last line
 * sipp-NAME-events.log     the scenario's own {@code <log>} lines (-trace_logs), see {@link Running#awaitEvent}
 * sipp-NAME-calls.csv      the recording metadata injected per call (-inf), see {@link CallMetadata}
 * </pre>
 *
 * <p>Why the statistics file and not the exit status or the screen: the exit status only says
 * whether every call succeeded (0), some failed (1) or none was placed (99), and the screen is
 * meant for people. {@code -trace_stat} writes a ';'-separated header line and then a line per
 * {@code -fd} period and one at exit, whose cumulative {@code SuccessfulCall(C)} and {@code
 * FailedCall(C)} are the run's totals.
 */
final class Sipp {

  /** How sipp sends SIP: one socket for all calls, UDP or TCP ({@code -t u1} / {@code -t t1}). */
  enum Transport {
    UDP("u1"),
    TCP("t1");

    final String option;

    Transport(String option) {
      this.option = option;
    }
  }

  /** The address every run binds and sends from: tests stay on loopback. */
  static final String HOST = "127.0.0.1";

  private static final Path ROOT = Path.of(System.getProperty("user.dir"));
  static final Path SCENARIOS = ROOT.resolve("src/test/resources/sipp");

  /** Where runs write their files, and where tests put the audio files they give sipp. */
  static final Path LOGS = ROOT.resolve("target/it-logs");

  private final String scenario;
  private final String remote; // host:port of the recording server
  private String name;
  private Transport transport = Transport.UDP;
  private int localPort;
  private int calls = 1;
  private double rate;
  private Duration callLength;
  private String callIdPrefix;
  private List<CallMetadata> metadata;
  private final Map<String, String> keys = new LinkedHashMap<>();
  private Duration timeout = Duration.ofSeconds(30);
  private Duration receiveTimeout;
  private final List<String> options = new ArrayList<>();

  private Sipp(String scenario, String remote) {
    this.scenario = scenario;
    this.remote = remote;
    this.name = scenario;
    if (!Files.isRegularFile(scenarioFile())) {
      throw new IllegalArgumentException("no sipp scenario " + scenarioFile());
    }
    // A client that waits longer than this for an answer has its call failed, not hung.
    receiveTimeout = Duration.ofSeconds(10);
  }

  /**
   * A client (UAC) run of {@code scenario} ({@code siprec-call}, {@code load}, ...) against
   * host:port.
   */
  static Sipp client(String scenario, String host, int port) {
    return new Sipp(scenario, host + ":" + port);
  }

  /** Names the run's files; by default the scenario's name. Give each run of a test its own. */
  Sipp name(String name) {
    this.name = name;
    return this;
  }

  Sipp transport(Transport transport) {
    this.transport = transport;
    return this;
  }

  /** Stop after this many calls ({@code -m}); 1 by default. */
  Sipp calls(int calls) {
    this.calls = calls;
    return this;
  }

  /** New calls per second ({@code -r}); sipp's default is 10. */
  Sipp rate(double callsPerSecond) {
    this.rate = callsPerSecond;
    return this;
  }

  /**
   * How long a {@code <pause/>} without its own length lasts ({@code -d}): load.xml's call length.
   */
  Sipp callLength(Duration length) {
    this.callLength = length;
    return this;
  }

  /**
   * Call-IDs {@code PREFIX-N@127.0.0.1} for call number N from 1 ({@code -cid_str}), instead of
   * sipp's {@code N-PID@127.0.0.1}, so that a test can find its calls on the server: see {@link
   * #callId(int)}.
   */
  Sipp callIdPrefix(String prefix) {
    if (!prefix.matches("[A-Za-z0-9._!~*'()+-]+")) throw new IllegalArgumentException(prefix);
    this.callIdPrefix = prefix;
    return this;
  }

  /** The Call-ID of call number {@code callNumber} (from 1), once {@link #callIdPrefix} is set. */
  String callId(int callNumber) {
    if (callIdPrefix == null) throw new IllegalStateException("no callIdPrefix set");
    return callIdPrefix + "-" + callNumber + "@" + HOST;
  }

  /**
   * The recording metadata of each call, one per call number; by default {@link
   * CallMetadata#aliceAndBob()} for every call (each with its own ids). Only client runs have it.
   */
  Sipp metadata(List<CallMetadata> perCall) {
    this.metadata = List.copyOf(perCall);
    return this;
  }

  /**
   * The raw PCMU file the scenario's {@code rtp_stream} plays, {@code loops} times (-1: forever).
   */
  Sipp rtpAudio(Path rawPcmu, int loops) {
    return key("rtp_audio", rawPcmu.toAbsolutePath() + "," + loops + ",0");
  }

  /** A {@code -key} value: {@code [name]} in the scenario becomes {@code value}. */
  Sipp key(String name, String value) {
    keys.put(name, value);
    return this;
  }

  /** The whole run must end within this ({@code -timeout}); 30 s by default. */
  Sipp timeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  /**
   * A client's wait for any expected message ({@code -recv_timeout}); 10 s by default, none for a
   * server.
   */
  Sipp receiveTimeout(Duration timeout) {
    this.receiveTimeout = timeout;
    return this;
  }

  /** Any other sipp options, added as given. */
  Sipp options(String... more) {
    options.addAll(List.of(more));
    return this;
  }

  /** The port sipp binds for SIP, chosen free on loopback; a server run's address for clients. */
  int localPort() {
    if (localPort == 0) localPort = freePort(transport);
    return localPort;
  }

  List<CallMetadata> metadata() {
    if (metadata == null) {
      List<CallMetadata> all = new ArrayList<>();
      for (int i = 0; i < calls; i++) all.add(CallMetadata.aliceAndBob());
      metadata = List.copyOf(all);
    }
    return metadata;
  }

  Path scenarioFile() {
    return SCENARIOS.resolve(scenario + ".xml");
  }

  private Path log(String suffix) {
    return LOGS.resolve("sipp-" + name + suffix);
  }

  /** The command line {@link #start} runs. */
  List<String> command() {
    List<String> c = new ArrayList<>();
    c.add(executable().toString());
    c.add(remote);
    c.addAll(List.of("-sf", scenarioFile().toString()));
    c.addAll(List.of("-t", transport.option, "-i", HOST, "-p", String.valueOf(localPort())));
    c.add("-bind_local");
    c.addAll(List.of("-m", String.valueOf(calls)));
    if (rate > 0) c.addAll(List.of("-r", format(rate)));
    if (callLength != null) c.addAll(List.of("-d", String.valueOf(callLength.toMillis())));
    if (callIdPrefix != null) c.addAll(List.of("-cid_str", callIdPrefix + "-%u@%s"));
    c.addAll(List.of("-inf", log("-calls.csv").toString()));
    keys.forEach((k, v) -> c.addAll(List.of("-key", k, v)));
    c.addAll(List.of("-timeout", timeout.toSeconds() + "s", "-timeout_error"));
    if (receiveTimeout != null)
      c.addAll(List.of("-recv_timeout", String.valueOf(receiveTimeout.toMillis())));
    c.add("-nostdin"); // no terminal: sipp must not read keys from stdin
    c.addAll(List.of("-trace_msg", "-message_file", log("-messages.log").toString()));
    c.addAll(List.of("-trace_err", "-error_file", log("-errors.log").toString()));
    c.addAll(List.of("-trace_stat", "-stf", log("-stats.csv").toString()));
    c.addAll(List.of("-trace_logs", "-log_file", log("-events.log").toString()));
    c.addAll(options);
    return c;
  }

  /** Starts sipp; for a server, returns once it listens. */
  Running start() throws IOException, InterruptedException {
    if (keys.containsKey("rtp_audio") && !version().contains("RTPSTREAM")) {
      throw new IllegalStateException(
          executable()
              + " ("
              + version()
              + ") was built without RTP streaming, which "
              + scenario
              + ".xml needs: run ops/install-test-deps, which installs Debian's sip-tester");
    }
    Files.createDirectories(LOGS);
    for (String suffix :
        List.of(
            ".log", "-messages.log", "-errors.log", "-stats.csv", "-events.log", "-calls.csv")) {
      Files.deleteIfExists(
          log(suffix)); // a file left by an earlier run must not be read as this one's
    }
    StringBuilder csv = new StringBuilder("SEQUENTIAL\n");
    for (CallMetadata m : metadata()) csv.append(m.csvLine()).append('\n');
    Files.writeString(log("-calls.csv"), csv);
    List<String> command = command();
    Files.writeString(log(".log"), String.join(" ", command) + "\n");
    Process process =
        new ProcessBuilder(command)
            .directory(LOGS.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log(".log").toFile()))
            .start();
    Running running = new Running(this, command, process);
    return running;
  }

  /** Starts sipp and waits for it to end. */
  Result run() throws IOException, InterruptedException {
    try (Running running = start()) {
      return running.await();
    }
  }

  /** A sipp process. Closing it kills the process if it still runs. */
  static final class Running implements AutoCloseable {

    private final Sipp run;
    private final List<String> command;
    private final Process process;

    private Running(Sipp run, List<String> command, Process process) {
      this.run = run;
      this.command = command;
      this.process = process;
    }

    /**
     * The first line of the scenario's event log ({@code <log message="..."/>}, e.g. siprec-call's
     * {@code call <Call-ID> srs-media <address> <port> <port>}) that {@code regex} finds, waiting
     * for it while sipp runs.
     */
    Matcher awaitEvent(String regex, Duration timeout) throws IOException, InterruptedException {
      Pattern pattern = Pattern.compile(regex);
      Path events = run.log("-events.log");
      Instant deadline = Instant.now().plus(timeout);
      while (true) {
        boolean running =
            process.isAlive(); // before reading: a line logged just before exit is read
        if (Files.exists(events)) {
          for (String line : Files.readAllLines(events, StandardCharsets.ISO_8859_1)) {
            Matcher m = pattern.matcher(line);
            if (m.find()) return m;
          }
        }
        if (!running || Instant.now().isAfter(deadline)) {
          throw new AssertionError(
              "sipp "
                  + run.name
                  + " logged no event matching "
                  + regex
                  + ":\n"
                  + tail(run.log(".log")));
        }
        Thread.sleep(20); // polling a file sipp flushes per line; the deadline bounds it
      }
    }

    /** Waits for sipp to exit and reads its result. */
    Result await() throws IOException, InterruptedException {
      Duration grace = run.timeout.plusSeconds(10); // sipp's own -timeout ends it first
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        close();
        throw new AssertionError(
            "sipp " + run.name + " still running after " + grace + ":\n" + tail(run.log(".log")));
      }
      long[] counts = callCounts(run.log("-stats.csv"));
      return new Result(
          run.name,
          command,
          process.exitValue(),
          counts[0],
          counts[1],
          run.log(".log"),
          run.log("-messages.log"),
          run.log("-errors.log"),
          run.log("-events.log"));
    }

    @Override
    public void close() throws InterruptedException {
      if (process.isAlive()) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * What a run did.
   *
   * @param exitStatus sipp's: 0 all calls succeeded, 1 at least one failed (or -timeout hit), 97
   *     stopped by command, 99 no call processed, 255 fatal error (e.g. a scenario error), 254 a
   *     socket could not be bound
   * @param successfulCalls {@code SuccessfulCall(C)} of the statistics file's last line
   * @param failedCalls {@code FailedCall(C)} of it
   * @param output sipp's output
   * @param messageTrace every SIP message, for {@link #messages()} and for people
   * @param errors why calls failed
   * @param events the scenario's {@code <log>} lines
   */
  record Result(
      String name,
      List<String> command,
      int exitStatus,
      long successfulCalls,
      long failedCalls,
      Path output,
      Path messageTrace,
      Path errors,
      Path events) {

    /** For assertion messages: the counts, the errors and the last screen. */
    String describe() {
      return "sipp "
          + name
          + " exited with "
          + exitStatus
          + ", "
          + successfulCalls
          + " calls succeeded, "
          + failedCalls
          + " failed\n"
          + "errors: "
          + tail(errors)
          + "\noutput: "
          + tail(output)
          + "\nmessages: "
          + messageTrace;
    }

    /** The scenario's {@code <log>} lines. */
    List<String> eventLines() throws IOException {
      return Files.exists(events)
          ? Files.readAllLines(events, StandardCharsets.ISO_8859_1)
          : List.of();
    }

    /** Every SIP message in the trace, in order, with its exact bytes. */
    List<TracedMessage> messages() throws IOException {
      return TracedMessage.read(messageTrace);
    }
  }

  /**
   * One SIP message of a {@code -trace_msg} file, which sipp writes as a dashed line with a
   * timestamp, {@code UDP message sent (N bytes):} or {@code UDP message received [N] bytes :}, an
   * empty line, and the N bytes of the message. {@code micros}: the timestamp, in microseconds of
   * the machine's local time (for differences between messages).
   */
  record TracedMessage(boolean received, String transport, byte[] bytes, long micros) {

    /** sipp 3.6.1 writes "UDP message sent (N bytes):" and "UDP message received [N] bytes :". */
    private static final Pattern HEAD =
        Pattern.compile(
            "(?m)^-+ (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d+)\n"
                + "(UDP|TCP) message (sent|received) (?:\\((\\d+) bytes\\)|\\[(\\d+)\\] bytes"
                + " ?):\n\n");

    static List<TracedMessage> read(Path trace) throws IOException {
      // ISO-8859-1 maps each byte to one char, so offsets are byte offsets.
      String text = Files.readString(trace, StandardCharsets.ISO_8859_1);
      List<TracedMessage> out = new ArrayList<>();
      Matcher m = HEAD.matcher(text);
      while (m.find()) {
        int length = Integer.parseInt(m.group(4) != null ? m.group(4) : m.group(5));
        String message = text.substring(m.end(), Math.min(text.length(), m.end() + length));
        java.time.LocalDateTime at = java.time.LocalDateTime.parse(m.group(1).replace(' ', 'T'));
        out.add(
            new TracedMessage(
                m.group(3).equals("received"),
                m.group(2),
                message.getBytes(StandardCharsets.ISO_8859_1),
                at.toEpochSecond(java.time.ZoneOffset.UTC) * 1_000_000 + at.getNano() / 1000));
      }
      return out;
    }

    String text() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The request or status line. */
    String startLine() {
      String t = text();
      int end = t.indexOf("\r\n");
      return end < 0 ? t : t.substring(0, end);
    }

    boolean isRequest(String method) {
      return startLine().startsWith(method + " ");
    }
  }

  /**
   * One call's recording metadata (RFC 7865) as the SIPREC scenarios send it, one line of the
   * {@code -inf} file per call. Ids are base64-encoded UUIDs as RFC 7865 §6 asks; the sipSessionID
   * is an RFC 7989 Session-ID (32 hex digits). Alice sends on label 1, Bob on label 2.
   */
  record CallMetadata(
      String groupId,
      String sessionId,
      String sipSessionId,
      Participant alice,
      Participant bob,
      String stream1Id,
      String stream2Id) {

    /** A participant's id, AOR and display name. */
    record Participant(String id, String aor, String name) {
      Participant {
        for (String value : List.of(id, aor, name)) {
          // Values go into the injection file (';'-separated lines) and into XML unescaped.
          if (value.isEmpty()
              || value
                  .chars()
                  .anyMatch(
                      ch ->
                          ch == ';'
                              || ch == '\n'
                              || ch == '\r'
                              || ch == '<'
                              || ch == '>'
                              || ch == '&'
                              || ch == '"')) {
            throw new IllegalArgumentException(
                "not usable in a sipp injection file and XML: \"" + value + "\"");
          }
        }
      }
    }

    /** The contract's participants: Alice Agent (sip:alice@example.com) and Bob Customer. */
    static CallMetadata aliceAndBob() {
      return of("sip:alice@example.com", "Alice Agent", "sip:bob@example.com", "Bob Customer");
    }

    /** New ids for these participants. */
    static CallMetadata of(String aliceAor, String aliceName, String bobAor, String bobName) {
      return new CallMetadata(
          newId(),
          newId(),
          UUID.randomUUID().toString().replace("-", ""),
          new Participant(newId(), aliceAor, aliceName),
          new Participant(newId(), bobAor, bobName),
          newId(),
          newId());
    }

    /**
     * The line of the injection file: fields 0 to 10 as the scenarios' first {@code <nop>} names
     * them.
     */
    String csvLine() {
      return String.join(
          ";",
          groupId,
          sessionId,
          sipSessionId,
          alice.id,
          alice.aor,
          alice.name,
          bob.id,
          bob.aor,
          bob.name,
          stream1Id,
          stream2Id);
    }

    private static String newId() {
      UUID uuid = UUID.randomUUID();
      byte[] bytes = new byte[16];
      for (int i = 0; i < 8; i++) {
        bytes[i] = (byte) (uuid.getMostSignificantBits() >>> (56 - 8 * i));
        bytes[8 + i] = (byte) (uuid.getLeastSignificantBits() >>> (56 - 8 * i));
      }
      return Base64.getEncoder().encodeToString(bytes);
    }
  }

  /** The sipp to run: {@code -Dcallvault.it.sipp=/path/to/sipp}, else the first on the PATH. */
  static Path executable() {
    String configured = System.getProperty("callvault.it.sipp");
    Optional<Path> found =
        configured != null
            ? Optional.of(Path.of(configured)).filter(Files::isExecutable)
            : onPath(System.getenv("PATH"));
    return found.orElseThrow(
        () ->
            new IllegalStateException(
                "sipp is not installed"
                    + (configured != null ? " at " + configured : " (not on the PATH)")
                    + ": run ops/install-test-deps as root, which installs Debian's sip-tester"
                    + " (SIPp 3.6 with RTP streaming)"));
  }

  /** The first executable {@code sipp} in the directories of {@code path} (a PATH value). */
  static Optional<Path> onPath(String path) {
    if (path == null) return Optional.empty();
    return Arrays.stream(path.split(File.pathSeparator))
        .filter(dir -> !dir.isEmpty())
        .map(dir -> Path.of(dir, "sipp"))
        .filter(Files::isExecutable)
        .findFirst();
  }

  private static String version;

  /**
   * sipp's version, e.g. {@code SIPp v3.6.1-SCTP-PCAP-RTPSTREAM.}: the features it was built with.
   */
  static synchronized String version() throws IOException, InterruptedException {
    if (version != null) return version;
    Process p = new ProcessBuilder(executable().toString(), "-v").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    Matcher m = Pattern.compile("SIPp v\\S+").matcher(out);
    version = m.find() ? m.group() : out.strip();
    return version;
  }

  /**
   * SuccessfulCall(C) and FailedCall(C) of the last line of a -trace_stat file; 0 and 0 if it has
   * none.
   */
  static long[] callCounts(Path stats) throws IOException {
    if (!Files.exists(stats)) return new long[] {0, 0};
    List<String> lines =
        Files.readAllLines(stats, StandardCharsets.ISO_8859_1).stream()
            .filter(l -> !l.isBlank())
            .toList();
    if (lines.size() < 2) return new long[] {0, 0};
    List<String> header = List.of(lines.get(0).split(";", -1));
    String[] last = lines.get(lines.size() - 1).split(";", -1);
    int ok = header.indexOf("SuccessfulCall(C)");
    int failed = header.indexOf("FailedCall(C)");
    if (ok < 0 || failed < 0)
      throw new IllegalStateException("no SuccessfulCall(C)/FailedCall(C) column in " + stats);
    return new long[] {Long.parseLong(last[ok].trim()), Long.parseLong(last[failed].trim())};
  }

  private static int freePort(Transport transport) {
    try {
      InetAddress host = InetAddress.getByName(HOST);
      if (transport == Transport.UDP) {
        try (DatagramSocket socket = new DatagramSocket(0, host)) {
          return socket.getLocalPort();
        }
      }
      try (ServerSocket socket = new ServerSocket(0, 1, host)) {
        return socket.getLocalPort();
      }
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }

  private static String format(double value) {
    return value == Math.rint(value)
        ? String.valueOf((long) value)
        : String.format(Locale.ROOT, "%.3f", value);
  }

  static String tail(Path file) {
    try {
      if (!Files.exists(file)) return "(no " + file.getFileName() + ")";
      List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(unreadable " + file + ": " + e.getMessage() + ")";
    }
  }
}
