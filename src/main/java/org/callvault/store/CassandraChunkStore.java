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
 *
 * <p>A chunk's packets are sealed with AES-256-GCM under its recording's audio key ({@link
 * RecordingKeys}), bound to the chunk's place (call, stream, epoch, number), so a row copied to
 * another place does not open: column {@code sealed} says how ({@link #SEALED}; null for a chunk
 * stored unencrypted by an earlier version, read as it is). A chunk whose recording's keys are
 * destroyed reads as {@link Erased}.
 */
public final class CassandraChunkStore implements ChunkStore {

  public static final int CHUNKS_PER_BUCKET = 1800;

  /** {@code sealed}: AES-256-GCM under the recording's audio key, its place as associated data. */
  static final int SEALED = 1;

  /** A chunk of a recording whose keys were destroyed: erased, never to be read. */
  public static final class Erased extends IllegalStateException {
    public Erased(String callId) {
      super("call '" + callId + "' is erased: its audio can no longer be read");
    }
  }

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
  private final RecordingKeys keys;

  private record Prepared(
      CqlSession session,
      PreparedStatement insert,
      PreparedStatement select,
      PreparedStatement after,
      PreparedStatement delete) {}

  public CassandraChunkStore(
      CompletionStage<CqlSession> session, Settings settings, MasterKeyset master) {
    this.session = session;
    this.keyspace = settings.keyspace();
    this.createTable = settings.createTable();
    this.consistency = settings.consistency();
    this.keys = new RecordingKeys(session, this::ready, keyspace, consistency, master);
    prepared();
  }

  /** The recordings' keys, kept beside their audio. */
  public RecordingKeys keys() {
    return keys;
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
                        .thenCompose(rs -> inOrder(s, Schema.storeTables(keyspace), ddlTimeout))
                        .thenApply(rs -> s)
                    : CompletableFuture.completedFuture(s))
        .thenCompose(
            s ->
                s.prepareAsync(
                        "INSERT INTO "
                            + keyspace
                            + ".audio_chunks (call_id, label, epoch, bucket, n, "
                            + COLUMNS
                            + ", sealed, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                            + " ?, ?, ?, ?, ?)")
                    .thenCompose(
                        insert ->
                            s.prepareAsync(
                                    "SELECT sealed, data FROM "
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
                                            .thenCompose(
                                                after ->
                                                    s.prepareAsync(
                                                            "DELETE FROM "
                                                                + keyspace
                                                                + ".audio_chunks WHERE call_id = ?"
                                                                + " AND label = ? AND epoch = ? AND"
                                                                + " bucket = ?")
                                                        .thenApply(
                                                            delete ->
                                                                new Prepared(
                                                                    s, insert, select, after,
                                                                    delete))))));
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
    return keys.keysForWriting(chunk.callId())
        .thenCombine(prepared(), (k, p) -> new Object[] {seal(k, chunk), p})
        .thenCompose(
            sealedAndPrepared -> {
              ByteBuffer sealed = (ByteBuffer) sealedAndPrepared[0];
              Prepared p = (Prepared) sealedAndPrepared[1];
              return p.session()
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
                              SEALED,
                              sealed)
                          .setIdempotent(true)
                          .setConsistencyLevel(consistency))
                  .thenApply(rs -> (Void) null);
            });
  }

  /** The chunk's packets sealed under the recording's audio key, bound to the chunk's place. */
  private static ByteBuffer seal(RecordingKeys.Keys keys, AudioChunk chunk) {
    try {
      return ByteBuffer.wrap(
          keys.audio().encrypt(chunk.packets(), place(chunk.callId(), chunk.info())));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed: " + e, e);
    }
  }

  private static byte[] place(String callId, ChunkInfo i) {
    return (callId + "/" + i.label() + "/" + i.epoch() + "/" + i.n())
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
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
                    .thenCompose(
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
                          ByteBuffer data = row.getByteBuffer("data");
                          byte[] bytes = new byte[data.remaining()];
                          data.get(bytes);
                          if (row.isNull("sealed"))
                            return CompletableFuture.completedFuture(
                                new AudioChunk(callId, info, bytes));
                          return keys.find(callId)
                              .thenApply(
                                  k ->
                                      new AudioChunk(
                                          callId,
                                          info,
                                          open(
                                              k.orElseThrow(() -> new Erased(callId)),
                                              callId,
                                              info,
                                              bytes)));
                        }));
  }

  private static byte[] open(
      RecordingKeys.Keys keys, String callId, ChunkInfo info, byte[] sealed) {
    try {
      return keys.audio().decrypt(sealed, place(callId, info));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(
          "chunk "
              + info.n()
              + " of stream '"
              + info.label()
              + "' of call '"
              + callId
              + "' does not open under its recording's key: altered, or moved from another place",
          e);
    }
  }

  @Override
  public CompletionStage<Void> erase(
      String callId, java.util.Map<String, java.util.Map<Long, Long>> stored) {
    return keys.destroy(callId)
        .thenCompose(destroyed -> prepared())
        .thenCompose(
            p -> {
              CompletionStage<Void> done = CompletableFuture.completedFuture(null);
              for (var stream : stored.entrySet())
                for (var epoch : stream.getValue().entrySet())
                  for (long bucket = 0; bucket <= bucketOf(epoch.getValue()); bucket++) {
                    var delete =
                        p.delete()
                            .bind(callId, stream.getKey(), epoch.getKey(), bucket)
                            .setConsistencyLevel(consistency)
                            .setIdempotent(true);
                    done =
                        done.thenCompose(
                            x -> p.session().executeAsync(delete).thenApply(rs -> null));
                  }
              return done;
            });
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
