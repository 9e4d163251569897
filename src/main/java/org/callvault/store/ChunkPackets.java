package org.callvault.store;

import java.nio.ByteBuffer;

/**
 * The bytes of a stored chunk: its RTP packets in order, each with its extended sequence number and
 * timestamp, so an export rebuilds exact timing.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 magic "CVA1"                                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  per packet: extended sequence number (64 bits)               |
 * |               extended RTP timestamp (64 bits)                |
 * |               payload length (16 bits) | payload ...          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class ChunkPackets {

  public static final int MAGIC = 0x43564131; // "CVA1"

  /** Bytes a packet of {@code payloadLength} takes in a chunk. */
  public static final int OVERHEAD = 8 + 8 + 2;

  private ChunkPackets() {}

  /** Receives the packets of a chunk in order. */
  public interface Visitor {
    void packet(long extSeq, long extTs, byte[] data, int offset, int length);
  }

  /**
   * Calls {@code visitor} for every packet; a chunk that is cut short or not a chunk is refused
   * whole.
   */
  public static int read(byte[] chunk, Visitor visitor) {
    ByteBuffer buf = ByteBuffer.wrap(chunk);
    if (buf.remaining() < 4 || buf.getInt() != MAGIC)
      throw new IllegalArgumentException("not an audio chunk (bad magic)");
    int packets = 0;
    while (buf.hasRemaining()) {
      if (buf.remaining() < OVERHEAD)
        throw new IllegalArgumentException("audio chunk cut short after " + packets + " packets");
      long seq = buf.getLong();
      long ts = buf.getLong();
      int length = Short.toUnsignedInt(buf.getShort());
      if (buf.remaining() < length)
        throw new IllegalArgumentException("audio chunk cut short in packet " + packets);
      visitor.packet(seq, ts, chunk, buf.position(), length);
      buf.position(buf.position() + length);
      packets++;
    }
    return packets;
  }

  /** Writes a chunk's bytes: the magic, then {@link #append} for each packet. */
  public static final class Builder {
    private ByteBuffer buf;

    public Builder(int initialCapacity) {
      buf = ByteBuffer.allocate(Math.max(initialCapacity, 64));
      buf.putInt(MAGIC);
    }

    public Builder append(long extSeq, long extTs, byte[] data, int offset, int length) {
      if (buf.remaining() < OVERHEAD + length) {
        ByteBuffer bigger =
            ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + OVERHEAD + length));
        buf.flip();
        bigger.put(buf);
        buf = bigger;
      }
      buf.putLong(extSeq).putLong(extTs).putShort((short) length).put(data, offset, length);
      return this;
    }

    public int size() {
      return buf.position();
    }

    /** The chunk's bytes; the builder starts over empty. */
    public byte[] build() {
      byte[] out = new byte[buf.position()];
      buf.flip();
      buf.get(out);
      buf.clear();
      buf.putInt(MAGIC);
      return out;
    }
  }
}
