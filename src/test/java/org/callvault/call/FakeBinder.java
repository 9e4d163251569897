package org.callvault.call;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.Gate;
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;

/**
 * A media plane and cluster for tests that bind nothing real: stream i of bind b is at 127.0.0.1,
 * port 30000 + 100·b + 2·i; nothing is stored unlisted. Records what the entity asked of it.
 */
public final class FakeBinder implements MediaBinder, MediaMoves {

  private final boolean reportsClosed;

  /** The test reports {@link MediaReport.Closed} itself, when it chooses. */
  public FakeBinder() {
    this(false);
  }

  private FakeBinder(boolean reportsClosed) {
    this.reportsClosed = reportsClosed;
  }

  /**
   * Reports Closed as soon as a session is closed or handed off, as the real one does once it has
   * stored what it holds.
   */
  public static FakeBinder reportingClosed() {
    return new FakeBinder(true);
  }

  volatile int binds;

  /** Why this node takes no new call, when the test says so (it has no headroom). */
  volatile String refusesNewCalls;

  @Override
  public String refusesNewCalls() {
    return refusesNewCalls;
  }

  /**
   * Chunks the sessions wrote and reported that the ledger is not known to list (the test adds them
   * with {@link #written}).
   */
  final List<ChunkInfo> unlisted = new CopyOnWriteArrayList<>();

  int closes;

  /** How often storage was asked for chunks the ledger does not list. */
  volatile int lookups;

  /** What storage answers when next asked for unlisted chunks, when the test sets it; once. */
  volatile CompletableFuture<List<ChunkInfo>> nextLookup;

  /** What each stream of the sessions says it has received; the test moves it on. */
  final java.util.concurrent.atomic.AtomicLong received =
      new java.util.concurrent.atomic.AtomicLong();

  /** A session stored {@code chunk}: it is unlisted until the entity lists it. */
  MediaReport.ChunkWritten written(ChunkInfo chunk) {
    unlisted.add(chunk);
    return new MediaReport.ChunkWritten(chunk, StreamCounters.ZERO);
  }

  int handOffs;
  final List<Map<String, ChunkInfo>> lastStored = new CopyOnWriteArrayList<>();

  /** Each move signalled: cause, the call's webhook, the first stream's new port, the epoch. */
  final List<String> moves = new CopyOnWriteArrayList<>();

  /** The nodes asked to relay what the call's old sockets still receive. */
  final List<String> takeOvers = new CopyOnWriteArrayList<>();

  @Override
  public void moved(CallSpec spec, long epoch, Map<String, Endpoint> endpoints, GapCause cause) {
    Endpoint first = endpoints.getOrDefault("agent-leg", endpoints.values().iterator().next());
    moves.add(cause + " " + spec.webhook() + " " + first.port() + " epoch " + epoch);
  }

  @Override
  public boolean anotherNodeIsUp() {
    return true;
  }

  @Override
  public Session bind(
      String callId,
      List<StreamSpec> streams,
      Function<String, ? extends Gate> gates,
      Map<String, StreamCounters> baseline,
      Map<String, ChunkInfo> lastStored,
      Consumer<MediaReport> reports) {
    this.lastStored.add(lastStored);
    int port = 30000 + 100 * binds++;
    Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    for (int i = 0; i < streams.size(); i++)
      endpoints.put(streams.get(i).label(), new Endpoint("127.0.0.1", port + 2 * i));
    return new Session() {
      @Override
      public Map<String, Endpoint> endpoints() {
        return endpoints;
      }

      long epoch;

      @Override
      public void activate(long epoch) {
        this.epoch = epoch;
      }

      @Override
      public Map<String, Endpoint> add(
          List<StreamSpec> added, Function<String, ? extends Gate> gates) {
        Map<String, Endpoint> more = new LinkedHashMap<>();
        for (StreamSpec spec : added) {
          Endpoint endpoint = new Endpoint("127.0.0.1", port + 2 * endpoints.size());
          endpoints.put(spec.label(), endpoint);
          more.put(spec.label(), endpoint);
        }
        return more;
      }

      @Override
      public void takeOverFrom(String node) {
        takeOvers.add(node);
      }

      @Override
      public Map<String, StreamCounters> counters() {
        Map<String, StreamCounters> counters = new LinkedHashMap<>();
        for (String label : endpoints.keySet())
          counters.put(label, new StreamCounters(received.get(), 0, 0, Map.of(), 0, 0, 0, 0, 0));
        return counters;
      }

      @Override
      public long epoch() {
        return epoch;
      }

      @Override
      public List<ChunkInfo> unlisted() {
        return List.copyOf(unlisted);
      }

      @Override
      public void listed(ChunkInfo chunk) {
        unlisted.removeIf(c -> c.label().equals(chunk.label()) && c.n() <= chunk.n());
      }

      @Override
      public void close() {
        closes++;
        if (reportsClosed) reports.accept(new MediaReport.Closed(counters()));
      }

      @Override
      public void handOff() {
        handOffs++;
        if (reportsClosed) reports.accept(new MediaReport.Closed(Map.of()));
      }
    };
  }

  /** Each erasure asked: the call and, per stream and epoch, its last listed chunk. */
  final List<String> erased = new CopyOnWriteArrayList<>();

  /** Set by a test: erasures fail with this. */
  volatile String eraseFails;

  /** Set by a test: the next erasure completes when this does. */
  volatile CompletableFuture<Void> nextErase;

  @Override
  public CompletionStage<Void> erase(String callId, Map<String, Map<Long, Long>> stored) {
    if (eraseFails != null)
      return CompletableFuture.failedFuture(new IllegalStateException(eraseFails));
    erased.add(callId + " " + new java.util.TreeMap<>(stored));
    CompletableFuture<Void> answer = nextErase;
    nextErase = null;
    return answer != null ? answer : CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN) {
    lookups++;
    CompletableFuture<List<ChunkInfo>> answer = nextLookup;
    nextLookup = null;
    return answer != null ? answer : CompletableFuture.completedFuture(List.of());
  }
}
