package org.callvault.media;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.callvault.core.ChunkInfo;
import org.callvault.core.GapCause;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkStore;
import org.callvault.store.Spool;

/**
 * The chunks of one stream on their way to storage: written one at a time, in order, so that the
 * stream's entity lists them in order. A failed write is retried with backoff on the stream's event
 * loop; the key is deterministic, so a retry stores the same row, never a second copy.
 *
 * <p>A few chunks wait in memory behind a slow write. When storage is behind by more than that, or
 * a write has failed its retries, chunks go to the node's {@link Spool} on disk instead, and every
 * chunk after them too, in order, until storage has taken them all: the head of the line is tried
 * again every {@link #SPOOLED_RETRY_MILLIS} for as long as it takes. Only a chunk the spool cannot
 * take (full, or its disk failing) is lost, and its span is reported with that cause. Without a
 * spool, a chunk behind a full queue is refused ({@link GapCause#STORE_OVERLOAD}) and one whose
 * write failed its retries is lost ({@link GapCause#STORE_FAILURE}).
 */
final class ChunkWriter {

  /** How often the oldest spooled chunk of a stream is offered to storage again. */
  static final long SPOOLED_RETRY_MILLIS = 1000;

  /**
   * @param queue chunks in memory in storage's hands at once, the one being written and those
   *     behind it
   * @param retries retries of a failed write before the chunk is spooled (or lost, without a spool)
   */
  record Settings(int queue, int retries) {}

  /**
   * What became of each chunk. Called on storage's threads, or on the stream's loop for a refusal.
   */
  interface Outcome {
    void written(AudioChunk chunk);

    /** {@code chunk} is null for a chunk a previous run spooled: nobody waits for it. */
    void lost(ChunkInfo chunk, GapCause cause, String detail, int attempts);

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

  /**
   * A chunk in line: in memory, or on the spool (then {@code chunk} is null). {@code info} is null
   * for a chunk a previous run spooled.
   */
  private static final class Pending {
    final ChunkInfo info;
    AudioChunk chunk;
    Spool.Entry spooled;

    Pending(ChunkInfo info, AudioChunk chunk, Spool.Entry spooled) {
      this.info = info;
      this.chunk = chunk;
      this.spooled = spooled;
    }
  }

  private final Settings settings;
  private final ChunkStore store;
  private final Spool spool;
  private final Scheduler retries;
  private final Outcome outcome;
  private final ArrayDeque<Pending> line = new ArrayDeque<>();
  private int inMemory;
  private boolean writing;

  /** Storage failed or fell behind: chunks go to the spool until the line is empty again. */
  private boolean spooling;

  /**
   * @param spool where chunks wait when storage cannot take them; null for none
   */
  ChunkWriter(
      Settings settings, ChunkStore store, Spool spool, Scheduler retries, Outcome outcome) {
    this.settings = settings;
    this.store = store;
    this.spool = spool;
    this.retries = retries;
    this.outcome = outcome;
  }

  /** Writes chunks that a previous run left in {@code spool}, in order, with no stream's loop. */
  static ChunkWriter replaying(ChunkStore store, Spool spool, Scheduler retries, Outcome outcome) {
    ChunkWriter writer = new ChunkWriter(new Settings(0, 0), store, spool, retries, outcome);
    synchronized (writer) {
      writer.spooling = true;
      for (Spool.Entry entry : spool.found()) writer.line.addLast(new Pending(null, null, entry));
      writer.writing = !writer.line.isEmpty();
    }
    if (writer.writing) writer.attempt(writer.line.peekFirst(), 0);
    else outcome.idle();
    return writer;
  }

  /** On the stream's loop: a chunk to store. */
  void write(AudioChunk chunk) {
    Pending pending;
    synchronized (this) {
      if (spooling || inMemory >= settings.queue()) {
        if (spool == null) {
          outcome.lost(chunk.info(), GapCause.STORE_OVERLOAD, null, 0);
          return;
        }
        spooling = true;
        Spool.Entry entry = spooled(chunk);
        if (entry == null) return;
        pending = new Pending(chunk.info(), null, entry);
      } else {
        pending = new Pending(chunk.info(), chunk, null);
        inMemory++;
      }
      line.addLast(pending);
      if (writing) return;
      writing = true;
    }
    attempt(pending, 0);
  }

  /** Whether nothing is being written or waits. */
  synchronized boolean idle() {
    return !writing;
  }

  /** The chunk on the spool, or null when the spool refused it (its loss is reported). */
  private Spool.Entry spooled(AudioChunk chunk) {
    try {
      return spool.append(chunk);
    } catch (Spool.Refused refused) {
      outcome.lost(
          chunk.info(),
          refused.full() ? GapCause.SPOOL_FULL : GapCause.SPOOL_FAILURE,
          refused.getMessage(),
          0);
      return null;
    }
  }

  private void attempt(Pending pending, int attempt) {
    AudioChunk chunk = pending.chunk;
    if (chunk == null) {
      try {
        chunk = spool.read(pending.spooled);
      } catch (IOException e) {
        spool.stored(pending.spooled); // unreadable: it will never be stored
        outcome.lost(pending.info, GapCause.SPOOL_FAILURE, "read back: " + e.getMessage(), 0);
        next();
        return;
      }
    }
    AudioChunk writing = chunk;
    store
        .write(writing)
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                if (pending.spooled != null) spool.stored(pending.spooled);
                outcome.written(writing);
                next();
              } else if (pending.spooled != null) {
                retries.schedule(() -> attempt(pending, attempt + 1), SPOOLED_RETRY_MILLIS);
              } else if (attempt < settings.retries()) {
                retries.schedule(() -> attempt(pending, attempt + 1), 200L << attempt);
              } else if (spool == null) {
                outcome.lost(
                    writing.info(),
                    GapCause.STORE_FAILURE,
                    String.valueOf(failure.getMessage()),
                    attempt + 1);
                next();
              } else {
                spoolTheLine();
                if (pending.spooled == null) next(); // the spool refused it: reported lost
                else retries.schedule(() -> attempt(pending, attempt + 1), SPOOLED_RETRY_MILLIS);
              }
            });
  }

  /** Storage is failing: every chunk in line still in memory goes to the spool, in place. */
  private synchronized void spoolTheLine() {
    spooling = true;
    for (var it = line.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (p.chunk == null) continue;
      Spool.Entry entry = spooled(p.chunk);
      inMemory--;
      p.chunk = null;
      p.spooled = entry;
      // Refused (reported lost): out of line, but the head, which the caller takes out itself.
      if (entry == null && p != line.peekFirst()) it.remove();
    }
  }

  private void next() {
    Pending following;
    synchronized (this) {
      Pending done = line.pollFirst();
      if (done != null && done.chunk != null) inMemory--;
      following = line.peekFirst();
      writing = following != null;
      if (following == null) spooling = false;
    }
    if (following != null) attempt(following, 0);
    else outcome.idle();
  }
}
