package org.callvault.api;

import com.typesafe.config.ConfigFactory;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.callvault.api.access.Authenticator;
import org.callvault.api.access.TestKeys;
import org.callvault.call.CallRecording;
import org.callvault.call.CallSpec;
import org.callvault.call.Calls;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.Ledger;
import org.callvault.call.MediaMoves;
import org.callvault.call.Party;
import org.callvault.call.Policy;
import org.callvault.cluster.NodeStatuses;

/**
 * The whole API of one node, in this JVM, for tests that talk HTTP to it: a one-node cluster with
 * sharding and the in-memory journal, no media and no audio store, the test API keys ({@link
 * TestKeys}), listening on a port the OS chose. The numbers the node reports of itself are the
 * test's to set ({@link #spooled}, {@link #calls}).
 */
public final class OneNodeApi implements AutoCloseable {

  public final ActorTestKit testKit;

  /** {@code http://127.0.0.1:PORT}. */
  public final String base;

  final ApiServer api;
  final CallRoutes routes;
  final Authenticator authenticator;
  final Supplier<ApiServer.NodeStatus> status;
  private final NodeStatuses nodes;

  /** The chunks the node's status says wait in its spool. */
  public volatile int spooled;

  /** The calls the node's status says it receives media for. */
  public volatile int calls;

  private OneNodeApi(String name) throws Exception {
    testKit =
        ActorTestKit.create(
            name,
            ConfigFactory.parseString(
                    """
                    pekko.actor.provider = cluster
                    pekko.actor.serialize-messages = on
                    pekko.remote.artery.canonical.port = 0
                    pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                    callvault.ledger.read-journal = "pekko.persistence.testkit.query"
                    """)
                .withFallback(PersistenceTestKitPlugin.getInstance().config())
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.load()));
    ActorSystem<Void> system = testKit.system();
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    CallRecording.init(system, null, MediaMoves.NONE, null);
    var callvault = system.settings().config().getConfig("callvault");
    routes =
        new CallRoutes(
            system,
            new Calls(system, callvault.getDuration("ask-timeout"), null),
            Policy.fromConfig(callvault.getConfig("default-policy"), "callvault.default-policy"),
            callvault.getString("ledger.read-journal"),
            null,
            null,
            null);
    // Tests send bad credentials often (the fuzzer): this source is never slowed here.
    authenticator = TestKeys.authenticator(Integer.MAX_VALUE);
    status =
        () -> {
          MemberStatus member = cluster.selfMember().status();
          int spool = spooled;
          return new ApiServer.NodeStatus(
              cluster.selfMember().address().toString(),
              member.toString(),
              member == MemberStatus.up(),
              1,
              calls,
              0,
              0,
              0,
              0,
              spool,
              spool * 9300L,
              spool == 0 ? 0 : System.currentTimeMillis() - 4000,
              0,
              0,
              org.callvault.core.StreamCounters.ZERO);
        };
    nodes = NodeStatuses.start(system, status);
    api = apiServer(routes);
    ServerBinding binding = api.start().toCompletableFuture().get();
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
    Instant deadline = Instant.now().plusSeconds(20);
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (Instant.now().isAfter(deadline))
        throw new IllegalStateException("the node never became an Up member");
      Thread.sleep(20);
    }
  }

  /** Starts a node whose actor system is called {@code name}; returns once it is Up. */
  public static OneNodeApi start(String name) throws Exception {
    return new OneNodeApi(name);
  }

  /** Another API server of this node, over {@code routes}, on plain HTTP; not started. */
  ApiServer apiServer(CallRoutes routes) {
    return apiServer(new ApiServer.Settings("127.0.0.1", 0), routes);
  }

  /** Another API server of this node, with {@code settings}, over {@code routes}; not started. */
  ApiServer apiServer(ApiServer.Settings settings, CallRoutes routes) {
    return new ApiServer(testKit.system(), settings, routes, authenticator, status, nodes, null);
  }

  /** This node's cluster address, {@code pekko://NAME@127.0.0.1:PORT}. */
  public String address() {
    return Cluster.get(testKit.system()).selfMember().address().toString();
  }

  /**
   * Puts a ledger of three events in the journal for {@code callId} (created, paused, resumed)
   * whose second was rewritten to look shorter after it was sealed: its stored hash no longer
   * matches. The call recovers from it when first asked.
   */
  public void persistTamperedLedger(String callId) {
    Instant t0 = Instant.parse("2026-11-28T09:00:00Z");
    Event created =
        Ledger.seal(
            1,
            t0,
            "crm",
            new Change.CallCreated(
                new CallSpec(
                    callId,
                    new Policy(
                        Policy.ConsentMode.ONE_PARTY,
                        Policy.OnDecline.STOP,
                        true,
                        300,
                        Policy.PauseRendering.SILENCE,
                        90),
                    List.of(
                        new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN)),
                    List.of())),
            Ledger.GENESIS);
    Event paused =
        Ledger.seal(2, t0.plusSeconds(5), "agent", new Change.Paused("card"), created.hash());
    Event resumed =
        Ledger.seal(3, t0.plusSeconds(9), "agent", new Change.Resumed(null), paused.hash());
    // The pause is rewritten to look shorter; its stored hash is left as it was.
    Event rewritten =
        new Event(2, t0.plusSeconds(8), "agent", paused.change(), paused.prevHash(), paused.hash());
    PersistenceTestKit.create(testKit.system())
        .persistForRecovery("CallRecording|" + callId, List.of(created, rewritten, resumed));
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
