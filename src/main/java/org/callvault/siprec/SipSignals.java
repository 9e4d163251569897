package org.callvault.siprec;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.callvault.call.SipSession;
import org.callvault.core.CborSerializable;
import org.callvault.core.Endpoint;
import org.callvault.core.StreamSpec;

/**
 * Where the node that took a SIPREC call over asks the node that answered the call's INVITE to
 * re-INVITE its recording client: that node's address is the one the SRC knows (the Contact of the
 * 200, where the SRC sends its requests and responses), so the re-INVITE goes out from there while
 * that node is up. One message per moved call. Every node with SIP runs one, registered with the
 * cluster's Receptionist; a node whose signals are not listed (down, or not yet gossiped) is not
 * asked, and this node re-INVITEs itself.
 */
public final class SipSignals {

  static final ServiceKey<ReInvite> KEY =
      ServiceKey.create(ReInvite.class, "callvault-sip-signals");

  /**
   * Re-INVITE the SRC of {@code sip}: its streams are received at {@code endpoints} now, under
   * media epoch {@code mediaEpoch}.
   */
  public record ReInvite(
      SipSession sip, List<StreamSpec> streams, Map<String, Endpoint> endpoints, long mediaEpoch)
      implements Command, CborSerializable {}

  /** How a node asks: from the node at {@code node} if it can, else (or with null) from here. */
  public interface Requests {
    void reInvite(String node, ReInvite request);
  }

  sealed interface Command permits ReInvite, Ask, Listed {}

  private record Ask(String node, ReInvite request) implements Command {}

  private record Listed(Set<ActorRef<ReInvite>> signals) implements Command {}

  private SipSignals() {}

  /**
   * Starts this node's signals under the system guardian, for {@code server}; returns how to ask.
   */
  public static Requests start(ActorSystem<?> system, RecordingServer server) {
    ActorRef<Command> signals = system.systemActorOf(create(server), "sip-signals", Props.empty());
    return (node, request) -> signals.tell(new Ask(node, request));
  }

  private static Behavior<Command> create(RecordingServer server) {
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
          return running(server, Set.of());
        });
  }

  private static Behavior<Command> running(
      RecordingServer server, Set<ActorRef<ReInvite>> signals) {
    return Behaviors.receive(Command.class)
        .onMessage(ReInvite.class, ask -> reInviteHere(server, ask))
        .onMessage(
            Ask.class,
            ask -> {
              Optional<ActorRef<ReInvite>> there =
                  ask.node() == null
                      ? Optional.empty()
                      : signals.stream()
                          .filter(s -> s.path().address().toString().equals(ask.node()))
                          .findFirst();
              if (there.isPresent()) {
                there.get().tell(ask.request());
                return Behaviors.same();
              }
              return reInviteHere(server, ask.request());
            })
        .onMessage(Listed.class, listed -> running(server, listed.signals()))
        .build();
  }

  private static Behavior<Command> reInviteHere(RecordingServer server, ReInvite ask) {
    server.mediaMoved(ask.sip(), ask.streams(), ask.endpoints(), ask.mediaEpoch());
    return Behaviors.same();
  }
}
