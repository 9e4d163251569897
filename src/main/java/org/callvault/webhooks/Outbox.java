package org.callvault.webhooks;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.callvault.call.Call;
import org.callvault.call.Event;
import org.callvault.store.Tables;

/**
 * Webhook notices waiting to be delivered, in Cassandra ({@code webhook_outbox} of {@code
 * ops/schema.cql}), one partition per shard of calls (a {@code CatalogTags} tag): a notice is
 * written here before the read model moves past its event, and deleted once delivered or given up,
 * so a node that restarts meanwhile loses none. {@link OutboxDelivery} sends them.
 */
public final class Outbox {

  /** A notice waiting: where it goes, how often it was tried, when it is due again. */
  record Waiting(
      long minute,
      String id,
      String event,
      String callId,
      String url,
      String body,
      int attempts,
      Instant due) {}

  private final Tables tables;
  private final String nodeUrl;
  private final String insert;

  /**
   * @param nodeUrl where notices of calls without a webhook of their own go; empty for nowhere
   * @param create whether to create the table where it is missing (local runs and tests)
   */
  public Outbox(
      CompletionStage<CqlSession> session, String keyspace, boolean create, String nodeUrl) {
    this.tables =
        new Tables(session, keyspace, List.of("webhook_outbox", "webhook_cursor"), create);
    this.nodeUrl = nodeUrl == null ? "" : nodeUrl.strip();
    this.insert =
        "INSERT INTO "
            + tables.table("webhook_outbox")
            + " (shard, minute, id, event, call_id, url, body, attempts, due) VALUES (?, ?, ?, ?,"
            + " ?, ?, ?, ?, ?)";
  }

  /**
   * Puts the notice of {@code event} (applied to the call that is now {@code after}), if it makes
   * one and the call has somewhere to send it, in shard {@code shard}'s partition. Written again,
   * the same notice is the same row.
   */
  public CompletionStage<Void> add(int shard, Call after, Event event) {
    String url = after.spec().webhook() != null ? after.spec().webhook() : nodeUrl;
    if (url.isEmpty()) return CompletableFuture.completedFuture(null);
    return RecordingNotices.of(after, event)
        .map(
            notice ->
                tables
                    .execute(
                        insert,
                        shard,
                        minuteOf(Instant.now()),
                        notice.id(),
                        notice.event(),
                        notice.callId(),
                        url,
                        notice.body(),
                        0,
                        Instant.now())
                    .<Void>thenApply(rs -> null))
        .orElse(CompletableFuture.completedFuture(null));
  }

  /** The minute {@code t} is in, as the partitions count them. */
  static long minuteOf(Instant t) {
    return t.getEpochSecond() / 60;
  }

  /** The notices of {@code shard} in {@code minute}, due or not. */
  CompletionStage<List<Waiting>> in(int shard, long minute) {
    return tables
        .execute(
            "SELECT id, event, call_id, url, body, attempts, due FROM "
                + tables.table("webhook_outbox")
                + " WHERE shard = ? AND minute = ?",
            shard,
            minute)
        .thenApply(
            rs -> {
              List<Waiting> waiting = new ArrayList<>();
              for (Row row : rs.currentPage())
                waiting.add(
                    new Waiting(
                        minute,
                        row.getString("id"),
                        row.getString("event"),
                        row.getString("call_id"),
                        row.getString("url"),
                        row.getString("body"),
                        row.getInt("attempts"),
                        row.getInstant("due")));
              return waiting;
            });
  }

  /** The notice is delivered, or given up: it leaves the outbox. */
  CompletionStage<Void> remove(int shard, Waiting notice) {
    return tables
        .execute(
            "DELETE FROM "
                + tables.table("webhook_outbox")
                + " WHERE shard = ? AND minute = ? AND id = ?",
            shard,
            notice.minute(),
            notice.id())
        .thenApply(rs -> null);
  }

  /** Another attempt failed: the notice moves to the minute of {@code due}, its next. */
  CompletionStage<Void> retryAt(int shard, Waiting notice, int attempts, Instant due) {
    return tables
        .execute(
            insert,
            shard,
            minuteOf(due),
            notice.id(),
            notice.event(),
            notice.callId(),
            notice.url(),
            notice.body(),
            attempts,
            due)
        .thenCompose(
            rs ->
                minuteOf(due) == notice.minute()
                    ? CompletableFuture.completedFuture(null)
                    : remove(shard, notice));
  }

  /** The oldest minute of {@code shard} that may hold a notice; {@code otherwise} before any. */
  CompletionStage<Long> cursor(int shard, long otherwise) {
    return tables
        .execute("SELECT minute FROM " + tables.table("webhook_cursor") + " WHERE shard = ?", shard)
        .thenApply(
            rs -> {
              Row row = rs.one();
              return row == null ? otherwise : row.getLong("minute");
            });
  }

  /** No notice of {@code shard} is older than {@code minute}. */
  CompletionStage<Void> advance(int shard, long minute) {
    return tables
        .execute(
            "INSERT INTO " + tables.table("webhook_cursor") + " (shard, minute) VALUES (?, ?)",
            shard,
            minute)
        .thenApply(rs -> null);
  }
}
