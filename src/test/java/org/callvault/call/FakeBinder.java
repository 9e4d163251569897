package org.callvault.call;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A media plane for tests that binds nothing real: stream i of bind b is at 127.0.0.1, port
 * 30000 + 100·b + 2·i; nothing is stored unlisted. Records what the entity asked of it.
 */
public final class FakeBinder implements MediaBinder {

  private final boolean reportsClosed;

  /** The test reports {@link MediaReport.Closed} itself, when it chooses. */
  public FakeBinder() {
    this(false);
  }

  private FakeBinder(boolean reportsClosed) {
    this.reportsClosed = reportsClosed;
  }

  /** Reports Closed as soon as a session is closed or handed off, as the real one does once it has stored what it holds. */
  public static FakeBinder reportingClosed() {
    return new FakeBinder(true);
  }

  int binds;
  int handOffs;
  final List<Map<String, ChunkInfo>> lastStored = new CopyOnWriteArrayList<>();
  final List<String> moves = new CopyOnWriteArrayList<>();

  @Override
  public void moved(CallSpec spec, Map<String, Endpoint> endpoints, String cause, String from) {
    String webhook = spec.webhook();
    Endpoint first = endpoints.getOrDefault("agent-leg", endpoints.values().iterator().next());
    moves.add(cause + " " + webhook + " " + first.port() + " from " + from);
  }

  @Override
  public Session bind(
      String callId,
      List<StreamSpec> streams,
      Gates gates,
      Map<String, StreamCounters> baseline,
      Map<String, ChunkInfo> lastStored,
      java.util.function.Consumer<MediaReport> reports) {
    this.lastStored.add(lastStored);
    int port = 30000 + 100 * binds++;
    Map<String, Endpoint> endpoints = new java.util.LinkedHashMap<>();
    for (int i = 0; i < streams.size(); i++) endpoints.put(streams.get(i).label(), new Endpoint("127.0.0.1", port + 2 * i));
    return new Session() {
      @Override
      public Map<String, Endpoint> endpoints() {
        return endpoints;
      }

      @Override
      public void activate(long epoch) {}

      @Override
      public Map<String, Endpoint> add(List<StreamSpec> added, Gates gates) {
        Map<String, Endpoint> more = new java.util.LinkedHashMap<>();
        for (StreamSpec spec : added) {
          Endpoint endpoint = new Endpoint("127.0.0.1", port + 2 * endpoints.size());
          endpoints.put(spec.label(), endpoint);
          more.put(spec.label(), endpoint);
        }
        return more;
      }

      @Override
      public Map<String, StreamCounters> counters() {
        return Map.of();
      }

      @Override
      public void close() {
        if (reportsClosed) reports.accept(new MediaReport.Closed(Map.of()));
      }

      @Override
      public void handOff() {
        handOffs++;
        if (reportsClosed) reports.accept(new MediaReport.Closed(Map.of()));
      }
    };
  }

  @Override
  public java.util.concurrent.CompletionStage<List<ChunkInfo>> storedAfter(String callId, String label, long epoch, long afterN) {
    return java.util.concurrent.CompletableFuture.completedFuture(List.of());
  }
}
