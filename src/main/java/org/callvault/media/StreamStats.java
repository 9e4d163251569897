package org.callvault.media;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.callvault.core.ChunkInfo;
import org.callvault.core.StreamCounters;

/**
 * What one stream's receiver has seen, counted. Cumulative over the call: it starts from the
 * counters the ledger last recorded. Written by the stream's one thread (a single writer, so a lazy
 * set suffices), except {@link #stored}, which storage's threads call; read from anywhere.
 */
final class StreamStats {

  private final AtomicLong received;
  private final AtomicLong droppedByGate;
  private final AtomicLongArray rejected = new AtomicLongArray(Rejection.COUNT);
  private final AtomicLong lost;
  private final AtomicLong duplicated;
  private final AtomicLong late;
  private final AtomicLong lastPacketAt;
  private final AtomicLong stored;
  private final AtomicLong chunksStored;
  private final Map<String, Long> rejectedBaseline;
  private final StreamCounters baseline;

  StreamStats(StreamCounters baseline) {
    this.baseline = baseline;
    received = new AtomicLong(baseline.received());
    droppedByGate = new AtomicLong(baseline.droppedByGate());
    lost = new AtomicLong(baseline.lost());
    duplicated = new AtomicLong(baseline.duplicated());
    late = new AtomicLong(baseline.late());
    lastPacketAt = new AtomicLong(baseline.lastPacketAt());
    stored = new AtomicLong(baseline.stored());
    chunksStored = new AtomicLong(baseline.chunksStored());
    rejectedBaseline = baseline.rejected();
  }

  /** A valid packet from the accepted source, received at {@code wallMillis}. */
  void received(long wallMillis) {
    received.lazySet(received.get() + 1);
    lastPacketAt.lazySet(wallMillis);
  }

  void droppedByGate() {
    droppedByGate.lazySet(droppedByGate.get() + 1);
  }

  /** A datagram refused for the reason at {@code index} ({@link Rejection#index}). */
  void rejected(int index) {
    rejected.lazySet(index, rejected.get(index) + 1);
  }

  void lost(long packets) {
    lost.lazySet(lost.get() + packets);
  }

  void duplicated() {
    duplicated.lazySet(duplicated.get() + 1);
  }

  void late() {
    late.lazySet(late.get() + 1);
  }

  /** Storage has {@code chunk}: its packets count as stored. Any thread. */
  void stored(ChunkInfo chunk) {
    stored.addAndGet(chunk.packets());
    chunksStored.incrementAndGet();
  }

  /** Wall-clock milliseconds of the last packet received; 0 before the first. */
  long lastPacketAt() {
    return lastPacketAt.get();
  }

  /** What this receiver counted itself: its counters less those it started from. */
  StreamCounters sinceStart() {
    return counters().minus(baseline);
  }

  StreamCounters counters() {
    Map<String, Long> reasons = new HashMap<>(rejectedBaseline);
    for (int i = 0; i < Rejection.COUNT; i++) {
      long n = rejected.get(i);
      if (n > 0) reasons.merge(Rejection.NAMES[i], n, Long::sum);
    }
    return new StreamCounters(
        received.get(),
        stored.get(),
        droppedByGate.get(),
        reasons,
        lost.get(),
        duplicated.get(),
        late.get(),
        chunksStored.get(),
        lastPacketAt.get());
  }
}
