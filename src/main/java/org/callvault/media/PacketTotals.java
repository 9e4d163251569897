package org.callvault.media;

import java.util.Map;
import org.callvault.core.StreamCounters;

/**
 * What every stream received on this node counted since the node started (its metrics): the
 * sessions released, and those bound now. Each is a sum of counters that only grow, so each total
 * only grows; a call that moved here counts only what it received here.
 */
final class PacketTotals {

  /** The node's sessions by call; a session leaves it only through {@link #release}. */
  private final Map<String, CallMedia> sessions;

  private StreamCounters released = StreamCounters.ZERO;

  PacketTotals(Map<String, CallMedia> sessions) {
    this.sessions = sessions;
  }

  /** {@code session} no longer holds its call's place: what it counted moves to the released. */
  synchronized void release(String callId, CallMedia session) {
    sessions.remove(callId, session);
    released = released.plus(session.sinceStart());
  }

  synchronized StreamCounters now() {
    StreamCounters total = released;
    for (CallMedia session : sessions.values()) total = total.plus(session.sinceStart());
    return total;
  }
}
