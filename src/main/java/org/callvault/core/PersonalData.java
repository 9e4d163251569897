package org.callvault.core;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The personal fields of a call's ledger (a party's name and address of record) sealed under the
 * call's own keys, so that destroying them (erasure) makes these fields unreadable while the hash
 * chain, computed over what was sealed, still verifies. Implemented by the store, used where
 * requests enter (sealing) and where calls are shown (opening).
 */
public interface PersonalData {

  /** Seals and opens one call's personal fields. */
  interface Cipher {
    /**
     * {@code plaintext} sealed for {@code field}: the same text gives the same sealed text, so a
     * call created again with the same body is the same call. Null stays null.
     */
    String seal(String field, String plaintext);

    /** What {@link #seal} sealed, opened; a value never sealed (an older call's) as it is. */
    String open(String field, String sealed);
  }

  /** The call's cipher; its keys are made now if it has none yet. */
  CompletionStage<Cipher> forWriting(String callId);

  /** The call's cipher as its keys are now; empty when they are destroyed (or were never made). */
  CompletionStage<Optional<Cipher>> forReading(String callId);
}
