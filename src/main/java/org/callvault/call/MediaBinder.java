package org.callvault.call;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * What a call needs from its node's media plane: a socket per stream, and the audio chunks that
 * reached storage. Implemented by the media package; the call sees only these plain types.
 */
public interface MediaBinder {

  /**
   * Binds one RTP socket (and the RTCP socket above it) per stream. Until {@link Session#activate}
   * every packet is dropped and counted, whatever the gates say.
   *
   * @param baseline   the counters each stream starts from: what its ledger last recorded
   * @param lastStored the last chunk listed of each stream that has one, by label: a sender that
   *                   goes on with the same SSRC keeps its place on the call's time axis
   * @param reports    where the session reports stored chunks, losses, digits and timeouts; called
   *                   from media threads, so it must only enqueue
   */
  Session bind(
      String callId,
      List<StreamSpec> streams,
      Gates gates,
      Map<String, StreamCounters> baseline,
      Map<String, ChunkInfo> lastStored,
      Consumer<MediaReport> reports)
      throws MediaUnavailableException;

  /**
   * The call's media moved here from node {@code from} ({@code cause}: NODE_FAILURE, HANDOFF):
   * tells whoever sends it where media must go now (the call's webhook, or its SIPREC client by a
   * re-INVITE; {@code spec} says which), and a node that handed the call off where to relay what
   * it still receives. Nothing by default; the node's signalling overrides it.
   */
  default void moved(CallSpec spec, Map<String, Endpoint> endpoints, String cause, String from) {}

  /** Whether another node could take a call over now; true unless the node's cluster says otherwise. */
  default boolean anotherNodeIsUp() {
    return true;
  }

  /** Chunks of {@code label} stored under {@code epoch} with a number above {@code afterN}, in order. */
  CompletionStage<List<ChunkInfo>> storedAfter(String callId, String label, long epoch, long afterN);

  /** The sockets of one call on this node. */
  interface Session {
    /** Where each stream's RTP must be sent, by label. */
    Map<String, Endpoint> endpoints();

    /** Starts storing: chunks are keyed under {@code epoch} (the seq of the event that recorded these endpoints). */
    void activate(long epoch);

    /**
     * Binds sockets for streams added to the running call; they store once {@link #activate}d
     * again. Returns their endpoints, by label.
     */
    Map<String, Endpoint> add(List<StreamSpec> streams, Gates gates) throws MediaUnavailableException;

    /** The streams' counters now, by label. */
    Map<String, StreamCounters> counters();

    /** Stops receiving, stores and reports what was received, then reports {@link MediaReport.Closed}. */
    void close();

    /**
     * As {@link #close}, but the sockets go on receiving for the node that takes the call over:
     * what arrives is held, and relayed once that node asks for it, until the sender has moved.
     */
    void handOff();
  }

  /** No socket could be bound (port range exhausted, node over its call limit). */
  final class MediaUnavailableException extends Exception {
    public MediaUnavailableException(String message) {
      super(message);
    }
  }
}
