package org.callvault.api.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * People's bearer tokens against an identity provider's JWKS served over HTTP: valid, expired, for
 * another audience, from another issuer, signed by a key not the provider's, naming a key the
 * provider does not publish, and without roles.
 */
class BearerTokensTest {

  private static final String ISSUER = "https://idp.example.com/realms/center";
  private static final String AUDIENCE = "callvault";

  private static HttpServer idp;
  private static RSAKey providerKey;
  private static final AtomicInteger jwksFetches = new AtomicInteger();
  private static Authenticator authenticator;

  @BeforeAll
  static void provider() throws Exception {
    providerKey = new RSAKeyGenerator(2048).keyID("k1").generate();
    byte[] jwks = new JWKSet(providerKey.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    idp.createContext(
        "/jwks",
        exchange -> {
          jwksFetches.incrementAndGet();
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, jwks.length);
          exchange.getResponseBody().write(jwks);
          exchange.close();
        });
    idp.start();
    authenticator =
        new Authenticator(
            new Authenticator.Settings(
                List.of(),
                new BearerTokens.Settings(
                    ISSUER,
                    AUDIENCE,
                    "http://127.0.0.1:" + idp.getAddress().getPort() + "/jwks",
                    "realm_access.roles",
                    Duration.ofSeconds(60)),
                1000,
                Duration.ofMinutes(1)),
            Runnable::run,
            System::currentTimeMillis);
  }

  @AfterAll
  static void stop() {
    idp.stop(0);
  }

  private static JWTClaimsSet.Builder claims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .subject("alice")
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plusSeconds(300)))
        .claim("realm_access", Map.of("roles", List.of("supervisor", "offline_access")));
  }

  private static String signed(JWTClaimsSet claims, RSAKey key) throws JOSEException {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static Authenticator.Outcome check(String token) {
    return authenticator
        .authenticate(Optional.of("Bearer " + token), "10.1.1.1")
        .toCompletableFuture()
        .join();
  }

  private static String refusal(String token) {
    return assertInstanceOf(Authenticator.Refused.class, check(token)).reason();
  }

  @Test
  void aValidTokenProvesItsSubjectWithTheRolesItsClaimNames() throws Exception {
    Principal alice =
        assertInstanceOf(
                Authenticator.Authenticated.class, check(signed(claims().build(), providerKey)))
            .principal();
    assertEquals("user:alice", alice.name());
    assertEquals(Set.of(Role.SUPERVISOR), alice.roles(), "offline_access is no role here");
    int fetches = jwksFetches.get();
    check(signed(claims().subject("bob").build(), providerKey));
    assertEquals(fetches, jwksFetches.get(), "the provider's keys are cached");
  }

  @Test
  void aTokenWithoutRolesProvesWhoButMayDoNothing() throws Exception {
    Principal nobody =
        assertInstanceOf(
                Authenticator.Authenticated.class,
                check(signed(claims().claim("realm_access", null).build(), providerKey)))
            .principal();
    assertEquals(Set.of(), nobody.roles());
    assertTrue(!nobody.mayUse(Set.of(Role.values())));
  }

  @Test
  void anExpiredTokenIsRefused() throws Exception {
    Instant past = Instant.now().minus(Duration.ofHours(1));
    String reason =
        refusal(
            signed(
                claims()
                    .issueTime(Date.from(past))
                    .expirationTime(Date.from(past.plusSeconds(300)))
                    .build(),
                providerKey));
    assertTrue(reason.contains("Expired JWT"), reason);
  }

  @Test
  void aTokenForAnotherAudienceOrFromAnotherIssuerIsRefused() throws Exception {
    String audience = refusal(signed(claims().audience("another-app").build(), providerKey));
    assertTrue(audience.contains("aud claim rejected"), audience);
    String issuer =
        refusal(signed(claims().issuer("https://evil.example.com").build(), providerKey));
    assertTrue(issuer.contains("iss"), issuer);
  }

  @Test
  void aTokenSignedByAnotherKeyOrNamingAKeyTheProviderDoesNotPublishIsRefused() throws Exception {
    RSAKey impostor = new RSAKeyGenerator(2048).keyID("k1").generate();
    String forged = refusal(signed(claims().build(), impostor));
    assertTrue(forged.contains("signature"), forged);
    RSAKey unknown = new RSAKeyGenerator(2048).keyID("k9").generate();
    String unpublished = refusal(signed(claims().build(), unknown));
    assertTrue(unpublished.contains("no matching key"), unpublished);
    String tampered = signed(claims().build(), providerKey);
    String[] parts = tampered.split("\\.");
    String other = signed(claims().subject("mallory").build(), providerKey).split("\\.")[1];
    assertTrue(refusal(parts[0] + "." + other + "." + parts[2]).contains("signature"));
    assertTrue(refusal("not-a-jwt").contains("neither an API key nor a JWT"));
  }
}
