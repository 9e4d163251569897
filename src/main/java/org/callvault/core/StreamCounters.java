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
}
