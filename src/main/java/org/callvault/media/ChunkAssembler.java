package org.callvault.media;

import org.callvault.core.ChunkInfo;
import org.callvault.core.StreamSpec;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkPackets;

/**
 * The chunk of one stream being assembled: its packets in order, each with its extended sequence
 * number and timestamp, about a second at a time, placed on the wall clock by the anchor of their
 * segment (a chunk has one anchor; re-anchoring finishes it first). Chunks are numbered from 0
 * within the stream's sockets. Only the stream's thread uses it; nothing here allocates per packet
 * but the packets' buffer growing.
 */
final class ChunkAssembler {

  private final String callId;
  private final StreamSpec spec;
  private final int chunkSamples;
  private final ChunkPackets.Builder packets;
  private long anchorTs;
  private long anchorWallMicros;
  private long nextN;
  private int count;
  private long firstSeq;
  private long lastSeq;
  private long firstTs;
  private long endTs;
  private Long gatedFromTs;

  ChunkAssembler(String callId, StreamSpec spec, int chunkSamples) {
    this.callId = callId;
    this.spec = spec;
    this.chunkSamples = chunkSamples;
    this.packets = new ChunkPackets.Builder(chunkSamples + 64 * ChunkPackets.OVERHEAD);
  }

  /**
   * The wall clock at extended timestamp {@code extTs} is {@code wallMicros}, for the segment from
   * now on.
   */
  void anchor(long extTs, long wallMicros) {
    anchorTs = extTs;
    anchorWallMicros = wallMicros;
  }

  /**
   * A new segment: its first stored packet anchors it, unless RTCP does first; a gated span of the
   * segment before is not in its clock.
   */
  void unanchor() {
    anchorWallMicros = 0;
    gatedFromTs = null;
  }

  boolean anchored() {
    return anchorWallMicros != 0;
  }

  /**
   * The gate closed: the closed gate dropped packets from {@code extTs} on, and the next chunk (the
   * first after it reopens) says so.
   */
  void gatedFrom(long extTs) {
    gatedFromTs = extTs;
  }

  boolean empty() {
    return count == 0;
  }

  /** Adds a packet in order; true once the chunk holds its second of audio (finish it then). */
  boolean append(long extSeq, long extTs, byte[] buf, int off, int len) {
    if (count == 0) {
      firstSeq = extSeq;
      firstTs = extTs;
    }
    packets.append(extSeq, extTs, buf, off, len);
    count++;
    lastSeq = extSeq;
    // G.711 and G.722 both advance the RTP clock (8 kHz) by one per payload byte.
    endTs = extTs + len;
    return endTs - firstTs >= chunkSamples;
  }

  /**
   * The chunk assembled so far, keyed under {@code epoch}, and the next one begins; null when
   * empty.
   */
  AudioChunk finish(long epoch, int segment, long ssrc) {
    if (count == 0) return null;
    ChunkInfo info =
        new ChunkInfo(
            spec.label(),
            epoch,
            nextN++,
            segment,
            ssrc,
            spec.codec(),
            firstSeq,
            lastSeq,
            firstTs,
            endTs,
            count,
            anchorTs,
            anchorWallMicros,
            wallOf(firstTs),
            wallOf(endTs),
            gatedFromTs);
    count = 0;
    gatedFromTs = null;
    return new AudioChunk(callId, info, packets.build());
  }

  private long wallOf(long extTs) {
    return anchorWallMicros + Math.floorDiv((extTs - anchorTs) * 1_000_000L, 8000);
  }
}
