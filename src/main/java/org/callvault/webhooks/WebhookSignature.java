package org.callvault.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The headers of Standard Webhooks (standardwebhooks.com) on every notice a node POSTs: {@code
 * webhook-id} (the same on each retry of one notice), {@code webhook-timestamp} (seconds, each
 * attempt's own) and, with a secret, {@code webhook-signature}: {@code v1,} and the base64
 * HMAC-SHA256 of {@code id.timestamp.body} under the secret's bytes. A receiver checks it with any
 * Standard Webhooks library and the same secret.
 */
public final class WebhookSignature {

  private final SecretKeySpec key;

  /**
   * @param secret {@code whsec_} and base64 (or base64 alone), at least 24 bytes once decoded;
   *     empty for notices that carry no signature
   */
  public WebhookSignature(String secret) {
    if (secret == null || secret.isBlank()) {
      key = null;
      return;
    }
    String encoded = secret.strip();
    if (encoded.startsWith("whsec_")) encoded = encoded.substring("whsec_".length());
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "callvault.webhook.secret: not base64 after its whsec_ prefix: " + e.getMessage());
    }
    if (bytes.length < 24)
      throw new IllegalArgumentException(
          "callvault.webhook.secret: " + bytes.length + " bytes; at least 24 are needed");
    key = new SecretKeySpec(bytes, "HmacSHA256");
  }

  /** Whether notices are signed. */
  boolean signs() {
    return key != null;
  }

  /** The headers of one attempt to deliver {@code body}, notice {@code id}, at {@code seconds}. */
  Map<String, String> headers(String id, long seconds, String body) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("webhook-id", id);
    headers.put("webhook-timestamp", String.valueOf(seconds));
    if (key != null) headers.put("webhook-signature", "v1," + sign(id, seconds, body));
    return headers;
  }

  /** The base64 HMAC-SHA256 of {@code id.seconds.body}. */
  String sign(String id, long seconds, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      byte[] signed =
          mac.doFinal((id + "." + seconds + "." + body).getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(signed);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java platform has HmacSHA256", e);
    }
  }
}
