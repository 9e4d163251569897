package org.callvault.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Cassandra the build started for the integration tests, stopped and started again by a test
 * through {@code ops/cassandra}, as an operator would. A test that stops it starts it again before
 * it ends: the tests after it share it.
 */
final class ItCassandra {

  private ItCassandra() {}

  /** Stops Cassandra (SIGTERM, as {@code ops/cassandra stop}); returns once it has exited. */
  static void stop() throws Exception {
    run("stop", Duration.ofSeconds(90));
  }

  /** Writes Cassandra's memtables to its data files ({@code ops/cassandra flush}). */
  static void flush() throws Exception {
    run("flush", Duration.ofSeconds(60));
  }

  /** Where Cassandra keeps its data files and commit log. */
  static Path dataDir() {
    return Path.of(
            System.getProperty(
                "callvault.it.cassandra.home",
                Path.of(System.getProperty("user.dir")).resolve("target/it-home").toString()))
        .resolve("cassandra/data");
  }

  /** Starts Cassandra again on its data; returns once it answers CQL. */
  static void start() throws Exception {
    run("start", Duration.ofSeconds(200));
  }

  private static void run(String command, Duration timeout) throws Exception {
    Path root = Path.of(System.getProperty("user.dir"));
    ops(
        command,
        Map.of(
            "CALLVAULT_HOME",
            System.getProperty(
                "callvault.it.cassandra.home", root.resolve("target/it-home").toString()),
            "CASSANDRA_PORT",
            String.valueOf(NodeProcess.cassandraPort()),
            "CASSANDRA_STORAGE_PORT",
            System.getProperty("callvault.it.cassandra.storage.port", "17000"),
            "CASSANDRA_JMX_PORT",
            System.getProperty("callvault.it.cassandra.jmx.port", "17199")),
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
