package org.callvault.core;

/**
 * Marks every message, event and state that crosses a process boundary or reaches the journal.
 * Bound to Jackson CBOR in the service's {@code application.conf}; nothing is ever bound by class
 * name alone.
 */
public interface CborSerializable {}
