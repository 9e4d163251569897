package org.callvault.bench;

/**
 * The slots {@code [firstIndex, endIndex)} of a stream sent under one SSRC. Within it, slot {@code
 * k}'s RTP timestamp is {@code firstTimestamp + 160 * (k - firstIndex)} (mod 2^32), sent or not;
 * sequence numbers start at {@code firstSeq} and go up by one per genuine packet sent or
 * deliberately lost (not per sender-paused slot, as with silence suppression).
 */
public record Segment(
    long ssrc, long firstIndex, long endIndex, int firstSeq, long firstTimestamp) {

  public boolean contains(long k) {
    return k >= firstIndex && k < endIndex;
  }

  /** The RTP timestamp of slot {@code k} of this segment. */
  public long timestampOf(long k) {
    return (firstTimestamp + 160L * (k - firstIndex)) & 0xFFFFFFFFL;
  }
}
