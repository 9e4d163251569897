package org.callvault.core;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a call needs from its node's media plane: a socket per stream, and the audio chunks that
 * reached storage. Implemented by the media package and used by the call's entity; neither knows
 * the other, both know this.
 */
public interface MediaBinder {

  /**
   * Binds one RTP socket (and the RTCP socket above it) per stream. Until {@link Session#activate}
   * every packet is dropped and counted, whatever the gates say.
   *
   * @param gates the gate of each stream, by label
   * @param baseline the counters each stream starts from: what its ledger last recorded
   * @param lastStored the last chunk listed of each stream that has one, by label: a sender that
   *     goes on with the same SSRC keeps its place on the call's time axis
   * @param reports where the session reports stored chunks, losses, digits and timeouts; called
   *     from media threads, so it must only enqueue
   */
  Session bind(
      String callId,
      List<StreamSpec> streams,
      Function<String, ? extends Gate> gates,
      Map<String, StreamCounters> baseline,
      Map<String, ChunkInfo> lastStored,
      Consumer<MediaReport> reports)
      throws MediaUnavailableException;

  /**
   * Why this node takes no new call now (it has no headroom left), in words an operator can act on;
   * null when it takes one. Only a call being created asks: a call already recording is never
   * refused.
   */
  default String refusesNewCalls() {
    return null;
  }

  /**
   * Chunks of {@code label} stored under {@code epoch} with a number above {@code afterN}, in
   * order.
   */
  CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN);

  /**
   * Destroys the call's keys, so that none of its audio or sealed personal fields can be read again
   * anywhere, then deletes its audio: {@code stored} names, per stream and epoch, the number of the
   * last chunk listed.
   */
  CompletionStage<Void> erase(String callId, Map<String, Map<Long, Long>> stored);

  /** The sockets of one call on this node. */
  interface Session {
    /** Where each stream's RTP must be sent, by label. */
    Map<String, Endpoint> endpoints();

    /**
     * Starts storing: chunks are keyed under {@code epoch} (the seq of the event that recorded
     * these endpoints).
     */
    void activate(long epoch);

    /**
     * Binds sockets for streams added to the running call; they store once {@link #activate}d
     * again. Returns their endpoints, by label.
     */
    Map<String, Endpoint> add(List<StreamSpec> streams, Function<String, ? extends Gate> gates)
        throws MediaUnavailableException;

    /**
     * The call was handed off to these sockets by {@code node}, whose old sockets still receive
     * what the sender sends there: asks that node to relay it here, and keeps the sender's direct
     * datagrams back until the relayed ones, which are older, have come.
     */
    void takeOverFrom(String node);

    /** The streams' counters now, by label. */
    Map<String, StreamCounters> counters();

    /** The epoch the session stores under; 0 before {@link #activate}. */
    long epoch();

    /**
     * The chunks stored and reported that the entity has not yet confirmed as listed ({@link
     * #listed}), per stream in order. A session outlives a restart of its entity, whose ledger may
     * have missed some of them.
     */
    List<ChunkInfo> unlisted();

    /** The ledger lists {@code chunk} and every chunk of its stream before it. */
    void listed(ChunkInfo chunk);

    /**
     * Stops receiving, stores and reports what was received, then reports {@link
     * MediaReport.Closed}.
     */
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
