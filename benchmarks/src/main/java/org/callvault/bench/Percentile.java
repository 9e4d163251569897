package org.callvault.bench;

/** The nearest-rank percentile the benchmarks report. */
final class Percentile {

  private Percentile() {}

  /** The value at rank ⌈q·n⌉ of {@code sorted} (ascending), q in (0, 1]; NaN when it is empty. */
  static double of(double[] sorted, double q) {
    if (sorted.length == 0) return Double.NaN;
    return sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1))];
  }
}
