package org.callvault.store;

import com.google.crypto.tink.DeterministicAead;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import org.callvault.core.PersonalData;

/**
 * One call's personal fields sealed with AES-SIV (deterministic: the same text seals the same),
 * bound to the call and the field: {@code sealed:} and the base64url of the ciphertext.
 */
final class FieldCipher implements PersonalData.Cipher {

  static final String PREFIX = "sealed:";

  private final String callId;
  private final DeterministicAead fields;

  FieldCipher(String callId, DeterministicAead fields) {
    this.callId = callId;
    this.fields = fields;
  }

  @Override
  public String seal(String field, String plaintext) {
    if (plaintext == null) return null;
    try {
      return PREFIX
          + Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  fields.encryptDeterministically(
                      plaintext.getBytes(StandardCharsets.UTF_8), boundTo(field)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-SIV failed: " + e, e);
    }
  }

  @Override
  public String open(String field, String sealed) {
    if (sealed == null || !sealed.startsWith(PREFIX)) return sealed;
    try {
      return new String(
          fields.decryptDeterministically(
              Base64.getUrlDecoder().decode(sealed.substring(PREFIX.length())), boundTo(field)),
          StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalStateException(
          "call '" + callId + "': its " + field + " does not open under its key", e);
    }
  }

  private byte[] boundTo(String field) {
    return (callId + "/" + field).getBytes(StandardCharsets.UTF_8);
  }
}
