package org.callvault.api.access;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Who a request comes from: the credential in its {@code Authorization: Bearer …} header, an API
 * key or a person's token. Failures are counted per source address; a source that fails {@code
 * maxFailures} times within {@code failureWindow} is refused without a look at its credentials
 * until that window has passed (429 with Retry-After), so guessing is slow and costs the node
 * nothing.
 */
public final class Authenticator {

  /**
   * How requests are authenticated ({@code callvault.auth}).
   *
   * @param oidc where people's tokens come from; null when only API keys are accepted
   */
  public record Settings(
      List<ApiKeys.Entry> keys,
      BearerTokens.Settings oidc,
      int maxFailures,
      Duration failureWindow) {

    /** Whether any credential at all can be accepted. */
    public boolean acceptsAny() {
      return !keys.isEmpty() || oidc != null;
    }

    /**
     * Reads {@code callvault.auth}: the keys it lists and those of its {@code api-keys-file}.
     *
     * @throws IllegalArgumentException for a key entry that is malformed, or a keys file that
     *     cannot be read
     */
    public static Settings from(Config auth) {
      List<ApiKeys.Entry> keys = new ArrayList<>(entries(auth, "callvault.auth.api-keys"));
      String file = auth.getString("api-keys-file");
      if (!file.isEmpty()) {
        Path path = Path.of(file);
        if (!Files.isReadable(path))
          throw new IllegalArgumentException(
              "callvault.auth.api-keys-file: cannot read '" + path.toAbsolutePath() + "'");
        keys.addAll(entries(ConfigFactory.parseFile(path.toFile()).resolve(), file + ": api-keys"));
      }
      Config oidc = auth.getConfig("oidc");
      BearerTokens.Settings tokens =
          oidc.getString("issuer").isEmpty()
              ? null
              : new BearerTokens.Settings(
                  oidc.getString("issuer"),
                  oidc.getString("audience"),
                  oidc.getString("jwks-url"),
                  oidc.getString("roles-claim"),
                  oidc.getDuration("clock-skew"));
      Settings settings =
          new Settings(
              keys, tokens, auth.getInt("max-failures"), auth.getDuration("failure-window"));
      new ApiKeys(keys); // checks every entry now
      return settings;
    }

    private static List<ApiKeys.Entry> entries(Config config, String where) {
      if (!config.hasPath("api-keys")) return List.of();
      List<ApiKeys.Entry> entries = new ArrayList<>();
      for (Config key : config.getConfigList("api-keys")) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String name : key.getStringList("roles")) {
          Role role = Role.named(name);
          if (role == null)
            throw new IllegalArgumentException(
                where
                    + ": '"
                    + name
                    + "' is not a role (recorder, supervisor, compliance or admin)");
          roles.add(role);
        }
        entries.add(new ApiKeys.Entry(key.getString("id"), key.getString("sha256"), roles));
      }
      return entries;
    }
  }

  /** What became of a request's credentials. */
  public sealed interface Outcome {}

  public record Authenticated(Principal principal) implements Outcome {}

  /** 401: no credentials, or ones that prove nothing; {@code reason} says which. */
  public record Refused(String reason) implements Outcome {}

  /** 429: the source failed too often; it may try again after this many seconds. */
  public record Throttled(long retryAfterSeconds) implements Outcome {}

  /** Sources remembered at most; a flood of addresses cannot fill the heap. */
  private static final int MAX_SOURCES = 10_000;

  /** One source's failures in its current window. */
  private record Failures(long windowStartMillis, int count) {}

  private final Settings settings;
  private final ApiKeys keys;
  private final BearerTokens tokens;
  private final Executor tokenChecks;
  private final LongSupplier clock;
  private final ConcurrentHashMap<String, Failures> failures = new ConcurrentHashMap<>();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong throttled = new AtomicLong();

  /**
   * @param tokenChecks where tokens are checked: checking may fetch the identity provider's keys
   * @param clock the time in milliseconds
   */
  public Authenticator(Settings settings, Executor tokenChecks, LongSupplier clock) {
    this.settings = settings;
    this.keys = new ApiKeys(settings.keys());
    this.tokens = settings.oidc() == null ? null : new BearerTokens(settings.oidc());
    this.tokenChecks = tokenChecks;
    this.clock = clock;
  }

  /** Requests refused for their credentials since the node started. */
  public long refused() {
    return refused.get();
  }

  /** Requests refused unseen because their source had failed too often. */
  public long throttled() {
    return throttled.get();
  }

  /** The outcome for a request from {@code source} with this {@code Authorization} header. */
  public CompletionStage<Outcome> authenticate(Optional<String> authorization, String source) {
    long now = clock.getAsLong();
    Failures f = failures.get(source);
    if (f != null && f.count() >= settings.maxFailures()) {
      long until = f.windowStartMillis() + settings.failureWindow().toMillis();
      if (now < until) {
        throttled.incrementAndGet();
        return CompletableFuture.completedFuture(
            new Throttled(Math.max(1, (until - now + 999) / 1000)));
      }
    }
    String credential = bearer(authorization.orElse(null));
    if (credential == null)
      return completed(
          source,
          new Refused(
              "this API needs credentials: send 'Authorization: Bearer <API key or token>'"));
    if (ApiKeys.looksLikeKey(credential)) {
      Principal principal = keys.verify(credential);
      return completed(
          source,
          principal != null
              ? new Authenticated(principal)
              : new Refused("the API key is not one this node knows"));
    }
    if (tokens == null)
      return completed(
          source,
          new Refused(
              "the bearer token is not an API key, and this node accepts no sign-in tokens"
                  + " (callvault.auth.oidc)"));
    return CompletableFuture.supplyAsync(
        () -> {
          Outcome outcome;
          try {
            outcome = new Authenticated(tokens.verify(credential));
          } catch (BearerTokens.Refused e) {
            outcome = new Refused(e.getMessage());
          }
          return counted(source, outcome);
        },
        tokenChecks);
  }

  private static String bearer(String header) {
    if (header == null) return null;
    String h = header.trim();
    if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
    String credential = h.substring(7).trim();
    return credential.isEmpty() ? null : credential;
  }

  private CompletionStage<Outcome> completed(String source, Outcome outcome) {
    return CompletableFuture.completedFuture(counted(source, outcome));
  }

  private Outcome counted(String source, Outcome outcome) {
    if (!(outcome instanceof Refused)) return outcome;
    refused.incrementAndGet();
    long now = clock.getAsLong();
    if (failures.size() >= MAX_SOURCES) forgetOldWindows(now);
    failures.compute(
        source,
        (s, f) ->
            f == null || now - f.windowStartMillis() >= settings.failureWindow().toMillis()
                ? new Failures(now, 1)
                : new Failures(f.windowStartMillis(), f.count() + 1));
    return outcome;
  }

  /** Drops the sources whose window has passed; if that is not enough, every source. */
  private void forgetOldWindows(long now) {
    failures
        .entrySet()
        .removeIf(
            e -> now - e.getValue().windowStartMillis() >= settings.failureWindow().toMillis());
    if (failures.size() >= MAX_SOURCES) failures.clear();
  }
}
