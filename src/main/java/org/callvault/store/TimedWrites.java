package org.callvault.store;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.callvault.core.ChunkInfo;

/**
 * A chunk store whose writes are timed and counted for the node's metrics: {@code
 * callvault_chunk_write_seconds} (each write storage acknowledged, from its start) and {@code
 * callvault_chunk_write_failures_total} (each attempt that failed; the writer retries or spools).
 */
public final class TimedWrites implements ChunkStore {

  private final ChunkStore store;

  private final Histogram seconds =
      Histogram.builder()
          .name("callvault_chunk_write_seconds")
          .help("Chunk writes storage acknowledged, by how long each took")
          .classicOnly()
          .classicUpperBounds(
              0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
          .build();

  private final Counter failures =
      Counter.builder()
          .name("callvault_chunk_write_failures_total")
          .help("Chunk write attempts storage failed (each retried or spooled, or a recorded gap)")
          .build();

  public TimedWrites(ChunkStore store) {
    this.store = store;
  }

  /** What it measures, for the node's metrics. */
  public List<Collector> metrics() {
    return List.of(seconds, failures);
  }

  @Override
  public CompletionStage<Void> write(AudioChunk chunk) {
    long start = System.nanoTime();
    return store
        .write(chunk)
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) seconds.observe((System.nanoTime() - start) / 1e9);
              else failures.inc();
            });
  }

  @Override
  public CompletionStage<Void> ready() {
    return store.ready();
  }

  @Override
  public CompletionStage<AudioChunk> read(String callId, ChunkInfo info) {
    return store.read(callId, info);
  }

  @Override
  public CompletionStage<Void> erase(String callId, Map<String, Map<Long, Long>> stored) {
    return store.erase(callId, stored);
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN) {
    return store.storedAfter(callId, label, epoch, afterN);
  }
}
