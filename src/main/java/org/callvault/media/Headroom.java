package org.callvault.media;

import com.typesafe.config.Config;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * Whether this node has room for another call, from what it measures of itself. A machine past its
 * capacity shows it first in its media event loops: a task due now runs late, and meanwhile packets
 * wait in the kernel until its socket buffers overflow. So new calls are refused while:
 *
 * <ul>
 *   <li>a media event loop ran a task more than {@code max-event-loop-lag} late within the last
 *       second;
 *   <li>the machine's CPUs (this node and whatever runs beside it: Cassandra, other nodes) were
 *       busier than {@code max-cpu} over the last five seconds;
 *   <li>the spool is fuller than {@code max-spool-full} of its size (a new call's audio could only
 *       be spooled, and the spool would fill sooner for the calls already recording).
 * </ul>
 *
 * Calls already recording are never refused: this only keeps the load from growing past what the
 * node can keep. The fixed ceiling is {@code max-calls}.
 */
final class Headroom {

  /** {@code callvault.media.admission}; a limit of 0 (lag) or 1.0 (fractions) turns a check off. */
  record Settings(Duration maxEventLoopLag, double maxCpu, double maxSpoolFull) {

    static Settings from(Config admission) {
      return new Settings(
          admission.getDuration("max-event-loop-lag"),
          admission.getDouble("max-cpu"),
          admission.getDouble("max-spool-full"));
    }
  }

  private static final long LAG_WINDOW_NANOS = Duration.ofSeconds(1).toNanos();
  private static final long CPU_WINDOW_NANOS = Duration.ofSeconds(5).toNanos();
  private static final int SAMPLES = 128;

  private final Settings settings;
  private final LongSupplier nanoTime;
  private final long[] lagAt = new long[SAMPLES];
  private final long[] lag = new long[SAMPLES];
  private int lagNext;
  private final long[] cpuAt = new long[SAMPLES];
  private final double[] cpu = new double[SAMPLES];
  private int cpuNext;
  private double spoolFull;
  private final AtomicLong refused = new AtomicLong();

  Headroom(Settings settings, LongSupplier nanoTime) {
    this.settings = settings;
    this.nanoTime = nanoTime;
  }

  /** How often each media event loop is asked to run a task, to measure how late it runs. */
  private static final long PROBE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /**
   * Measures from now on: a task due every 100 ms on each of {@code loops}, and each second the
   * machine's CPU and {@code spoolFullness}. The tasks end with the loops.
   */
  void measure(EventExecutorGroup loops, DoubleSupplier spoolFullness) {
    for (EventExecutor loop : loops) probe(loop);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    loops
        .next()
        .scheduleAtFixedRate(
            () -> {
              cpuLoad(os.getCpuLoad());
              spoolFull(spoolFullness.getAsDouble());
            },
            1,
            1,
            TimeUnit.SECONDS);
  }

  private void probe(EventExecutor loop) {
    long due = nanoTime.getAsLong() + PROBE_NANOS;
    try {
      loop.schedule(
          () -> {
            eventLoopLag(nanoTime.getAsLong() - due);
            probe(loop);
          },
          PROBE_NANOS,
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // the loop is shutting down with the server: nothing left to measure
    }
  }

  /** A media event loop ran a task {@code lateNanos} after it was due. */
  synchronized void eventLoopLag(long lateNanos) {
    lagAt[lagNext] = nanoTime.getAsLong();
    lag[lagNext] = Math.max(1, lateNanos);
    lagNext = (lagNext + 1) % SAMPLES;
  }

  /** The machine's CPUs were this busy (0–1, all cores) since the last sample. */
  synchronized void cpuLoad(double busy) {
    if (busy < 0 || Double.isNaN(busy)) return; // not known yet on this platform
    cpuAt[cpuNext] = nanoTime.getAsLong();
    cpu[cpuNext] = busy;
    cpuNext = (cpuNext + 1) % SAMPLES;
  }

  /** The spool holds this fraction (0–1) of its size. */
  synchronized void spoolFull(double fraction) {
    spoolFull = fraction;
  }

  /** The worst event-loop lag of the last second, in nanoseconds. */
  synchronized long lagNanos() {
    long now = nanoTime.getAsLong();
    long worst = 0;
    for (int i = 0; i < SAMPLES; i++)
      if (lag[i] > 0 && now - lagAt[i] <= LAG_WINDOW_NANOS) worst = Math.max(worst, lag[i]);
    return worst;
  }

  /** The machine's mean CPU over the last five seconds (0–1); 0 before the first sample. */
  synchronized double cpu() {
    long now = nanoTime.getAsLong();
    double sum = 0;
    int n = 0;
    for (int i = 0; i < SAMPLES; i++)
      if (cpuAt[i] != 0 && now - cpuAt[i] <= CPU_WINDOW_NANOS) {
        sum += cpu[i];
        n++;
      }
    return n == 0 ? 0 : sum / n;
  }

  /** New calls refused so far because the node had no headroom. */
  long refused() {
    return refused.get();
  }

  /** Why a new call is refused now, in words an operator can act on; null when it is taken. */
  String refusal() {
    String why = reason();
    if (why != null) refused.incrementAndGet();
    return why;
  }

  private synchronized String reason() {
    long maxLag = settings.maxEventLoopLag().toNanos();
    long lagNanos = lagNanos();
    if (maxLag > 0 && lagNanos > maxLag)
      return String.format(
          Locale.ROOT,
          "its media event loops ran %d ms late in the last second, over"
              + " callvault.media.admission.max-event-loop-lag (%d ms)",
          lagNanos / 1_000_000,
          maxLag / 1_000_000);
    double busy = cpu();
    if (settings.maxCpu() < 1.0 && busy > settings.maxCpu())
      return String.format(
          Locale.ROOT,
          "the machine's CPUs were %.0f %% busy over the last 5 s, over"
              + " callvault.media.admission.max-cpu (%.0f %%)",
          100 * busy,
          100 * settings.maxCpu());
    if (settings.maxSpoolFull() < 1.0 && spoolFull > settings.maxSpoolFull())
      return String.format(
          Locale.ROOT,
          "its spool is %.0f %% full, over callvault.media.admission.max-spool-full (%.0f %%)",
          100 * spoolFull,
          100 * settings.maxSpoolFull());
    return null;
  }
}
