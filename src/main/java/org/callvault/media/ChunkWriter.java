package org.callvault.media;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.callvault.core.GapCause;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkStore;

/**
 * The chunks of one stream on their way to storage: written one at a time, in order, so that the
 * stream's entity lists them in order. A few wait behind a slow write; beyond that a chunk is
 * refused and its span reported lost ({@link GapCause#STORE_OVERLOAD}) rather than queued without
 * bound. A failed write is retried with backoff on the stream's event loop; the key is
 * deterministic, so a retry stores the same row, never a second copy.
 */
final class ChunkWriter {

  /**
   * @param queue chunks in storage's hands at once, the one being written and those behind it
   * @param retries retries of a failed write
   */
  record Settings(int queue, int retries) {}

  /**
   * What became of each chunk. Called on storage's threads, or on the stream's loop for a refusal.
   */
  interface Outcome {
    void written(AudioChunk chunk);

    void lost(AudioChunk chunk, GapCause cause, String detail, int attempts);

    /** The writer has nothing left to write. */
    void idle();
  }

  /** Schedules a retry; the stream's event loop. */
  interface Scheduler {
    void schedule(Runnable task, long delayMillis);

    static Scheduler of(io.netty.channel.EventLoop loop) {
      return (task, delayMillis) -> loop.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
    }
  }

  private final Settings settings;
  private final ChunkStore store;
  private final Scheduler retries;
  private final Outcome outcome;
  private final ArrayDeque<AudioChunk> queue = new ArrayDeque<>();
  private boolean writing;

  ChunkWriter(Settings settings, ChunkStore store, Scheduler retries, Outcome outcome) {
    this.settings = settings;
    this.store = store;
    this.retries = retries;
    this.outcome = outcome;
  }

  /** On the stream's loop: a chunk to store. */
  void write(AudioChunk chunk) {
    synchronized (this) {
      if (queue.size() >= settings.queue()) {
        outcome.lost(chunk, GapCause.STORE_OVERLOAD, null, 0);
        return;
      }
      queue.addLast(chunk);
      if (writing) return;
      writing = true;
    }
    attempt(chunk, 0);
  }

  /** Whether nothing is being written or waits. */
  synchronized boolean idle() {
    return !writing;
  }

  private void attempt(AudioChunk chunk, int attempt) {
    store
        .write(chunk)
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                outcome.written(chunk);
                next();
              } else if (attempt < settings.retries()) {
                retries.schedule(() -> attempt(chunk, attempt + 1), 200L << attempt);
              } else {
                outcome.lost(
                    chunk,
                    GapCause.STORE_FAILURE,
                    String.valueOf(failure.getMessage()),
                    attempt + 1);
                next();
              }
            });
  }

  private void next() {
    AudioChunk following;
    synchronized (this) {
      queue.pollFirst();
      following = queue.peekFirst();
      writing = following != null;
    }
    if (following != null) attempt(following, 0);
    else outcome.idle();
  }
}
