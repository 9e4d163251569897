package org.callvault.catalog;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.typesafe.config.Config;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.callvault.call.Call;
import org.callvault.core.Json;
import org.callvault.store.Tables;

/**
 * The calls' read model in Cassandra ({@code ops/schema.cql}): a row per call with the call as its
 * tagged events make it, and two indexes of call ids, newest first: by the hour the call was
 * created in, and by party. Written only by {@link CatalogProjection}, read by {@link CallListing}.
 */
final class CatalogStore {

  /** The read model's tables, and the projections' offset tables beside them. */
  static final List<String> TABLES =
      List.of("offset_store", "projection_management", "calls", "calls_by_hour", "calls_by_party");

  /**
   * {@code callvault.catalog}.
   *
   * @param createTables whether to create the tables, and a single-replica keyspace, if they are
   *     missing (local runs and tests; production applies ops/schema.cql)
   */
  record Settings(String keyspace, boolean createTables, Duration defaultRange) {
    static Settings from(Config catalog) {
      return new Settings(
          catalog.getString("keyspace"),
          catalog.getBoolean("tables-autocreate"),
          catalog.getDuration("default-range"));
    }
  }

  /** A place in an index: a call's creation (to the millisecond, as stored) and id. */
  record Place(Instant createdAt, String callId) {}

  private final Settings settings;
  private final Tables tables;

  CatalogStore(CompletionStage<CqlSession> session, Settings settings) {
    this.settings = settings;
    this.tables = new Tables(session, settings.keyspace(), TABLES, settings.createTables());
  }

  Settings settings() {
    return settings;
  }

  /** The session once the tables exist (created first where asked); tried again after a failure. */
  CompletionStage<CqlSession> ready() {
    return tables.ready();
  }

  /** The call as the read model holds it, with the seq of the last event applied; empty if none. */
  CompletionStage<Optional<Catalog.Listed>> find(String callId) {
    return execute(
            "SELECT fold, source, party_keys FROM " + table("calls") + " WHERE call_id = ?", callId)
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(CatalogStore::listed));
  }

  /** The calls of {@code ids} the read model holds, in that order. */
  CompletionStage<List<Catalog.Listed>> find(List<String> ids) {
    List<CompletableFuture<Optional<Catalog.Listed>>> each =
        ids.stream().map(id -> find(id).toCompletableFuture()).toList();
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(
            x -> each.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
  }

  /**
   * Writes the call after an event: its row, its place in the hour index, and its party rows
   * ({@code removed}: rows to delete). Idempotent: an event applied again writes the same.
   */
  CompletionStage<Void> write(Catalog.Listed listed, Set<String> removed) {
    Call call = listed.call();
    String fold;
    try {
      fold = Json.MAPPER.writeValueAsString(call);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return CompletableFuture.failedFuture(e);
    }
    Instant created = call.createdAt();
    List<CompletableFuture<AsyncResultSet>> writes = new ArrayList<>();
    writes.add(
        execute(
                "INSERT INTO "
                    + table("calls")
                    + " (call_id, created_at, state, source, last_seq, party_keys, fold,"
                    + " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                call.callId(),
                created,
                call.phase().name(),
                listed.source(),
                call.seq(),
                listed.partyKeys(),
                fold,
                Instant.now())
            .toCompletableFuture());
    writes.add(
        execute(
                "INSERT INTO "
                    + table("calls_by_hour")
                    + " (hour, created_at, call_id) VALUES (?, ?, ?)",
                hourOf(created),
                created,
                call.callId())
            .toCompletableFuture());
    for (String key : listed.partyKeys())
      writes.add(
          execute(
                  "INSERT INTO "
                      + table("calls_by_party")
                      + " (party, created_at, call_id) VALUES (?, ?, ?)",
                  key,
                  created,
                  call.callId())
              .toCompletableFuture());
    for (String key : removed)
      writes.add(
          execute(
                  "DELETE FROM "
                      + table("calls_by_party")
                      + " WHERE party = ? AND created_at = ? AND call_id = ?",
                  key,
                  created,
                  call.callId())
              .toCompletableFuture());
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
  }

  /**
   * Up to {@code limit} places of the hour that {@code hour} starts, before {@code before} (newest
   * first) and not before {@code from}.
   */
  CompletionStage<List<Place>> inHour(Instant hour, Place before, Instant from, int limit) {
    return places(
        "SELECT created_at, call_id FROM "
            + table("calls_by_hour")
            + " WHERE hour = ? AND (created_at, call_id) < (?, ?) AND (created_at) >= (?) LIMIT ?",
        hour,
        before,
        from,
        limit);
  }

  /** As {@link #inHour}, of the calls of party row {@code key}. */
  CompletionStage<List<Place>> ofParty(String key, Place before, Instant from, int limit) {
    return places(
        "SELECT created_at, call_id FROM "
            + table("calls_by_party")
            + " WHERE party = ? AND (created_at, call_id) < (?, ?) AND (created_at) >= (?) LIMIT ?",
        key,
        before,
        from,
        limit);
  }

  private CompletionStage<List<Place>> places(
      String cql, Object partition, Place before, Instant from, int limit) {
    return execute(cql, partition, before.createdAt(), before.callId(), from, limit)
        .thenCompose(rs -> collect(rs, new ArrayList<>()));
  }

  private static CompletionStage<List<Place>> collect(AsyncResultSet rs, List<Place> into) {
    for (Row row : rs.currentPage())
      into.add(new Place(row.getInstant("created_at"), row.getString("call_id")));
    if (!rs.hasMorePages()) return CompletableFuture.completedFuture(into);
    return rs.fetchNextPage().thenCompose(next -> collect(next, into));
  }

  /** The start of the hour {@code t} is in: the partition of the hour index. */
  static Instant hourOf(Instant t) {
    return t.truncatedTo(ChronoUnit.HOURS);
  }

  private CompletionStage<AsyncResultSet> execute(String cql, Object... values) {
    return tables.execute(cql, values);
  }

  private String table(String name) {
    return tables.table(name);
  }

  private static Catalog.Listed listed(Row row) {
    try {
      Call call = Json.MAPPER.readValue(row.getString("fold"), Call.class);
      Set<String> keys = row.getSet("party_keys", String.class);
      return new Catalog.Listed(
          call, row.getString("source"), keys == null ? Set.of() : new HashSet<>(keys));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("the read model's row of a call does not read: " + e, e);
    }
  }
}
