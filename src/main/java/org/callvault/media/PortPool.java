package org.callvault.media;

import java.util.BitSet;
import java.util.List;

/**
 * The node's RTP ports: even ports for RTP, the odd one above each for RTCP (RFC 3550 §11). Ports
 * are handed out round-robin, so a port just released is the last to be reused and a late packet of
 * a finished call does not land in a new one.
 */
final class PortPool {

  private final int min;
  private final int pairs;
  private final BitSet inUse;
  private final BitSet unusable;
  private int next;

  PortPool(int min, int max) {
    if (min < 1024 || max > 65535 || max <= min)
      throw new IllegalArgumentException(
          "RTP port range must lie within 1024-65535, was " + min + "-" + max);
    this.min = min % 2 == 0 ? min : min + 1;
    this.pairs = (max - this.min + 1) / 2;
    if (pairs < 1)
      throw new IllegalArgumentException(
          "RTP port range " + min + "-" + max + " holds no even/odd pair");
    this.inUse = new BitSet(pairs);
    this.unusable = new BitSet(pairs);
  }

  /** An even port whose pair is free, or -1 when none is. */
  synchronized int acquire() {
    for (int i = 0; i < pairs; i++) {
      int pair = (next + i) % pairs;
      if (!inUse.get(pair) && !unusable.get(pair)) {
        inUse.set(pair);
        next = (pair + 1) % pairs;
        return min + 2 * pair;
      }
    }
    return -1;
  }

  synchronized void release(int port) {
    inUse.clear((port - min) / 2);
  }

  /** The port could not be bound (another program holds it): never hand it out again. */
  synchronized void markUnusable(int port) {
    int pair = (port - min) / 2;
    unusable.set(pair);
    inUse.clear(pair);
  }

  synchronized List<Integer> inUse() {
    return inUse.stream().mapToObj(pair -> min + 2 * pair).toList();
  }
}
