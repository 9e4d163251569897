package org.callvault.call;

import java.time.Instant;
import org.callvault.core.CborSerializable;

/**
 * What the ledger says of a call's custody: whether it is on legal hold (and why, since when, by
 * whom), and whether it was erased. Part of the (snapshotted) state.
 *
 * <p>Shape notes: added to the state after the first snapshots were written; a snapshot without it
 * reads as {@link #NONE}.
 */
public record Compliance(
    boolean held,
    String holdReason,
    String holdBy,
    Instant holdSince,
    Instant erasedAt,
    String erasedBy,
    String erasedFor)
    implements CborSerializable {

  static final Compliance NONE = new Compliance(false, null, null, null, null, null, null);

  public boolean erased() {
    return erasedAt != null;
  }

  Compliance hold(boolean on, String reason, Event event) {
    return on
        ? new Compliance(true, reason, event.by(), event.time(), erasedAt, erasedBy, erasedFor)
        : new Compliance(false, null, null, null, erasedAt, erasedBy, erasedFor);
  }

  Compliance erase(String reason, Event event) {
    return new Compliance(held, holdReason, holdBy, holdSince, event.time(), event.by(), reason);
  }
}
