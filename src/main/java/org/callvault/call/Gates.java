package org.callvault.call;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.callvault.core.Gate;
import org.callvault.core.StreamSpec;

/**
 * The gates of a call's streams, read on the media path and written only by the call's entity.
 *
 * <p>A gate starts closed and is closed whenever the entity does not know the call's state (before
 * recovery completes, after a failed persist). The entity closes gates before it persists the event
 * that closes them and opens gates only after the event that opens them is persisted, so a reader
 * never sees a gate open that the ledger does not open (DESIGN.md, invariant 1).
 */
public final class Gates {

  /** One stream's gate. Readers on the media path only call {@link #isOpen()}. */
  public static final class StreamGate implements Gate {
    private volatile boolean open;

    @Override
    public boolean isOpen() {
      return open;
    }
  }

  private final Map<String, StreamGate> byLabel = new ConcurrentHashMap<>();

  /**
   * Streams kept closed whatever the ledger says: a request closed them and its write was not
   * confirmed; they stay closed until the request has been decided again.
   */
  private final Set<String> held = ConcurrentHashMap.newKeySet();

  /** The gate of the stream with this label; closed until the entity opens it. */
  public StreamGate gate(String label) {
    return byLabel.computeIfAbsent(label, l -> new StreamGate());
  }

  public boolean isOpen(String label) {
    return gate(label).isOpen();
  }

  /** Closes every gate that is closed in {@code next}; opens none. */
  void closeWhereClosedIn(Call next) {
    for (StreamSpec stream : next.streams()) {
      if (!next.gateOpen(stream.label())) gate(stream.label()).open = false;
    }
  }

  /** Makes every gate what {@code state} says it is, but opens none that is held closed. */
  void matchState(State state) {
    if (state instanceof Call call) {
      for (StreamSpec stream : call.streams())
        gate(stream.label()).open = call.gateOpen(stream.label()) && !held.contains(stream.label());
    } else {
      closeAll();
    }
  }

  /** Keeps the gates that {@code intended} closes and {@code call} opens closed until released. */
  void holdWhereClosedIn(Call call, Call intended) {
    for (StreamSpec stream : call.streams())
      if (call.gateOpen(stream.label()) && !intended.gateOpen(stream.label()))
        held.add(stream.label());
    closeWhereClosedIn(intended);
  }

  /** Closes every gate and keeps it closed, whatever the ledger says, until released. */
  void holdAll() {
    held.addAll(byLabel.keySet());
    closeAll();
  }

  /** No gate is held closed any more; none opens until the ledger's state is matched again. */
  void releaseHolds() {
    held.clear();
  }

  void closeAll() {
    byLabel.values().forEach(g -> g.open = false);
  }
}
