package org.callvault.bench;

/**
 * Lateness in 10 µs buckets up to 1 s, then 10 ms buckets up to 100 s, with an exact maximum.
 * Single writer.
 */
final class LatenessHistogram {

  private static final long FINE = 10_000;
  private static final int FINE_BUCKETS = 100_000;
  private static final long COARSE = 10_000_000;
  private static final int COARSE_BUCKETS = 9_900;
  private final long[] buckets = new long[FINE_BUCKETS + COARSE_BUCKETS];
  private long count;
  private long max;

  void record(long nanos) {
    int i =
        nanos < FINE * FINE_BUCKETS
            ? (int) (nanos / FINE)
            : FINE_BUCKETS
                + (int) Math.min((nanos - FINE * FINE_BUCKETS) / COARSE, COARSE_BUCKETS - 1);
    buckets[i]++;
    count++;
    if (nanos > max) max = nanos;
  }

  long count() {
    return count;
  }

  long max() {
    return max;
  }

  /** The upper edge of the bucket holding quantile {@code q}, capped at the maximum seen. */
  long quantile(double q) {
    if (count == 0) return 0;
    long rank = Math.max(1, (long) Math.ceil(q * count));
    long seen = 0;
    for (int i = 0; i < buckets.length; i++) {
      seen += buckets[i];
      if (seen >= rank) return Math.min(upperEdge(i), max);
    }
    return max;
  }

  private static long upperEdge(int i) {
    return i < FINE_BUCKETS
        ? (i + 1) * FINE
        : FINE * FINE_BUCKETS + (i - FINE_BUCKETS + 1) * COARSE;
  }
}
