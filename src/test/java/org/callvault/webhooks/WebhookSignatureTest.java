package org.callvault.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Standard Webhooks signing, against the example the specification publishes. */
class WebhookSignatureTest {

  private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

  @Test
  void signsAsTheSpecificationsExample() {
    WebhookSignature signature = new WebhookSignature(SECRET);
    Map<String, String> headers =
        signature.headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}");
    assertEquals("msg_p5jXN8AQM9LWM0D4loKWxJek", headers.get("webhook-id"));
    assertEquals("1614265330", headers.get("webhook-timestamp"));
    assertEquals(
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", headers.get("webhook-signature"));
    // Any change to the body, the time or the id changes it.
    assertFalse(
        headers
            .get("webhook-signature")
            .endsWith(
                signature.sign(
                    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, "{\"test\": 2432232314}")));
  }

  @Test
  void withoutASecretNoticesCarryTheIdAndTimeButNoSignature() {
    Map<String, String> headers = new WebhookSignature("").headers("msg_1", 1, "{}");
    assertEquals(Map.of("webhook-id", "msg_1", "webhook-timestamp", "1"), headers);
  }

  @Test
  void aSecretThatIsNotBase64OrTooShortIsRefusedWithTheSetting() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> new WebhookSignature("whsec_!!"))
            .getMessage()
            .contains("callvault.webhook.secret"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> new WebhookSignature("whsec_c2hvcnQ="))
            .getMessage()
            .contains("at least 24"));
  }
}
