package org.callvault.api;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.callvault.store.ChunkStore;

/** Binds the HTTP API of this node. */
public final class ApiServer extends AllDirectives {

  private final ActorSystem<?> system;
  private final ChunkStore chunks;
  private final java.util.function.IntSupplier callsHere;

  /**
   * @param chunks    where exports read audio from; null on a node that stores none
   * @param callsHere how many calls this node receives media for now
   */
  public ApiServer(ActorSystem<?> system, ChunkStore chunks, java.util.function.IntSupplier callsHere) {
    this.system = system;
    this.chunks = chunks;
    this.callsHere = callsHere;
  }

  /** Binds on {@code callvault.http}; the binding is unbound by coordinated shutdown. */
  public CompletionStage<ServerBinding> start() {
    String host = system.settings().config().getString("callvault.http.host");
    int port = system.settings().config().getInt("callvault.http.port");
    return Http.get(system)
        .newServerAt(host, port)
        .bind(routes())
        .thenApply(binding -> binding.addToCoordinatedShutdown(java.time.Duration.ofSeconds(5), system));
  }

  Route routes() {
    CallRoutes calls = new CallRoutes(system, chunks);
    return concat(pathPrefix("v1", () -> path("health", () -> get(() -> health(calls)))), calls.routes());
  }

  /**
   * 200 once this node can host calls: an Up member of the cluster whose journal and audio store
   * answer (on a new Cassandra, the first start creates their tables, which takes seconds);
   * 503 with the reason before.
   */
  private Route health(CallRoutes calls) {
    MemberStatus status = Cluster.get(system).selfMember().status();
    var json = CallJson.MAPPER.createObjectNode();
    json.put("node", Cluster.get(system).selfMember().address().toString());
    json.put("member", status.toString());
    int members = 0;
    for (var member : Cluster.get(system).state().getMembers()) if (member.status() == MemberStatus.up()) members++;
    json.put("members", members);
    json.put("calls", callsHere.getAsInt());
    if (status != MemberStatus.up()) {
      json.put("status", "STARTING").put("reason", "not yet an Up member of the cluster");
      return complete(CallRoutes.json(StatusCodes.SERVICE_UNAVAILABLE, json));
    }
    CompletionStage<String> problem =
        calls.ready().toCompletableFuture().orTimeout(3, java.util.concurrent.TimeUnit.SECONDS).handle((ok, failure) -> failure == null ? null : String.valueOf(failure));
    return onSuccess(
        problem,
        reason -> {
          json.put("status", reason == null ? "UP" : "STARTING");
          if (reason != null) json.put("reason", "storage not ready: " + reason);
          return complete(CallRoutes.json(reason == null ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, json));
        });
  }
}
