package org.callvault.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ResourceLeakDetector;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.callvault.core.Codec;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.media.relay.RelayIntake;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkPackets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 100,000 random and mutated datagrams through the RTP handler as Netty delivers them: nothing
 * escapes, every buffer is released, every datagram is counted once (received or rejected by
 * reason), and what is stored is well-formed audio of the stream's codec.
 */
class RtpHandlerFuzzTest {

  private static ResourceLeakDetector.Level before;

  @BeforeAll
  static void paranoid() {
    before = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
  }

  @AfterAll
  static void restore() {
    ResourceLeakDetector.setLevel(before);
  }

  @Test
  void randomAndMutatedDatagramsAreCountedReleasedAndNeverStoredAsAudio() throws Exception {
    TestGates gates = TestGates.open("a");
    List<AudioChunk> chunks = new ArrayList<>();
    StreamRecorder.Output output =
        new StreamRecorder.Output() {
          @Override
          public void chunk(StreamRecorder from, AudioChunk chunk) {
            chunks.add(chunk);
          }

          @Override
          public void digit(String label, String digit, long wallMillis) {}

          @Override
          public void timeout(String label, long lastPacketAt, long silentMillis) {}
        };
    // Flood control is out of the way here: it is tested on its own.
    StreamRecorder.Settings settings =
        new StreamRecorder.Settings(8000, 16, 60_000_000L, 30_000_000_000L, Integer.MAX_VALUE);
    StreamRecorder recorder =
        new StreamRecorder(
            "fuzz",
            new StreamSpec("a", "agent", Codec.PCMU, null, 101),
            gates.apply("a"),
            StreamCounters.ZERO,
            settings,
            output,
            System.nanoTime());
    recorder.activate(1);
    EmbeddedChannel channel =
        new EmbeddedChannel(
            StreamHandler.rtp(recorder, new RelayIntake(recorder, 42L, 2_000_000_000L)));
    InetSocketAddress sender = new InetSocketAddress("127.0.0.1", 40000);
    InetSocketAddress stranger = new InetSocketAddress("127.0.0.1", 40002);
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 20000);

    Random random = new Random(20261128);
    long start = System.nanoTime();
    int datagrams = 100_000;
    List<ByteBuf> sent = new ArrayList<>();
    for (int i = 0; i < datagrams; i++) {
      byte[] data;
      int kind = random.nextInt(4);
      if (kind == 0) {
        data = new byte[random.nextInt(1600)];
        random.nextBytes(data);
      } else {
        // A sender's timestamps follow real time: 8 samples per millisecond.
        long ts = (System.nanoTime() - start) / 125_000L;
        data =
            StreamRecorderTest.rtp(
                random.nextInt(10) == 0 ? 101 : 0,
                i & 0xFFFF,
                ts,
                7,
                StreamRecorderTest.payload(i));
        if (kind == 2) {
          for (int flips = 1 + random.nextInt(4); flips > 0; flips--)
            data[random.nextInt(data.length)] ^= (byte) (1 << random.nextInt(8));
        } else if (kind == 3) {
          data = java.util.Arrays.copyOf(data, random.nextInt(data.length + 1));
        }
      }
      ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
      sent.add(buf);
      channel.writeInbound(
          new DatagramPacket(buf, local, random.nextInt(20) == 0 ? stranger : sender));
    }
    channel.checkException();
    recorder.close();
    assertFalse(channel.finish(), "the handler consumes every datagram: nothing passes it on");
    for (ByteBuf buf : sent) assertEquals(0, buf.refCnt(), "every datagram's buffer is released");

    StreamCounters c = recorder.counters();
    assertEquals(
        datagrams, c.received() + c.rejectedTotal(), "every datagram is counted once: " + c);
    assertTrue(c.rejected().get("FOREIGN_SOURCE") > 3000, c.toString());
    assertTrue(c.rejected().get("BAD_VERSION") > 1000, c.toString());
    assertTrue(
        c.rejected().get("SEQUENCE_JUMP") > 100, "corrupt sequence numbers are refused: " + c);
    // Datagram i alone carries sequence number i: a number can only be lost if its datagram was
    // not stored, so a corrupt packet never makes the stream count a run of good ones as lost.
    assertTrue(
        c.lost() <= datagrams - storedPacketsOf(chunks),
        "lost " + c.lost() + " of " + (datagrams - storedPacketsOf(chunks)) + " unstored: " + c);
    long[] storedPackets = {0};
    assertTrue(storedPacketsOf(chunks) > 0);
    for (AudioChunk chunk : chunks) {
      ChunkPackets.read(
          chunk.packets(),
          (seq, ts, data, off, len) -> {
            assertTrue(len > 0 && len <= 1500);
            storedPackets[0]++;
          });
    }
    assertEquals(storedPackets[0], chunks.stream().mapToLong(ch -> ch.info().packets()).sum());
    assertTrue(storedPackets[0] > 20_000, "valid packets are stored: " + storedPackets[0]);
  }

  private static long storedPacketsOf(List<AudioChunk> chunks) {
    return chunks.stream().mapToLong(ch -> ch.info().packets()).sum();
  }
}
