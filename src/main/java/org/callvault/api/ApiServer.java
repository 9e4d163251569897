package org.callvault.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.Patterns;
import org.callvault.api.access.Authenticator;
import org.callvault.api.access.Role;
import org.callvault.core.StreamCounters;
import org.callvault.store.RecordingKeys;

/** Binds the HTTP API of this node: the call routes and the node's health. */
public final class ApiServer extends AllDirectives {

  /**
   * Where the API listens ({@code callvault.http}).
   *
   * @param keystore a PKCS12 file with the server's key and certificate chain: the API speaks HTTPS
   *     only; null for plain HTTP
   */
  public record Settings(String host, int port, Path keystore, char[] keystorePassword) {

    public Settings(String host, int port) {
      this(host, port, null, null);
    }

    /** Reads {@code callvault.http}. */
    public static Settings from(Config http) {
      String keystore = http.getString("tls.keystore");
      if (keystore.isEmpty()) return new Settings(http.getString("host"), http.getInt("port"));
      if (!Files.isReadable(Path.of(keystore)))
        throw new IllegalArgumentException(
            "callvault.http.tls.keystore: cannot read '"
                + Path.of(keystore).toAbsolutePath()
                + "'");
      return new Settings(
          http.getString("host"),
          http.getInt("port"),
          Path.of(keystore),
          http.getString("tls.keystore-password").toCharArray());
    }

    /** The server side of TLS from the keystore; null for plain HTTP. */
    SSLContext tls() throws GeneralSecurityException, IOException {
      if (keystore == null) return null;
      KeyStore store = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(keystore)) {
        store.load(in, keystorePassword);
      }
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, keystorePassword);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, new SecureRandom());
      return context;
    }
  }

  /**
   * What the health endpoint shows of this node, read when it is asked.
   *
   * @param member the node's cluster membership status (Up, Joining, Leaving…)
   * @param upMembers the members of the cluster that are Up
   * @param calls calls whose media this node receives now
   * @param relayingCalls calls handed off whose old sockets here still relay to their new node
   * @param rtpPortsInUse RTP ports (each with its RTCP port) held here now
   * @param chunksUnstored chunks storage refused or failed since the node started, each a recorded
   *     gap
   * @param sipRefused SIP messages refused as malformed since the node started
   * @param spooledChunks chunks waiting in this node's spool for storage to take them
   * @param spoolBytes the bytes the spool takes on disk
   * @param spoolOldestMillis when the oldest of them was spooled (epoch millis), 0 for none
   * @param refusedForHeadroom new calls refused since the node started because it had no headroom
   * @param eventLoopLagMillis the worst lag of its media event loops within the last second
   * @param packets what the streams received here counted since the node started, together
   */
  public record NodeStatus(
      String node,
      String member,
      boolean up,
      int upMembers,
      int calls,
      int relayingCalls,
      int rtpPortsInUse,
      long chunksUnstored,
      long sipRefused,
      int spooledChunks,
      long spoolBytes,
      long spoolOldestMillis,
      long refusedForHeadroom,
      double eventLoopLagMillis,
      StreamCounters packets) {}

  /** How long the health check waits for storage to answer. */
  private static final Duration STORAGE_CHECK = Duration.ofSeconds(3);

  private final ActorSystem<?> system;
  private final Settings settings;
  private final CallRoutes calls;
  private final Authenticator authenticator;
  private final Supplier<NodeStatus> status;
  private final NodeRoutes nodes;
  private final RecordingKeys keys;
  private final Metrics metrics;

  /**
   * @param status this node's numbers, read when asked
   * @param nodes the cluster's members and their numbers, and their drain
   * @param keys the recordings' keys, which an admin has wrapped again after a master key rotation;
   *     null on a node without them (tests)
   */
  public ApiServer(
      ActorSystem<?> system,
      Settings settings,
      CallRoutes calls,
      Authenticator authenticator,
      Supplier<NodeStatus> status,
      NodeRoutes.Nodes nodes,
      RecordingKeys keys) {
    this.system = system;
    this.settings = settings;
    this.calls = calls;
    this.authenticator = authenticator;
    this.status = status;
    this.nodes = new NodeRoutes(nodes);
    this.keys = keys;
    this.metrics = new Metrics(status, authenticator);
  }

  /** Binds on {@code callvault.http}; the binding is unbound by coordinated shutdown. */
  public CompletionStage<ServerBinding> start() {
    ServerBuilder server = Http.get(system).newServerAt(settings.host(), settings.port());
    try {
      SSLContext tls = settings.tls();
      if (tls != null) server = server.enableHttps(ConnectionContext.httpsServer(tls));
    } catch (GeneralSecurityException | IOException e) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "callvault.http.tls: cannot use the keystore " + settings.keystore() + ": " + e, e));
    }
    return server
        .bind(routes())
        .thenApply(binding -> binding.addToCoordinatedShutdown(Duration.ofSeconds(5), system));
  }

  /** Adds {@code metrics} (measured elsewhere on the node) to what {@code GET /metrics} serves. */
  public void register(io.prometheus.metrics.model.registry.Collector metrics) {
    this.metrics.register(metrics);
  }

  /** Whether the API speaks HTTPS. */
  public boolean https() {
    return settings.keystore() != null;
  }

  /**
   * The API's route table: the node's health, open to probes, the routes of calls, those of the
   * cluster's nodes, and the web console.
   */
  RouteTable table() {
    List<RouteTable.Entry> entries = new ArrayList<>();
    entries.add(
        new RouteTable.Entry(
            HttpMethods.GET, "/v1/health", RouteTable.Access.OPEN, (who, path) -> health()));
    // Open, as health is, whose numbers it carries: what a Prometheus scrape reaches.
    entries.add(
        new RouteTable.Entry(
            HttpMethods.GET,
            "/metrics",
            RouteTable.Access.OPEN,
            (who, path) ->
                complete(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape()))));
    entries.addAll(calls.entries());
    entries.addAll(nodes.entries());
    entries.addAll(new ConsoleRoutes().entries());
    entries.add(
        new RouteTable.Entry(
            HttpMethods.POST,
            "/v1/keys/rewrap",
            RouteTable.Access.of(Role.ADMIN),
            (who, path) -> rewrap()));
    return new RouteTable(entries, authenticator);
  }

  Route routes() {
    RouteTable table = table();
    return handleExceptions(
        calls.errors(), () -> handleRejections(CallRoutes.rejections(), table::route));
  }

  /**
   * Wraps every recording's keys with the master keyset's primary key (after a rotation), so the
   * older master keys can be retired: how many were wrapped again, how many already were.
   */
  private Route rewrap() {
    if (keys == null)
      return complete(
          CallRoutes.json(
              StatusCodes.SERVICE_UNAVAILABLE, CallJson.error(503, "this node keeps no keys")));
    return onSuccess(
        keys.rewrap(),
        done ->
            complete(
                CallRoutes.json(
                    StatusCodes.OK,
                    CallJson.MAPPER
                        .createObjectNode()
                        .put("rewrapped", done.rewrapped())
                        .put("alreadyPrimary", done.alreadyPrimary())
                        .put("primaryKeyId", done.primaryKeyId()))));
  }

  /**
   * Why this node's storage (its journal and audio store) does not answer now, or null when it
   * answers within {@link #STORAGE_CHECK}.
   */
  public CompletionStage<String> storageProblem() {
    CompletionStage<Void> timeout =
        Patterns.after(
            STORAGE_CHECK,
            system.classicSystem().scheduler(),
            system.executionContext(),
            () ->
                CompletableFuture.failedFuture(
                    new TimeoutException("no answer within " + STORAGE_CHECK.toSeconds() + " s")));
    return calls
        .ready()
        .applyToEither(timeout, ok -> ok)
        .handle((ok, failure) -> failure == null ? null : String.valueOf(failure));
  }

  /**
   * 200 while this node can host calls: an Up member of the cluster whose journal and audio store
   * answer (on a new Cassandra, the first start creates their tables, which takes seconds). Status
   * UP, or DEGRADED while chunks wait in its spool (storage answers again and the spool drains; new
   * calls are taken, their audio waits behind). 503 with the reason otherwise: STARTING before the
   * node is Up, UNAVAILABLE while storage does not answer (the calls' sockets go on receiving,
   * their audio spooled). Always with the node's numbers.
   */
  private Route health() {
    NodeStatus now = status.get();
    ObjectNode json = CallJson.MAPPER.createObjectNode();
    json.put("node", now.node());
    json.put("member", now.member());
    json.put("members", now.upMembers());
    NodeRoutes.numbers(json, now);
    json.putObject("authentication")
        .put("refused", authenticator.refused())
        .put("throttled", authenticator.throttled());
    if (!now.up()) {
      json.put("status", "STARTING").put("reason", "not yet an Up member of the cluster");
      return complete(CallRoutes.json(StatusCodes.SERVICE_UNAVAILABLE, json));
    }
    CompletionStage<String> problem = storageProblem();
    return onSuccess(
        problem,
        reason -> {
          if (reason != null) {
            json.put("status", "UNAVAILABLE").put("reason", "storage does not answer: " + reason);
          } else if (now.spooledChunks() > 0) {
            json.put("status", "DEGRADED")
                .put(
                    "reason",
                    now.spooledChunks() + " chunks wait in the spool for storage to take them");
          } else {
            json.put("status", "UP");
          }
          return complete(
              CallRoutes.json(
                  reason == null ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, json));
        });
  }
}
