package org.callvault.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * The one sender thread: every stream's slots in deadline order from a min-heap, parked towards
 * absolute deadlines, catching up slot by slot (never earlier than due) when behind.
 */
final class Sender implements Runnable {

  static final long PERIOD = 20_000_000L;
  static final int SAMPLES_PER_PACKET = 160;

  /** One stream's sending state; touched by the sender thread only, except {@link #target}. */
  static final class StreamState {
    final int callIndex;
    final int streamIndex;
    final String label;
    final String party;
    final DatagramChannel channel;
    final InetSocketAddress source;
    final InetSocketAddress firstTarget;
    volatile InetSocketAddress target;
    final long patternSeed;
    final long startOffset;
    final long slots;
    final long[] changeSlots;
    final long[][] silences;
    final Random impair;
    final Random ids;
    final Random junk;

    final byte[] packet = new byte[Rtp.MAX_PACKET];
    final ByteBuffer packetBuf = ByteBuffer.wrap(packet);
    byte[] held;
    ByteBuffer heldBuf;
    boolean holding;
    long heldK;
    int heldSeq;
    long heldTs;
    boolean heldMarker;
    long heldSsrc;

    long due;
    long k;
    long ssrc;
    int seq;
    long tsBase;
    long segFirst;
    int segFirstSeq;
    boolean marker = true;
    int nextChange;

    final List<SentPacket> sent;
    final List<Long> lost;
    final List<Segment> segments = new ArrayList<>();

    long slotsDone,
        unique,
        duplicates,
        reordered,
        lostCount,
        silenced,
        malformed,
        foreign,
        ssrcChanges,
        sendErrors;

    StreamState(
        int callIndex,
        int streamIndex,
        String label,
        String party,
        DatagramChannel channel,
        InetSocketAddress source,
        InetSocketAddress target,
        long runSeed,
        long startOffset,
        long slots,
        long[] changeSlots,
        long[][] silences,
        boolean record) {
      this.callIndex = callIndex;
      this.streamIndex = streamIndex;
      this.label = label;
      this.party = party;
      this.channel = channel;
      this.source = source;
      this.firstTarget = target;
      this.target = target;
      this.patternSeed = Pattern.streamSeed(runSeed, callIndex, streamIndex);
      this.startOffset = startOffset;
      this.slots = slots;
      this.changeSlots = changeSlots;
      this.silences = silences;
      this.impair = new Random(Pattern.mix64(patternSeed ^ 0x1111_2222_3333_4444L));
      this.ids = new Random(Pattern.mix64(patternSeed ^ 0x5555_6666_7777_8888L));
      this.junk = new Random(Pattern.mix64(patternSeed ^ 0x9999_AAAA_BBBB_CCCCL));
      this.sent = record ? new ArrayList<>() : List.of();
      this.lost = record ? new ArrayList<>() : List.of();
      this.due = startOffset;
      newEpoch(0, 0);
    }

    void newEpoch(long firstSlot, long oldSsrc) {
      if (firstSlot > 0) segments.add(new Segment(ssrc, segFirst, firstSlot, segFirstSeq, tsBase));
      long next;
      do next = ids.nextInt() & 0xFFFFFFFFL;
      while (next == oldSsrc && firstSlot > 0);
      ssrc = next;
      seq = ids.nextInt(65536);
      segFirstSeq = seq;
      tsBase = ids.nextInt() & 0xFFFFFFFFL;
      segFirst = firstSlot;
      marker = true;
    }

    boolean finished;

    /**
     * Ends the last segment at {@code end} (the stream's slots, or where a cancelled run stopped).
     */
    void closeSegments(long end) {
      if (finished) return;
      finished = true;
      segments.add(new Segment(ssrc, segFirst, end, segFirstSeq, tsBase));
    }

    boolean silent(long slot) {
      for (long[] s : silences) if (slot >= s[0] && slot < s[1]) return true;
      return false;
    }

    long timestamp(long slot) {
      return (tsBase + (long) SAMPLES_PER_PACKET * (slot - segFirst)) & 0xFFFFFFFFL;
    }

    Counts counts() {
      return new Counts(
          slotsDone,
          unique + duplicates,
          unique,
          duplicates,
          reordered,
          lostCount,
          silenced,
          malformed,
          foreign,
          ssrcChanges,
          sendErrors);
    }
  }

  private final StreamState[] streams;
  private final int[] heap;
  private int heapSize;
  private final int[] streamsLeft;
  private final Action[] actions;
  private final ActionResult[] actionResults;
  private final List<Future<?>> asyncActions = new ArrayList<>();
  private int nextAction;
  private final Action.Context[] contexts;
  private final ExecutorService asyncExecutor;
  private final IntConsumer onCallDone;

  private final DatagramChannel foreignChannel;
  private final ByteBuffer scratchBuf = ByteBuffer.allocate(Rtp.MAX_PACKET);
  private final byte[] scratch = scratchBuf.array();
  private final int payloadType;
  private final double loss, reorder, duplicate, malformedP, foreignP;
  private final Malformation[] kinds;
  private final boolean record;
  private final long earlyTolerance;

  final long t0;
  private final long wallBaseMicros;
  private final long nanoBase;
  private long shift;
  private final LatenessHistogram histogram = new LatenessHistogram();
  private long late1, late20;
  private long datagrams;
  private int callsStarted, callsDone;
  private long ops;
  volatile long endNanos;
  private volatile long cpuNanos = -1;
  private long actionCpuNanos;
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  volatile boolean cancelled;
  volatile Thread thread;

  volatile long pubDatagrams, pubLate1, pubLate20;
  volatile int pubCallsStarted, pubCallsDone;
  private final AtomicLongArray maxLatePerSecond;
  IOException lastSendError;

  Sender(
      Options o,
      List<StreamState> streamList,
      int calls,
      DatagramChannel foreignChannel,
      long t0,
      ExecutorService asyncExecutor,
      List<Action> sortedActions,
      Function<Action, Action.Context> contextFor,
      IntConsumer onCallDone) {
    this.streams = streamList.toArray(new StreamState[0]);
    this.heap = new int[streams.length];
    this.streamsLeft = new int[calls];
    for (StreamState s : streams) streamsLeft[s.callIndex]++;
    for (int i = 0; i < streams.length; i++) {
      heap[heapSize++] = i;
      siftUp(heapSize - 1);
    }
    this.actions = sortedActions.toArray(new Action[0]);
    this.actionResults = new ActionResult[actions.length];
    this.contexts = new Action.Context[actions.length];
    for (int i = 0; i < actions.length; i++) contexts[i] = contextFor.apply(actions[i]);
    this.asyncExecutor = asyncExecutor;
    this.onCallDone = onCallDone;
    this.foreignChannel = foreignChannel;
    this.payloadType = o.codec().payloadType();
    this.loss = o.loss();
    this.reorder = o.reorder();
    this.duplicate = o.duplicate();
    this.malformedP = o.malformed();
    this.foreignP = o.foreign();
    this.kinds = o.malformations().toArray(new Malformation[0]);
    this.record = o.recordPackets();
    this.earlyTolerance = o.earlyTolerance().toNanos();
    this.t0 = t0;
    Instant now = Instant.now();
    this.nanoBase = System.nanoTime();
    this.wallBaseMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    long lastSlotDue = 0;
    for (StreamState s : streams)
      lastSlotDue = Math.max(lastSlotDue, s.startOffset + s.slots * PERIOD);
    double lastAction = actions.length == 0 ? 0 : actions[actions.length - 1].atSeconds();
    this.maxLatePerSecond =
        new AtomicLongArray((int) Math.max(lastSlotDue / 1_000_000_000L, (long) lastAction) + 3600);
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    long cpu0 = cpuTime();
    try {
      loop();
    } finally {
      endNanos = System.nanoTime();
      cpuNanos = cpu0 < 0 ? -1 : cpuTime() - cpu0 - actionCpuNanos;
      publish();
    }
  }

  void cancel() {
    cancelled = true;
    Thread t = thread;
    if (t != null) LockSupport.unpark(t);
  }

  private void loop() {
    while (!cancelled) {
      long topDue = heapSize > 0 ? t0 + shift + streams[heap[0]].due : Long.MAX_VALUE;
      long actionDue =
          nextAction < actions.length
              ? t0 + shift + Math.round(actions[nextAction].atSeconds() * 1e9)
              : Long.MAX_VALUE;
      if (topDue == Long.MAX_VALUE && actionDue == Long.MAX_VALUE) return;
      boolean actionFirst = actionDue <= topDue;
      long now = System.nanoTime();
      long wait = (actionFirst ? actionDue : topDue) - now;
      if (wait > (actionFirst ? 0 : earlyTolerance)) {
        publish();
        LockSupport.parkNanos(wait);
        continue;
      }
      if (actionFirst) {
        runAction(nextAction++);
        continue;
      }
      StreamState s = streams[heap[0]];
      long late = Math.max(0, now - topDue);
      histogram.record(late);
      if (late > 1_000_000) {
        late1++;
        if (late > PERIOD) late20++;
      }
      int second =
          (int) Math.min(Math.max(0, (now - t0) / 1_000_000_000L), maxLatePerSecond.length() - 1);
      if (late > maxLatePerSecond.get(second)) maxLatePerSecond.lazySet(second, late);
      if (s.k == 0 && s.streamIndex == 0) callsStarted++;
      slot(s);
      s.k++;
      s.due += PERIOD;
      if (s.k >= s.slots) {
        finish(s);
        heap[0] = heap[--heapSize];
        if (heapSize > 0) siftDown(0);
      } else {
        siftDown(0);
      }
      if ((++ops & 1023) == 0) publish();
    }
  }

  private void runAction(int i) {
    Action a = actions[i];
    if (!a.blocking()) {
      asyncActions.add(
          asyncExecutor.submit(
              () -> {
                long start = System.nanoTime();
                String error = attempt(a, contexts[i]);
                actionResults[i] =
                    new ActionResult(
                        a.description(), a.atSeconds(), false, start, System.nanoTime(), error);
              }));
      return;
    }
    publish();
    long cpu = cpuTime();
    long start = System.nanoTime();
    String error = attempt(a, contexts[i]);
    long end = System.nanoTime();
    if (cpu >= 0) actionCpuNanos += cpuTime() - cpu;
    actionResults[i] = new ActionResult(a.description(), a.atSeconds(), true, start, end, error);
    shift += end - start;
  }

  private static String attempt(Action a, Action.Context context) {
    try {
      a.hook().run(context);
      return null;
    } catch (Throwable t) {
      if (t instanceof InterruptedException) Thread.currentThread().interrupt();
      return t.toString();
    }
  }

  private void slot(StreamState s) {
    long k = s.k;
    s.slotsDone++;
    if (s.nextChange < s.changeSlots.length && s.changeSlots[s.nextChange] == k) {
      s.nextChange++;
      flushHeld(s, false);
      s.newEpoch(k, s.ssrc);
      s.ssrcChanges++;
    }
    if (s.silent(k)) {
      s.silenced++;
      s.marker = true;
      flushHeld(s, false);
      return;
    }
    // Always the same draws per slot, so that each impairment's pattern depends on the seed alone.
    Random r = s.impair;
    double rForeign = r.nextDouble();
    double rMalformed = r.nextDouble();
    double rLoss = r.nextDouble();
    double rReorder = r.nextDouble();
    double rDuplicate = r.nextDouble();
    int kind = r.nextInt(kinds.length);

    int seq = s.seq;
    s.seq = (seq + 1) & 0xFFFF;
    long ts = s.timestamp(k);
    boolean marker = s.marker;
    s.marker = false;

    if (rForeign < foreignP) {
      int len = Rtp.poisoned(scratch, payloadType, seq, ts, s.ssrc);
      if (send(foreignChannel, scratchBuf, len, s)) s.foreign++;
    }
    if (rMalformed < malformedP) {
      int len = Rtp.malformed(kinds[kind], s.junk, scratch, payloadType, seq, ts, s.ssrc);
      if (send(s.channel, scratchBuf, len, s)) s.malformed++;
    }
    if (rLoss < loss) {
      s.lostCount++;
      if (record) s.lost.add(k);
      return;
    }
    Rtp.header(s.packet, marker, payloadType, seq, ts, s.ssrc);
    Pattern.fill(s.patternSeed, k, s.packet, Rtp.HEADER);
    if (rReorder < reorder && !s.holding) {
      if (s.held == null) {
        s.held = new byte[Rtp.PACKET];
        s.heldBuf = ByteBuffer.wrap(s.held);
      }
      System.arraycopy(s.packet, 0, s.held, 0, Rtp.PACKET);
      s.holding = true;
      s.heldK = k;
      s.heldSeq = seq;
      s.heldTs = ts;
      s.heldMarker = marker;
      s.heldSsrc = s.ssrc;
      return;
    }
    long sendNanos = record ? System.nanoTime() : 0;
    if (send(s.channel, s.packetBuf, Rtp.PACKET, s)) {
      s.unique++;
      if (record)
        s.sent.add(
            new SentPacket(
                k, s.ssrc, seq, ts, marker, sendNanos, wallMicros(sendNanos), false, false));
    }
    if (rDuplicate < duplicate) {
      sendNanos = record ? System.nanoTime() : 0;
      if (send(s.channel, s.packetBuf, Rtp.PACKET, s)) {
        s.duplicates++;
        if (record)
          s.sent.add(
              new SentPacket(
                  k, s.ssrc, seq, ts, marker, sendNanos, wallMicros(sendNanos), true, false));
      }
    }
    flushHeld(s, true);
  }

  /**
   * Sends the held-back packet: after the next genuine packet sent ({@code overtaken}), or, when a
   * sender pause, SSRC change or the stream's end comes first, late but in order.
   */
  private void flushHeld(StreamState s, boolean overtaken) {
    if (!s.holding) return;
    s.holding = false;
    long sendNanos = record ? System.nanoTime() : 0;
    if (send(s.channel, s.heldBuf, Rtp.PACKET, s)) {
      s.unique++;
      if (overtaken) s.reordered++;
      if (record)
        s.sent.add(
            new SentPacket(
                s.heldK,
                s.heldSsrc,
                s.heldSeq,
                s.heldTs,
                s.heldMarker,
                sendNanos,
                wallMicros(sendNanos),
                false,
                overtaken));
    }
  }

  private void finish(StreamState s) {
    flushHeld(s, false);
    s.closeSegments(s.slots);
    if (--streamsLeft[s.callIndex] == 0) {
      callsDone++;
      onCallDone.accept(s.callIndex);
    }
  }

  private boolean send(DatagramChannel channel, ByteBuffer buf, int len, StreamState s) {
    buf.clear();
    buf.limit(len);
    try {
      channel.send(buf, s.target);
      datagrams++;
      return true;
    } catch (IOException e) {
      s.sendErrors++;
      lastSendError = e;
      return false;
    }
  }

  /** This thread's CPU time, or -1 when the JVM cannot tell. */
  private long cpuTime() {
    return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : -1;
  }

  long wallMicros(long nanos) {
    return wallBaseMicros + Math.floorDiv(nanos - nanoBase, 1000);
  }

  private void publish() {
    pubDatagrams = datagrams;
    pubLate1 = late1;
    pubLate20 = late20;
    pubCallsStarted = callsStarted;
    pubCallsDone = callsDone;
  }

  Progress progress(long intervalNanos) {
    long now = System.nanoTime();
    int to =
        (int) Math.min(Math.max(0, (now - t0) / 1_000_000_000L), maxLatePerSecond.length() - 1);
    int from = (int) Math.max(0, to - Math.max(1, intervalNanos / 1_000_000_000L));
    long max = 0;
    for (int i = from; i <= to; i++) max = Math.max(max, maxLatePerSecond.get(i));
    int done = pubCallsDone;
    return new Progress(
        (now - t0) / 1e9, pubCallsStarted - done, done, pubDatagrams, max, pubLate1, pubLate20);
  }

  // After the thread ended:

  Pacing pacing() {
    long sending = Math.max(1, endNanos - t0);
    return new Pacing(
        histogram.count(),
        histogram.quantile(0.5),
        histogram.quantile(0.99),
        histogram.quantile(0.999),
        histogram.max(),
        late1,
        late20,
        shift,
        histogram.count() / (sending / 1e9),
        cpuNanos,
        datagrams);
  }

  List<ActionResult> actionResults() {
    for (Future<?> f : asyncActions) {
      try {
        f.get();
      } catch (Exception e) {
        // its result says what went wrong
      }
    }
    List<ActionResult> results = new ArrayList<>();
    for (int i = 0; i < actions.length; i++) {
      if (actionResults[i] != null) results.add(actionResults[i]);
      else
        results.add(
            new ActionResult(
                actions[i].description(),
                actions[i].atSeconds(),
                actions[i].blocking(),
                0,
                0,
                "not run: the run was cancelled"));
    }
    return results;
  }

  // The heap orders streams by due time, then by index, so that ties go in a fixed order.

  private boolean less(int a, int b) {
    long da = streams[a].due, db = streams[b].due;
    return da < db || (da == db && a < b);
  }

  private void siftUp(int i) {
    int x = heap[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!less(x, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = x;
  }

  private void siftDown(int i) {
    int x = heap[i];
    int half = heapSize >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < heapSize && less(heap[right], heap[child])) child = right;
      if (!less(heap[child], x)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = x;
  }
}
