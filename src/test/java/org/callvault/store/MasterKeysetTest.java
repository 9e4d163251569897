package org.callvault.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterKeysetTest {

  private static final byte[] BOUND = "callvault-recording:c-1".getBytes(StandardCharsets.UTF_8);

  @Test
  void aRotatedKeysetWrapsWithItsNewKeyAndStillUnwrapsWhatTheOldOneWrapped() throws Exception {
    String json = MasterKeyset.newKeysetJson();
    MasterKeyset old = MasterKeyset.parse(json);
    byte[] wrappedByOld =
        old.aead().encrypt("a recording's keys".getBytes(StandardCharsets.UTF_8), BOUND);

    MasterKeyset rotated = MasterKeyset.parse(MasterKeyset.rotatedJson(json));
    assertEquals(2, rotated.size());
    assertNotEquals(old.primaryKeyId(), rotated.primaryKeyId());
    assertArrayEquals(
        "a recording's keys".getBytes(StandardCharsets.UTF_8),
        rotated.aead().decrypt(wrappedByOld, BOUND),
        "the old key still unwraps");
    byte[] wrappedByNew = rotated.aead().encrypt(new byte[] {1, 2, 3}, BOUND);
    assertThrows(
        GeneralSecurityException.class,
        () -> old.aead().decrypt(wrappedByNew, BOUND),
        "what the new key wraps, the old keyset cannot open");
    assertThrows(
        GeneralSecurityException.class,
        () ->
            rotated
                .aead()
                .decrypt(wrappedByOld, "callvault-recording:c-2".getBytes(StandardCharsets.UTF_8)),
        "a wrapped key opens only for its own call");
  }

  @Test
  void theKeysetComesFromTheEnvironmentOrAFileAndANodeWithoutOneSaysHowToMakeIt(@TempDir Path dir)
      throws Exception {
    String json = MasterKeyset.newKeysetJson();
    Path file = Files.writeString(dir.resolve("master.json"), json);
    int primary = MasterKeyset.parse(json).primaryKeyId();
    assertEquals(
        primary,
        MasterKeyset.from(
                ConfigFactory.parseString(
                    "master-keyset-file = \"" + file + "\", master-keyset = \"\""))
            .primaryKeyId());
    assertEquals(
        primary,
        MasterKeyset.from(
                ConfigFactory.empty()
                    .withValue(
                        "master-keyset", com.typesafe.config.ConfigValueFactory.fromAnyRef(json))
                    .withValue(
                        "master-keyset-file",
                        com.typesafe.config.ConfigValueFactory.fromAnyRef("")))
            .primaryKeyId());
    IllegalArgumentException none =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                MasterKeyset.from(
                    ConfigFactory.parseString("master-keyset-file = \"\", master-keyset = \"\"")));
    assertTrue(none.getMessage().contains("ops/callvault keys master create"), none.getMessage());
    IllegalArgumentException garbage =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                MasterKeyset.from(
                    ConfigFactory.parseString(
                        "master-keyset-file = \"\", master-keyset = \"{}\"")));
    assertTrue(garbage.getMessage().contains("not a Tink AEAD keyset"), garbage.getMessage());
  }
}
