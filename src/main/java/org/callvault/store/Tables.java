package org.callvault.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A feature's tables of {@code ops/schema.cql} in the journal's keyspace, reached through a session
 * once they exist: created first (with a single-replica keyspace) where asked, as local runs and
 * tests do; production applies the schema file. A failed creation (Cassandra down) is tried again
 * at the next use. Statements are prepared once (the driver keeps them) and bound.
 */
public final class Tables {

  private final CompletionStage<CqlSession> session;
  private final String keyspace;
  private final List<String> tables;
  private final boolean create;
  private final AtomicReference<CompletableFuture<CqlSession>> ready = new AtomicReference<>();

  /**
   * @param tables the tables' names in the schema file
   * @param create whether to create them, and the keyspace, if they are missing
   */
  public Tables(
      CompletionStage<CqlSession> session, String keyspace, List<String> tables, boolean create) {
    this.session = session;
    this.keyspace = keyspace;
    this.tables = List.copyOf(tables);
    this.create = create;
  }

  /** {@code name} in the keyspace: {@code keyspace.name}. */
  public String table(String name) {
    return keyspace + "." + name;
  }

  /** The session once the tables exist. */
  public CompletionStage<CqlSession> ready() {
    CompletableFuture<CqlSession> current = ready.get();
    if (current != null && !current.isCompletedExceptionally()) return current;
    CompletableFuture<CqlSession> fresh = session.thenCompose(this::created).toCompletableFuture();
    return ready.compareAndSet(current, fresh) ? fresh : ready.get();
  }

  /** {@code cql} prepared and run with {@code values}, once the tables exist. */
  public CompletionStage<AsyncResultSet> execute(String cql, Object... values) {
    return ready()
        .thenCompose(
            s ->
                s.prepareAsync(cql).thenCompose(prepared -> s.executeAsync(prepared.bind(values))));
  }

  private CompletionStage<CqlSession> created(CqlSession s) {
    if (!create) return CompletableFuture.completedFuture(s);
    List<String> ddl = new ArrayList<>();
    ddl.add(
        "CREATE KEYSPACE IF NOT EXISTS "
            + keyspace
            + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    ddl.addAll(Schema.tables(keyspace, tables));
    CompletionStage<CqlSession> done = CompletableFuture.completedFuture(s);
    for (String statement : ddl)
      done =
          done.thenCompose(
              x ->
                  s.executeAsync(
                          // Schema changes wait for agreement, longer than a request's timeout.
                          SimpleStatement.newInstance(statement).setTimeout(Duration.ofSeconds(30)))
                      .thenApply(rs -> s));
    return done;
  }
}
