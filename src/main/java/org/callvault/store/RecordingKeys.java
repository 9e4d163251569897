package org.callvault.store;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.DeterministicAead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.daead.PredefinedDeterministicAeadParameters;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.callvault.core.PersonalData;

/**
 * Each recording's own keys (envelope encryption): an AES-256-GCM keyset for its audio and an
 * AES-SIV keyset for the personal fields of its ledger, made when the call is created, kept in
 * Cassandra wrapped by the {@link MasterKeyset}, and bound to the call's id. Destroying them
 * (erasure) makes the call's audio and personal fields unreadable wherever a copy of them is,
 * backups of the audio and the journal included; the keys table's own backups must be kept no
 * longer than an erasure may wait.
 *
 * <p>Keys found for writing are cached on the node; keys asked for reading are always read from
 * Cassandra, so an erasure on one node is seen by every other at once.
 */
public final class RecordingKeys implements PersonalData {

  /** A recording's keys, unwrapped. */
  public record Keys(Aead audio, DeterministicAead fields) {}

  /** What {@link #rewrap} did. */
  public record Rewrapped(int rewrapped, int alreadyPrimary, int primaryKeyId) {}

  private static final int CACHED = 10_000;

  private final CompletionStage<CqlSession> session;
  private final String table;
  private final ConsistencyLevel consistency;
  private final MasterKeyset master;
  private final java.util.function.Supplier<CompletionStage<Void>> tableReady;
  private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<Statements>>
      prepared = new java.util.concurrent.atomic.AtomicReference<>();

  /** Keys this node made or read for writing, most recently used last. */
  private final Map<String, Keys> cache =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Keys> eldest) {
          return size() > CACHED;
        }
      };

  private record Statements(
      CqlSession session,
      PreparedStatement insert,
      PreparedStatement select,
      PreparedStatement delete,
      PreparedStatement all,
      PreparedStatement update) {}

  /**
   * @param tableReady completes once the table exists (local runs create it first); asked again
   *     after a failure
   */
  public RecordingKeys(
      CompletionStage<CqlSession> session,
      java.util.function.Supplier<CompletionStage<Void>> tableReady,
      String keyspace,
      ConsistencyLevel consistency,
      MasterKeyset master) {
    this.session = session;
    this.tableReady = tableReady;
    this.table = keyspace + ".recording_keys";
    this.consistency = consistency;
    this.master = master;
  }

  /** The prepared statements; a failed preparation (Cassandra down) is tried again on next use. */
  private CompletionStage<Statements> statements() {
    CompletableFuture<Statements> current = prepared.get();
    if (current != null && !current.isCompletedExceptionally()) return current;
    CompletableFuture<Statements> fresh =
        tableReady
            .get()
            .thenCompose(ok -> session)
            .thenCompose(this::prepare)
            .toCompletableFuture();
    return prepared.compareAndSet(current, fresh) ? fresh : prepared.get();
  }

  private CompletionStage<Statements> prepare(CqlSession s) {
    String columns = "audio_key, field_key, master_key_id";
    return s.prepareAsync(
            "INSERT INTO "
                + table
                + " (call_id, "
                + columns
                + ", created) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS")
        .thenCompose(
            insert ->
                s.prepareAsync("SELECT " + columns + " FROM " + table + " WHERE call_id = ?")
                    .thenCompose(
                        select ->
                            s.prepareAsync("DELETE FROM " + table + " WHERE call_id = ?")
                                .thenCompose(
                                    delete ->
                                        s.prepareAsync(
                                                "SELECT call_id, " + columns + " FROM " + table)
                                            .thenCompose(
                                                all ->
                                                    s.prepareAsync(
                                                            "UPDATE "
                                                                + table
                                                                + " SET audio_key = ?, field_key"
                                                                + " = ?, master_key_id = ? WHERE"
                                                                + " call_id = ? IF EXISTS")
                                                        .thenApply(
                                                            update ->
                                                                new Statements(
                                                                    s, insert, select, delete, all,
                                                                    update))))));
  }

  /**
   * The call's keys, made now if it has none: once per call, whichever node asks first (a
   * lightweight transaction decides between two asking at once).
   */
  public CompletionStage<Keys> keysForWriting(String callId) {
    Keys cached;
    synchronized (cache) {
      cached = cache.get(callId);
    }
    if (cached != null) return CompletableFuture.completedFuture(cached);
    return find(callId)
        .thenCompose(found -> found.isPresent() ? completed(found.get()) : create(callId))
        .thenApply(
            keys -> {
              synchronized (cache) {
                cache.put(callId, keys);
              }
              return keys;
            });
  }

  @Override
  public CompletionStage<Cipher> forWriting(String callId) {
    return keysForWriting(callId).thenApply(keys -> new FieldCipher(callId, keys.fields()));
  }

  @Override
  public CompletionStage<Optional<Cipher>> forReading(String callId) {
    return find(callId).thenApply(keys -> keys.map(k -> new FieldCipher(callId, k.fields())));
  }

  /** The call's keys as storage holds them now; empty when it has none (never made, or erased). */
  public CompletionStage<Optional<Keys>> find(String callId) {
    return statements()
        .thenCompose(
            st ->
                st.session()
                    .executeAsync(st.select().bind(callId).setConsistencyLevel(consistency))
                    .thenApply(
                        rs -> Optional.ofNullable(rs.one()).map(row -> unwrap(callId, row))));
  }

  /** Destroys the call's keys: its audio and personal fields can never be read again. */
  public CompletionStage<Void> destroy(String callId) {
    synchronized (cache) {
      cache.remove(callId);
    }
    return statements()
        .thenCompose(
            st ->
                st.session()
                    .executeAsync(
                        st.delete()
                            .bind(callId)
                            .setConsistencyLevel(consistency)
                            .setIdempotent(true))
                    .thenApply(rs -> null));
  }

  /**
   * Wraps every recording's keys with the master keyset's primary key (after a rotation added one),
   * so that the older master keys can then be retired. The audio is not touched.
   */
  public CompletionStage<Rewrapped> rewrap() {
    int primary = master.primaryKeyId();
    return statements()
        .thenCompose(
            st ->
                st.session()
                    .executeAsync(st.all().bind().setConsistencyLevel(consistency))
                    .thenCompose(rs -> rewrapPage(st, rs, primary, 0, 0)));
  }

  private CompletionStage<Rewrapped> rewrapPage(
      Statements st, AsyncResultSet rs, int primary, int rewrapped, int already) {
    CompletionStage<int[]> done = CompletableFuture.completedFuture(new int[] {rewrapped, already});
    for (Row row : rs.currentPage()) {
      String callId = row.getString("call_id");
      if (row.getInt("master_key_id") == primary) {
        done = done.thenApply(n -> new int[] {n[0], n[1] + 1});
        continue;
      }
      Keysets keysets = keysets(callId, row);
      done =
          done.thenCompose(
              n ->
                  st.session()
                      .executeAsync(
                          st.update()
                              .bind(
                                  wrap(callId, keysets.audio()),
                                  wrap(callId, keysets.fields()),
                                  primary,
                                  callId)
                              .setConsistencyLevel(consistency))
                      .thenApply(r -> new int[] {n[0] + (r.wasApplied() ? 1 : 0), n[1]}));
    }
    return done.thenCompose(
        n ->
            rs.hasMorePages()
                ? rs.fetchNextPage().thenCompose(next -> rewrapPage(st, next, primary, n[0], n[1]))
                : completed(new Rewrapped(n[0], n[1], primary)));
  }

  private CompletionStage<Keys> create(String callId) {
    KeysetHandle audio;
    KeysetHandle fields;
    try {
      audio = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
      fields = KeysetHandle.generateNew(PredefinedDeterministicAeadParameters.AES256_SIV);
    } catch (GeneralSecurityException e) {
      return CompletableFuture.failedFuture(e);
    }
    return statements()
        .thenCompose(
            st ->
                st.session()
                    .executeAsync(
                        st.insert()
                            .bind(
                                callId,
                                wrap(callId, audio),
                                wrap(callId, fields),
                                master.primaryKeyId(),
                                Instant.now()))
                    .thenCompose(
                        rs ->
                            rs.wasApplied()
                                ? completed(primitives(new Keysets(audio, fields)))
                                : find(callId).thenApply(Optional::orElseThrow)));
  }

  private record Keysets(KeysetHandle audio, KeysetHandle fields) {}

  private Keys unwrap(String callId, Row row) {
    return primitives(keysets(callId, row));
  }

  private Keysets keysets(String callId, Row row) {
    try {
      return new Keysets(
          TinkProtoKeysetFormat.parseEncryptedKeyset(
              bytes(row.getByteBuffer("audio_key")), master.aead(), boundTo(callId)),
          TinkProtoKeysetFormat.parseEncryptedKeyset(
              bytes(row.getByteBuffer("field_key")), master.aead(), boundTo(callId)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "the keys of call '"
              + callId
              + "' cannot be unwrapped (master key id "
              + row.getInt("master_key_id")
              + " missing from the master keyset?): "
              + e.getMessage(),
          e);
    }
  }

  private static Keys primitives(Keysets keysets) {
    try {
      return new Keys(
          keysets.audio().getPrimitive(RegistryConfiguration.get(), Aead.class),
          keysets.fields().getPrimitive(RegistryConfiguration.get(), DeterministicAead.class));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a recording keyset gives no primitive: " + e, e);
    }
  }

  private ByteBuffer wrap(String callId, KeysetHandle keyset) {
    try {
      return ByteBuffer.wrap(
          TinkProtoKeysetFormat.serializeEncryptedKeyset(keyset, master.aead(), boundTo(callId)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a recording keyset cannot be wrapped: " + e, e);
    }
  }

  /** A wrapped keyset opens only under its own call's id. */
  private static byte[] boundTo(String callId) {
    return ("callvault-recording:" + callId).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  private static <T> CompletionStage<T> completed(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
