package org.callvault.sip;

import java.util.Comparator;
import java.util.PriorityQueue;

/** A clock that only moves when a test says so; tasks run in due order on the test's thread. */
final class FakeTimers implements SipTimers {

  private static final class Task {
    final long due;
    final long order;
    final Runnable run;
    boolean cancelled;

    Task(long due, long order, Runnable run) {
      this.due = due;
      this.order = order;
      this.run = run;
    }
  }

  private final PriorityQueue<Task> queue =
      new PriorityQueue<>(
          Comparator.<Task>comparingLong(t -> t.due).thenComparingLong(t -> t.order));
  private long now;
  private long scheduled;

  @Override
  public Cancellable schedule(long delayMillis, Runnable task) {
    if (delayMillis < 0) throw new IllegalArgumentException("negative delay " + delayMillis);
    Task t = new Task(now + delayMillis, scheduled++, task);
    queue.add(t);
    return () -> {
      t.cancelled = true;
      queue.remove(t);
    };
  }

  /**
   * Runs every task due up to {@code time}, each at its own due time, then sets the clock there.
   */
  void advanceTo(long time) {
    while (!queue.isEmpty() && queue.peek().due <= time) {
      Task t = queue.poll();
      now = t.due;
      if (!t.cancelled) t.run.run();
    }
    now = Math.max(now, time);
  }

  void advance(long millis) {
    advanceTo(now + millis);
  }

  long now() {
    return now;
  }

  /** Tasks scheduled and neither run nor cancelled. */
  int pending() {
    return queue.size();
  }
}
