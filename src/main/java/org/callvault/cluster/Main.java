package org.callvault.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.callvault.media.MediaServer;
import org.callvault.store.CassandraChunkStore;
import org.callvault.store.ChunkStore;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.callvault.api.ApiServer;
import org.callvault.call.CallRecording;
import org.callvault.call.Calls;
import org.callvault.call.Policy;
import org.callvault.siprec.RecordingServer;
import org.callvault.siprec.SipTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one CallVault node: joins the cluster through its seed nodes or the cluster bootstrap (or
 * forms one alone when neither is set),
 * hosts call entities through sharding, and serves the API.
 */
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /** Exit status when the API port is taken, so scripts can tell it from a crash. */
  static final int EXIT_PORT_IN_USE = 3;

  private Main() {}

  public static void main(String[] args) {
    ActorSystem.create(node(), "callvault", config());
  }

  /** The configuration ({@code -Dconfig.file} overlay on reference.conf) with the environment applied. */
  public static Config config() {
    Config config = ConfigFactory.load();
    String points = System.getenv("CASSANDRA_CONTACT_POINTS");
    if (points == null || points.isBlank()) return config;
    List<String> contactPoints =
        Arrays.stream(points.split(","))
            .map(String::trim)
            .filter(p -> !p.isEmpty())
            .map(p -> p.contains(":") ? p : p + ":9042")
            .toList();
    return ConfigFactory.parseMap(Map.of("datastax-java-driver.basic.contact-points", contactPoints)).withFallback(config);
  }

  static ChunkStore chunkStore(ActorSystem<?> system, Config audio) {
    // A session of its own (pekko.connectors.cassandra, on the same driver configuration): the
    // journal's session runs the journal's keyspace and table creation when it starts, and
    // sessions are shared by configuration path, so sharing it could skip that.
    CompletionStage<CqlSession> session = CassandraSessionRegistry.get(system).sessionFor(CassandraSessionSettings.create()).underlying();
    return new CassandraChunkStore(
        session, audio.getString("keyspace"), audio.getBoolean("tables-autocreate"), DefaultConsistencyLevel.valueOf(audio.getString("write-consistency")));
  }

  static MediaServer mediaServer(Config media, ChunkStore chunks) {
    return new MediaServer(
        new MediaServer.Settings(
            media.getString("bind-host"),
            media.getString("advertised-host"),
            media.getInt("port-min"),
            media.getInt("port-max"),
            media.getInt("max-calls"),
            media.getDuration("chunk-duration"),
            media.getInt("reorder-packets"),
            media.getDuration("reorder-delay"),
            media.getDuration("timeout"),
            media.getInt("flood-packets-per-second"),
            media.getInt("store-queue-per-stream"),
            media.getInt("store-retries"),
            media.getInt("receive-buffer"),
            media.getInt("event-loop-threads"),
            media.getLong("fault.halt-after-chunks"),
            media.getDuration("relay.idle"),
            media.getDuration("relay.hold"),
            media.getInt("relay.hold-packets")),
        chunks);
  }

  /** The SIPREC server and its transport. */
  record Sip(SipTransport transport, RecordingServer server) {}

  /** The SIPREC server on {@code callvault.sip.host:port}; the node stops if the port is taken. */
  static Sip sipServer(ActorSystem<?> system, Config config, java.util.function.IntSupplier activeCalls) {
    Config sip = config.getConfig("sip");
    Policy defaultPolicy = Policy.fromConfig(config.getConfig("default-policy"), "callvault.default-policy");
    Map<String, Policy> bySource = new java.util.HashMap<>();
    Config policies = sip.getConfig("policies");
    for (String source : policies.root().keySet()) {
      Config merged = policies.getConfig("\"" + source + "\"").withFallback(config.getConfig("default-policy"));
      bySource.put(source, Policy.fromConfig(merged, "callvault.sip.policies." + source));
    }
    var settings =
        new RecordingServer.Settings(
            "sip:srs@" + sip.getString("advertised-host") + ":" + sip.getInt("port"),
            java.util.Set.copyOf(listOrCommas(sip, "allowed-sources")),
            defaultPolicy,
            bySource,
            config.getInt("media.max-calls"),
            (int) sip.getDuration("retry-after").toSeconds(),
            system.address().toString());
    Calls calls = new Calls(system, config.getDuration("ask-timeout"));
    var server = new java.util.concurrent.atomic.AtomicReference<RecordingServer>();
    SipTransport transport =
        new SipTransport(
            (int) sip.getBytes("max-message-bytes").longValue(),
            (loop, client) -> {
              server.set(new RecordingServer(settings, calls, activeCalls, loop, client));
              return server.get();
            });
    try {
      transport.bind(sip.getString("host"), sip.getInt("port"));
    } catch (Exception e) {
      log.error("SIPREC cannot listen on {}:{}: {}. Set CALLVAULT_SIP_PORT to use another port.", sip.getString("host"), sip.getInt("port"), e.toString());
      transport.close();
      system.terminate();
      System.exit(EXIT_PORT_IN_USE);
    }
    return new Sip(transport, server.get());
  }

  /** A list setting that an environment variable may give as one comma-separated string. */
  static List<String> listOrCommas(Config config, String path) {
    if (config.getValue(path).valueType() == com.typesafe.config.ConfigValueType.STRING)
      return Arrays.stream(config.getString(path).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    return config.getStringList(path);
  }

  static Behavior<Void> node() {
    return Behaviors.setup(
        context -> {
          ActorSystem<Void> system = context.getSystem();
          Cluster cluster = Cluster.get(system);
          Config config = system.settings().config().getConfig("callvault");
          if (config.getBoolean("cluster.bootstrap")) {
            // Discovery finds the other nodes; the bootstrap joins them, or forms the cluster.
            PekkoManagement.get(system.classicSystem()).start();
            ClusterBootstrap.get(system.classicSystem()).start();
          } else if (system.settings().config().getList("pekko.cluster.seed-nodes").isEmpty()) {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
          }
          ChunkStore chunks = chunkStore(system, config.getConfig("audio"));
          MediaServer media = config.getBoolean("media.enabled") ? mediaServer(config.getConfig("media"), chunks) : null;
          if (media != null) {
            context.spawn(MediaRelay.create(media), MediaRelay.NAME);
            media.relayAsk(
                (node, callId, endpoints, token) ->
                    system.classicSystem()
                        .actorSelection(node + "/user/" + MediaRelay.NAME)
                        .tell(new MediaRelay.RelayTo(callId, endpoints, token), org.apache.pekko.actor.ActorRef.noSender()));
            CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
            // After sharding has handed this node's calls off and before the node leaves: their
            // old sockets relay to the nodes that took them over until the senders have moved.
            shutdown.addTask(MediaRelay.SHUTDOWN_PHASE, "media-relay", () -> media.relaysEnded().thenApply(done -> Done.getInstance()));
            shutdown.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "media-close", () -> {
              media.close();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
          }
          Sip sip = null;
          if (config.getBoolean("sip.enabled")) {
            Sip started = sipServer(system, config, media == null ? () -> 0 : media::activeCalls);
            CoordinatedShutdown.get(system)
                .addTask(CoordinatedShutdown.PhaseServiceUnbind(), "sip-unbind", () -> {
                  started.transport().close();
                  return CompletableFuture.completedFuture(Done.getInstance());
                });
            sip = started;
            context.spawn(SipSignals.create(started.server()), SipSignals.NAME);
          }
          RecordingServer sipServer = sip == null ? null : sip.server();
          CallRecording.init(system, media, new MoveSignals(config.getString("webhook.url"), system, sipServer));
          new ApiServer(system, chunks, media == null ? () -> 0 : media::activeCalls)
              .start()
              .whenComplete(
                  (binding, failure) -> {
                    if (failure != null) {
                      log.error(
                          "the API cannot listen on {}:{}: {}. Is another CallVault node running? Set CALLVAULT_HTTP_PORT to use another port.",
                          system.settings().config().getString("callvault.http.host"),
                          system.settings().config().getInt("callvault.http.port"),
                          failure.getMessage());
                      system.terminate();
                      System.exit(EXIT_PORT_IN_USE);
                    } else {
                      log.info("CallVault API listening on http://{}:{}/v1/calls", binding.localAddress().getHostString(), binding.localAddress().getPort());
                    }
                  });
          return Behaviors.empty();
        });
  }
}
