package org.callvault.core;

/**
 * Why audio that a stream's sender sent is missing from the recording. Every such hole is a {@code
 * MediaGap} in the ledger with one of these, never silence without a cause (DESIGN.md, invariant
 * 3). Persisted by name: a cause is added, never renamed.
 */
public enum GapCause {
  /**
   * The call's node died; the hole runs to the first audio stored on the node that took it over.
   */
  NODE_FAILURE,
  /**
   * The call moved to another node in order (a drain, a rebalance) and packets were lost on the
   * way.
   */
  HANDOFF,
  /**
   * Storage fell behind by more than the stream's write queue: the chunk was refused, not queued.
   */
  STORE_OVERLOAD,
  /**
   * A chunk's write failed after its retries on a node without a spool; the gap's detail names the
   * error.
   */
  STORE_FAILURE,
  /**
   * Storage could not take the chunk and the node's spool was full (its size bound, or its disk's
   * free space); the detail says which.
   */
  SPOOL_FULL,
  /** Storage could not take the chunk and the spool could not write it or read it back. */
  SPOOL_FAILURE
}
