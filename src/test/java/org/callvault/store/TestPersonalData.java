package org.callvault.store;

import com.google.crypto.tink.DeterministicAead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.daead.PredefinedDeterministicAeadParameters;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.callvault.core.PersonalData;

/**
 * Personal fields sealed as the store seals them (AES-SIV, per call), with the keys kept in memory:
 * for tests of what seals and opens them without Cassandra.
 */
public final class TestPersonalData implements PersonalData {

  static {
    TestChunks.MASTER.size(); // registers Tink's primitives
  }

  private final Map<String, DeterministicAead> keys = new ConcurrentHashMap<>();

  @Override
  public CompletionStage<Cipher> forWriting(String callId) {
    return CompletableFuture.completedFuture(
        new FieldCipher(callId, keys.computeIfAbsent(callId, id -> newKey())));
  }

  @Override
  public CompletionStage<Optional<Cipher>> forReading(String callId) {
    return CompletableFuture.completedFuture(
        Optional.ofNullable(keys.get(callId)).map(k -> new FieldCipher(callId, k)));
  }

  /** Destroys the call's keys, as an erasure does. */
  public void destroy(String callId) {
    keys.remove(callId);
  }

  private static DeterministicAead newKey() {
    try {
      return KeysetHandle.generateNew(PredefinedDeterministicAeadParameters.AES256_SIV)
          .getPrimitive(RegistryConfiguration.get(), DeterministicAead.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
