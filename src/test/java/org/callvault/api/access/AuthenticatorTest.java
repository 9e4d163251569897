package org.callvault.api.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthenticatorTest {

  private final AtomicLong now = new AtomicLong(1_800_000_000_000L);

  private Authenticator authenticator(List<ApiKeys.Entry> keys) {
    return new Authenticator(
        new Authenticator.Settings(keys, null, 3, Duration.ofSeconds(60)), Runnable::run, now::get);
  }

  private static Authenticator.Outcome outcome(Authenticator a, String header, String source) {
    return a.authenticate(Optional.ofNullable(header), source).toCompletableFuture().join();
  }

  @Test
  void aKeyMadeHereProvesItsIdAndRolesAndNothingElseDoes() {
    ApiKeys.Made made = ApiKeys.make("crm", EnumSet.of(Role.RECORDER, Role.SUPERVISOR));
    assertTrue(made.key().startsWith("cvk_crm_"), made.key());
    assertEquals(64, made.entry().sha256().length());
    assertTrue(!made.configLine().contains(made.key()), "the configuration keeps only the hash");
    ApiKeys keys = new ApiKeys(List.of(made.entry()));

    Principal principal = keys.verify(made.key());
    assertEquals("key:crm", principal.name());
    assertEquals(Set.of(Role.RECORDER, Role.SUPERVISOR), principal.roles());
    String secret = made.key().substring("cvk_crm_".length());
    String flipped = (secret.charAt(0) == 'A' ? "B" : "A") + secret.substring(1);
    assertNull(keys.verify("cvk_crm_" + flipped), "one character changed");
    assertNull(keys.verify(made.key() + "x"));
    assertNull(keys.verify("cvk_other_" + secret), "another id");
    assertNull(keys.verify("cvk_crm"));
    assertNull(
        new ApiKeys(List.of(ApiKeys.make("crm", Set.of(Role.ADMIN)).entry())).verify(made.key()),
        "a key of the same id made again is another key");
  }

  @Test
  void theConfigurationLineAKeyPrintsIsReadBackAndBadEntriesAreRefusedAtStart() {
    ApiKeys.Made made = ApiKeys.make("qa-team", EnumSet.of(Role.SUPERVISOR, Role.COMPLIANCE));
    Authenticator.Settings read =
        Authenticator.Settings.from(
            ConfigFactory.parseString("api-keys += " + made.configLine())
                .withFallback(ConfigFactory.load().getConfig("callvault.auth"))
                .resolve());
    assertEquals(List.of(made.entry()), read.keys());
    assertTrue(read.acceptsAny());
    assertTrue(
        !Authenticator.Settings.from(ConfigFactory.load().getConfig("callvault.auth"))
            .acceptsAny());

    IllegalArgumentException role =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Authenticator.Settings.from(
                    ConfigFactory.parseString(
                            "api-keys = [{ id = x, sha256 = \""
                                + "0".repeat(64)
                                + "\", roles = [listener] }]")
                        .withFallback(ConfigFactory.load().getConfig("callvault.auth"))));
    assertTrue(role.getMessage().contains("'listener' is not a role"), role.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> new ApiKeys(List.of(new ApiKeys.Entry("x", "abc", Set.of(Role.ADMIN)))));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ApiKeys(List.of(new ApiKeys.Entry("Upper", "0".repeat(64), Set.of(Role.ADMIN)))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new ApiKeys(
                List.of(
                    new ApiKeys.Entry("x", "0".repeat(64), Set.of(Role.ADMIN)),
                    new ApiKeys.Entry("x", "1".repeat(64), Set.of(Role.ADMIN)))),
        "one id twice");
    assertThrows(IllegalArgumentException.class, () -> ApiKeys.make("x", Set.of()));
  }

  @Test
  void aRequestWithoutAValidCredentialIsRefusedWithWhy() {
    ApiKeys.Made made = ApiKeys.make("crm", Set.of(Role.RECORDER));
    Authenticator a = authenticator(List.of(made.entry()));
    Authenticator.Authenticated ok =
        assertInstanceOf(
            Authenticator.Authenticated.class, outcome(a, "Bearer " + made.key(), "10.0.0.1"));
    assertEquals("key:crm", ok.principal().name());
    assertInstanceOf(
        Authenticator.Authenticated.class, outcome(a, "bearer  " + made.key() + " ", "10.0.0.1"));
    assertEquals(
        "this API needs credentials: send 'Authorization: Bearer <API key or token>'",
        ((Authenticator.Refused) outcome(a, null, "10.0.0.2")).reason());
    assertInstanceOf(Authenticator.Refused.class, outcome(a, "Basic dXNlcjpwYXNz", "10.0.0.3"));
    assertEquals(
        "the API key is not one this node knows",
        ((Authenticator.Refused) outcome(a, "Bearer cvk_crm_guess", "10.0.0.4")).reason());
    assertTrue(
        ((Authenticator.Refused) outcome(a, "Bearer eyJhbGciOiJSUzI1NiJ9.e30.x", "10.0.0.5"))
            .reason()
            .contains("accepts no sign-in tokens"));
    assertEquals(4, a.refused());
  }

  @Test
  void aSourceThatFailsTooOftenIsRefusedUnseenUntilItsWindowHasPassed() {
    ApiKeys.Made made = ApiKeys.make("crm", Set.of(Role.RECORDER));
    Authenticator a = authenticator(List.of(made.entry()));
    for (int i = 0; i < 3; i++)
      assertInstanceOf(Authenticator.Refused.class, outcome(a, "Bearer cvk_crm_" + i, "10.0.0.9"));
    now.addAndGet(20_000);
    Authenticator.Throttled throttled =
        assertInstanceOf(
            Authenticator.Throttled.class, outcome(a, "Bearer " + made.key(), "10.0.0.9"));
    assertEquals(40, throttled.retryAfterSeconds(), "the rest of the minute");
    assertInstanceOf(
        Authenticator.Authenticated.class,
        outcome(a, "Bearer " + made.key(), "10.0.0.10"),
        "another source is not slowed");
    now.addAndGet(40_000);
    assertInstanceOf(
        Authenticator.Authenticated.class,
        outcome(a, "Bearer " + made.key(), "10.0.0.9"),
        "once the window has passed");
    assertEquals(3, a.refused());
    assertEquals(1, a.throttled());
  }

  @Test
  void aFloodOfSourcesIsForgottenRatherThanKeptForEver() {
    Authenticator a = authenticator(List.of(ApiKeys.make("crm", Set.of(Role.RECORDER)).entry()));
    for (int i = 0; i < 25_000; i++)
      outcome(a, null, "10." + (i >> 16) + "." + (i >> 8 & 255) + "." + (i & 255));
    assertEquals(25_000, a.refused(), "every refusal counted, none thrown");
  }
}
