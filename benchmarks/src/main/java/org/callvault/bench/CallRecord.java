package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One call of the run.
 *
 * @param callId its id ({@code <prefix>-<n>})
 * @param index 0-based position in the run (n - 1)
 * @param startOffsetNanos when its slot 0 was due, after the run's start ({@link
 *     Summary#startNanos()})
 * @param streams its streams, agent first
 * @param created the call resource {@code POST /v1/calls} answered with
 */
public record CallRecord(
    String callId, int index, long startOffsetNanos, List<StreamRecord> streams, JsonNode created) {

  public StreamRecord stream(String label) {
    for (StreamRecord s : streams) if (s.label().equals(label)) return s;
    throw new IllegalArgumentException("call " + callId + " has no stream '" + label + "'");
  }

  public Counts counts() {
    Counts c = Counts.ZERO;
    for (StreamRecord s : streams) c = c.plus(s.counts());
    return c;
  }
}
