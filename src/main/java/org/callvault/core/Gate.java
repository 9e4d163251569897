package org.callvault.core;

/**
 * Whether a stream's audio may be stored now: the read side of the gate that the call's entity
 * alone opens and closes (fail-closed, DESIGN.md invariant 1). The media path reads it for every
 * packet, so an implementation is a volatile read and nothing more.
 */
public interface Gate {
  boolean isOpen();
}
