package org.callvault.store;

import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;

/** Audio chunks, and a master keyset, for tests of what stores and spools them. */
public final class TestChunks {

  private TestChunks() {}

  /** A master keyset made for this test run. */
  public static final MasterKeyset MASTER;

  static {
    try {
      MASTER = MasterKeyset.parse(MasterKeyset.newKeysetJson());
    } catch (java.security.GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * Chunk {@code n} of stream "agent" of {@code callId}, epoch 2: 50 packets of 160 bytes, each
   * byte {@code n}.
   */
  public static AudioChunk chunk(String callId, long n) {
    ChunkPackets.Builder packets = new ChunkPackets.Builder(10_000);
    byte[] payload = new byte[160];
    java.util.Arrays.fill(payload, (byte) n);
    for (int i = 0; i < 50; i++) packets.append(n * 50 + i, (n * 50 + i) * 160, payload, 0, 160);
    ChunkInfo info =
        new ChunkInfo(
            "agent",
            2,
            n,
            0,
            7,
            Codec.PCMU,
            n * 50,
            n * 50 + 49,
            n * 8000,
            (n + 1) * 8000,
            50,
            0,
            1_800_000_000_000_000L,
            1_800_000_000_000_000L + n * 1_000_000,
            1_800_000_001_000_000L + n * 1_000_000,
            null);
    return new AudioChunk(callId, info, packets.build());
  }
}
