package org.callvault.store;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.callvault.core.ChunkInfo;

/**
 * Where audio chunks live. Keys are deterministic, so writing the same chunk twice stores it once.
 */
public interface ChunkStore {

  CompletionStage<Void> write(AudioChunk chunk);

  /** Completes once the store can take writes (connected, table there, statements prepared). */
  CompletionStage<Void> ready();

  /** The chunk listed as {@code info}, or a failed stage when it is not stored. */
  CompletionStage<AudioChunk> read(String callId, ChunkInfo info);

  /**
   * Destroys the call's keys (its audio can never be read again), then deletes its chunks: per
   * stream, each epoch's chunks up to the given number.
   */
  CompletionStage<Void> erase(
      String callId, java.util.Map<String, java.util.Map<Long, Long>> stored);

  /** Chunks of a stream and epoch numbered above {@code afterN}, in order, without their audio. */
  CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN);
}
