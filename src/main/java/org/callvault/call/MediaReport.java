package org.callvault.call;

import java.util.Map;

/** What a call's media session tells its entity: about one message per second per stream, never per packet. */
public sealed interface MediaReport extends CallRecording.Command
    permits MediaReport.ChunkWritten, MediaReport.ChunkLost, MediaReport.DigitPressed, MediaReport.TimedOut, MediaReport.Closed {

  /** A chunk reached storage; the entity now lists it in the ledger. */
  record ChunkWritten(ChunkInfo chunk, StreamCounters counters) implements MediaReport {}

  /** Audio that was received but could not be stored, and why. */
  record ChunkLost(String label, long startWallMicros, long endWallMicros, int packets, String cause) implements MediaReport {}

  /** An RFC 4733 digit ended; {@code digit} is null when the gate was closed (only the fact is kept). */
  record DigitPressed(String label, String digit, long wallMillis) implements MediaReport {}

  /** No RTP on the stream for the configured time. */
  record TimedOut(String label, long lastPacketAt, long silentMillis) implements MediaReport {}

  /** The session stopped receiving and reported everything it had; the streams' final counters. */
  record Closed(Map<String, StreamCounters> counters) implements MediaReport {}
}
