package org.callvault.bench;

/**
 * A progress report while sending.
 *
 * @param elapsedSeconds since the run's start
 * @param callsActive calls that started sending and have not finished
 * @param callsDone calls that finished sending
 * @param datagrams genuine packets sent so far (all streams)
 * @param maxLatenessNanos worst slot lateness in the last reporting interval
 * @param lateOver1ms slots more than 1 ms late so far
 * @param lateOver20ms slots more than 20 ms late so far
 */
public record Progress(
    double elapsedSeconds,
    int callsActive,
    int callsDone,
    long datagrams,
    long maxLatenessNanos,
    long lateOver1ms,
    long lateOver20ms) {}
