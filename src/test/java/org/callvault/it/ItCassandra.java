package org.callvault.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Cassandra run by {@code ops/cassandra}, stopped and started again by a test as an operator
 * would: the one the build started for the integration tests ({@link #SHARED}, never stopped by a
 * test, since tests run at once on it), or one of a test's own ({@link #own}) that it may stop.
 */
final class ItCassandra {

  /** The Cassandra the build started and stops: every test may use it, none stops it. */
  static final ItCassandra SHARED =
      new ItCassandra(
          Path.of(
              System.getProperty(
                  "callvault.it.cassandra.home",
                  Path.of(System.getProperty("user.dir")).resolve("target/it-home").toString())),
          NodeProcess.cassandraPort(),
          Integer.parseInt(System.getProperty("callvault.it.cassandra.storage.port", "17000")),
          Integer.parseInt(System.getProperty("callvault.it.cassandra.jmx.port", "17199")),
          "1G");

  private final Path home;
  private final int port;
  private final int storagePort;
  private final int jmxPort;
  private final String heap;

  private ItCassandra(Path home, int port, int storagePort, int jmxPort, String heap) {
    this.home = home;
    this.port = port;
    this.storagePort = storagePort;
    this.jmxPort = jmxPort;
    this.heap = heap;
  }

  /**
   * A Cassandra of a test's own on fresh data under {@code target/it-<name>}, on loopback with the
   * given ports, not yet started: a test that stops Cassandra stops its own, and the tests running
   * beside it go on.
   */
  static ItCassandra own(String name, int port, int storagePort, int jmxPort) throws Exception {
    Path home = Path.of(System.getProperty("user.dir"), "target/it-" + name);
    if (Files.exists(home))
      try (Stream<Path> old = Files.walk(home)) {
        old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    return new ItCassandra(home, port, storagePort, jmxPort, "512M");
  }

  /** Where a node finds it: {@code CASSANDRA_CONTACT_POINTS}. */
  String contactPoint() {
    return "127.0.0.1:" + port;
  }

  int port() {
    return port;
  }

  /** Stops Cassandra (SIGTERM, as {@code ops/cassandra stop}); returns once it has exited. */
  void stop() throws Exception {
    run("stop", Duration.ofSeconds(90));
  }

  /** Starts Cassandra on its data; returns once it answers CQL. */
  void start() throws Exception {
    run("start", Duration.ofSeconds(200));
  }

  /** Writes Cassandra's memtables to its data files ({@code ops/cassandra flush}). */
  void flush() throws Exception {
    run("flush", Duration.ofSeconds(60));
  }

  /** Where Cassandra keeps its data files and commit log. */
  Path dataDir() {
    return home.resolve("cassandra/data");
  }

  private void run(String command, Duration timeout) throws Exception {
    ops(
        command,
        Map.of(
            "CALLVAULT_HOME", home.toString(),
            "CASSANDRA_PORT", String.valueOf(port),
            "CASSANDRA_STORAGE_PORT", String.valueOf(storagePort),
            "CASSANDRA_JMX_PORT", String.valueOf(jmxPort),
            "CASSANDRA_HEAP", heap),
        timeout);
  }

  /** Runs {@code ops/cassandra command} with {@code env}; fails unless it exits 0 in time. */
  static void ops(String command, Map<String, String> env, Duration timeout) throws Exception {
    Path root = Path.of(System.getProperty("user.dir"));
    ProcessBuilder builder =
        new ProcessBuilder(List.of(root.resolve("ops/cassandra").toString(), command))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.INHERIT);
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("ops/cassandra " + command + " took over " + timeout);
    }
    if (process.exitValue() != 0)
      throw new IllegalStateException(
          "ops/cassandra " + command + " exited with " + process.exitValue());
  }
}
