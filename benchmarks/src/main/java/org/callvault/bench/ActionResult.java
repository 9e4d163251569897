package org.callvault.bench;

/**
 * A scheduled action as it ran.
 *
 * @param description what it was
 * @param atSeconds when it was due on the run's timeline
 * @param blocking whether the sender waited for it (see {@link Action})
 * @param startNanos {@link System#nanoTime()} when it started
 * @param endNanos when it returned or failed
 * @param error null when it succeeded, otherwise what went wrong
 */
public record ActionResult(
    String description,
    double atSeconds,
    boolean blocking,
    long startNanos,
    long endNanos,
    String error) {

  public boolean ok() {
    return error == null;
  }
}
