package org.callvault.media.relay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.callvault.core.CborSerializable;
import org.callvault.core.Endpoint;

/**
 * Where a node that took a call over asks the node that handed it off to relay what the call's old
 * sockets still receive: one message per moved call, never per packet (the packets go from socket
 * to socket). Every node with media runs one, registered with the cluster's Receptionist, and finds
 * the others' there by their node's address.
 */
public final class MediaRelay {

  /** The coordinated-shutdown phase (application.conf) in which a leaving node's relays finish. */
  public static final String SHUTDOWN_PHASE = "callvault-relay-media";

  static final ServiceKey<RelayTo> KEY = ServiceKey.create(RelayTo.class, "callvault-media-relay");

  /** What the old node's sockets do when asked: relay the call's held and later datagrams. */
  public interface Source {
    /** False when no handed-off call of that id receives there. */
    boolean relayTo(String callId, Map<String, Endpoint> endpoints, long token);
  }

  /**
   * How the new node asks: fire and forget; an ask that finds no relay on {@code node} is logged.
   */
  public interface Requests {
    void ask(String node, RelayTo request);
  }

  sealed interface Command permits RelayTo, Ask, Listed, GiveUp {}

  /** The call is received at {@code endpoints} now; relayed datagrams carry {@code token}. */
  public record RelayTo(String callId, Map<String, Endpoint> endpoints, long token)
      implements Command, CborSerializable {}

  /** From this node: ask the relay on {@code node}. */
  private record Ask(String node, RelayTo request) implements Command {}

  private record Listed(Set<ActorRef<RelayTo>> relays) implements Command {}

  private record GiveUp(Ask ask) implements Command {}

  private MediaRelay() {}

  /**
   * Starts this node's relay under the system guardian and returns how to ask the others. An ask
   * for a node the Receptionist has not listed yet (it gossips) waits for it up to {@code
   * patience}.
   */
  public static Requests start(ActorSystem<?> system, Source source, Duration patience) {
    ActorRef<Command> relay =
        system.systemActorOf(create(source, patience), "media-relay", Props.empty());
    return (node, request) -> relay.tell(new Ask(node, request));
  }

  static Behavior<Command> create(Source source, Duration patience) {
    return Behaviors.setup(
        context -> {
          context
              .getSystem()
              .receptionist()
              .tell(Receptionist.register(KEY, context.getSelf().narrow()));
          ActorRef<Receptionist.Listing> listings =
              context.messageAdapter(
                  Receptionist.Listing.class, l -> new Listed(l.getServiceInstances(KEY)));
          context.getSystem().receptionist().tell(Receptionist.subscribe(KEY, listings));
          return Behaviors.withTimers(
              timers -> running(context, timers, source, patience, Set.of(), List.of()));
        });
  }

  private static Behavior<Command> running(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Source source,
      Duration patience,
      Set<ActorRef<RelayTo>> relays,
      List<Ask> waiting) {
    return Behaviors.receive(Command.class)
        .onMessage(
            RelayTo.class,
            ask -> {
              if (!source.relayTo(ask.callId(), ask.endpoints(), ask.token()))
                context
                    .getLog()
                    .info(
                        "call {}: asked to relay, but its old sockets here have already closed",
                        ask.callId());
              return Behaviors.same();
            })
        .onMessage(
            Ask.class,
            ask -> {
              Optional<ActorRef<RelayTo>> there = on(relays, ask.node());
              if (there.isPresent()) {
                there.get().tell(ask.request());
                return Behaviors.same();
              }
              timers.startSingleTimer(ask, new GiveUp(ask), patience);
              List<Ask> more = new ArrayList<>(waiting);
              more.add(ask);
              return running(context, timers, source, patience, relays, more);
            })
        .onMessage(
            Listed.class,
            listed -> {
              List<Ask> still = new ArrayList<>();
              for (Ask ask : waiting) {
                Optional<ActorRef<RelayTo>> there = on(listed.relays(), ask.node());
                if (there.isPresent()) {
                  timers.cancel(ask);
                  there.get().tell(ask.request());
                } else {
                  still.add(ask);
                }
              }
              return running(context, timers, source, patience, listed.relays(), still);
            })
        .onMessage(
            GiveUp.class,
            giveUp -> {
              if (!waiting.contains(giveUp.ask())) return Behaviors.same();
              context
                  .getLog()
                  .warn(
                      "call {}: no media relay of node {} is known; what its old sockets hold is"
                          + " lost",
                      giveUp.ask().request().callId(),
                      giveUp.ask().node());
              List<Ask> still = new ArrayList<>(waiting);
              still.remove(giveUp.ask());
              return running(context, timers, source, patience, relays, still);
            })
        .build();
  }

  /** The relay of the node at {@code address} ({@code pekko://system@host:port}). */
  private static Optional<ActorRef<RelayTo>> on(Set<ActorRef<RelayTo>> relays, String address) {
    return relays.stream().filter(r -> r.path().address().toString().equals(address)).findFirst();
  }
}
