package org.callvault.media;

/**
 * How many datagrams a stream takes per second: a token bucket refilled at that rate, so the excess
 * of a flood is refused before it is parsed. A stream carries 50 packets a second (20 ms ptime),
 * 100 at 10 ms. Only the stream's thread uses it.
 */
final class FloodLimit {

  private final int perSecond;
  private double tokens;
  private long tokensAtNanos;

  FloodLimit(int perSecond, long nowNanos) {
    this.perSecond = perSecond;
    this.tokens = perSecond;
    this.tokensAtNanos = nowNanos;
  }

  /** Whether a datagram arriving at {@code nowNanos} is within the limit (and takes its token). */
  boolean allows(long nowNanos) {
    long elapsed = nowNanos - tokensAtNanos;
    if (elapsed > 0) {
      tokens = Math.min(perSecond, tokens + elapsed * 1e-9 * perSecond);
      tokensAtNanos = nowNanos;
    }
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
}
