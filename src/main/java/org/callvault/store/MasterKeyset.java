package org.callvault.store;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.daead.DeterministicAeadConfig;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;

/**
 * The master keyset: the keys that wrap every recording's own keys (envelope encryption), and the
 * node's spool key. A Tink keyset of AES-256-GCM keys, each with its key id: the primary wraps, any
 * key unwraps what it wrapped, so rotation adds a new primary and keeps the old keys until every
 * recording key is wrapped again ({@link RecordingKeys#rewrap}). Read from a file (a mounted
 * secret) or from the environment; a node never makes one itself unless told to (local runs).
 */
public final class MasterKeyset {

  static {
    try {
      AeadConfig.register();
      DeterministicAeadConfig.register();
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final KeysetHandle keyset;
  private final Aead aead;

  private MasterKeyset(KeysetHandle keyset) throws GeneralSecurityException {
    this.keyset = keyset;
    this.aead = keyset.getPrimitive(RegistryConfiguration.get(), Aead.class);
  }

  /**
   * Reads {@code callvault.crypto}: the keyset in {@code master-keyset} (its JSON), else in the
   * file {@code master-keyset-file}.
   *
   * @throws IllegalArgumentException when neither is set, or what is set is no AEAD keyset
   */
  public static MasterKeyset from(Config crypto) {
    String json = crypto.getString("master-keyset");
    String file = crypto.getString("master-keyset-file");
    try {
      if (json.isBlank() && file.isBlank())
        throw new IllegalArgumentException(
            "callvault.crypto: no master keyset (CALLVAULT_MASTER_KEYSET_FILE or"
                + " CALLVAULT_MASTER_KEYSET): audio is never stored unencrypted. Make one with"
                + " `ops/callvault keys master create FILE`");
      if (json.isBlank()) json = Files.readString(Path.of(file));
      return parse(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "callvault.crypto.master-keyset-file: cannot read '" + file + "': " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "callvault.crypto: the master keyset is not a Tink AEAD keyset: " + e.getMessage(), e);
    }
  }

  public static MasterKeyset parse(String json) throws GeneralSecurityException {
    return new MasterKeyset(
        TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get()));
  }

  /** A new keyset of one AES-256-GCM key, as JSON (secret: keep it as such). */
  public static String newKeysetJson() throws GeneralSecurityException {
    return json(KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM));
  }

  /**
   * {@code json}'s keyset with a new AES-256-GCM key that is primary from now on; the old keys stay
   * to unwrap what they wrapped.
   */
  public static String rotatedJson(String json) throws GeneralSecurityException {
    KeysetHandle old = TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
    return json(
        KeysetHandle.newBuilder(old)
            .addEntry(
                KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES256_GCM)
                    .withRandomId()
                    .makePrimary())
            .build());
  }

  private static String json(KeysetHandle keyset) throws GeneralSecurityException {
    return TinkJsonProtoKeysetFormat.serializeKeyset(keyset, InsecureSecretKeyAccess.get());
  }

  /** Wraps with the primary key, unwraps with whichever key wrapped. */
  Aead aead() {
    return aead;
  }

  /** The id of the key that wraps from now on. */
  public int primaryKeyId() {
    return keyset.getPrimary().getId();
  }

  /** How many keys the keyset holds. */
  public int size() {
    return keyset.size();
  }
}
