package org.callvault.bench;

import java.net.InetSocketAddress;
import java.util.BitSet;
import java.util.List;

/**
 * What was sent on one stream.
 *
 * @param label the stream's label ({@code agent}, {@code customer})
 * @param party its party's id
 * @param codec its codec
 * @param patternSeed the seed of its {@link Pattern}: packet {@code k}'s payload is {@code
 *     Pattern.payload(patternSeed, k)}
 * @param source the local address its genuine packets came from (declared as its {@code source})
 * @param rtp the server's RTP endpoint it was first sent to
 * @param sent every genuine packet in the order sent (duplicates and late reordered ones included);
 *     empty when {@link Options#recordPackets(boolean)} is off
 * @param lostIndices slot indices of the packets deliberately not sent; empty when recording is off
 * @param silences the sender pauses of this stream
 * @param segments its SSRC epochs, in order
 * @param counts its counters (always kept, recording on or off)
 */
public record StreamRecord(
    String label,
    String party,
    Codec codec,
    long patternSeed,
    InetSocketAddress source,
    InetSocketAddress rtp,
    List<SentPacket> sent,
    List<Long> lostIndices,
    List<Silence> silences,
    List<Segment> segments,
    Counts counts) {

  /** Malformed packets sent from the real source. */
  public long malformed() {
    return counts.malformed();
  }

  /** Foreign-source packets sent with this stream's SSRC. */
  public long foreign() {
    return counts.foreign();
  }

  /** The payload packet {@code k} of this stream carries (or would have carried). */
  public byte[] expectedPayload(long k) {
    return Pattern.payload(patternSeed, k);
  }

  /** The 160 linear samples packet {@code k} of this stream decodes to. */
  public short[] expectedSamples(long k) {
    return Pattern.samples(codec, patternSeed, k);
  }

  /**
   * The slot indices of the genuine packets sent (each once, duplicates or not); needs the packet
   * record.
   */
  public BitSet sentIndices() {
    BitSet sentSet = new BitSet();
    for (SentPacket p : sent) sentSet.set(Math.toIntExact(p.index()));
    return sentSet;
  }

  /** The segment (SSRC epoch) slot {@code k} belongs to, or null past the end. */
  public Segment segmentOf(long k) {
    for (Segment s : segments) if (s.contains(k)) return s;
    return null;
  }
}
