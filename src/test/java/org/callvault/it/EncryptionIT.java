package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.callvault.export.pcm.G711;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * Audio and personal data at rest are ciphertext: a call whose RTP payload is a distinctive byte
 * pattern, and whose party has a distinctive name and address of record, is recorded, Cassandra
 * flushed, and no file of Cassandra's (data files, commit log) nor of the node's spool holds the
 * pattern, the name or the address; the same pattern written in the clear to a table of its own,
 * and the call's pause reason (not personal, kept in the clear), are found by the same scan (so the
 * scan would see them); the decrypted export holds the audio, sample for sample, and the call
 * resource shows the name.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class EncryptionIT {

  /**
   * 160 bytes that do not compress (Cassandra compresses its data files: a repetitive pattern would
   * hide there even in the clear); any byte is a valid G.711 sample.
   */
  private static final byte[] CANARY = new byte[160];

  /** Each run's own, so that what an earlier run left in the same Cassandra is not found. */
  private static final String RUN =
      Long.toString(new java.security.SecureRandom().nextLong() >>> 1, 36);

  static {
    new java.security.SecureRandom().nextBytes(CANARY);
  }

  private static final String NAME = "Zebulon Canaryfield " + RUN;
  private static final String AOR = "sip:zebulon.canaryfield." + RUN + "@example.com";
  private static final String REASON = "card-payment-canary-reason-" + RUN;

  @Test
  void noFileOfCassandraOrTheSpoolHoldsTheAudioAndTheExportDoes() throws Exception {
    String keyspace = "enc_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String callId = "enc-" + UUID.randomUUID();
    Path spool = Path.of("target/it-spool/encryption").toAbsolutePath();
    try (NodeProcess node =
        NodeProcess.start(
            "encryption", keyspace, Map.of("CALLVAULT_SPOOL_DIR", spool.toString()))) {
      Http api = node.api();
      JsonNode created =
          api.post(
              "/v1/calls",
              "{\"callId\":\""
                  + callId
                  + "\",\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\",\"name\":\""
                  + NAME
                  + "\",\"aor\":\""
                  + AOR
                  + "\"}],"
                  + "\"streams\":[{\"label\":\"agent\",\"party\":\"agent\",\"codec\":\"PCMU\"}]}",
              201);
      assertEquals(NAME, created.path("parties").get(0).path("name").asText(), "shown opened");
      assertEquals(AOR, created.path("parties").get(0).path("aor").asText());
      JsonNode rtp = created.path("streams").get(0).path("rtp");
      send(new InetSocketAddress(rtp.path("host").asText(), rtp.path("port").asInt()), 150);
      Thread.sleep(1500); // the last chunk is cut at the stop
      api.post(
          "/v1/calls/" + callId + "/pause", "{\"reason\":\"" + REASON + "\",\"by\":\"qa\"}", 200);
      api.post("/v1/calls/" + callId + "/stop", "{}", 200);
      long listed = 0;
      for (int i = 0; i < 50 && listed < 3; i++) {
        Thread.sleep(200);
        listed = 0;
        for (JsonNode e : api.get("/v1/calls/" + callId + "/ledger", 200).path("events"))
          if (e.path("type").asText().equals("ChunkStored")) listed++;
      }
      assertTrue(listed >= 3, "the audio is stored and listed: " + listed + " chunks");

      ItCassandra.SHARED.flush();
      assertEquals(
          List.of(),
          filesHolding(ItCassandra.SHARED.dataDir(), CANARY),
          "files of Cassandra (data, commit log) holding the call's audio in the clear");
      for (String personal : List.of(NAME, AOR))
        assertEquals(
            List.of(),
            filesHolding(
                ItCassandra.SHARED.dataDir(),
                personal.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
            "files of Cassandra holding '" + personal + "' in the clear");
      assertTrue(
          !filesHolding(
                  ItCassandra.SHARED.dataDir(),
                  REASON.getBytes(java.nio.charset.StandardCharsets.UTF_8))
              .isEmpty(),
          "the scan finds what the ledger keeps in the clear (the pause's reason)");
      assertEquals(List.of(), filesHolding(spool, CANARY), "the spool holds no audio in the clear");

      // The control: the same bytes in the clear, in a table of their own, are found.
      try (CqlSession session = NodeProcess.cassandra()) {
        session.execute("CREATE TABLE " + keyspace + ".canary_control (k int PRIMARY KEY, v blob)");
        session.execute(
            "INSERT INTO " + keyspace + ".canary_control (k, v) VALUES (1, ?)",
            ByteBuffer.wrap(CANARY));
      }
      ItCassandra.SHARED.flush();
      assertTrue(
          !filesHolding(ItCassandra.SHARED.dataDir(), CANARY).isEmpty(),
          "the scan finds the same bytes stored in the clear");

      // Decrypted, the export is the audio sent: every packet's 160 samples, decoded.
      short[] exported =
          Recordings.pcm(
              api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stream&label=agent"), 1)[0];
      short[] packet = new short[160];
      G711.decode(G711.Law.ULAW, CANARY, 0, 160, packet, 0);
      int found = 0;
      for (int at = 0; at + 160 <= exported.length; at += 160)
        if (java.util.Arrays.equals(exported, at, at + 160, packet, 0, 160)) found++;
      assertTrue(found >= 140, "packets of the canary in the export, in place: " + found);
      node.stop();
    }
  }

  /** 150 RTP packets of the canary at 20 ms, as one sender would send them. */
  private static void send(InetSocketAddress to, int count) throws Exception {
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        ByteBuffer rtp = ByteBuffer.allocate(12 + CANARY.length);
        rtp.put((byte) 0x80).put((byte) 0).putShort((short) (1000 + i)).putInt(8000 + 160 * i);
        rtp.putInt(0x5eed).put(CANARY);
        socket.send(new DatagramPacket(rtp.array(), rtp.capacity(), to));
        long due = start + (i + 1) * 20_000_000L;
        while (System.nanoTime() < due) Thread.sleep(1);
      }
    }
  }

  /** The files under {@code dir} that hold the pattern (its first 32 bytes, if longer). */
  static List<Path> filesHolding(Path dir, byte[] pattern) throws Exception {
    byte[] needle = java.util.Arrays.copyOf(pattern, Math.min(32, pattern.length));
    List<Path> holding = new ArrayList<>();
    if (!Files.exists(dir)) return holding;
    List<Path> files = new ArrayList<>();
    Files.walkFileTree(
        dir,
        new java.nio.file.SimpleFileVisitor<>() {
          @Override
          public java.nio.file.FileVisitResult visitFile(
              Path file, java.nio.file.attribute.BasicFileAttributes attributes) {
            if (attributes.isRegularFile()) files.add(file);
            return java.nio.file.FileVisitResult.CONTINUE;
          }

          @Override
          public java.nio.file.FileVisitResult visitFileFailed(Path file, java.io.IOException e)
              throws java.io.IOException {
            if (e instanceof java.nio.file.NoSuchFileException)
              return java.nio.file.FileVisitResult.CONTINUE; // Cassandra replaced it meanwhile
            throw e;
          }
        });
    for (Path file : files) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (java.nio.file.NoSuchFileException compactedMeanwhile) {
        continue; // Cassandra replaced it: its successor is scanned too
      }
      if (indexOf(bytes, needle) >= 0) holding.add(file);
    }
    return holding;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }
}
