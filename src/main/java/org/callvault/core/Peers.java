package org.callvault.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A service that every node runs and registers with the cluster's Receptionist (under {@code
 * callvault-NAME}), and how this node sends to another node's instance of it, found by that node's
 * address ({@code pekko://callvault@host:port}, as the ledger records nodes). The Receptionist
 * gossips: a message for a node it has not listed yet waits for it up to a patience, then goes to
 * the sender's {@code unlisted} instead. One actor per service and node handles what the others
 * send it and forwards what this node sends them; one message per call that moves, never per
 * packet.
 */
public final class Peers {

  /** How this node sends to the instance on another node. */
  public interface Directory<T> {
    /**
     * Sends {@code message} to the instance on {@code node}, or, when none is listed within the
     * patience, hands it to {@code unlisted} (on the directory's thread).
     */
    void tell(String node, T message, Consumer<T> unlisted);
  }

  private record Ask<T>(String node, T message, Consumer<T> unlisted)
      implements NoSerializationVerificationNeeded {}

  private record Listed<T>(Set<ActorRef<T>> instances)
      implements NoSerializationVerificationNeeded {}

  private record GiveUp<T>(Ask<T> ask) implements NoSerializationVerificationNeeded {}

  private Peers() {}

  /**
   * Starts this node's instance of the service {@code key}, under the system guardian as {@code
   * name}: it handles what other nodes send it with {@code handler}.
   */
  public static <T> Directory<T> start(
      ActorSystem<?> system, String name, Class<T> type, Consumer<T> handler, Duration patience) {
    ServiceKey<T> key = ServiceKey.create(type, "callvault-" + name);
    ActorRef<Object> instance =
        system.systemActorOf(behavior(key, type, handler, patience), name, Props.empty());
    return (node, message, unlisted) -> instance.tell(new Ask<>(node, message, unlisted));
  }

  private static <T> Behavior<Object> behavior(
      ServiceKey<T> key, Class<T> type, Consumer<T> handler, Duration patience) {
    return Behaviors.setup(
        context -> {
          ActorRef<T> self = context.getSelf().narrow();
          context.getSystem().receptionist().tell(Receptionist.register(key, self));
          ActorRef<Receptionist.Listing> listings =
              context.messageAdapter(
                  Receptionist.Listing.class, l -> new Listed<>(l.getServiceInstances(key)));
          context.getSystem().receptionist().tell(Receptionist.subscribe(key, listings));
          return Behaviors.withTimers(
              timers -> running(type, handler, patience, timers, Set.of(), List.of()));
        });
  }

  @SuppressWarnings("unchecked") // the protocol is T and the private records above, nothing else
  private static <T> Behavior<Object> running(
      Class<T> type,
      Consumer<T> handler,
      Duration patience,
      TimerScheduler<Object> timers,
      Set<ActorRef<T>> instances,
      List<Ask<T>> waiting) {
    return Behaviors.receive(Object.class)
        .onMessage(
            Ask.class,
            a -> {
              Ask<T> ask = a;
              Optional<ActorRef<T>> there = on(instances, ask.node());
              if (there.isPresent()) {
                there.get().tell(ask.message());
                return Behaviors.same();
              }
              timers.startSingleTimer(ask, new GiveUp<>(ask), patience);
              List<Ask<T>> more = new ArrayList<>(waiting);
              more.add(ask);
              return running(type, handler, patience, timers, instances, more);
            })
        .onMessage(
            Listed.class,
            l -> {
              Listed<T> listed = l;
              List<Ask<T>> still = new ArrayList<>();
              for (Ask<T> ask : waiting) {
                Optional<ActorRef<T>> there = on(listed.instances(), ask.node());
                if (there.isPresent()) {
                  timers.cancel(ask);
                  there.get().tell(ask.message());
                } else {
                  still.add(ask);
                }
              }
              return running(type, handler, patience, timers, listed.instances(), still);
            })
        .onMessage(
            GiveUp.class,
            g -> {
              Ask<T> ask = ((GiveUp<T>) g).ask();
              if (!waiting.contains(ask)) return Behaviors.same();
              ask.unlisted().accept(ask.message());
              List<Ask<T>> still = new ArrayList<>(waiting);
              still.remove(ask);
              return running(type, handler, patience, timers, instances, still);
            })
        .onMessage(
            type,
            message -> {
              handler.accept(message); // from another node
              return Behaviors.same();
            })
        .build();
  }

  private static <T> Optional<ActorRef<T>> on(Set<ActorRef<T>> instances, String address) {
    return instances.stream()
        .filter(r -> r.path().address().toString().equals(address))
        .findFirst();
  }
}
