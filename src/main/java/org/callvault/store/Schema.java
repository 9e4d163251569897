package org.callvault.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.OptionsMap;
import com.datastax.oss.driver.api.core.config.TypedDriverOption;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Applies the production schema ({@code ops/schema.cql}) to a Cassandra cluster, as {@code
 * ops/schema} runs it: keyspace names and replication from the environment, every statement
 * idempotent ({@code IF NOT EXISTS}), and the cluster's schema agreement awaited.
 *
 * <pre>
 * CASSANDRA_CONTACT_POINTS   host:port,… [127.0.0.1:9042]
 * CASSANDRA_LOCAL_DC         the data center to connect to [datacenter1]
 * CASSANDRA_REPLICATION      the keyspaces' replication per data center, e.g. 'dc1': 3, 'dc2': 3
 *                            [as written in the file]
 * CALLVAULT_JOURNAL_KEYSPACE, CALLVAULT_SNAPSHOT_KEYSPACE  [callvault, callvault_snapshot]
 * </pre>
 */
public final class Schema {

  private static final Pattern REPLICATION = Pattern.compile("REPLICATION\\s*=\\s*\\{[^}]*}");
  private static final Pattern DC_FACTOR =
      Pattern.compile("\\s*'[A-Za-z0-9_.-]+'\\s*:\\s*[1-9][0-9]*\\s*");

  /** The schema file in the service's jar: the same file as {@code ops/schema.cql}. */
  static final String RESOURCE = "/schema.cql";

  private Schema() {}

  /** The tables this package keeps in the journal's keyspace. */
  static final List<String> TABLES = List.of("audio_chunks", "recording_keys");

  /**
   * The statements of {@code tables} from the schema file, in {@code keyspace}: each CREATE, then
   * the ALTERs that bring a table created by an earlier version up to date. For local runs and
   * tests that create them.
   */
  public static List<String> tables(String keyspace, List<String> tables) {
    String cql;
    try (var in = Schema.class.getResourceAsStream(RESOURCE)) {
      if (in == null)
        throw new IllegalStateException(RESOURCE + " is missing from the service's jar");
      cql = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    List<String> wanted =
        statements(cql, keyspace, "callvault_snapshot", null).stream()
            .filter(
                statement ->
                    tables.stream()
                        .anyMatch(
                            table ->
                                statement.startsWith(
                                        "CREATE TABLE IF NOT EXISTS "
                                            + keyspace
                                            + "."
                                            + table
                                            + " ")
                                    || statement.startsWith(
                                        "ALTER TABLE " + keyspace + "." + table + " ")))
            .toList();
    for (String table : tables)
      if (wanted.stream()
          .noneMatch(
              st -> st.startsWith("CREATE TABLE IF NOT EXISTS " + keyspace + "." + table + " ")))
        throw new IllegalStateException(RESOURCE + " has no " + table + " table");
    return wanted;
  }

  /** This package's tables: {@link #tables} of {@link #TABLES}. */
  static List<String> storeTables(String keyspace) {
    return tables(keyspace, TABLES);
  }

  /**
   * The file's statements with the keyspaces renamed and, when {@code replication} is not null,
   * NetworkTopologyStrategy with those data centers and factors.
   *
   * @throws IllegalArgumentException when {@code replication} is not a list of {@code 'dc': n}
   */
  public static List<String> statements(
      String cql, String journalKeyspace, String snapshotKeyspace, String replication) {
    if (replication != null) {
      for (String dc : replication.split(",", -1)) {
        if (!DC_FACTOR.matcher(dc).matches())
          throw new IllegalArgumentException(
              "CASSANDRA_REPLICATION must list 'datacenter': replicas, comma-separated (e.g. 'dc1':"
                  + " 3, 'dc2': 3); got: "
                  + replication);
      }
    }
    String text =
        cql.lines().filter(line -> !line.trim().startsWith("--")).collect(Collectors.joining("\n"));
    List<String> statements = new ArrayList<>();
    for (String statement : text.split(";")) {
      if (statement.isBlank()) continue;
      String s =
          statement
              .trim()
              .replaceAll("\\bcallvault_snapshot\\b", "\u0000")
              .replaceAll("\\bcallvault\\b", journalKeyspace)
              .replace("\u0000", snapshotKeyspace);
      if (replication != null)
        s =
            REPLICATION
                .matcher(s)
                .replaceAll(
                    Matcher.quoteReplacement(
                        "REPLICATION = { 'class' : 'NetworkTopologyStrategy', "
                            + replication.trim()
                            + " }"));
      statements.add(s);
    }
    return statements;
  }

  /**
   * Runs {@code statements} in order, each once every node agrees on the schema the one before made
   * (a session without schema metadata does not wait for that itself), telling {@code progress} the
   * first line of each. False when the nodes did not agree within 30 s of one.
   */
  public static boolean apply(
      CqlSession session, List<String> statements, java.util.function.Consumer<String> progress)
      throws InterruptedException {
    for (String statement : statements) {
      progress.accept(statement.lines().findFirst().orElse(""));
      session.execute(statement);
      if (!agreed(session)) return false;
    }
    return true;
  }

  private static boolean agreed(CqlSession session) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!session.checkSchemaAgreement()) {
      if (System.nanoTime() > deadline) return false;
      Thread.sleep(100);
    }
    return true;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Schema <schema.cql>");
      System.exit(2);
    }
    List<String> statements =
        statements(
            Files.readString(Path.of(args[0])),
            env("CALLVAULT_JOURNAL_KEYSPACE", "callvault"),
            env("CALLVAULT_SNAPSHOT_KEYSPACE", "callvault_snapshot"),
            System.getenv("CASSANDRA_REPLICATION"));
    // The driver's defaults only (the service's application.conf names a local contact point), with
    // time for schema changes: a table is created on every replica before the answer.
    OptionsMap options = OptionsMap.driverDefaults();
    options.put(TypedDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(60));
    // Nothing here reads the driver's schema metadata, which it would refresh after each change (a
    // second each): without it the file applies in seconds rather than half a minute.
    options.put(TypedDriverOption.METADATA_SCHEMA_ENABLED, false);
    var builder =
        CqlSession.builder()
            .withConfigLoader(DriverConfigLoader.fromMap(options))
            .withLocalDatacenter(env("CASSANDRA_LOCAL_DC", "datacenter1"));
    for (InetSocketAddress point :
        ContactPoints.parse(env("CASSANDRA_CONTACT_POINTS", "127.0.0.1:9042")))
      builder.addContactPoint(new InetSocketAddress(point.getHostString(), point.getPort()));
    try (CqlSession session = builder.build()) {
      if (!apply(session, statements, line -> System.out.println(line))) {
        System.err.println(
            "the schema is applied but the Cassandra nodes do not agree on it yet; check `nodetool"
                + " describecluster`");
        System.exit(1);
      }
    }
    System.out.println(statements.size() + " statements applied");
  }

  private static String env(String name, String otherwise) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? otherwise : value;
  }
}
