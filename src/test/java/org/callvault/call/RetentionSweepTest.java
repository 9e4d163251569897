package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.stream.javadsl.Source;
import org.callvault.core.Codec;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The retention sweep on a one-node cluster, judged by a clock the test sets: calls whose retention
 * has passed are erased, the others kept, a call on legal hold refused; run again, it erases
 * nothing twice; and started as the cluster's singleton it runs by itself.
 */
class RetentionSweepTest {

  private static ActorTestKit testKit;
  private static Calls calls;
  private static final FakeBinder binder = new FakeBinder();

  @BeforeAll
  static void cluster() {
    testKit =
        ActorTestKit.create(
            "RetentionSweepTest",
            ConfigFactory.parseString(
                    """
                    pekko.actor.provider = cluster
                    pekko.remote.artery.canonical.port = 0
                    pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                    """)
                .withFallback(PersistenceTestKitPlugin.getInstance().config())
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.load()));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    Instant deadline = Instant.now().plusSeconds(20);
    while (cluster.selfMember().status() != MemberStatus.up() && Instant.now().isBefore(deadline))
      Thread.onSpinWait();
    CallRecording.init(testKit.system(), binder, binder, null);
    calls = new Calls(testKit.system(), Duration.ofSeconds(5), null);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A stopped call kept {@code retentionDays}; its stop time. */
  private static Instant stoppedCall(String callId, int retentionDays) throws Exception {
    Policy policy =
        new Policy(
            Policy.ConsentMode.ONE_PARTY,
            Policy.OnDecline.STOP,
            true,
            300,
            Policy.PauseRendering.SILENCE,
            retentionDays);
    CallSpec spec =
        new CallSpec(
            callId,
            policy,
            List.of(new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN)),
            List.of(new StreamSpec("agent", "agent", Codec.PCMU)));
    assertInstanceOf(
        CallRecording.Accepted.class, calls.create(spec, "crm").toCompletableFuture().get());
    CallRecording.Reply stopped = calls.stop(callId, "crm").toCompletableFuture().get();
    return assertInstanceOf(CallRecording.Accepted.class, stopped).call().stoppedAt();
  }

  private static Call call(String callId) throws Exception {
    return assertInstanceOf(
            CallRecording.Accepted.class, calls.get(callId).toCompletableFuture().get())
        .call();
  }

  @Test
  void callsPastTheirRetentionAreErasedTheOthersKeptAndAHeldOneRefused() throws Exception {
    String due = "sweep-" + UUID.randomUUID();
    String longer = "sweep-" + UUID.randomUUID();
    String held = "sweep-" + UUID.randomUUID();
    Instant stop = stoppedCall(due, 1);
    stoppedCall(longer, 30);
    stoppedCall(held, 1);
    calls
        .ask(held, r -> new Custody.SetLegalHold(true, "litigation", "user:co", r))
        .toCompletableFuture()
        .get();

    Instant twoDaysOn = stop.plus(Duration.ofDays(2));
    RetentionSweep.Outcome outcome =
        RetentionSweep.sweep(
                testKit.system(), calls, Source.from(List.of(due, longer, held)), twoDaysOn, 50)
            .toCompletableFuture()
            .get();
    assertEquals(new RetentionSweep.Outcome(3, 1, 1, 1, 0), outcome);
    assertTrue(call(due).compliance().erased());
    assertEquals(RetentionSweep.BY, call(due).compliance().erasedBy());
    assertFalse(call(longer).compliance().erased(), "30 days not passed");
    assertFalse(call(held).compliance().erased(), "on legal hold");

    RetentionSweep.Outcome later =
        RetentionSweep.sweep(
                testKit.system(),
                calls,
                Source.from(List.of(due, longer, held)),
                stop.plus(Duration.ofDays(31)),
                50)
            .toCompletableFuture()
            .get();
    assertEquals(
        new RetentionSweep.Outcome(3, 1, 1, 1, 0),
        later,
        "the 30-day call erased; the first already was (kept as it is); the held one refused");
    assertTrue(call(longer).compliance().erased());
    assertFalse(call(held).compliance().erased());
  }

  @Test
  void theClustersSweeperRunsByItselfOnItsClock() throws Exception {
    String callId = "singleton-" + UUID.randomUUID();
    Instant stop = stoppedCall(callId, 1);
    RetentionSweep.start(
        testKit.system(),
        calls,
        () -> Source.single(callId),
        Clock.fixed(stop.plus(Duration.ofDays(3)), ZoneOffset.UTC),
        new RetentionSweep.Settings(Duration.ofMillis(300), 10));
    Instant deadline = Instant.now().plusSeconds(15);
    while (!call(callId).compliance().erased() && Instant.now().isBefore(deadline))
      Thread.sleep(100);
    assertTrue(call(callId).compliance().erased(), "the singleton swept it");
    assertTrue(binder.erased.stream().anyMatch(e -> e.startsWith(callId + " ")));
  }
}
