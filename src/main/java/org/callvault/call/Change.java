package org.callvault.call;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Map;
import org.callvault.core.CborSerializable;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;

/**
 * What an {@link Event} of the ledger changed. Persisted forever and bound to Jackson by the {@link
 * JsonTypeName} of each change, never by class name; the ledger's {@code type} is that same name. A
 * change's shape may gain optional fields (the canonical hash leaves nulls out, so old events still
 * verify); every other change of shape is noted on the change with how events already written still
 * read.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(Change.CallCreated.class),
  @JsonSubTypes.Type(Change.ConsentChanged.class),
  @JsonSubTypes.Type(Change.Paused.class),
  @JsonSubTypes.Type(Change.Resumed.class),
  @JsonSubTypes.Type(Change.Stopped.class),
  @JsonSubTypes.Type(Change.MediaBound.class),
  @JsonSubTypes.Type(Change.MediaUnavailable.class),
  @JsonSubTypes.Type(Change.MediaReleased.class),
  @JsonSubTypes.Type(Change.ChunkStored.class),
  @JsonSubTypes.Type(Change.MediaGap.class),
  @JsonSubTypes.Type(Change.MediaTimeout.class),
  @JsonSubTypes.Type(Change.DtmfDetected.class),
  @JsonSubTypes.Type(Change.PartyJoined.class),
  @JsonSubTypes.Type(Change.PartyRenamed.class),
  @JsonSubTypes.Type(Change.StreamsAdded.class),
  @JsonSubTypes.Type(Change.LegalHoldChanged.class),
  @JsonSubTypes.Type(Change.RecordingErased.class),
  @JsonSubTypes.Type(Change.Accessed.class),
  @JsonSubTypes.Type(Change.ExportMade.class),
  @JsonSubTypes.Type(Change.MetadataReceived.class)
})
public sealed interface Change extends CborSerializable {

  /** The name of the change in the ledger: its Jackson type name. */
  default String type() {
    return getClass().getAnnotation(JsonTypeName.class).value();
  }

  /** The call was created with this spec. */
  @JsonTypeName("CallCreated")
  record CallCreated(CallSpec spec) implements Change {}

  /** A party's consent changed from {@code previous} to {@code decision}. */
  @JsonTypeName("ConsentChanged")
  record ConsentChanged(String party, Party.Consent decision, Party.Consent previous)
      implements Change {}

  /** Recording was paused. */
  @JsonTypeName("Paused")
  record Paused(String reason) implements Change {}

  /** Recording resumed; {@code reason} is set when the system resumed it on its own. */
  @JsonTypeName("Resumed")
  record Resumed(String reason) implements Change {}

  /** The recording ended. */
  @JsonTypeName("Stopped")
  /** {@code reason}: why a call stopped itself (a limit of its policy); null when asked to. */
  record Stopped(String reason) implements Change {}

  /**
   * The call's streams are received on {@code node} at these endpoints; this event's seq is the
   * media epoch.
   */
  @JsonTypeName("MediaBound")
  record MediaBound(String node, Map<String, Endpoint> endpoints) implements Change {}

  /** No socket could be bound for the call on this node: nothing is received until it moves. */
  @JsonTypeName("MediaUnavailable")
  record MediaUnavailable(String node, String reason) implements Change {}

  /**
   * The call's sockets on {@code node} closed in order, with each stream's counters then, and why.
   * Shape notes: {@code reason} was added after the first events were written; an event without it
   * was written after a stop ({@link #reasonOrStopped}). It was a string of the same names before
   * it was a {@link ReleaseReason}, so events written then read unchanged.
   */
  @JsonTypeName("MediaReleased")
  record MediaReleased(String node, Map<String, StreamCounters> counters, ReleaseReason reason)
      implements Change {
    ReleaseReason reasonOrStopped() {
      return reason == null ? ReleaseReason.STOPPED : reason;
    }
  }

  /** A chunk of audio reached storage; {@code adopted} when it was found there after a crash. */
  @JsonTypeName("ChunkStored")
  record ChunkStored(ChunkInfo chunk, StreamCounters counters, boolean adopted) implements Change {}

  /**
   * Audio of a stream that was sent but is missing from the recording, why, and, for a store
   * failure, the error ({@code detail}; null otherwise).
   *
   * <p>Shape notes: persisted as {@link Written}. {@code cause} was free text, the cause's name
   * with the error after ": " ({@code "STORE_FAILURE: timeout"}), before it became a {@link
   * GapCause} with a {@code detail} of its own. Such an event reads as that cause with that detail,
   * and is written back as it was ({@code causeWithDetail}), so that its hash, computed over the
   * text it was written with, verifies.
   */
  @JsonTypeName("MediaGap")
  record MediaGap(
      String label,
      GapCause cause,
      String detail,
      long startWallMicros,
      long endWallMicros,
      int packets,
      boolean causeWithDetail)
      implements Change {

    public MediaGap(
        String label,
        GapCause cause,
        String detail,
        long startWallMicros,
        long endWallMicros,
        int packets) {
      this(label, cause, detail, startWallMicros, endWallMicros, packets, false);
    }

    /** The persisted shape. */
    record Written(
        String label,
        String cause,
        String detail,
        long startWallMicros,
        long endWallMicros,
        int packets) {}

    @JsonValue
    Written written() {
      return causeWithDetail
          ? new Written(
              label, cause.name() + ": " + detail, null, startWallMicros, endWallMicros, packets)
          : new Written(label, cause.name(), detail, startWallMicros, endWallMicros, packets);
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static MediaGap read(Written w) {
      int colon = w.cause().indexOf(": ");
      if (colon < 0)
        return new MediaGap(
            w.label(),
            GapCause.valueOf(w.cause()),
            w.detail(),
            w.startWallMicros(),
            w.endWallMicros(),
            w.packets());
      GapCause cause = GapCause.valueOf(w.cause().substring(0, colon));
      return new MediaGap(
          w.label(),
          cause,
          w.cause().substring(colon + 2),
          w.startWallMicros(),
          w.endWallMicros(),
          w.packets(),
          true);
    }
  }

  /** No RTP arrived on the stream for {@code silentMillis}; the call goes on. */
  @JsonTypeName("MediaTimeout")
  record MediaTimeout(String label, long lastPacketAt, long silentMillis) implements Change {}

  /** A telephone-event digit; {@code digit} is null when the stream's gate was closed. */
  @JsonTypeName("DtmfDetected")
  record DtmfDetected(String label, String digit, long wallMillis) implements Change {}

  /** A party joined the running call (its consent as declared, usually UNKNOWN). */
  @JsonTypeName("PartyJoined")
  record PartyJoined(CallSpec.PartySpec party) implements Change {}

  /** A party's display name or address of record changed (SIPREC metadata). */
  @JsonTypeName("PartyRenamed")
  record PartyRenamed(String party, String name, String aor) implements Change {}

  /**
   * Streams added to the running call; {@code endpoints} are where each is received, bound on this
   * node under the current media epoch (empty on a node without media).
   */
  @JsonTypeName("StreamsAdded")
  record StreamsAdded(List<StreamSpec> streams, Map<String, Endpoint> endpoints)
      implements Change {}

  /**
   * A legal hold placed ({@code on}, with its reason) or lifted: while it holds, nothing erases the
   * recording, neither a request nor its retention.
   */
  @JsonTypeName("LegalHoldChanged")
  record LegalHoldChanged(boolean on, String reason) implements Change {}

  /**
   * The recording's keys were destroyed and its audio deleted: its audio and its parties' personal
   * fields can never be read again; this ledger keeps the facts. {@code reason}: why (a request,
   * its retention).
   */
  @JsonTypeName("RecordingErased")
  record RecordingErased(String reason) implements Change {}

  /**
   * Someone read the recording: {@code what} they read ({@code audio}, {@code ledger}, {@code
   * verification}…), as the event's {@code by} with these {@code roles}.
   */
  @JsonTypeName("Accessed")
  record Accessed(String what, String roles) implements Change {}

  /**
   * An export was made: the SHA-256 of its bytes (hex), the hash of the ledger's last event it was
   * made from, its layout and stream, and its length; a file handed on can be matched to it.
   */
  @JsonTypeName("ExportMade")
  record ExportMade(String sha256, String ledgerHash, String layout, String label, long bytes)
      implements Change {}

  /**
   * The recording client's metadata (RFC 7865) as it arrived with a SIPREC INVITE, re-INVITE or
   * UPDATE: {@code document} is the base64 of its bytes, sealed under the call's field key like a
   * party's personal fields (it names them), so an erasure makes it unreadable too.
   */
  @JsonTypeName("MetadataReceived")
  record MetadataReceived(String document) implements Change {}
}
