package org.callvault.catalog;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import io.prometheus.metrics.core.metrics.Histogram;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.callvault.call.Call;
import org.callvault.call.Change;
import org.callvault.call.Completeness;
import org.callvault.call.Event;
import org.callvault.call.Party;
import org.callvault.call.Phase;
import org.callvault.core.PersonalData;

/**
 * Finding calls: the listing of {@code GET /v1/calls} over the read model that {@link
 * CatalogProjection} keeps, by time range, party, state, source and completeness, newest first, a
 * page at a time. The read model follows the journal by a few seconds (README, "Finding calls").
 */
public final class Catalog {

  /** The range a listing without {@code from} covers unless configured otherwise. */
  public static final Duration DEFAULT_RANGE = Duration.ofDays(31);

  /** The most calls a page holds. */
  public static final int MAX_LIMIT = 500;

  /**
   * The most index rows one page looks at: a selective filter over a long range answers with what
   * it found so far and a token to go on from, rather than reading every call of the range at once.
   */
  static final int MAX_EXAMINED = 5_000;

  /**
   * The recording_keys row whose field key seals the parties' addresses of record in the party
   * index: a deterministic seal, so the same address finds the same rows, and no address is in the
   * index in plain text. Not a call id ({@code #} is not allowed in one).
   */
  static final String INDEX_KEY = "#catalog";

  /**
   * A call as the read model holds it.
   *
   * @param call the fold of its tagged events: state, parties, custody, gaps and the counters its
   *     media released with
   * @param source {@code api}, or the host of the SIPREC client that sent it
   * @param partyKeys its rows in the party index
   */
  public record Listed(Call call, String source, Set<String> partyKeys) {}

  /** One page: the calls, newest first, and where the next page starts (null after the last). */
  public record Page(List<Listed> calls, String nextPageToken) {}

  /**
   * What a listing asks for.
   *
   * @param party a party's id or, when it has a scheme ({@code sip:}, {@code tel:}…), address of
   *     record; null for any
   * @param state null for any
   * @param source {@code api}, a SIPREC client's host, or null for any
   * @param after where the page starts: after this place; null for the newest
   */
  public record Filter(
      Instant from,
      Instant to,
      String party,
      Phase state,
      String source,
      boolean incompleteOnly,
      int limit,
      CatalogStore.Place after) {

    /**
     * The filter of a request's query parameters ({@code from}, {@code to}, {@code party}, {@code
     * state}, {@code source}, {@code incomplete}, {@code limit}, {@code pageToken}).
     *
     * @throws IllegalArgumentException naming every parameter that is wrong
     */
    public static Filter parse(Map<String, String> query, Instant now, Duration defaultRange) {
      List<String> problems = new ArrayList<>();
      Set<String> known =
          Set.of("from", "to", "party", "state", "source", "incomplete", "limit", "pageToken");
      for (String name : query.keySet())
        if (!known.contains(name))
          problems.add(
              "unknown parameter '"
                  + name
                  + "' (known: "
                  + String.join(", ", known.stream().sorted().toList())
                  + ")");
      Instant to = instant(query.get("to"), "to", now, problems);
      Instant from = instant(query.get("from"), "from", to.minus(defaultRange), problems);
      if (from.isAfter(to)) problems.add("from must not be after to");
      Phase state = null;
      if (query.get("state") != null) {
        try {
          state = Phase.valueOf(query.get("state").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          problems.add(
              "state must be one of "
                  + java.util.Arrays.toString(Phase.values())
                  + ", was '"
                  + query.get("state")
                  + "'");
        }
      }
      String incomplete = query.getOrDefault("incomplete", "false");
      if (!incomplete.equals("true") && !incomplete.equals("false"))
        problems.add("incomplete must be true or false, was '" + incomplete + "'");
      int limit = 50;
      if (query.get("limit") != null) {
        try {
          limit = Integer.parseInt(query.get("limit"));
        } catch (NumberFormatException e) {
          limit = -1;
        }
        if (limit < 1 || limit > MAX_LIMIT)
          problems.add("limit must be 1 to " + MAX_LIMIT + ", was '" + query.get("limit") + "'");
      }
      CatalogStore.Place after = null;
      if (query.get("pageToken") != null) {
        after = place(query.get("pageToken"));
        if (after == null) problems.add("pageToken is not one this API gave");
      }
      String party = blankToNull(query.get("party"));
      String source = blankToNull(query.get("source"));
      if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
      return new Filter(from, to, party, state, source, incomplete.equals("true"), limit, after);
    }

    boolean matches(Listed listed) {
      Call call = listed.call();
      return (state == null || call.phase() == state)
          && (source == null || source.equalsIgnoreCase(listed.source()))
          && (!incompleteOnly || !Completeness.of(call).complete());
    }

    private static Instant instant(
        String text, String name, Instant otherwise, List<String> problems) {
      if (text == null || text.isBlank()) return otherwise;
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        problems.add(
            name + " must be an ISO-8601 instant (2026-12-06T10:15:30Z), was '" + text + "'");
        return otherwise;
      }
    }

    private static String blankToNull(String text) {
      return text == null || text.isBlank() ? null : text.trim();
    }
  }

  /**
   * What else follows the events the read model applies (the webhook outbox): it is given each
   * event, with the call it makes, before the read model moves past it, so it misses none; it may
   * be given one again (delivery is at least once).
   */
  public interface Follower {
    CompletionStage<Void> follow(int shard, Call after, Event event);
  }

  private final CatalogStore store;
  private final PersonalData personal;
  private final Follower follower;
  private final Histogram lag =
      Histogram.builder()
          .name("callvault_catalog_lag_seconds")
          .help("From a tagged event's time to its application to the calls' read model")
          .classicUpperBounds(0.5, 1, 2, 3, 5, 10, 30, 60, 300)
          .build();

  /**
   * @param session the Cassandra session the read model's tables are read and written with
   * @param personal opens the parties' sealed addresses of record and seals them for the index;
   *     null where fields are not sealed
   * @param follower what follows the events besides the read model; null for nothing
   */
  public Catalog(
      CompletionStage<CqlSession> session,
      Config catalog,
      PersonalData personal,
      Follower follower) {
    this.store = new CatalogStore(session, CatalogStore.Settings.from(catalog));
    this.personal = personal;
    this.follower = follower;
  }

  /** Hands {@code event} of shard {@code shard} to the follower, if any. */
  CompletionStage<Void> followed(int shard, Call after, Event event) {
    return follower == null
        ? CompletableFuture.completedFuture(null)
        : follower.follow(shard, after, event);
  }

  CatalogStore store() {
    return store;
  }

  /** How far behind the journal the read model runs, for {@code /metrics}. */
  public Histogram lag() {
    return lag;
  }

  /** The range a listing without {@code from} covers. */
  public Duration defaultRange() {
    return store.settings().defaultRange();
  }

  /** The page {@code filter} asks for. */
  public CompletionStage<Page> page(Filter filter) {
    CatalogStore.Place start =
        filter.after() != null
            ? filter.after()
            : new CatalogStore.Place(filter.to().plusMillis(1), "");
    if (filter.party() == null)
      return scan(
          filter, null, start, CatalogStore.hourOf(start.createdAt()), new ArrayList<>(), 0);
    return partyKey(filter.party())
        .thenCompose(key -> scan(filter, key, start, null, new ArrayList<>(), 0));
  }

  /**
   * Reads the index (the party's rows, or the hour index from {@code hour} back) after {@code
   * cursor} until the page is full, the range ends, or {@link #MAX_EXAMINED} rows were looked at.
   */
  private CompletionStage<Page> scan(
      Filter filter,
      String partyKey,
      CatalogStore.Place cursor,
      Instant hour,
      List<Found> found,
      int examined) {
    int batch = Math.max(filter.limit() + 1, 50);
    CompletionStage<List<CatalogStore.Place>> places =
        partyKey != null
            ? store.ofParty(partyKey, cursor, filter.from(), batch)
            : store.inHour(hour, cursor, filter.from(), batch);
    return places.thenCompose(
        read -> {
          boolean rangeDone =
              read.size() < batch
                  && (partyKey != null || !hour.isAfter(CatalogStore.hourOf(filter.from())));
          if (read.isEmpty() && rangeDone) return done(found, filter, null);
          if (read.isEmpty())
            return scan(filter, null, cursor, hour.minus(Duration.ofHours(1)), found, examined);
          return store
              .find(read.stream().map(CatalogStore.Place::callId).toList())
              .thenCompose(
                  calls -> {
                    Map<String, Listed> byId = new java.util.HashMap<>();
                    for (Listed l : calls) byId.put(l.call().callId(), l);
                    for (CatalogStore.Place place : read) {
                      Listed listed = byId.get(place.callId());
                      if (listed != null && filter.matches(listed)) {
                        found.add(new Found(place, listed));
                        if (found.size() > filter.limit()) return done(found, filter, null);
                      }
                    }
                    CatalogStore.Place last = read.get(read.size() - 1);
                    int seen = examined + read.size();
                    if (rangeDone) return done(found, filter, null);
                    if (seen >= MAX_EXAMINED) return done(found, filter, last);
                    boolean hourDone = partyKey == null && read.size() < batch;
                    return hourDone
                        ? scan(filter, null, last, hour.minus(Duration.ofHours(1)), found, seen)
                        : scan(filter, partyKey, last, hour, found, seen);
                  });
        });
  }

  private record Found(CatalogStore.Place place, Listed listed) {}

  /**
   * The page of {@code found}: its first {@code limit}, with a token after the last of them if
   * there are more, or after {@code examinedTo} if the page stopped there.
   */
  private static CompletionStage<Page> done(
      List<Found> found, Filter filter, CatalogStore.Place examinedTo) {
    List<Found> page = found.subList(0, Math.min(found.size(), filter.limit()));
    CatalogStore.Place next =
        found.size() > filter.limit() ? page.get(page.size() - 1).place() : examinedTo;
    return CompletableFuture.completedFuture(
        new Page(page.stream().map(Found::listed).toList(), next == null ? null : token(next)));
  }

  /** The index row of {@code party}: by id, or by sealed address of record. */
  private CompletionStage<String> partyKey(String party) {
    if (!party.contains(":")) return CompletableFuture.completedFuture("id:" + party);
    return aorKey(party);
  }

  private CompletionStage<String> aorKey(String aor) {
    String normal = aor.trim().toLowerCase(Locale.ROOT);
    if (personal == null) return CompletableFuture.completedFuture("aor:" + normal);
    return personal.forWriting(INDEX_KEY).thenApply(cipher -> "aor:" + cipher.seal("aor", normal));
  }

  /**
   * The party index rows of {@code call}: each party's id, and its address of record if readable.
   */
  CompletionStage<Set<String>> partyKeys(Call call) {
    Set<String> keys = new HashSet<>();
    for (Party p : call.parties()) keys.add("id:" + p.id());
    List<String> sealed = call.parties().stream().map(Party::aor).filter(a -> a != null).toList();
    if (sealed.isEmpty()) return CompletableFuture.completedFuture(keys);
    CompletionStage<Optional<PersonalData.Cipher>> opener =
        personal == null
            ? CompletableFuture.completedFuture(Optional.empty())
            : personal.forReading(call.callId());
    return opener.thenCompose(
        cipher -> {
          if (personal != null && cipher.isEmpty()) return CompletableFuture.completedFuture(keys);
          List<CompletableFuture<String>> each = new ArrayList<>();
          for (String s : sealed)
            each.add(aorKey(cipher.map(c -> c.open("aor", s)).orElse(s)).toCompletableFuture());
          return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
              .thenApply(
                  x -> {
                    each.forEach(f -> keys.add(f.join()));
                    return keys;
                  });
        });
  }

  /** {@code event} applied to the call as the read model holds it (or creating it). */
  static Call applied(String callId, Optional<Call> before, Event event) {
    if (before.isPresent()) return before.get().apply(event);
    if (event.change() instanceof Change.CallCreated created)
      return Call.created(callId, created.spec(), event);
    throw new IllegalStateException(
        "call " + callId + ": event " + event.seq() + " comes before the call's creation");
  }

  /** {@code api} for a call created through the REST API, else its SIPREC client's host. */
  static String sourceOf(Call call) {
    if (call.spec().sip() == null || call.spec().sip().src() == null) return "api";
    String src = call.spec().sip().src();
    int colon = src.lastIndexOf(':');
    String host = colon > 0 && src.indexOf(':') == colon ? src.substring(0, colon) : src;
    if (host.startsWith("[") && host.contains("]")) host = host.substring(1, host.indexOf(']'));
    return host;
  }

  static String token(CatalogStore.Place place) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(
            (place.createdAt().toEpochMilli() + ":" + place.callId())
                .getBytes(StandardCharsets.UTF_8));
  }

  /** The place a token names; null for text that is not a token. */
  static CatalogStore.Place place(String token) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int colon = text.indexOf(':');
      if (colon < 1) return null;
      return new CatalogStore.Place(
          Instant.ofEpochMilli(Long.parseLong(text.substring(0, colon))),
          text.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
