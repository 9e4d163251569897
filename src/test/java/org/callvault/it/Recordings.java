package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.callvault.bench.Pattern;
import org.callvault.bench.Segment;
import org.callvault.bench.SentPacket;
import org.callvault.bench.StreamRecord;

/** Checks an exported recording against what the load generator sent. */
final class Recordings {

  private Recordings() {}

  /**
   * Checks one stream's export against what was sent; returns how many packets are in it. A packet
   * sent while the gate was surely open must be there; one sent while it was surely closed (within
   * one of {@code closed}, wall-clock microseconds {@code [from, to)} from the ledger) must not;
   * around the edges either is right: for 250 ms before a span (a gate closes when the request
   * arrives, and a packet sent before it but still in the node's socket queue then is gated as it
   * is read: on a loaded machine that queue holds up to a few hundred milliseconds) and 250 ms
   * after it (the opening event's persist). The export must hold those packets and nothing else:
   * silence everywhere else.
   */
  static int checkStream(
      StreamRecord stream, short[] exported, List<JsonNode> chunks, List<long[]> closed) {
    return checkStream(stream, exported, chunks, closed, List.of());
  }

  /**
   * As above; a packet sent within one of {@code optional} (wall-clock µs {@code [from, to)}, e.g.
   * the audio a dying node held in memory) may be there or not, but if it is, it is in place.
   */
  static int checkStream(
      StreamRecord stream,
      short[] exported,
      List<JsonNode> chunks,
      List<long[]> closed,
      List<long[]> optional) {
    short[] expected = new short[exported.length];
    Set<Long> placed = new HashSet<>();
    int present = 0;
    int required = 0;
    for (SentPacket packet : stream.sent()) {
      if (packet.duplicate() || !placed.add(packet.index())) continue;
      long at = packet.sendWallMicros();
      boolean mustBeThere = true;
      long[] closedSpan = null;
      for (long[] span : closed) {
        if (at >= span[0] - 250_000 && at - 250_000 <= span[1]) mustBeThere = false;
        if (at > span[0] + 20_000 && at < span[1]) closedSpan = span;
      }
      for (long[] span : optional) if (at >= span[0] && at < span[1]) mustBeThere = false;
      Long position = position(stream, packet, chunks);
      boolean there = position != null && matches(stream, packet.index(), exported, position);
      if (mustBeThere) {
        required++;
        if (!there)
          throw new AssertionError(
              stream.label()
                  + ": packet "
                  + packet.index()
                  + " (seq "
                  + packet.seq()
                  + ", sent "
                  + (at - (closed.isEmpty() ? 0 : closed.get(0)[0])) / 1000
                  + " ms from the first closed span) is not at position "
                  + position);
      }
      if (closedSpan != null && there)
        throw new AssertionError(
            stream.label()
                + ": packet "
                + packet.index()
                + " was sent "
                + (at - closedSpan[0]) / 1000
                + " ms after its gate closed (at "
                + java.time.Instant.ofEpochMilli(closedSpan[0] / 1000)
                + ") but is stored");
      if (there) {
        present++;
        for (int i = 0; i < 160; i++)
          expected[(int) (position + i)] =
              Pattern.sample(stream.codec(), stream.patternSeed(), packet.index(), i);
      }
    }
    assertTrue(required > 50, "packets are checked: " + required);
    for (int i = 0; i < exported.length; i++) {
      if (exported[i] != expected[i])
        throw new AssertionError(
            stream.label()
                + ": sample "
                + i
                + " is "
                + exported[i]
                + " where "
                + expected[i]
                + " belongs (silence where nothing was sent)");
    }
    return present;
  }

  /**
   * Where a packet's first sample lies, from the chunk of its segment that starts at or before it.
   */
  static Long position(StreamRecord stream, SentPacket packet, List<JsonNode> chunks) {
    Segment segment = stream.segmentOf(packet.index());
    JsonNode best = null;
    long bestTs = 0;
    for (JsonNode c : chunks) {
      if (c.path("ssrc").asLong() != segment.ssrc()) continue;
      long firstTs = c.path("firstTs").asLong();
      long ext =
          firstTs + (int) (packet.timestamp() - (firstTs & 0xFFFF_FFFFL)); // nearest extension
      if (firstTs <= ext && (best == null || firstTs > best.path("firstTs").asLong())) {
        best = c;
        bestTs = ext;
      }
    }
    if (best == null || best.path("position").asLong() < 0) return null;
    return best.path("position").asLong() + (bestTs - best.path("firstTs").asLong());
  }

  static boolean matches(StreamRecord stream, long k, short[] exported, long position) {
    if (position < 0 || position + 160 > exported.length) return false;
    for (int i = 0; i < 160; i++)
      if (exported[(int) (position + i)]
          != Pattern.sample(stream.codec(), stream.patternSeed(), k, i)) return false;
    return true;
  }

  /**
   * The chunks of stream {@code label} on either side of its MediaGap in {@code ledger}: the last
   * one listed before the gap and the first one listed after it.
   */
  static JsonNode[] chunksAroundGap(JsonNode ledger, String label) {
    JsonNode before = null;
    boolean gapSeen = false;
    for (JsonNode event : ledger.path("events")) {
      JsonNode details = event.path("details");
      String type = event.path("type").asText();
      if (type.equals("MediaGap") && details.path("label").asText().equals(label)) {
        assertTrue(before != null, label + ": a gap before any chunk");
        gapSeen = true;
      }
      if (type.equals("ChunkStored")
          && details.path("chunk").path("label").asText().equals(label)) {
        if (gapSeen) return new JsonNode[] {before, details.path("chunk")};
        before = details.path("chunk");
      }
    }
    throw new AssertionError(label + ": no chunk listed after a gap in " + ledger);
  }

  /**
   * The genuine packet sent with {@code ssrc} and sequence number {@code seq} (a chunk's are
   * extended: its low 16 bits are the packet's).
   */
  static SentPacket sentWith(StreamRecord stream, long ssrc, long seq) {
    for (SentPacket p : stream.sent())
      if (!p.duplicate() && p.ssrc() == ssrc && p.seq() == (seq & 0xFFFF)) return p;
    throw new AssertionError(
        stream.label() + ": no packet was sent with SSRC " + ssrc + " and sequence number " + seq);
  }

  /**
   * The genuine packets sent in slots after {@code from} and before {@code to} (both excluded),
   * each once, in slot order.
   */
  static List<SentPacket> sentBetween(StreamRecord stream, long from, long to) {
    Set<Long> placed = new HashSet<>();
    List<SentPacket> between = new ArrayList<>();
    for (SentPacket p : stream.sent())
      if (!p.duplicate() && p.index() > from && p.index() < to && placed.add(p.index()))
        between.add(p);
    between.sort((a, b) -> Long.compare(a.index(), b.index()));
    return between;
  }

  static List<JsonNode> chunksOf(JsonNode timeline, String label) {
    List<JsonNode> chunks = new ArrayList<>();
    for (JsonNode s : timeline.path("streams"))
      if (s.path("label").asText().equals(label)) s.path("chunks").forEach(chunks::add);
    return chunks;
  }

  static JsonNode streamOf(JsonNode call, String label) {
    for (JsonNode s : call.path("streams")) if (s.path("label").asText().equals(label)) return s;
    throw new AssertionError("no stream " + label + " in " + call);
  }

  /** The channels of a 16-bit PCM WAV file at 8 kHz, with its header checked. */
  static short[][] pcm(byte[] wav, int channels) {
    ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals("RIFF", new String(wav, 0, 4));
    assertEquals(wav.length - 8, b.getInt(4));
    assertEquals("WAVE", new String(wav, 8, 4));
    assertEquals(1, b.getShort(20), "PCM");
    assertEquals(channels, b.getShort(22));
    assertEquals(8000, b.getInt(24));
    assertEquals(16, b.getShort(34));
    int dataBytes = b.getInt(40);
    assertEquals(wav.length - 44, dataBytes, "the header's data size is the length sent");
    int frames = dataBytes / (2 * channels);
    short[][] out = new short[channels][frames];
    for (int f = 0; f < frames; f++)
      for (int c = 0; c < channels; c++) out[c][f] = b.getShort(44 + 2 * (f * channels + c));
    return out;
  }
}
