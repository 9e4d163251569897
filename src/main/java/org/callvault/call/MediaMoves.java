package org.callvault.call;

import java.util.Map;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;

/**
 * What a call needs from its node's cluster when its media moves: telling the sender where media
 * must go now, and whether another node could take the call over. Implemented by the node (the
 * cluster package); {@link #NONE} where there is no cluster to tell (tests).
 */
public interface MediaMoves {

  /**
   * The call's media moved to {@code endpoints}, bound under media epoch {@code epoch}, because of
   * {@code cause}: tells whoever sends it (the call's webhook, or its SIPREC client by a re-INVITE;
   * {@code spec} says which).
   */
  void moved(CallSpec spec, long epoch, Map<String, Endpoint> endpoints, GapCause cause);

  /** Whether another node could take a call over now. */
  boolean anotherNodeIsUp();

  /** Tells nobody; another node is always assumed up. */
  MediaMoves NONE =
      new MediaMoves() {
        @Override
        public void moved(
            CallSpec spec, long epoch, Map<String, Endpoint> endpoints, GapCause cause) {}

        @Override
        public boolean anotherNodeIsUp() {
          return true;
        }
      };
}
