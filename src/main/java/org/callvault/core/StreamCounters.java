package org.callvault.core;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a stream's receiver has seen. Cumulative over the call: a receiver started after a failover
 * continues from the counters its ledger last recorded.
 *
 * @param received valid RTP packets from the accepted source
 * @param stored packets in chunks that reached storage
 * @param droppedByGate packets dropped because the gate was closed (pause, consent, not yet active)
 * @param rejected packets refused, by reason (malformed, foreign source, unknown payload type…)
 * @param lost packets never received, counted from sequence-number gaps
 * @param duplicated packets received twice
 * @param late packets that came after the reorder window had moved past them
 * @param chunksStored chunks that reached storage
 * @param lastPacketAt wall-clock milliseconds of the last packet received; 0 before the first
 */
public record StreamCounters(
    long received,
    long stored,
    long droppedByGate,
    Map<String, Long> rejected,
    long lost,
    long duplicated,
    long late,
    long chunksStored,
    long lastPacketAt)
    implements CborSerializable {

  public static final StreamCounters ZERO = new StreamCounters(0, 0, 0, Map.of(), 0, 0, 0, 0, 0);

  public StreamCounters {
    rejected = Map.copyOf(new TreeMap<>(rejected));
  }

  public long rejectedTotal() {
    return rejected.values().stream().mapToLong(Long::longValue).sum();
  }

  /** These counts and {@code other}'s together; the later of the two last packets. */
  public StreamCounters plus(StreamCounters other) {
    return combined(other, 1, Math.max(lastPacketAt, other.lastPacketAt));
  }

  /**
   * What these counts have beyond {@code earlier} (the same stream's, before); this last packet.
   */
  public StreamCounters minus(StreamCounters earlier) {
    return combined(earlier, -1, lastPacketAt);
  }

  private StreamCounters combined(StreamCounters other, int sign, long last) {
    Map<String, Long> reasons = new TreeMap<>(rejected);
    other.rejected.forEach((reason, n) -> reasons.merge(reason, sign * n, Long::sum));
    reasons.values().removeIf(n -> n == 0);
    return new StreamCounters(
        received + sign * other.received,
        stored + sign * other.stored,
        droppedByGate + sign * other.droppedByGate,
        reasons,
        lost + sign * other.lost,
        duplicated + sign * other.duplicated,
        late + sign * other.late,
        chunksStored + sign * other.chunksStored,
        last);
  }
}
