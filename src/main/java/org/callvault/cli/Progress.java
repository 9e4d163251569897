package org.callvault.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A download's progress on one line of a terminal, redrawn in place: a bar, the percentage, and the
 * megabytes so far of the Content-Length. Redrawn at most every 100 ms, so that a fast download
 * does not spend its time drawing.
 */
final class Progress {

  private static final int WIDTH = 30;
  private static final long EVERY_NANOS = 100_000_000L;

  private final PrintWriter err;
  private long total = -1;
  private long drawnAt;
  private boolean drawn;

  Progress(PrintWriter err) {
    this.err = err;
  }

  /** The whole length, -1 when unknown (then nothing is drawn). */
  void total(long total) {
    this.total = total;
  }

  void at(long bytes) {
    if (total <= 0) return;
    long now = System.nanoTime();
    if (drawn && now - drawnAt < EVERY_NANOS && bytes < total) return;
    drawnAt = now;
    drawn = true;
    err.print("\r" + line(bytes, total));
    err.flush();
  }

  /** Ends the line, once something was drawn. */
  void done() {
    if (drawn) err.println();
  }

  /** {@code [#######.......] 50% 5.0 of 10.0 MB}, as drawn for {@code bytes} of {@code total}. */
  static String line(long bytes, long total) {
    int filled = (int) (WIDTH * bytes / total);
    return String.format(
        Locale.ROOT,
        "[%s%s] %3d%%  %.1f of %.1f MB",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        100 * bytes / total,
        bytes / 1e6,
        total / 1e6);
  }
}
