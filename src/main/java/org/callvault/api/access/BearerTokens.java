package org.callvault.api.access;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.net.URI;
import java.text.ParseException;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bearer tokens of people who sign in through the contact center's identity provider (OpenID
 * Connect): a JWT signed by a key of the provider's JWKS, from the configured issuer, for the
 * configured audience, not expired; its roles are read from a configured claim. Validation is
 * nimbus-jose-jwt's; the JWKS is fetched when a token names a key not seen yet, and cached.
 */
public final class BearerTokens {

  /**
   * Where tokens come from ({@code callvault.auth.oidc}).
   *
   * @param rolesClaim the claim that lists a person's roles; a dotted path reaches into objects
   *     ({@code realm_access.roles})
   * @param clockSkew how far the provider's clock and this node's may differ
   */
  public record Settings(
      String issuer, String audience, String jwksUrl, String rolesClaim, Duration clockSkew) {}

  /** Why a token was refused, in words a caller can act on. */
  static final class Refused extends Exception {
    Refused(String message) {
      super(message);
    }
  }

  private final Settings settings;
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  BearerTokens(Settings settings) {
    this.settings = settings;
    JWKSource<SecurityContext> keys;
    try {
      keys = JWKSourceBuilder.create(URI.create(settings.jwksUrl()).toURL()).retrying(true).build();
    } catch (MalformedURLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "callvault.auth.oidc.jwks-url is not a URL: '" + settings.jwksUrl() + "'", e);
    }
    processor.setJWSKeySelector(
        new JWSVerificationKeySelector<>(
            Set.of(
                JWSAlgorithm.RS256,
                JWSAlgorithm.RS384,
                JWSAlgorithm.RS512,
                JWSAlgorithm.PS256,
                JWSAlgorithm.ES256,
                JWSAlgorithm.ES384),
            keys));
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(
            settings.audience(),
            new JWTClaimsSet.Builder().issuer(settings.issuer()).build(),
            Set.of("sub", "exp"));
    claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
  }

  /**
   * The person {@code token} proves, with the roles its claim names (none if it names none). May
   * fetch the provider's keys: call it off the request's thread.
   */
  Principal verify(String token) throws Refused {
    JWTClaimsSet claims;
    try {
      claims = processor.process(token, null);
    } catch (ParseException e) {
      throw new Refused("the bearer token is neither an API key nor a JWT");
    } catch (BadJOSEException e) {
      throw new Refused("the bearer token is not valid: " + e.getMessage());
    } catch (JOSEException e) {
      throw new Refused("the bearer token could not be checked: " + e.getMessage());
    }
    return new Principal("user:" + claims.getSubject(), roles(claims));
  }

  private Set<Role> roles(JWTClaimsSet claims) {
    Object value = claims.getClaims();
    for (String part : settings.rolesClaim().split("\\.")) {
      if (!(value instanceof Map<?, ?> map)) return Set.of();
      value = map.get(part);
    }
    Collection<?> names =
        value instanceof Collection<?> list
            ? list
            : value instanceof String text ? List.of(text.split("\\s+")) : List.of();
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (Object name : names) {
      Role role = name == null ? null : Role.named(String.valueOf(name));
      if (role != null) roles.add(role);
    }
    return roles;
  }
}
