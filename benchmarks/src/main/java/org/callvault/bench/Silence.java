package org.callvault.bench;

/**
 * Slots {@code [firstIndex, endIndex)} of a stream during which the sender was paused: no packet,
 * no sequence number used.
 */
public record Silence(long firstIndex, long endIndex) {

  public long slots() {
    return endIndex - firstIndex;
  }

  public boolean contains(long k) {
    return k >= firstIndex && k < endIndex;
  }
}
