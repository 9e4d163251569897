package org.callvault.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;
import org.callvault.api.ApiServer;
import org.callvault.api.NodeRoutes;
import org.callvault.core.CborSerializable;

/**
 * The cluster as the API's node routes see it. Every node runs one small actor, registered with the
 * Receptionist, that answers with the node's own numbers ({@link ApiServer.NodeStatus}, as its
 * health shows them); a listing asks each member's actor at once and waits up to a patience, so a
 * member that does not answer is listed without numbers and never holds the answer up for longer.
 * Not {@code core.Peers}: that sends one message to one node and waits for the node to be listed;
 * here every member is asked, and one not listed is simply not reachable.
 *
 * <p>A drain is a Cluster Leave of the member, from whichever node the request reached. The member
 * sees itself leave and runs its coordinated shutdown with the reason {@code ClusterLeavingReason}:
 * the same phases as for SIGTERM ({@code ops/node drain}), so its shards are handed off, its old
 * sockets relay to the calls' new nodes ({@code callvault-relay-media}), and it leaves; then its
 * JVM exits, with status 0, where {@code pekko.coordinated-shutdown.exit-jvm} is on (every overlay
 * of {@code cluster-conf/}).
 */
public final class NodeStatuses implements NodeRoutes.Nodes {

  /** Asks a node for its numbers. */
  public record Ask(ActorRef<Answer> replyTo) implements CborSerializable {}

  /** A node's numbers, as it read them when asked. */
  public record Answer(ApiServer.NodeStatus status) implements CborSerializable {}

  static final ServiceKey<Ask> KEY = ServiceKey.create(Ask.class, "callvault-node-status");

  private final ActorSystem<?> system;
  private final Cluster cluster;

  private NodeStatuses(ActorSystem<?> system) {
    this.system = system;
    this.cluster = Cluster.get(system);
  }

  /** Starts this node's actor, which answers with {@code status}, and registers it. */
  public static NodeStatuses start(ActorSystem<?> system, Supplier<ApiServer.NodeStatus> status) {
    system.systemActorOf(answering(status), "node-status", Props.empty());
    return new NodeStatuses(system);
  }

  private static Behavior<Ask> answering(Supplier<ApiServer.NodeStatus> status) {
    return Behaviors.setup(
        context -> {
          context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
          return Behaviors.receiveMessage(
              ask -> {
                ask.replyTo().tell(new Answer(status.get()));
                return Behaviors.same();
              });
        });
  }

  @Override
  public CompletionStage<List<NodeRoutes.Member>> members(Duration patience) {
    Set<Member> unreachable = cluster.state().getUnreachable();
    List<Member> members = new ArrayList<>();
    cluster.state().getMembers().forEach(members::add);
    CompletionStage<Map<Address, ActorRef<Ask>>> listed =
        AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
                system.receptionist(),
                replyTo -> Receptionist.find(KEY, replyTo),
                patience,
                system.scheduler())
            .thenApply(this::byAddress)
            // Without the Receptionist's answer every member is listed, none with numbers.
            .exceptionally(failure -> Map.of());
    return listed.thenCompose(
        instances -> {
          List<CompletableFuture<NodeRoutes.Member>> each = new ArrayList<>();
          for (Member m : members) {
            ActorRef<Ask> instance = instances.get(m.address());
            if (instance == null || unreachable.contains(m)) {
              each.add(CompletableFuture.completedFuture(member(m, null)));
              continue;
            }
            each.add(
                AskPattern.<Ask, Answer>ask(instance, Ask::new, patience, system.scheduler())
                    .handle(
                        (answer, failure) -> member(m, failure == null ? answer.status() : null))
                    .toCompletableFuture());
          }
          return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
              .thenApply(done -> each.stream().map(CompletableFuture::join).toList());
        });
  }

  /** The listed instances by their node's address; this node's own is listed without one. */
  private Map<Address, ActorRef<Ask>> byAddress(Receptionist.Listing listing) {
    Map<Address, ActorRef<Ask>> by = new HashMap<>();
    for (ActorRef<Ask> instance : listing.getServiceInstances(KEY)) {
      Address at = instance.path().address();
      by.put(at.hasLocalScope() ? cluster.selfMember().address() : at, instance);
    }
    return by;
  }

  private static NodeRoutes.Member member(Member m, ApiServer.NodeStatus numbers) {
    return new NodeRoutes.Member(
        m.address().toString(),
        m.status().toString(),
        m.getRoles().stream().sorted().toList(),
        numbers != null,
        numbers);
  }

  @Override
  public NodeRoutes.Drain drain(String address) {
    Member target = null;
    int othersUp = 0;
    for (Member m : cluster.state().getMembers()) {
      if (named(m, address)) target = m;
      else if (m.status() == MemberStatus.up()) othersUp++;
    }
    if (target == null) return new NodeRoutes.Drain.Unknown();
    MemberStatus status = target.status();
    if (status == MemberStatus.leaving()
        || status == MemberStatus.exiting()
        || status == MemberStatus.removed())
      return new NodeRoutes.Drain.Refused(
          target.address() + " is already leaving the cluster (" + status + ")");
    if (status == MemberStatus.down())
      return new NodeRoutes.Drain.Refused(
          target.address() + " is down: it is removed from the cluster, not drained");
    if (othersUp == 0)
      return new NodeRoutes.Drain.Refused(
          target.address()
              + " is the only Up member: its calls would have no node to move to. Start another"
              + " node first, or stop this one (ops/node stop)");
    cluster.manager().tell(Leave.create(target.address()));
    return new NodeRoutes.Drain.Started(
        new NodeRoutes.Member(
            target.address().toString(),
            MemberStatus.leaving().toString(),
            target.getRoles().stream().sorted().toList(),
            true,
            null));
  }

  /** Whether {@code address} names {@code m}: its whole address, or its host:port. */
  private static boolean named(Member m, String address) {
    Address a = m.address();
    return a.toString().equals(address)
        || (a.host().isDefined()
            && a.port().isDefined()
            && (a.host().get() + ":" + a.port().get()).equals(address));
  }
}
