package org.callvault.core;

/**
 * Why a call's sockets on a node were closed in order. Persisted by name in {@code MediaReleased}.
 */
public enum ReleaseReason {
  /** The call stopped. */
  STOPPED,
  /**
   * The call left the node while active (the node leaving the cluster, a rebalance) and binds again
   * elsewhere: a gap there is the handoff's, not a failure's.
   */
  HANDOFF
}
