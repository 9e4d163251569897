package org.callvault.bench;

import java.util.List;

/**
 * Something to do at a known point of the run's timeline, between packets.
 *
 * <p>An action due at {@code atSeconds} (after {@link Summary#startNanos()}) runs once every slot
 * whose nominal time is before it has been handled and before any slot due at or after it. A
 * <em>blocking</em> action runs on the sender thread, which waits for it: the whole timeline is
 * then pushed back by the time it took (no burst to catch up, no slot sent before it finished), so
 * a test knows exactly which packets were sent before and which after. A non-blocking action runs
 * on another thread at that moment while packets keep flowing; its {@link ActionResult} gives its
 * start and end times.
 */
public record Action(double atSeconds, String description, boolean blocking, Hook hook) {

  /** What an action does. */
  @FunctionalInterface
  public interface Hook {
    void run(Context context) throws Exception;
  }

  /** What an action can use. */
  public interface Context {
    /** The API the run talks to. */
    Api api();

    /** Every call id of the run, in order. */
    List<String> callIds();

    /** Seconds since the run's start on the (shifted) timeline the action is due on. */
    double atSeconds();
  }

  public Action {
    if (atSeconds < 0 || Double.isNaN(atSeconds))
      throw new IllegalArgumentException("an action's time must be >= 0, was " + atSeconds);
    if (hook == null) throw new IllegalArgumentException("an action needs a hook");
    if (description == null) description = "action at " + atSeconds + " s";
  }
}
