package org.callvault.core;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.Map;

/**
 * What a call's media session tells its entity: about one message per second per stream, never per
 * packet. Bound to Jackson by these names, for the entity's command that carries a report.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = MediaReport.ChunkWritten.class, name = "ChunkWritten"),
  @JsonSubTypes.Type(value = MediaReport.ChunkLost.class, name = "ChunkLost"),
  @JsonSubTypes.Type(value = MediaReport.DigitPressed.class, name = "DigitPressed"),
  @JsonSubTypes.Type(value = MediaReport.TimedOut.class, name = "TimedOut"),
  @JsonSubTypes.Type(value = MediaReport.Closed.class, name = "Closed")
})
public sealed interface MediaReport extends CborSerializable
    permits MediaReport.ChunkWritten,
        MediaReport.ChunkLost,
        MediaReport.DigitPressed,
        MediaReport.TimedOut,
        MediaReport.Closed {

  /** A chunk reached storage; the entity now lists it in the ledger. */
  record ChunkWritten(ChunkInfo chunk, StreamCounters counters) implements MediaReport {}

  /** Audio that was received but could not be stored, why, and the error when there was one. */
  record ChunkLost(
      String label,
      long startWallMicros,
      long endWallMicros,
      int packets,
      GapCause cause,
      String detail)
      implements MediaReport {}

  /**
   * An RFC 4733 digit ended; {@code digit} is null when the gate was closed (only the fact is
   * kept).
   */
  record DigitPressed(String label, String digit, long wallMillis) implements MediaReport {}

  /** No RTP on the stream for the configured time. */
  record TimedOut(String label, long lastPacketAt, long silentMillis) implements MediaReport {}

  /** The session stopped receiving and reported everything it had; the streams' final counters. */
  record Closed(Map<String, StreamCounters> counters) implements MediaReport {}
}
