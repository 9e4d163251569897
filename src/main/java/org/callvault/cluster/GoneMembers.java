package org.callvault.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.ConnectException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downs a member whose process is gone as soon as its host says so, instead of after the failure
 * detector (about 2.5 s) and the split-brain resolver's stable-after (2 s more).
 *
 * <p>Every node holds an idle TCP connection to each other member's cluster (Artery) port. When the
 * member's process dies, its host's kernel closes that connection at once; the node then connects
 * again, and a refused connection means nothing listens on that port any more: the process is gone,
 * not stalled or cut off (a stalled process's port still accepts, a partition times out or fails
 * with another error). Only then, and only while this node and the members it reaches are a strict
 * majority without the gone one, is it downed, so this never decides what the split-brain resolver
 * would not: a minority side leaves the decision to it. A whole host lost (no refusal, only
 * silence) still goes the failure detector's way.
 *
 * <p>Nothing is ever sent on a watched connection, so a partition, even one a firewall enforces by
 * rejecting, does not close it: only the member's own host does, when the process exits (or the
 * member closes it, and then the new connection is accepted).
 */
final class GoneMembers {

  private static final Logger log = LoggerFactory.getLogger(GoneMembers.class);

  /** How long a connection attempt may take before it counts as "no answer" (not as gone). */
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

  /** Between attempts that did not connect. */
  private static final Duration RETRY = Duration.ofMillis(250);

  /** After a watched connection closed: at once, but never in a tight loop. */
  private static final Duration RECONNECT = Duration.ofMillis(20);

  interface Event {}

  private record MembersChanged() implements Event {}

  private record Refused(Address member) implements Event {}

  private GoneMembers() {}

  /** Starts watching the members of {@code system}'s cluster. */
  static void start(ActorSystem<?> system) {
    system.systemActorOf(behavior(), "callvault-gone-members", Props.empty());
  }

  private static Behavior<Event> behavior() {
    return Behaviors.setup(
        context -> {
          Cluster cluster = Cluster.get(context.getSystem());
          Watches watches = new Watches(context.getSelf());
          context.getSystem().getWhenTerminated().whenComplete((done, failure) -> watches.close());
          ActorRef<ClusterEvent.MemberEvent> changes =
              context.messageAdapter(ClusterEvent.MemberEvent.class, e -> new MembersChanged());
          cluster.subscriptions().tell(Subscribe.create(changes, ClusterEvent.MemberEvent.class));
          return Behaviors.receive(Event.class)
              .onMessage(
                  MembersChanged.class,
                  m -> {
                    Set<Address> others = new HashSet<>();
                    for (Member member : cluster.state().getMembers())
                      if (!member.equals(cluster.selfMember()) && watched(member))
                        others.add(member.address());
                    watches.keep(others);
                    return Behaviors.same();
                  })
              .onMessage(
                  Refused.class,
                  r -> {
                    Member gone = memberAt(cluster, r.member());
                    if (gone == null || !watched(gone)) return Behaviors.same();
                    if (majorityWithout(cluster, gone)) {
                      log.warn(
                          "member {} refuses connections on its cluster port: its process is"
                              + " gone; downing it now",
                          r.member());
                      cluster.manager().tell(new Down(r.member()));
                    } else {
                      // Not a majority here: the split-brain resolver decides. Watch on, in
                      // case the others come back.
                      watches.retry(r.member());
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** Members whose death would strand calls: Up (or WeaklyUp), not already leaving or down. */
  private static boolean watched(Member member) {
    return member.status() == MemberStatus.up() || member.status() == MemberStatus.weaklyUp();
  }

  private static Member memberAt(Cluster cluster, Address address) {
    for (Member m : cluster.state().getMembers()) if (m.address().equals(address)) return m;
    return null;
  }

  /**
   * Whether the members this node reaches, itself included and {@code gone} left out, are more than
   * half of the members that are not down.
   */
  private static boolean majorityWithout(Cluster cluster, Member gone) {
    int members = 0;
    int reached = 0;
    Set<Member> unreachable = cluster.state().getUnreachable();
    for (Member m : cluster.state().getMembers()) {
      if (m.status() == MemberStatus.down() || m.status() == MemberStatus.removed()) continue;
      members++;
      if (!m.equals(gone) && !unreachable.contains(m)) reached++;
    }
    return 2 * reached > members;
  }

  /** Nothing is ever sent either way on a watched connection. */
  @ChannelHandler.Sharable
  private static final class Idle extends ChannelInboundHandlerAdapter {}

  /** The idle connections, on one Netty thread of their own. */
  private static final class Watches {
    private final ActorRef<Event> owner;
    private final EventLoopGroup loop =
        new NioEventLoopGroup(1, new DefaultThreadFactory("callvault-gone-members", true));
    private final Bootstrap bootstrap;
    private final Set<Address> wanted = ConcurrentHashMap.newKeySet();

    Watches(ActorRef<Event> owner) {
      this.owner = owner;
      this.bootstrap =
          new Bootstrap()
              .group(loop)
              .channel(NioSocketChannel.class)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
              .handler(new Idle());
    }

    /** Watches exactly these members from now on. */
    void keep(Set<Address> members) {
      wanted.retainAll(members);
      for (Address member : members) if (wanted.add(member)) connect(member);
    }

    void retry(Address member) {
      after(RETRY, member);
    }

    private void connect(Address member) {
      if (!wanted.contains(member) || member.host().isEmpty() || member.port().isEmpty()) return;
      ChannelFuture connecting =
          bootstrap.connect(member.host().get(), (Integer) member.port().get());
      connecting.addListener(
          f -> {
            Channel channel = connecting.channel();
            if (!wanted.contains(member)) {
              channel.close();
            } else if (f.isSuccess()) {
              // Closed by the member's host when its process dies (or by the member): ask again.
              channel.closeFuture().addListener(c -> after(RECONNECT, member));
            } else if (f.cause() instanceof ConnectException e
                && String.valueOf(e.getMessage()).contains("refused")) {
              owner.tell(new Refused(member));
            } else {
              after(RETRY, member); // no answer: stalled, cut off or starting; not proof of death
            }
          });
    }

    private void after(Duration delay, Address member) {
      if (loop.isShuttingDown() || !wanted.contains(member)) return;
      loop.schedule(() -> connect(member), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    void close() {
      wanted.clear();
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
