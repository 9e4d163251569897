package org.callvault.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three cluster members on real sockets, with a failure detector and no split-brain resolver that
 * would take a minute: only {@link GoneMembers} can down a member here, and does so for the one
 * whose process stopped listening, never for one that is alive.
 */
class GoneMembersTest {

  private final List<ActorSystem<Void>> systems = new ArrayList<>();

  private ActorSystem<Void> member(int index) {
    Config config =
        ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = "127.0.0.1"
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.failure-detector.acceptable-heartbeat-pause = 60s
                pekko.cluster.downing-provider-class = ""
                pekko.cluster.jmx.enabled = off
                # Terminating a member here stands in for its process dying: no leaving first.
                pekko.coordinated-shutdown.run-by-actor-system-terminate = off
                pekko.coordinated-shutdown.terminate-actor-system = off
                pekko.loglevel = WARNING
                """)
            .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "gone", config);
    systems.add(system);
    return system;
  }

  @AfterEach
  void stop() {
    for (ActorSystem<Void> s : systems) s.terminate();
  }

  private static Address address(ActorSystem<?> system) {
    return Cluster.get(system).selfMember().address();
  }

  private static List<Member> members(ActorSystem<?> observer) {
    List<Member> members = new ArrayList<>();
    Cluster.get(observer).state().getMembers().forEach(members::add);
    return members;
  }

  private static long up(ActorSystem<?> observer) {
    return members(observer).stream().filter(m -> m.status() == MemberStatus.up()).count();
  }

  private static MemberStatus statusOf(ActorSystem<?> observer, Address member) {
    for (Member m : Cluster.get(observer).state().getMembers())
      if (m.address().equals(member)) return m.status();
    return MemberStatus.removed();
  }

  private static void await(String what, java.util.function.BooleanSupplier done)
      throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(20);
    while (!done.getAsBoolean()) {
      assertTrue(Instant.now().isBefore(deadline), "timed out waiting until " + what);
      Thread.sleep(50);
    }
  }

  @Test
  void aMemberWhoseProcessIsGoneIsDownedAndTheLiveOnesStay() throws Exception {
    ActorSystem<Void> a = member(1);
    ActorSystem<Void> b = member(2);
    ActorSystem<Void> c = member(3);
    for (ActorSystem<Void> s : List.of(a, b, c))
      Cluster.get(s).manager().tell(Join.create(address(a)));
    await("three members are up", () -> up(a) == 3);
    for (ActorSystem<Void> s : List.of(a, b, c)) GoneMembers.start(s);
    Thread.sleep(1000); // each holds its connections to the others

    // Nothing is downed while every member is alive, however long.
    Thread.sleep(2000);
    for (ActorSystem<Void> s : List.of(a, b, c)) assertEquals(3, members(s).size());

    Address gone = address(c);
    c.terminate(); // its port closes without it leaving, as when its process is killed
    c.getWhenTerminated().toCompletableFuture().get();
    Instant terminated = Instant.now();
    await("the gone member is down", () -> statusOf(a, gone) == MemberStatus.down());
    await("every survivor sees it down", () -> statusOf(b, gone) == MemberStatus.down());
    Duration took = Duration.between(terminated, Instant.now());
    System.out.println("a gone member was down " + took.toMillis() + " ms after its exit");
    assertEquals(MemberStatus.up(), statusOf(a, address(b)));
    assertEquals(MemberStatus.up(), statusOf(b, address(a)));
    // The failure detector would not call it unreachable for a minute: only GoneMembers acted.
    // (The leader removes a down member once the failure detector has found it unreachable.)
    assertTrue(took.compareTo(Duration.ofSeconds(30)) < 0, "down after " + took);
  }

  @Test
  void aLoneSurvivorOfTwoDownsNobody() throws Exception {
    ActorSystem<Void> a = member(1);
    ActorSystem<Void> b = member(2);
    for (ActorSystem<Void> s : List.of(a, b))
      Cluster.get(s).manager().tell(Join.create(address(a)));
    await("two members are up", () -> up(a) == 2);
    GoneMembers.start(a);
    Thread.sleep(1000);
    Address gone = address(b);
    b.terminate();
    b.getWhenTerminated().toCompletableFuture().get();
    // One of two is no majority: the split-brain resolver decides (none here), not GoneMembers.
    Thread.sleep(3000);
    assertEquals(MemberStatus.up(), statusOf(a, gone));
  }
}
