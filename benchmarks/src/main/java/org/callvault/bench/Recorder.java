package org.callvault.bench;

import java.util.List;

/**
 * A recorder under the capacity benchmark: something that takes calls set up through its control
 * interface, receives their RTP and keeps it. {@link Capacity} drives CallVault ({@link
 * CallVaultRecorder}) and rtpengine ({@link RtpengineRecorder}) through this, with the same sender
 * and ramp.
 */
interface Recorder extends AutoCloseable {

  /** Calls set up: their ids, and the sender's plan ("source port, destination port" per line). */
  record Setup(
      List<String> callIds, String plan, double seconds, double p50Ms, double p99Ms, int refusals) {

    static Setup of(
        List<String> ids, String plan, long beganNanos, double[] latencies, int refused) {
      double seconds = (System.nanoTime() - beganNanos) / 1e9;
      double[] sorted = latencies.clone();
      java.util.Arrays.sort(sorted);
      return new Setup(
          ids, plan, seconds, Percentile.of(sorted, 0.5), Percentile.of(sorted, 0.99), refused);
    }
  }

  /**
   * What the recorder kept of a step: packets received (NaN-free: 0 when it cannot tell), stored.
   */
  record Counted(long received, long stored, long lost) {}

  String name();

  /** The recorder's process, whose CPU is measured. */
  long pid();

  /** The database it stores to, when it has one of its own on this machine (0 when none). */
  long storePid();

  /** The writes that database has taken so far; -1 when there is none. */
  long storeWrites();

  /** Its heap in MB, NaN when it has none to report. */
  double heapMb();

  /**
   * Sets up {@code calls} two-stream calls whose streams send from 127.0.0.1:{@code firstSource},
   * {@code firstSource + 1}, … in order (the caller's stream first).
   */
  Setup create(String prefix, int calls, int firstSource) throws Exception;

  /** Ends the calls. */
  void stop(List<String> callIds) throws Exception;

  /** What was stored of the calls, once it has stopped changing. */
  Counted settle(List<String> callIds) throws Exception;

  /**
   * How long audio took to become durable, from a sample of the calls: for each chunk, from the
   * arrival of its first packet to its listing in the call's ledger (after storage acknowledged
   * it), as {p50, p99, max} in milliseconds; null when the recorder cannot tell.
   */
  default double[] durability(List<String> callIds) throws Exception {
    return null;
  }

  /** Stops whatever it started. */
  @Override
  void close();
}
