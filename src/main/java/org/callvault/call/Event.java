package org.callvault.call;

import java.time.Instant;
import org.callvault.core.CborSerializable;

/**
 * One entry of a call's ledger: a {@link Change}, when it happened, who caused it, and the hash
 * chain ({@link Ledger}). Persisted forever.
 *
 * <p>Shape notes. Until the entity's events had a file of their own this record was the nested
 * {@code CallRecording.Event}: the journal names that class as the manifest of every event written
 * then, and {@code LegacyClassNames} reads them as this one (the fields are the same).
 */
public record Event(long seq, Instant time, String by, Change change, String prevHash, String hash)
    implements CborSerializable {}
