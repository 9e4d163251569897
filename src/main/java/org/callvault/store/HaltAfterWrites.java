package org.callvault.store;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.callvault.core.ChunkInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault injection for the crash-consistency test ({@code callvault.audio.fault.halt-after-chunks}):
 * the JVM halts right after the Nth chunk reaches storage and before anyone hears of it, so its
 * call's entity never lists it. Never configured in production.
 */
public final class HaltAfterWrites implements ChunkStore {

  private static final Logger log = LoggerFactory.getLogger(HaltAfterWrites.class);

  private final ChunkStore store;
  private final long writes;
  private final AtomicLong written = new AtomicLong();

  public HaltAfterWrites(ChunkStore store, long writes) {
    this.store = store;
    this.writes = writes;
  }

  @Override
  public CompletionStage<Void> write(AudioChunk chunk) {
    return store
        .write(chunk)
        .thenApply(
            done -> {
              if (written.incrementAndGet() == writes) {
                log.error(
                    "halting after {} stored chunks (callvault.audio.fault.halt-after-chunks)",
                    writes);
                Runtime.getRuntime().halt(137);
              }
              return done;
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
  public CompletionStage<Void> erase(
      String callId, java.util.Map<String, java.util.Map<Long, Long>> stored) {
    return store.erase(callId, stored);
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN) {
    return store.storedAfter(callId, label, epoch, afterN);
  }
}
