package org.callvault.bench;

import java.net.URI;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * How to run the load generator. Fluent setters; every option has a default, so {@code new
 * Options().api(uri).calls(2).duration(Duration.ofSeconds(5))} is a complete run.
 *
 * <p>Times on the run's timeline (actions, SSRC changes, sender pauses) are in seconds. Actions
 * count from the run's start; SSRC changes and sender pauses from each call's own start (which
 * {@link #ramp(Duration)} staggers).
 */
public final class Options {

  /** A span of a call's timeline in which the sender sends nothing for the call (silence). */
  public record SenderPause(double atSeconds, double seconds) {
    public SenderPause {
      if (atSeconds < 0 || seconds <= 0)
        throw new IllegalArgumentException(
            "a sender pause needs at >= 0 and a length > 0, was " + atSeconds + "+" + seconds);
    }
  }

  private URI api = URI.create("http://127.0.0.1:8080");
  private String apiKey;
  private int calls = 1;
  private Duration duration = Duration.ofSeconds(10);
  private Duration ramp = Duration.ZERO;
  private Codec codec = Codec.PCMU;
  private double loss;
  private double reorder;
  private double duplicate;
  private double malformed;
  private double foreign;
  private Set<Malformation> malformations = EnumSet.allOf(Malformation.class);
  private final List<Double> ssrcChangesAt = new ArrayList<>();
  private final List<SenderPause> senderPauses = new ArrayList<>();
  private long seed = 1;
  private String prefix =
      "load-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyMMdd-HHmmss"));
  private String policyJson;
  private boolean stopCallsAtEnd;
  private Duration stopDelay = Duration.ofMillis(300);
  private boolean followMoves;
  private Duration followInterval = Duration.ofSeconds(3);
  private boolean recordPackets = true;
  private boolean declareSource = true;
  private String bindAddress = "127.0.0.1";
  private Duration progressInterval = Duration.ofSeconds(5);
  private Consumer<Progress> progress;
  private final List<Action> actions = new ArrayList<>();
  private boolean failOnActionError = true;
  private int httpConcurrency = 16;
  private Duration httpTimeout = Duration.ofSeconds(10);
  private Duration leadIn = Duration.ofMillis(100);
  private Duration earlyTolerance = Duration.ofNanos(20_000);

  /** The API's base URL; default {@code http://127.0.0.1:8080}. */
  public Options api(URI api) {
    this.api = api;
    return this;
  }

  public Options api(String api) {
    return api(URI.create(api));
  }

  /**
   * The API key sent with every request; default the environment's {@code CALLVAULT_KEY}, else the
   * development key of {@code ops/run} ({@code $CALLVAULT_HOME/dev-api-key}, {@code .callvault} by
   * default), else none.
   */
  public Options apiKey(String apiKey) {
    this.apiKey = apiKey;
    return this;
  }

  public String apiKey() {
    if (apiKey != null) return apiKey;
    String env = System.getenv("CALLVAULT_KEY");
    if (env != null && !env.isBlank()) return env.trim();
    String home = System.getenv().getOrDefault("CALLVAULT_HOME", ".callvault");
    java.nio.file.Path dev = java.nio.file.Path.of(home, "dev-api-key");
    try {
      return java.nio.file.Files.isReadable(dev)
          ? java.nio.file.Files.readString(dev).trim()
          : null;
    } catch (java.io.IOException unreadable) {
      return null; // then the API answers 401, which says what is missing
    }
  }

  /** How many concurrent calls, each with an agent and a customer stream; default 1. */
  public Options calls(int calls) {
    if (calls < 1) throw new IllegalArgumentException("calls must be >= 1, was " + calls);
    this.calls = calls;
    return this;
  }

  /** How long each call sends (its number of 20 ms slots is this / 20 ms); default 10 s. */
  public Options duration(Duration duration) {
    if (duration.isNegative() || duration.isZero())
      throw new IllegalArgumentException("duration must be > 0");
    this.duration = duration;
    return this;
  }

  /**
   * Spreads the calls' starts evenly over this span (call n starts at (n-1)·ramp/calls); the run
   * then lasts ramp + duration. With a ramp shorter than 20 ms the calls' starts are spread over
   * one packet period instead, so that their packets do not all fall due at once. Default 0.
   */
  public Options ramp(Duration ramp) {
    if (ramp.isNegative()) throw new IllegalArgumentException("ramp must be >= 0");
    this.ramp = ramp;
    return this;
  }

  public Options codec(Codec codec) {
    this.codec = codec;
    return this;
  }

  /** Probability that a genuine packet is not sent (its sequence number is used). */
  public Options loss(double p) {
    this.loss = probability("loss", p);
    return this;
  }

  /** Probability that a packet is held back and sent after the next one. */
  public Options reorder(double p) {
    this.reorder = probability("reorder", p);
    return this;
  }

  /** Probability that a packet is sent twice in a row. */
  public Options duplicate(double p) {
    this.duplicate = probability("duplicate", p);
    return this;
  }

  /** Probability, per slot, of an extra malformed packet from the real source. */
  public Options malformed(double p) {
    this.malformed = probability("malformed", p);
    return this;
  }

  /** Which kinds of malformed packet to pick from (uniformly); default all. */
  public Options malformations(Set<Malformation> kinds) {
    if (kinds.isEmpty())
      throw new IllegalArgumentException("at least one kind of malformed packet");
    this.malformations = EnumSet.copyOf(kinds);
    return this;
  }

  /**
   * Probability, per slot, of an extra valid-looking packet with the stream's SSRC from a foreign
   * socket.
   */
  public Options foreign(double p) {
    this.foreign = probability("foreign", p);
    return this;
  }

  /**
   * Every stream changes SSRC (and sequence and timestamp base) this many seconds after its call's
   * start.
   */
  public Options ssrcChangeAt(double seconds) {
    if (seconds <= 0)
      throw new IllegalArgumentException("an SSRC change must be after the start, was " + seconds);
    ssrcChangesAt.add(seconds);
    Collections.sort(ssrcChangesAt);
    return this;
  }

  /**
   * The sender sends nothing for every call from {@code atSeconds} after its start, for {@code
   * seconds}.
   */
  public Options senderPause(double atSeconds, double seconds) {
    senderPauses.add(new SenderPause(atSeconds, seconds));
    return this;
  }

  /** Seeds everything random (SSRCs, bases, impairments, pattern seeds); default 1. */
  public Options seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** Call ids are {@code <prefix>-1 .. <prefix>-<calls>}; default {@code load-<yyMMdd-HHmmss>}. */
  public Options prefix(String prefix) {
    this.prefix = prefix;
    return this;
  }

  /**
   * The {@code policy} object of every create request, as JSON; default none (the server's default
   * policy).
   */
  public Options policy(String policyJson) {
    this.policyJson = policyJson;
    return this;
  }

  /**
   * {@code POST /v1/calls/{id}/stop} each call {@link #stopDelay(Duration)} after its last packet;
   * default off.
   */
  public Options stopCallsAtEnd(boolean stop) {
    this.stopCallsAtEnd = stop;
    return this;
  }

  /**
   * How long after its last packet a call is stopped, so that packets in flight arrive first;
   * default 300 ms.
   */
  public Options stopDelay(Duration delay) {
    this.stopDelay = delay;
    return this;
  }

  /**
   * Polls every call each {@link #followInterval(Duration)} and sends to a stream's new {@code rtp}
   * endpoint when it changes; default off.
   */
  public Options followMoves(boolean follow) {
    this.followMoves = follow;
    return this;
  }

  public Options followInterval(Duration interval) {
    this.followInterval = interval;
    return this;
  }

  /**
   * Keep every sent packet and lost index in the {@link Summary} (default on); off keeps only
   * counters.
   */
  public Options recordPackets(boolean record) {
    this.recordPackets = record;
    return this;
  }

  /** Declare each stream's {@code source} in the create request; default on. */
  public Options declareSource(boolean declare) {
    this.declareSource = declare;
    return this;
  }

  /** The local address the streams' sockets bind to (and are declared from); default 127.0.0.1. */
  public Options bindAddress(String address) {
    this.bindAddress = address;
    return this;
  }

  /** Calls {@code progress} every {@code interval} while sending. */
  public Options progress(Duration interval, Consumer<Progress> progress) {
    this.progressInterval = interval;
    this.progress = progress;
    return this;
  }

  /** Adds an action to the timeline. */
  public Options action(Action action) {
    actions.add(action);
    return this;
  }

  /**
   * Runs {@code r} on the sender thread at {@code seconds}, between packets (a blocking {@link
   * Action}).
   */
  public Options at(double seconds, Runnable r) {
    return action(new Action(seconds, "hook at " + seconds + " s", true, c -> r.run()));
  }

  /**
   * Runs {@code hook} at {@code seconds}: blocking on the sender thread, or on another thread while
   * packets flow.
   */
  public Options at(double seconds, String description, boolean blocking, Action.Hook hook) {
    return action(new Action(seconds, description, blocking, hook));
  }

  /** {@link #at(double, Runnable)} at a whole second. */
  public Options onSecond(int second, Runnable r) {
    return at(second, r);
  }

  /**
   * At {@code seconds}, {@code POST /v1/calls/{id}<suffix>} with {@code json} for every call (all
   * at once), blocking; the action fails unless every answer is 2xx. E.g. {@code
   * postToEachCall(3.0, "/pause", "{\"reason\":\"card number\",\"by\":\"agent-7\"}")}.
   */
  public Options postToEachCall(double seconds, String suffix, String json) {
    return action(
        new Action(
            seconds,
            "POST /v1/calls/{id}" + suffix + " " + json,
            true,
            c -> {
              List<CompletableFuture<Api.Response>> answers = new ArrayList<>();
              for (String id : c.callIds())
                answers.add(c.api().postAsync(Api.callPath(id) + suffix, json));
              for (CompletableFuture<Api.Response> a : answers) a.join().requireOk();
            }));
  }

  /**
   * At {@code seconds}, {@code POST /v1/calls/{callId}<suffix>} with {@code json}, blocking; fails
   * unless 2xx.
   */
  public Options postToCall(double seconds, String callId, String suffix, String json) {
    return action(
        new Action(
            seconds,
            "POST /v1/calls/" + callId + suffix + " " + json,
            true,
            c -> c.api().post(Api.callPath(callId) + suffix, json).requireOk()));
  }

  /**
   * Whether {@link LoadGenerator#run(Options)} throws {@link LoadGenerator.ActionFailedException}
   * when an action failed; default on.
   */
  public Options failOnActionError(boolean fail) {
    this.failOnActionError = fail;
    return this;
  }

  /** Concurrent API requests when creating, stopping and polling calls; default 16. */
  public Options httpConcurrency(int n) {
    if (n < 1) throw new IllegalArgumentException("http concurrency must be >= 1");
    this.httpConcurrency = n;
    return this;
  }

  public Options httpTimeout(Duration timeout) {
    this.httpTimeout = timeout;
    return this;
  }

  /** Time between the calls being created and the first slot; default 100 ms. */
  public Options leadIn(Duration leadIn) {
    this.leadIn = leadIn;
    return this;
  }

  /** A slot due within this much is sent rather than slept for; default 20 µs. */
  public Options earlyTolerance(Duration tolerance) {
    this.earlyTolerance = tolerance;
    return this;
  }

  /** The id of call {@code n} (1-based). */
  public String callId(int n) {
    return prefix + "-" + n;
  }

  private static double probability(String name, double p) {
    if (!(p >= 0 && p <= 1))
      throw new IllegalArgumentException(name + " must be a probability between 0 and 1, was " + p);
    return p;
  }

  public URI api() {
    return api;
  }

  public int calls() {
    return calls;
  }

  public Duration duration() {
    return duration;
  }

  public Duration ramp() {
    return ramp;
  }

  public Codec codec() {
    return codec;
  }

  public double loss() {
    return loss;
  }

  public double reorder() {
    return reorder;
  }

  public double duplicate() {
    return duplicate;
  }

  public double malformed() {
    return malformed;
  }

  public double foreign() {
    return foreign;
  }

  public Set<Malformation> malformations() {
    return Collections.unmodifiableSet(malformations);
  }

  public List<Double> ssrcChangesAt() {
    return List.copyOf(ssrcChangesAt);
  }

  public List<SenderPause> senderPauses() {
    return List.copyOf(senderPauses);
  }

  public long seed() {
    return seed;
  }

  public String prefix() {
    return prefix;
  }

  public String policy() {
    return policyJson;
  }

  public boolean stopCallsAtEnd() {
    return stopCallsAtEnd;
  }

  public Duration stopDelay() {
    return stopDelay;
  }

  public boolean followMoves() {
    return followMoves;
  }

  public Duration followInterval() {
    return followInterval;
  }

  public boolean recordPackets() {
    return recordPackets;
  }

  public boolean declareSource() {
    return declareSource;
  }

  public String bindAddress() {
    return bindAddress;
  }

  public Duration progressInterval() {
    return progressInterval;
  }

  public Consumer<Progress> progress() {
    return progress;
  }

  public List<Action> actions() {
    return List.copyOf(actions);
  }

  public boolean failOnActionError() {
    return failOnActionError;
  }

  public int httpConcurrency() {
    return httpConcurrency;
  }

  public Duration httpTimeout() {
    return httpTimeout;
  }

  public Duration leadIn() {
    return leadIn;
  }

  public Duration earlyTolerance() {
    return earlyTolerance;
  }
}
