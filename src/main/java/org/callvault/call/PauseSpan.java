package org.callvault.call;

import java.time.Instant;
import org.callvault.core.CborSerializable;

/** A pause of a call, open while {@code end} is null. */
public record PauseSpan(
    long startSeq,
    Instant start,
    String by,
    String reason,
    Instant end,
    String resumedBy,
    String resumeReason)
    implements CborSerializable {}
