package org.callvault.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes of one cluster in this JVM: a message for the other node's instance reaches it there.
 */
class PeersTest {

  /** A message between nodes, as the services' are. */
  public record Note(String text) implements CborSerializable {}

  private static ActorTestKit first;
  private static ActorTestKit second;

  private static ActorTestKit node() {
    return ActorTestKit.create(
        ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                """)
            .withFallback(ConfigFactory.load()));
  }

  @BeforeAll
  static void cluster() throws InterruptedException {
    first = node();
    second = node();
    Cluster.get(first.system())
        .manager()
        .tell(Join.create(Cluster.get(first.system()).selfMember().address()));
    Cluster.get(second.system())
        .manager()
        .tell(Join.create(Cluster.get(first.system()).selfMember().address()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (Cluster.get(second.system()).selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) throw new AssertionError("the second node never became Up");
      Thread.sleep(50);
    }
  }

  @AfterAll
  static void shutdown() {
    second.shutdownTestKit();
    first.shutdownTestKit();
  }

  @Test
  void aMessageForAnotherNodeReachesItsInstanceThereAndOneForANodeWithoutAnyGoesToUnlisted()
      throws Exception {
    LinkedBlockingQueue<String> atFirst = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<String> atSecond = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<String> unlisted = new LinkedBlockingQueue<>();
    Peers.Directory<Note> fromFirst =
        Peers.start(
            first.system(),
            "test-notes",
            Note.class,
            n -> atFirst.add(n.text()),
            Duration.ofSeconds(10));
    Peers.start(
        second.system(),
        "test-notes",
        Note.class,
        n -> atSecond.add(n.text()),
        Duration.ofSeconds(10));

    // Asked at once: the second node's instance may not be gossiped yet, and the note waits for it.
    String secondNode = second.system().address().toString();
    fromFirst.tell(secondNode, new Note("to the second node"), n -> unlisted.add(n.text()));
    assertEquals(
        "to the second node",
        atSecond.poll(15, TimeUnit.SECONDS),
        "handled on the node it was sent to");
    assertTrue(atFirst.isEmpty(), "and nowhere else: " + atFirst);

    Peers.Directory<Note> patient =
        Peers.start(
            first.system(),
            "test-others",
            Note.class,
            n -> atFirst.add(n.text()),
            Duration.ofMillis(500));
    long asked = System.nanoTime();
    patient.tell(
        "pekko://callvault@127.0.0.1:1", new Note("to nobody"), n -> unlisted.add(n.text()));
    assertEquals(
        "to nobody",
        unlisted.poll(5, TimeUnit.SECONDS),
        "no instance on that node: the sender's fallback has it");
    assertTrue(
        System.nanoTime() - asked >= TimeUnit.MILLISECONDS.toNanos(500),
        "after the patience, not before");
    assertTrue(atFirst.isEmpty() && atSecond.isEmpty());
  }
}
