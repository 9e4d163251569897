package org.callvault.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.stream.BindFailedException;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.callvault.api.ApiServer;
import org.callvault.api.CallRoutes;
import org.callvault.api.access.Authenticator;
import org.callvault.call.CallRecording;
import org.callvault.call.Calls;
import org.callvault.call.CatalogTags;
import org.callvault.call.RetentionSweep;
import org.callvault.catalog.Catalog;
import org.callvault.catalog.CatalogProjection;
import org.callvault.media.MediaServer;
import org.callvault.media.relay.MediaRelay;
import org.callvault.siprec.RecordingServer;
import org.callvault.siprec.SipSignals;
import org.callvault.siprec.SipTransport;
import org.callvault.store.CassandraChunkStore;
import org.callvault.store.HaltAfterWrites;
import org.callvault.store.MasterKeyset;
import org.callvault.store.RecordingKeys;
import org.callvault.store.Spool;
import org.callvault.store.TimedJournal;
import org.callvault.store.TimedWrites;
import org.callvault.webhooks.Outbox;
import org.callvault.webhooks.OutboxDelivery;
import org.callvault.webhooks.WebhookSender;
import org.callvault.webhooks.WebhookSignature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One CallVault node, wired: it joins the cluster through its seed nodes or the cluster bootstrap
 * (or forms one alone when neither is set), stores audio, receives media, serves SIPREC, hosts call
 * entities through sharding, and serves the API. The composition root: nothing imports this
 * package.
 */
final class Node {

  private static final Logger log = LoggerFactory.getLogger(Node.class);

  /** A port the node must listen on is taken by another process. */
  static final class PortInUse extends Exception {
    PortInUse(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private Node() {}

  /** Starts every part of the node on {@code system}; returns once the API listens. */
  static void start(ActorSystem<Void> system, NodeSettings settings) throws PortInUse {
    join(system, settings.bootstrap());
    if (settings.downGoneMembers()) GoneMembers.start(system);
    Members members = new Members(system);
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    CompletionStage<CqlSession> cassandra = cassandraSession(system);
    CassandraChunkStore audio =
        new CassandraChunkStore(cassandra, settings.audio(), settings.master());
    RecordingKeys keys = audio.keys();
    var catalogConfig = system.settings().config().getConfig("callvault.catalog");
    Outbox outbox =
        new Outbox(
            cassandra,
            catalogConfig.getString("keyspace"),
            catalogConfig.getBoolean("tables-autocreate"),
            settings.webhookUrl());
    WebhookSender webhooks = new WebhookSender(new WebhookSignature(settings.webhookSecret()));
    Catalog catalog = new Catalog(cassandra, catalogConfig, keys, outbox::add);
    CatalogProjection.start(system, catalog);
    OutboxDelivery.start(system, outbox, webhooks, CatalogTags.COUNT);
    TimedWrites chunks =
        new TimedWrites(
            settings.haltAfterChunks() > 0
                ? new HaltAfterWrites(audio, settings.haltAfterChunks())
                : audio);

    MediaServer media = null;
    if (settings.media() != null) {
      media =
          new MediaServer(
              settings.media(),
              chunks,
              openSpool(settings.spool(), settings.master()),
              source -> MediaRelay.start(system, source, settings.media().relay().hold()));
      awaitReplay(media, settings.spoolReplayWait());
      MediaServer started = media;
      // After sharding has handed this node's calls off and before the node leaves: their old
      // sockets relay to the nodes that took them over until the senders have moved.
      shutdown.addTask(
          MediaRelay.SHUTDOWN_PHASE,
          "media-relay",
          () -> started.relaysEnded().thenApply(done -> Done.getInstance()));
      shutdown.addTask(
          CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
          "media-close",
          () -> done(started::close));
    }

    Calls calls = new Calls(system, settings.askTimeout(), keys);
    SipTransport sip = null;
    SipSignals.Requests reInvites = null;
    if (settings.sip() != null) {
      MediaServer counted = media;
      NodeSettings.Sip s = settings.sip();
      var server =
          new RecordingServer.Settings(
              s.contact(),
              s.allowedSources(),
              settings.defaultPolicy(),
              s.policyBySource(),
              system.settings().config().getInt("callvault.media.max-calls"),
              (int) s.retryAfter().toSeconds(),
              members.self(),
              s.sessionExpires().toSeconds(),
              s.minSessionExpires().toSeconds());
      var recording = new java.util.concurrent.atomic.AtomicReference<RecordingServer>();
      sip =
          new SipTransport(
              s.maxMessageBytes(),
              (loop, client) -> {
                recording.set(
                    new RecordingServer(
                        server,
                        calls,
                        () -> counted == null ? 0 : counted.activeCalls(),
                        loop,
                        client));
                return recording.get();
              });
      SipTransport binding = sip;
      bind(
          "SIPREC",
          s.host(),
          s.port(),
          "CALLVAULT_SIP_PORT",
          () -> binding.bind(s.host(), s.port()));
      SipTransport bound = sip;
      shutdown.addTask(
          CoordinatedShutdown.PhaseServiceUnbind(), "sip-unbind", () -> done(bound::close));
      reInvites = SipSignals.start(system, recording.get());
    }

    CallRoutes routes =
        new CallRoutes(
            system, calls, settings.defaultPolicy(), settings.readJournal(), chunks, keys, catalog);
    MediaServer counted = media;
    SipTransport refusing = sip;
    Supplier<ApiServer.NodeStatus> status =
        () ->
            new ApiServer.NodeStatus(
                members.self(),
                members.selfStatus().toString(),
                members.selfStatus() == org.apache.pekko.cluster.MemberStatus.up(),
                members.up(),
                counted == null ? 0 : counted.activeCalls(),
                counted == null ? 0 : counted.relayingCalls(),
                counted == null ? 0 : counted.portsInUse(),
                counted == null ? 0 : counted.chunksUnstored(),
                refusing == null ? 0 : refusing.refused(),
                counted == null ? 0 : counted.spooledChunks(),
                counted == null ? 0 : counted.spoolBytes(),
                counted == null ? 0 : counted.spoolOldestMillis(),
                counted == null ? 0 : counted.refusedForHeadroom(),
                counted == null ? 0 : counted.eventLoopLagMillis(),
                counted == null ? org.callvault.core.StreamCounters.ZERO : counted.packetTotals());
    ApiServer api =
        new ApiServer(
            system,
            settings.http(),
            routes,
            new Authenticator(
                settings.auth(),
                system.dispatchers().lookup(DispatcherSelector.blocking()),
                System::currentTimeMillis),
            status,
            NodeStatuses.start(system, status),
            keys);
    StorageReadiness.PROBE.apply(system).set(api::storageProblem);
    chunks.metrics().forEach(api::register);
    api.register(catalog.lag());
    api.register(webhooks.metrics());
    ShardCounts.start(system).forEach(api::register);
    TimedJournal.metrics().forEach(api::register);
    CallRecording.init(
        system,
        media,
        new MoveSignals(settings.webhookUrl(), webhooks, system, members, reInvites),
        new SteadyRebalancing(
            ClusterSharding.get(system)
                .defaultShardAllocationStrategy(ClusterShardingSettings.create(system)),
            () ->
                counted != null && counted.spooledChunks() > 0
                    ? CompletableFuture.completedFuture(
                        counted.spooledChunks() + " chunks wait in the spool")
                    : api.storageProblem()));

    if (media != null) media.onStoredFromSpool(calls::storedLate);
    String entityIds = CallRecording.ENTITY_TYPE_KEY.name() + "|";
    RetentionSweep.start(
        system,
        calls,
        () ->
            PersistenceQuery.get(system)
                .getReadJournalFor(CurrentPersistenceIdsQuery.class, settings.readJournal())
                .currentPersistenceIds()
                .filter(id -> id.startsWith(entityIds))
                .map(id -> id.substring(entityIds.length())),
        Clock.systemUTC(),
        settings.retention());
    ServerBinding binding =
        bind(
            "The API",
            settings.http().host(),
            settings.http().port(),
            "CALLVAULT_HTTP_PORT",
            () -> await(api.start()));
    InetSocketAddress at = binding.localAddress();
    log.info(
        "CallVault API listening on {}://{}:{}/v1/calls",
        api.https() ? "https" : "http",
        at.getHostString(),
        at.getPort());
  }

  private static void join(ActorSystem<?> system, boolean bootstrap) {
    Cluster cluster = Cluster.get(system);
    if (bootstrap) {
      // Discovery finds the other nodes; the bootstrap joins them, or forms the cluster.
      PekkoManagement.get(system.classicSystem()).start();
      ClusterBootstrap.get(system.classicSystem()).start();
    } else if (system.settings().config().getList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }

  private static Spool openSpool(Spool.Settings settings, MasterKeyset master) {
    if (settings == null) return null;
    try {
      Spool spool = Spool.open(settings, master);
      log.info(
          "spool: {} (at most {} bytes, {} kept free on its disk)",
          settings.dir().toAbsolutePath(),
          settings.maxBytes(),
          settings.minFreeBytes());
      return spool;
    } catch (IOException e) {
      throw new IllegalStateException("cannot open the spool: " + e.getMessage(), e);
    }
  }

  /**
   * Before this node hosts calls: what its spool held from a previous run is stored, so an entity
   * that recovers here finds it in storage. Bounded: after {@code wait} the node starts anyway, and
   * each chunk stored later is listed by its call's entity when stored ({@link
   * MediaServer#onStoredFromSpool}).
   */
  private static void awaitReplay(MediaServer media, Duration wait) {
    try {
      media.replayed().toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      log.error(
          "the spool is not stored after {} s (is Cassandra reachable?); starting anyway: its"
              + " calls list the chunks stored from it later as they are stored",
          wait.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      log.error("storing the spool failed: {}", e.getCause().getMessage());
    }
  }

  /**
   * The session audio and the read model are stored with: one of their own
   * (pekko.connectors.cassandra, on the same driver configuration). The journal's session runs the
   * journal's keyspace and table creation when it starts, and sessions are shared by configuration
   * path, so sharing it could skip that.
   */
  private static CompletionStage<CqlSession> cassandraSession(ActorSystem<?> system) {
    return CassandraSessionRegistry.get(system)
        .sessionFor(CassandraSessionSettings.create())
        .underlying();
  }

  /** Binds a listening socket. */
  private interface Start<T> {
    T start() throws Exception;
  }

  /**
   * Runs {@code start}; a port already taken becomes {@link PortInUse}, saying how to choose
   * another.
   */
  private static <T> T bind(String what, String host, int port, String variable, Start<T> start)
      throws PortInUse {
    try {
      return start.start();
    } catch (Exception e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        // The JDK's BindException, or Pekko's BindFailedException around it (which may not keep
        // it).
        if (t instanceof BindException || t instanceof BindFailedException)
          throw new PortInUse(
              what
                  + " cannot listen on "
                  + host
                  + ":"
                  + port
                  + ": "
                  + t.getMessage()
                  + ". Is another CallVault node running? Set "
                  + variable
                  + " to use another port.",
              e);
      }
      throw new IllegalStateException(
          what + " cannot listen on " + host + ":" + port + ": " + e, e);
    }
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static CompletionStage<Done> done(Runnable action) {
    action.run();
    return CompletableFuture.completedFuture(Done.getInstance());
  }
}
