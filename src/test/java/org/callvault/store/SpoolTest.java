package org.callvault.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool on a real directory: what it keeps, what it finds again, what it refuses. */
class SpoolTest {

  @TempDir Path dir;

  private Spool.Settings settings(long maxBytes, long segmentBytes) {
    return new Spool.Settings(dir, maxBytes, 0, segmentBytes, Duration.ofMillis(50));
  }

  private static AudioChunk chunk(long n) {
    return TestChunks.chunk("call-1", n);
  }

  private long segmentsOnDisk() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".spool")).count();
    }
  }

  @Test
  void aSpooledChunkReadsBackAsItWasAndIsFoundAgainInOrderAfterARestart() throws Exception {
    List<Spool.Entry> entries = new ArrayList<>();
    try (Spool spool = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      for (long n = 0; n < 5; n++) entries.add(spool.append(chunk(n)));
      AudioChunk back = spool.read(entries.get(3));
      assertEquals(chunk(3).info(), back.info());
      assertEquals("call-1", back.callId());
      assertArrayEquals(chunk(3).packets(), back.packets());
      assertEquals(5, spool.chunks());
      assertTrue(spool.oldestMillis() > 0);
      spool.stored(entries.get(0));
      spool.stored(entries.get(1));
      assertEquals(3, spool.chunks());
    }
    // The process is gone; another opens the directory: the three not stored, in order.
    try (Spool again = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      List<Long> found = new ArrayList<>();
      for (Spool.Entry e : again.found()) found.add(again.read(e).info().n());
      // The segment still holds chunks not stored, so all of it is found again: storing 0 and 1
      // a second time stores the same rows (their keys are deterministic).
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L), found);
    }
  }

  /** Whether {@code bytes} holds 32 bytes of value {@code b} in a row. */
  private static boolean holdsRun(byte[] bytes, byte b) {
    int run = 0;
    for (byte x : bytes) {
      run = x == b ? run + 1 : 0;
      if (run == 32) return true;
    }
    return false;
  }

  @Test
  void theSpoolHoldsNoAudioInTheClearAndOpensOnlyUnderItsMasterKeyset() throws Exception {
    try (Spool spool = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      spool.append(chunk(7)); // 50 packets of 160 bytes, every byte 7
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.toList())
        assertFalse(holdsRun(Files.readAllBytes(file), (byte) 7), file + " holds the audio");
    }
    try (Spool again = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      assertArrayEquals(chunk(7).packets(), again.read(again.found().get(0)).packets());
    }
    MasterKeyset another = MasterKeyset.parse(MasterKeyset.newKeysetJson());
    IOException refused =
        assertThrows(IOException.class, () -> Spool.open(settings(1 << 30, 1 << 20), another));
    assertTrue(
        refused.getMessage().contains("does not open under the master keyset"),
        refused.getMessage());
    try (Spool stillThere = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      assertEquals(1, stillThere.found().size(), "a refused open loses nothing");
    }
  }

  /** A record as an earlier version wrote it: magic CVS1, the packets in the clear. */
  @Test
  void aRecordAnEarlierVersionSpooledInTheClearIsStillRead() throws Exception {
    AudioChunk chunk = chunk(3);
    byte[] head =
        ("{\"callId\":\"call-1\",\"info\":"
                + org.callvault.core.Json.MAPPER.writeValueAsString(chunk.info())
                + "}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int body = 2 + head.length + chunk.packets().length;
    java.nio.ByteBuffer record = java.nio.ByteBuffer.allocate(12 + body);
    record.putInt(0x43565331).putInt(body).putInt(0);
    record.putShort((short) head.length).put(head).put(chunk.packets());
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(record.array(), 12, body);
    record.putInt(8, (int) crc.getValue());
    Files.createDirectories(dir);
    Files.write(dir.resolve("segment-000000000001.spool"), record.array());
    try (Spool spool = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      assertEquals(1, spool.found().size());
      AudioChunk read = spool.read(spool.found().get(0));
      assertEquals(chunk.info(), read.info());
      assertArrayEquals(chunk.packets(), read.packets());
    }
  }

  @Test
  void whatARestartFindsIsEveryChunkOfASegmentThatStillHoldsOneNotStored() throws Exception {
    // One chunk per segment: a segment whose chunk is stored is deleted, the others stay.
    List<Spool.Entry> entries = new ArrayList<>();
    try (Spool spool = Spool.open(settings(1 << 30, 1), TestChunks.MASTER)) {
      for (long n = 0; n < 4; n++) entries.add(spool.append(chunk(n)));
      assertEquals(4, segmentsOnDisk());
      spool.stored(entries.get(0));
      spool.stored(entries.get(2));
      assertEquals(2, segmentsOnDisk(), "a segment all stored is deleted");
    }
    try (Spool again = Spool.open(settings(1 << 30, 1), TestChunks.MASTER)) {
      List<Long> found = new ArrayList<>();
      for (Spool.Entry e : again.found()) found.add(again.read(e).info().n());
      assertEquals(List.of(1L, 3L), found);
      for (Spool.Entry e : again.found()) again.stored(e);
      assertEquals(0, again.chunks());
      assertEquals(0, again.bytes());
    }
    try (Spool empty = Spool.open(settings(1 << 30, 1), TestChunks.MASTER)) {
      assertEquals(List.of(), empty.found());
    }
  }

  @Test
  void aRecordTornByACrashIsDroppedAndTheWholeOnesBeforeItAreKept() throws Exception {
    try (Spool spool = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      for (long n = 0; n < 3; n++) spool.append(chunk(n));
    }
    Path segment;
    try (Stream<Path> files = Files.list(dir)) {
      segment = files.filter(p -> p.toString().endsWith(".spool")).findFirst().orElseThrow();
    }
    long whole = Files.size(segment);
    // The last record cut in half, as a crash in the middle of its write leaves it.
    try (var channel = java.nio.channels.FileChannel.open(segment, StandardOpenOption.WRITE)) {
      channel.truncate(whole - 4000);
    }
    try (Spool again = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      List<Long> found = new ArrayList<>();
      for (Spool.Entry e : again.found()) found.add(again.read(e).info().n());
      assertEquals(List.of(0L, 1L), found);
      assertEquals(again.bytes(), Files.size(segment), "the torn tail is cut off");
      // A flipped byte in a whole record fails its checksum: it ends the segment there too.
    }
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 100] ^= 0x01;
    Files.write(segment, bytes);
    try (Spool flipped = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      assertEquals(1, flipped.found().size());
      assertEquals(0, flipped.read(flipped.found().get(0)).info().n());
    }
  }

  @Test
  void aFullSpoolRefusesAChunkAndSaysItIsFull() throws Exception {
    long one = 50 * (ChunkPackets.OVERHEAD + 160) + 4 + 12 + 2 + 600;
    try (Spool spool = Spool.open(settings(2 * one, 1 << 20), TestChunks.MASTER)) {
      Spool.Entry first = spool.append(chunk(0));
      spool.append(chunk(1));
      Spool.Refused refused = assertThrows(Spool.Refused.class, () -> spool.append(chunk(2)));
      assertTrue(refused.full());
      assertTrue(refused.getMessage().contains("its limit is " + 2 * one), refused.getMessage());
      spool.stored(first);
      assertEquals(1, spool.chunks());
      assertFalse(spool.bytes() == 0, "the segment still holds chunk 1");
    }
  }

  @Test
  void aSpoolWhoseDiskWouldFallBelowItsFreeSpaceRefusesAsFull() throws Exception {
    var s = new Spool.Settings(dir, 1L << 40, Long.MAX_VALUE / 2, 1 << 20, Duration.ofMillis(50));
    try (Spool spool = Spool.open(s, TestChunks.MASTER)) {
      Spool.Refused refused = assertThrows(Spool.Refused.class, () -> spool.append(chunk(0)));
      assertTrue(refused.full());
      assertTrue(refused.getMessage().contains("must stay free"), refused.getMessage());
    }
  }

  @Test
  void aSecondProcessCannotOpenASpoolInUse() throws Exception {
    try (Spool spool = Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER)) {
      IOException refused =
          assertThrows(
              IOException.class, () -> Spool.open(settings(1 << 30, 1 << 20), TestChunks.MASTER));
      assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
    }
  }
}
