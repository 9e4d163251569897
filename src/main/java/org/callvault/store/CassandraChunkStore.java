package org.callvault.store;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;

/**
 * Audio chunks in Cassandra, one row per chunk, partitioned per stream, epoch and bucket of {@link
 * #CHUNKS_PER_BUCKET} chunks: at one second per chunk a partition holds half an hour of one
 * direction, about 15 MB of G.711, well under the 100 MB a partition should stay below.
 */
public final class CassandraChunkStore implements ChunkStore {

  public static final int CHUNKS_PER_BUCKET = 1800;

  private static final String COLUMNS =
      "segment, ssrc, codec, first_seq, last_seq, first_ts, end_ts, packets, anchor_ts,"
          + " anchor_wall_us, start_wall_us, end_wall_us, gated_ts";

  /**
   * Where and how chunks are written ({@code callvault.audio} in reference.conf).
   *
   * @param createTable whether to create the table, and a single-replica keyspace, if they are
   *     missing (local runs and tests only; production applies ops/schema.cql)
   */
  public record Settings(String keyspace, boolean createTable, ConsistencyLevel consistency) {

    /** Reads {@code callvault.audio}. */
    public static Settings from(Config audio) {
      return new Settings(
          audio.getString("keyspace"),
          audio.getBoolean("tables-autocreate"),
          DefaultConsistencyLevel.valueOf(audio.getString("write-consistency")));
    }
  }

  private final CompletionStage<CqlSession> session;
  private final String keyspace;
  private final boolean createTable;
  private final ConsistencyLevel consistency;
  private final AtomicReference<CompletableFuture<Prepared>> prepared = new AtomicReference<>();

  private record Prepared(
      CqlSession session,
      PreparedStatement insert,
      PreparedStatement select,
      PreparedStatement after) {}

  public CassandraChunkStore(CompletionStage<CqlSession> session, Settings settings) {
    this.session = session;
    this.keyspace = settings.keyspace();
    this.createTable = settings.createTable();
    this.consistency = settings.consistency();
    prepared();
  }

  /**
   * The prepared statements; a failed preparation (Cassandra down at start) is tried again on next
   * use.
   */
  private CompletionStage<Prepared> prepared() {
    CompletableFuture<Prepared> current = prepared.get();
    if (current != null && !current.isCompletedExceptionally()) return current;
    CompletableFuture<Prepared> fresh = prepare().toCompletableFuture();
    return prepared.compareAndSet(current, fresh) ? fresh : prepared.get();
  }

  /** Runs schema statements one after another. */
  private static CompletionStage<Void> inOrder(
      CqlSession session, List<String> statements, Duration timeout) {
    CompletionStage<Void> done = CompletableFuture.completedFuture(null);
    for (String statement : statements)
      done =
          done.thenCompose(
              x ->
                  session
                      .executeAsync(SimpleStatement.newInstance(statement).setTimeout(timeout))
                      .thenApply(rs -> null));
    return done;
  }

  private CompletionStage<Prepared> prepare() {
    // Schema changes wait for agreement, which takes longer than a request's default timeout.
    Duration ddlTimeout = Duration.ofSeconds(30);
    return session
        .thenCompose(
            s ->
                createTable
                    ? s.executeAsync(
                            SimpleStatement.newInstance(
                                    "CREATE KEYSPACE IF NOT EXISTS "
                                        + keyspace
                                        + " WITH replication = {'class': 'SimpleStrategy',"
                                        + " 'replication_factor': 1}")
                                .setTimeout(ddlTimeout))
                        .thenCompose(rs -> inOrder(s, Schema.audioTable(keyspace), ddlTimeout))
                        .thenApply(rs -> s)
                    : CompletableFuture.completedFuture(s))
        .thenCompose(
            s ->
                s.prepareAsync(
                        "INSERT INTO "
                            + keyspace
                            + ".audio_chunks (call_id, label, epoch, bucket, n, "
                            + COLUMNS
                            + ", data)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                    .thenCompose(
                        insert ->
                            s.prepareAsync(
                                    "SELECT data FROM "
                                        + keyspace
                                        + ".audio_chunks WHERE call_id = ? AND label = ? AND epoch"
                                        + " = ? AND bucket = ? AND n = ?")
                                .thenCompose(
                                    select ->
                                        s.prepareAsync(
                                                "SELECT n, "
                                                    + COLUMNS
                                                    + " FROM "
                                                    + keyspace
                                                    + ".audio_chunks WHERE call_id = ? AND label ="
                                                    + " ? AND epoch = ? AND bucket = ? AND n > ?")
                                            .thenApply(
                                                after -> new Prepared(s, insert, select, after)))));
  }

  @Override
  public CompletionStage<Void> ready() {
    return prepared().thenApply(p -> null);
  }

  static long bucketOf(long n) {
    return n / CHUNKS_PER_BUCKET;
  }

  @Override
  public CompletionStage<Void> write(AudioChunk chunk) {
    ChunkInfo i = chunk.info();
    return prepared()
        .thenCompose(
            p ->
                p.session()
                    .executeAsync(
                        p.insert()
                            .bind(
                                chunk.callId(),
                                i.label(),
                                i.epoch(),
                                bucketOf(i.n()),
                                i.n(),
                                i.segment(),
                                i.ssrc(),
                                i.codec().name(),
                                i.firstSeq(),
                                i.lastSeq(),
                                i.firstTs(),
                                i.endTs(),
                                i.packets(),
                                i.anchorTs(),
                                i.anchorWallMicros(),
                                i.startWallMicros(),
                                i.endWallMicros(),
                                i.gatedFromTs(),
                                ByteBuffer.wrap(chunk.packets()))
                            .setIdempotent(true)
                            .setConsistencyLevel(consistency))
                    .thenApply(rs -> null));
  }

  @Override
  public CompletionStage<AudioChunk> read(String callId, ChunkInfo info) {
    return prepared()
        .thenCompose(
            p ->
                p.session()
                    .executeAsync(
                        p.select()
                            .bind(callId, info.label(), info.epoch(), bucketOf(info.n()), info.n())
                            .setConsistencyLevel(consistency))
                    .thenApply(
                        rs -> {
                          Row row = rs.one();
                          if (row == null)
                            throw new IllegalStateException(
                                "chunk "
                                    + info.n()
                                    + " of stream '"
                                    + info.label()
                                    + "' (epoch "
                                    + info.epoch()
                                    + ") of call '"
                                    + callId
                                    + "' is listed in the ledger but missing from storage");
                          ByteBuffer data = row.getByteBuffer(0);
                          byte[] bytes = new byte[data.remaining()];
                          data.get(bytes);
                          return new AudioChunk(callId, info, bytes);
                        }));
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN) {
    return prepared()
        .thenCompose(
            p -> scan(p, callId, label, epoch, bucketOf(afterN + 1), afterN, new ArrayList<>()));
  }

  /** Reads bucket after bucket until one holds nothing above {@code afterN}. */
  private CompletionStage<List<ChunkInfo>> scan(
      Prepared p,
      String callId,
      String label,
      long epoch,
      long bucket,
      long afterN,
      List<ChunkInfo> found) {
    return p.session()
        .executeAsync(
            p.after().bind(callId, label, epoch, bucket, afterN).setConsistencyLevel(consistency))
        .thenCompose(rs -> collect(rs, label, epoch, found))
        .thenCompose(
            added ->
                added == 0
                    ? CompletableFuture.completedFuture(found)
                    : scan(p, callId, label, epoch, bucket + 1, afterN, found));
  }

  private static CompletionStage<Integer> collect(
      AsyncResultSet rs, String label, long epoch, List<ChunkInfo> found) {
    int added = 0;
    for (Row row : rs.currentPage()) {
      found.add(
          new ChunkInfo(
              label,
              epoch,
              row.getLong("n"),
              row.getInt("segment"),
              row.getLong("ssrc"),
              Codec.valueOf(row.getString("codec")),
              row.getLong("first_seq"),
              row.getLong("last_seq"),
              row.getLong("first_ts"),
              row.getLong("end_ts"),
              row.getInt("packets"),
              row.getLong("anchor_ts"),
              row.getLong("anchor_wall_us"),
              row.getLong("start_wall_us"),
              row.getLong("end_wall_us"),
              row.isNull("gated_ts") ? null : row.getLong("gated_ts")));
      added++;
    }
    if (rs.hasMorePages()) {
      int sofar = added;
      return rs.fetchNextPage()
          .thenCompose(next -> collect(next, label, epoch, found))
          .thenApply(more -> sofar + more);
    }
    return CompletableFuture.completedFuture(added);
  }
}
