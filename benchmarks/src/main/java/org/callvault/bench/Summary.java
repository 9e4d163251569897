package org.callvault.bench;

import java.time.Instant;
import java.util.List;

/**
 * What a run sent.
 *
 * @param startedAt wall-clock time of the run's start (slot 0 of the first call)
 * @param startNanos {@link System#nanoTime()} of the same moment; action times count from it
 * @param endNanos when the last packet was sent and the last action done
 * @param calls every call, in order
 * @param totals counters summed over every stream
 * @param pacing the sender's punctuality
 * @param actions the scheduled actions as they ran, in order of their due time
 * @param moves endpoint moves followed
 * @param cancelled whether the run was cancelled before its end
 */
public record Summary(
    Instant startedAt,
    long startNanos,
    long endNanos,
    List<CallRecord> calls,
    Counts totals,
    Pacing pacing,
    List<ActionResult> actions,
    List<Move> moves,
    boolean cancelled) {

  public CallRecord call(String callId) {
    for (CallRecord c : calls) if (c.callId().equals(callId)) return c;
    throw new IllegalArgumentException("no call '" + callId + "' in this run");
  }

  /** Seconds from the start of the run to its end. */
  public double elapsedSeconds() {
    return (endNanos - startNanos) / 1e9;
  }

  /** Throws if any scheduled action failed. */
  public Summary requireActionsOk() {
    for (ActionResult a : actions)
      if (!a.ok())
        throw new IllegalStateException(
            "action '" + a.description() + "' at " + a.atSeconds() + " s failed: " + a.error());
    return this;
  }
}
