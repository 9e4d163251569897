package org.callvault.bench;

/**
 * How punctually the sender thread met the slots' deadlines. Lateness is how long after its
 * deadline a slot was handled (0 when on time); resolution 10 µs up to 1 s.
 *
 * @param slots slots handled
 * @param p50Nanos median lateness
 * @param p99Nanos 99th percentile
 * @param p999Nanos 99.9th percentile
 * @param maxNanos worst
 * @param lateOver1ms slots more than 1 ms late
 * @param lateOver20ms slots more than a whole packet (20 ms) late: the sender fell behind and
 *     caught up
 * @param timelineShiftNanos how far blocking actions pushed the timeline back (time they took)
 * @param slotsPerSecond slots handled per second of sending
 * @param senderCpuNanos CPU time the sender thread used (user + system) sending, blocking actions
 *     left out; -1 if the JVM cannot tell
 * @param datagrams datagrams it sent (genuine, duplicates, malformed, foreign)
 */
public record Pacing(
    long slots,
    long p50Nanos,
    long p99Nanos,
    long p999Nanos,
    long maxNanos,
    long lateOver1ms,
    long lateOver20ms,
    long timelineShiftNanos,
    double slotsPerSecond,
    long senderCpuNanos,
    long datagrams) {

  /** Sender CPU time per datagram sent, in nanoseconds; -1 when unknown. */
  public double cpuNanosPerDatagram() {
    return senderCpuNanos < 0 || datagrams == 0 ? -1 : (double) senderCpuNanos / datagrams;
  }
}
