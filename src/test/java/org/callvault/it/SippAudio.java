package org.callvault.it;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;
import org.callvault.bench.Pattern;

/**
 * PCMU audio whose every byte a test knows: what sipp plays on a SIPREC call's first stream, and
 * what the test sends itself on the second, which sipp cannot (its rtp_stream only sends to the
 * first m=audio port of the answer).
 *
 * <p>Packet {@code k} carries {@link Pattern#payload Pattern.payload(seed, k)}, the load
 * generator's pattern: 160 bytes, none of them a G.711 zero, so a recording of it can be checked
 * byte for byte (or sample for sample after decoding) as {@code Recordings} checks the generator's.
 *
 * <p>How sipp 3.6.1's {@code <exec rtp_stream="file,loops,0"/>} plays the file written by {@link
 * #writeRaw}: it reads the file as raw payload bytes (it parses no WAV header; a WAV file's header
 * would go out as audio), sends 160 of them every 20 ms as payload type 0 with sequence numbers
 * from 0 and a timestamp that follows the wall clock, one SSRC per call counting up from
 * 0xCA110000, from its media socket ({@code [media_port]}). While paused ({@code
 * rtp_stream="pause"}) it sends nothing but its timestamp keeps following the clock; on resume it
 * goes on with the next packet of the file. After {@code loops} times through the file it stops; -1
 * loops forever (until the call ends).
 *
 * @param seed the {@link Pattern} stream seed
 * @param packets how many 20 ms packets the file holds
 */
record SippAudio(long seed, int packets) {

  /** Payload bytes per packet: 20 ms of 8 kHz PCMU. */
  static final int PACKET_BYTES = Pattern.PAYLOAD_BYTES;

  SippAudio {
    if (packets <= 0) throw new IllegalArgumentException("packets " + packets);
  }

  /** The payload of packet {@code k} of the stream, the file played over and over. */
  byte[] payload(long k) {
    return Pattern.payload(seed, k % packets);
  }

  /** The whole file: packets 0 to {@code packets - 1}, back to back. */
  byte[] bytes() {
    byte[] all = new byte[packets * PACKET_BYTES];
    for (int k = 0; k < packets; k++) Pattern.fill(seed, k, all, k * PACKET_BYTES);
    return all;
  }

  /** Writes {@link #bytes()} to {@code file} as sipp's rtp_stream wants it: raw, no header. */
  Path writeRaw(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    return Files.write(file, bytes());
  }

  /**
   * Sends packets 0 to {@code count - 1} from {@code socket} to {@code target} as sipp would, 20 ms
   * apart (payload type 0, sequence numbers from 0, timestamps 160 apart from 0), and returns when
   * the last one is sent.
   */
  void sendRtp(DatagramSocket socket, InetSocketAddress target, long ssrc, int count)
      throws IOException {
    byte[] packet = new byte[12 + PACKET_BYTES];
    long start = System.nanoTime();
    for (int k = 0; k < count; k++) {
      long due = start + k * 20_000_000L;
      for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
        LockSupport.parkNanos(wait); // pacing: each packet has its 20 ms slot
      }
      long timestamp = k * (long) PACKET_BYTES;
      packet[0] = (byte) 0x80;
      packet[1] = 0; // PCMU, no marker
      packet[2] = (byte) (k >>> 8);
      packet[3] = (byte) k;
      for (int i = 0; i < 4; i++) {
        packet[4 + i] = (byte) (timestamp >>> (24 - 8 * i));
        packet[8 + i] = (byte) (ssrc >>> (24 - 8 * i));
      }
      Pattern.fill(seed, k % packets, packet, 12);
      socket.send(new DatagramPacket(packet, packet.length, target));
    }
  }
}
