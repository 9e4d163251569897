package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The RTP load generator: creates calls through the REST API, then sends G.711 on each call's two
 * streams from one sender thread at 20 ms pacing, with seeded impairments, and records what it
 * sent.
 *
 * <pre>{@code
 * Summary s = LoadGenerator.run(new Options().api("http://127.0.0.1:8080").prefix("it").calls(2)
 *     .duration(Duration.ofSeconds(6)).postToEachCall(2.0, "/pause", "{\"reason\":\"pci\",\"by\":\"agent\"}")
 *     .postToEachCall(4.0, "/resume", "{\"by\":\"agent\"}").stopCallsAtEnd(true));
 * StreamRecord agent = s.call("it-1").stream("agent");
 * }</pre>
 *
 * <p>From the command line: {@code benchmarks/loadgen --help}.
 */
public final class LoadGenerator {

  private LoadGenerator() {}

  /** Thrown by {@link #run(Options)} when a scheduled action failed; the run itself completed. */
  public static final class ActionFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Summary summary;

    ActionFailedException(String message, Summary summary) {
      super(message);
      this.summary = summary;
    }

    public Summary summary() {
      return summary;
    }
  }

  /**
   * Creates the calls, sends, and returns what was sent once every call has finished and every
   * action has run.
   */
  public static Summary run(Options options) throws IOException, InterruptedException {
    try (Running running = start(options)) {
      return running.await();
    }
  }

  /**
   * Creates every call (returning once they all exist, or throwing) and starts sending; {@link
   * Running#await()} waits for the end.
   *
   * @throws java.net.ConnectException when the API is unreachable
   * @throws Api.ApiException when it refuses a call or answers without {@code streams[].rtp}
   */
  public static Running start(Options options) throws IOException, InterruptedException {
    return new Running(options);
  }

  public static void main(String[] args) {
    System.exit(cli(args, System.out, System.err));
  }

  /**
   * The command line: returns the exit code (0 fine, 1 API unreachable or refusing or --max-loss
   * exceeded, 2 bad usage).
   */
  public static int cli(String[] args, PrintStream out, PrintStream err) {
    return Cli.run(args, out, err);
  }

  /** A run under way. */
  public static final class Running implements AutoCloseable {

    private final Options options;
    private final Api api;
    private final List<String> callIds = new ArrayList<>();
    private final List<JsonNode> created = new ArrayList<>();
    private final List<Sender.StreamState> streams = new ArrayList<>();
    private final List<DatagramChannel> channels = new ArrayList<>();
    private final List<Move> moves = Collections.synchronizedList(new ArrayList<>());
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final List<CompletableFuture<Void>> stops =
        Collections.synchronizedList(new ArrayList<>());
    private final Semaphore httpSlots;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService asyncActions;
    private Sender sender;
    private Thread senderThread;
    private Thread follower;
    private volatile boolean following = true;
    private Instant startedAt;
    private Summary summary;
    private boolean closed;
    private boolean[] finished;

    private Running(Options options) throws IOException, InterruptedException {
      this.options = options;
      this.api = new Api(options.api(), options.httpTimeout(), options.apiKey());
      this.httpSlots = new Semaphore(options.httpConcurrency());
      this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("loadgen-scheduler"));
      this.asyncActions = Executors.newCachedThreadPool(daemon("loadgen-action"));
      this.finished = new boolean[options.calls()];
      boolean ok = false;
      try {
        begin();
        ok = true;
      } finally {
        if (!ok) release();
      }
    }

    private void begin() throws IOException, InterruptedException {
      Options o = options;
      InetAddress bind = InetAddress.getByName(o.bindAddress());
      DatagramChannel foreign = open(bind);
      List<DatagramChannel[]> callChannels = new ArrayList<>();
      for (int c = 0; c < o.calls(); c++) {
        callIds.add(o.callId(c + 1));
        callChannels.add(new DatagramChannel[] {open(bind), open(bind)});
      }
      createCalls(callChannels);

      long slots = o.duration().toNanos() / Sender.PERIOD;
      long spread = Math.max(o.ramp().toNanos(), Sender.PERIOD);
      long[] changes =
          o.ssrcChangesAt().stream()
              .mapToLong(t -> Math.round(t * 50))
              .filter(k -> k > 0 && k < slots)
              .distinct()
              .sorted()
              .toArray();
      List<long[]> silenceList = new ArrayList<>();
      for (Options.SenderPause p : o.senderPauses()) {
        long from = Math.round(p.atSeconds() * 50),
            to = Math.min(slots, Math.round((p.atSeconds() + p.seconds()) * 50));
        if (from < to) silenceList.add(new long[] {from, to});
      }
      long[][] silences = silenceList.toArray(new long[0][]);
      String[] labels = {"agent", "customer"};
      for (int c = 0; c < o.calls(); c++) {
        long offset = spread * c / o.calls();
        for (int i = 0; i < 2; i++) {
          DatagramChannel ch = callChannels.get(c)[i];
          InetSocketAddress target = api.rtpEndpoint(created.get(c), labels[i]);
          streams.add(
              new Sender.StreamState(
                  c,
                  i,
                  labels[i],
                  labels[i],
                  ch,
                  (InetSocketAddress) ch.getLocalAddress(),
                  target,
                  o.seed(),
                  offset,
                  slots,
                  changes,
                  silences,
                  o.recordPackets()));
        }
      }

      List<Action> actions = new ArrayList<>(o.actions());
      actions.sort(Comparator.comparingDouble(Action::atSeconds));
      long t0 = System.nanoTime() + o.leadIn().toNanos();
      List<String> ids = List.copyOf(callIds);
      sender =
          new Sender(
              o,
              streams,
              o.calls(),
              foreign,
              t0,
              asyncActions,
              actions,
              a ->
                  new Action.Context() {
                    @Override
                    public Api api() {
                      return api;
                    }

                    @Override
                    public List<String> callIds() {
                      return ids;
                    }

                    @Override
                    public double atSeconds() {
                      return a.atSeconds();
                    }
                  },
              this::callDone);
      long wall = sender.wallMicros(t0);
      startedAt =
          Instant.ofEpochSecond(
              Math.floorDiv(wall, 1_000_000L), Math.floorMod(wall, 1_000_000L) * 1000);
      senderThread = new Thread(sender, "loadgen-sender");
      senderThread.setPriority(Thread.MAX_PRIORITY);
      senderThread.setDaemon(true);
      senderThread.start();
      if (o.progress() != null) {
        long every = o.progressInterval().toNanos();
        scheduler.scheduleAtFixedRate(
            () -> o.progress().accept(sender.progress(every)), every, every, TimeUnit.NANOSECONDS);
      }
      if (o.followMoves()) {
        follower = new Thread(this::follow, "loadgen-follow");
        follower.setDaemon(true);
        follower.start();
      }
    }

    private DatagramChannel open(InetAddress bind) throws IOException {
      DatagramChannel ch = DatagramChannel.open();
      channels.add(ch);
      ch.bind(new InetSocketAddress(bind, 0));
      return ch;
    }

    private void createCalls(List<DatagramChannel[]> callChannels)
        throws IOException, InterruptedException {
      Options o = options;
      JsonNode policy = null;
      if (o.policy() != null) {
        policy = Api.MAPPER.readTree(o.policy());
        if (!policy.isObject())
          throw new IllegalArgumentException("the policy must be a JSON object, was " + o.policy());
      }
      List<CompletableFuture<Api.Response>> answers = new ArrayList<>();
      for (int c = 0; c < o.calls(); c++) {
        ObjectNode body = Api.MAPPER.createObjectNode();
        body.put("callId", callIds.get(c));
        if (policy != null) body.set("policy", policy);
        ArrayNode parties = body.putArray("parties");
        parties.addObject().put("id", "agent").put("role", "AGENT");
        parties.addObject().put("id", "customer").put("role", "CUSTOMER");
        ArrayNode streamsJson = body.putArray("streams");
        String[] labels = {"agent", "customer"};
        for (int i = 0; i < 2; i++) {
          ObjectNode s =
              streamsJson
                  .addObject()
                  .put("label", labels[i])
                  .put("party", labels[i])
                  .put("codec", o.codec().name());
          if (o.declareSource()) {
            InetSocketAddress local = (InetSocketAddress) callChannels.get(c)[i].getLocalAddress();
            s.put("source", local.getAddress().getHostAddress() + ":" + local.getPort());
          }
        }
        answers.add(throttled(() -> createRetrying(body.toString(), 5)));
      }
      for (int c = 0; c < answers.size(); c++) {
        Api.Response r;
        try {
          r = answers.get(c).join();
        } catch (CompletionException e) {
          Throwable cause = e.getCause();
          if (cause instanceof IOException io)
            throw rethrown(io, "POST " + api.base() + "/v1/calls");
          throw e;
        }
        if (!r.ok()) {
          String hint =
              r.status() == 409
                  ? " (a call with this id exists from an earlier run: use another --prefix)"
                  : "";
          throw new Api.ApiException(
              "POST /v1/calls for '"
                  + callIds.get(c)
                  + "' answered "
                  + r.status()
                  + hint
                  + ": "
                  + Api.abbreviate(r.body()),
              r.status(),
              r.body());
        }
        JsonNode call = r.json();
        for (String label : new String[] {"agent", "customer"}) {
          if (api.rtpEndpoint(call, label) == null)
            throw new Api.ApiException(
                "the call resource of '"
                    + callIds.get(c)
                    + "' names no RTP endpoint for stream '"
                    + label
                    + "': expected streams[].rtp = {\"host\":…,\"port\":…} (does this server"
                    + " receive media yet?); it answered "
                    + r.status()
                    + ": "
                    + r.body(),
                r.status(),
                r.body());
        }
        created.add(call);
      }
    }

    /**
     * The same kind of exception with the request named (ConnectException stays a
     * ConnectException).
     */
    private static IOException rethrown(IOException e, String what) {
      String message =
          what + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      IOException again;
      if (e instanceof java.net.ConnectException) again = new java.net.ConnectException(message);
      else if (e instanceof java.net.http.HttpConnectTimeoutException)
        again = new java.net.http.HttpConnectTimeoutException(message);
      else again = new IOException(message);
      again.initCause(e);
      return again;
    }

    /**
     * Creates a call, asking again when the server answers 503 (busy or starting, "retry"):
     * creation is idempotent on the call id, so a repeated request is the same call.
     */
    private CompletableFuture<Api.Response> createRetrying(String body, int attemptsLeft) {
      return api.postAsync("/v1/calls", body)
          .thenCompose(
              r -> {
                if (r.status() != 503 || attemptsLeft <= 1)
                  return CompletableFuture.completedFuture(r);
                return CompletableFuture.supplyAsync(
                        () -> null,
                        CompletableFuture.delayedExecutor(
                            500, java.util.concurrent.TimeUnit.MILLISECONDS))
                    .thenCompose(ignored -> createRetrying(body, attemptsLeft - 1));
              });
    }

    private <T> CompletableFuture<T> throttled(
        java.util.function.Supplier<CompletableFuture<T>> request) throws InterruptedException {
      httpSlots.acquire();
      CompletableFuture<T> f;
      try {
        f = request.get();
      } catch (RuntimeException e) {
        httpSlots.release();
        throw e;
      }
      return f.whenComplete((r, e) -> httpSlots.release());
    }

    private void callDone(int callIndex) {
      finished[callIndex] = true;
      if (!options.stopCallsAtEnd()) return;
      CompletableFuture<Void> done = new CompletableFuture<>();
      stops.add(done);
      String id = callIds.get(callIndex);
      scheduler.schedule(
          () -> {
            try {
              throttled(() -> api.postAsync(Api.callPath(id) + "/stop", "{\"by\":\"loadgen\"}"))
                  .whenComplete(
                      (r, e) -> {
                        if (e != null)
                          problems.add("POST /v1/calls/" + id + "/stop failed: " + e.getCause());
                        else if (!r.ok())
                          problems.add(
                              "POST /v1/calls/"
                                  + id
                                  + "/stop answered "
                                  + r.status()
                                  + ": "
                                  + Api.abbreviate(r.body()));
                        done.complete(null);
                      });
            } catch (InterruptedException e) {
              done.complete(null);
            }
          },
          options.stopDelay().toNanos(),
          TimeUnit.NANOSECONDS);
    }

    private void follow() {
      long pollErrors = 0;
      while (following) {
        long spacing =
            Math.max(1_000_000L, options.followInterval().toNanos() / Math.max(1, callIds.size()));
        for (int c = 0; c < callIds.size() && following; c++) {
          try {
            TimeUnit.NANOSECONDS.sleep(spacing);
            JsonNode call = api.getCall(callIds.get(c));
            for (int i = 0; i < 2; i++) {
              Sender.StreamState s = streams.get(2 * c + i);
              InetSocketAddress now = api.rtpEndpoint(call, s.label);
              if (now != null && !now.equals(s.target)) {
                moves.add(new Move(callIds.get(c), s.label, s.target, now, System.nanoTime()));
                s.target = now;
              }
            }
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            if (pollErrors++ == 0)
              problems.add("following moves: GET /v1/calls/" + callIds.get(c) + " failed: " + e);
          }
        }
      }
      if (pollErrors > 1) problems.add("following moves: " + pollErrors + " polls failed");
    }

    public Options options() {
      return options;
    }

    public Api api() {
      return api;
    }

    public List<String> callIds() {
      return List.copyOf(callIds);
    }

    /** The call resource {@code POST /v1/calls} answered for {@code callId}. */
    public JsonNode created(String callId) {
      return created.get(callIds.indexOf(callId));
    }

    /**
     * {@link System#nanoTime()} of the run's start: slot 0 of the first call and time 0 of the
     * actions.
     */
    public long startNanos() {
      return sender.t0;
    }

    public Progress progress() {
      return sender.progress(options.progressInterval().toNanos());
    }

    public boolean isDone() {
      return !senderThread.isAlive();
    }

    /** Stops sending at the next slot; {@link #await()} then returns what was sent so far. */
    public void cancel() {
      if (sender != null) sender.cancel();
    }

    /** Waits for the end of the run: the last packet, every action, every stop. */
    public Summary await() throws InterruptedException {
      if (summary != null) return summary;
      senderThread.join();
      if (sender.cancelled) for (int c = 0; c < finished.length; c++) if (!finished[c]) callDone(c);
      following = false;
      if (follower != null) {
        follower.interrupt();
        follower.join(5000);
      }
      List<ActionResult> actions = sender.actionResults();
      for (CompletableFuture<Void> stop : List.copyOf(stops)) stop.join();
      if (sender.lastSendError != null) problems.add("sends failed, last: " + sender.lastSendError);
      summary = summarize(actions);
      release();
      if (options.failOnActionError())
        for (ActionResult a : actions)
          if (!a.ok())
            throw new ActionFailedException(
                "action '" + a.description() + "' at " + a.atSeconds() + " s failed: " + a.error(),
                summary);
      return summary;
    }

    /** Problems met along the way that did not stop the run (failed stops, polls, sends). */
    public List<String> problems() {
      return List.copyOf(problems);
    }

    private Summary summarize(List<ActionResult> actions) {
      List<CallRecord> calls = new ArrayList<>();
      Counts totals = Counts.ZERO;
      for (int c = 0; c < callIds.size(); c++) {
        List<StreamRecord> records = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < 2; i++) {
          Sender.StreamState s = streams.get(2 * c + i);
          s.closeSegments(s.k);
          offset = s.startOffset;
          List<Silence> silences = new ArrayList<>();
          for (long[] range : s.silences) silences.add(new Silence(range[0], range[1]));
          StreamRecord r =
              new StreamRecord(
                  s.label,
                  s.party,
                  options.codec(),
                  s.patternSeed,
                  s.source,
                  s.firstTarget,
                  Collections.unmodifiableList(s.sent),
                  Collections.unmodifiableList(s.lost),
                  List.copyOf(silences),
                  List.copyOf(s.segments),
                  s.counts());
          records.add(r);
          totals = totals.plus(r.counts());
        }
        calls.add(new CallRecord(callIds.get(c), c, offset, List.copyOf(records), created.get(c)));
      }
      return new Summary(
          startedAt,
          sender.t0,
          sender.endNanos,
          List.copyOf(calls),
          totals,
          sender.pacing(),
          actions,
          List.copyOf(moves),
          sender.cancelled);
    }

    private void release() {
      if (closed) return;
      closed = true;
      following = false;
      scheduler.shutdownNow();
      asyncActions.shutdown();
      for (DatagramChannel ch : channels) {
        try {
          ch.close();
        } catch (IOException e) {
          // nothing to do
        }
      }
    }

    /** Cancels the run if it is still going and releases its sockets and threads. */
    @Override
    public void close() {
      if (summary == null && sender != null) {
        cancel();
        try {
          await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ActionFailedException e) {
          // closing: the caller did not ask for the result
        }
      }
      release();
    }
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
