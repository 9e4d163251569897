package org.callvault.api.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * API keys, the credential of integrations. A key reads {@code cvk_<id>_<secret>}: its id names it
 * in logs and ledgers, its secret is 32 random bytes. The node keeps only the SHA-256 of each key
 * (a key is as random as a hash is long, so nothing slower is needed to keep it from being guessed)
 * and compares in constant time.
 */
public final class ApiKeys {

  /** What configuration holds of one key: its id, the SHA-256 of the whole key, its roles. */
  public record Entry(String id, String sha256, Set<Role> roles) {
    public Entry {
      roles = Set.copyOf(roles);
    }
  }

  /** A key made now: the key itself, shown once, and the entry configuration keeps of it. */
  public record Made(String key, Entry entry) {

    /** The entry as a line of {@code callvault.auth.api-keys}. */
    public String configLine() {
      return "{ id = \""
          + entry.id()
          + "\", sha256 = \""
          + entry.sha256()
          + "\", roles = ["
          + entry.roles().stream()
              .sorted()
              .map(r -> "\"" + r.id() + "\"")
              .collect(Collectors.joining(", "))
          + "] }";
    }
  }

  static final String PREFIX = "cvk_";
  private static final Pattern ID = Pattern.compile("[a-z0-9-]{1,32}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Map<String, Entry> byId = new LinkedHashMap<>();

  /**
   * @throws IllegalArgumentException for an entry whose id is malformed or repeated, whose hash is
   *     not 64 hex digits, or that has no role
   */
  public ApiKeys(List<Entry> entries) {
    for (Entry e : entries) {
      String problem = idProblem(e.id());
      if (problem != null) throw new IllegalArgumentException(problem);
      if (!e.sha256().matches("[0-9a-f]{64}"))
        throw new IllegalArgumentException(
            "API key '" + e.id() + "': sha256 must be 64 lower-case hex digits");
      if (e.roles().isEmpty())
        throw new IllegalArgumentException("API key '" + e.id() + "' has no role");
      if (byId.put(e.id(), e) != null)
        throw new IllegalArgumentException("API key '" + e.id() + "' is configured twice");
    }
  }

  /** Why {@code id} cannot name a key, or null. */
  public static String idProblem(String id) {
    return id != null && ID.matcher(id).matches()
        ? null
        : "an API key's id is 1-32 lower-case letters, digits or '-', was '" + id + "'";
  }

  public boolean isEmpty() {
    return byId.isEmpty();
  }

  /** Whether {@code credential} looks like an API key (rather than a bearer token). */
  static boolean looksLikeKey(String credential) {
    return credential.startsWith(PREFIX);
  }

  /** The principal {@code key} proves, or null when it is no key configured here. */
  Principal verify(String key) {
    int end = key.indexOf('_', PREFIX.length());
    if (end < 0) return null;
    Entry entry = byId.get(key.substring(PREFIX.length(), end));
    if (entry == null) return null;
    byte[] expected = HexFormat.of().parseHex(entry.sha256());
    if (!MessageDigest.isEqual(expected, sha256(key))) return null;
    return new Principal("key:" + entry.id(), entry.roles());
  }

  /** A new key with {@code id} and {@code roles}. */
  public static Made make(String id, Set<Role> roles) {
    String problem = idProblem(id);
    if (problem != null) throw new IllegalArgumentException(problem);
    if (roles.isEmpty()) throw new IllegalArgumentException("a key needs at least one role");
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String key = PREFIX + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    return new Made(key, new Entry(id, HexFormat.of().formatHex(sha256(key)), roles));
  }

  private static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
