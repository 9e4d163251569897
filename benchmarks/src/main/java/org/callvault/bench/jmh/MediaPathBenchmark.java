package org.callvault.bench.jmh;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.callvault.export.pcm.G711;
import org.callvault.media.rtp.RtpPacket;
import org.callvault.media.rtp.RtpProblem;
import org.callvault.store.ChunkPackets;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pure-Java steps of the media path, per unit of work: parsing one RTP packet (RFC 3550 header,
 * G.711 payload), assembling a chunk (a second of one stream: 50 packets appended in the stored
 * format and the chunk built), reading a stored chunk back packet by packet as an export does, and
 * decoding a second of G.711 to 16-bit linear. At 1,500 two-stream calls a node parses 150,000
 * packets and assembles 3,000 chunks a second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MediaPathBenchmark {

  private static final int PAYLOAD = 160;
  private static final int PACKETS_PER_CHUNK = 50;

  private final RtpPacket parsed = new RtpPacket();
  private byte[] datagram;
  private byte[][] packets;
  private byte[] chunk;
  private byte[] aSecondOfUlaw;
  private short[] aSecondOfLinear;

  @Setup
  public void setUp() {
    Random random = new Random(1);
    packets = new byte[PACKETS_PER_CHUNK][];
    for (int i = 0; i < PACKETS_PER_CHUNK; i++) {
      byte[] p = new byte[12 + PAYLOAD];
      random.nextBytes(p);
      p[0] = (byte) 0x80; // version 2, no padding, extension or CSRC
      p[1] = 0; // PCMU
      p[2] = (byte) (i >> 8);
      p[3] = (byte) i;
      packets[i] = p;
    }
    datagram = packets[0];
    ChunkPackets.Builder builder = new ChunkPackets.Builder(PACKETS_PER_CHUNK * (PAYLOAD + 40));
    for (int i = 0; i < PACKETS_PER_CHUNK; i++)
      builder.append(i, (long) i * PAYLOAD, packets[i], 0, packets[i].length);
    chunk = builder.build();
    aSecondOfUlaw = new byte[8000];
    random.nextBytes(aSecondOfUlaw);
    aSecondOfLinear = new short[8000];
  }

  /** One packet's header checked and read. */
  @Benchmark
  public RtpProblem parseAPacket() {
    return RtpPacket.parse(datagram, 0, datagram.length, parsed);
  }

  /** A second of one stream appended packet by packet and built into the stored format. */
  @Benchmark
  public byte[] assembleAChunk() {
    ChunkPackets.Builder builder = new ChunkPackets.Builder(PACKETS_PER_CHUNK * (PAYLOAD + 40));
    for (int i = 0; i < PACKETS_PER_CHUNK; i++)
      builder.append(i, (long) i * PAYLOAD, packets[i], 0, packets[i].length);
    return builder.build();
  }

  /** A stored chunk read back packet by packet, as the export walks it. */
  @Benchmark
  public long readAChunk() {
    long[] sum = {0};
    ChunkPackets.read(chunk, (extSeq, extTs, data, offset, length) -> sum[0] += extTs + length);
    return sum[0];
  }

  /** A second of μ-law (8,000 samples) decoded to 16-bit linear. */
  @Benchmark
  public short[] decodeASecondOfG711() {
    G711.decode(G711.Law.ULAW, aSecondOfUlaw, 0, aSecondOfUlaw.length, aSecondOfLinear, 0);
    return aSecondOfLinear;
  }
}
