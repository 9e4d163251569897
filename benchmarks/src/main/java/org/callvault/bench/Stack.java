package org.callvault.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.callvault.api.access.ApiKeys;
import org.callvault.api.access.Role;
import org.callvault.store.MasterKeyset;

/**
 * What a benchmark starts for itself: a Cassandra ({@code ops/cassandra}) and CallVault nodes, all
 * under {@code target/<name>} and on ports apart from {@code ops/run}'s and the tests', with an API
 * key and a master keyset made for the run. {@link #stopAll()} stops them.
 */
final class Stack {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

  final Path root = Path.of("").toAbsolutePath();
  final Path home;
  final String keyspace = "bench_" + System.currentTimeMillis();

  /** The key benchmarks send; the nodes know its hash. */
  final ApiKeys.Made key;

  private final Map<String, String> cassandraEnv;
  private final int cassandraPort;
  private final List<Process> nodes = new ArrayList<>();

  /**
   * @param ports Cassandra's native, storage and JMX ports
   */
  Stack(String name, String keyName, int... ports) throws IOException, GeneralSecurityException {
    home = root.resolve("target").resolve(name);
    key = ApiKeys.make(keyName, EnumSet.allOf(Role.class));
    cassandraPort = ports[0];
    cassandraEnv =
        Map.of(
            "CALLVAULT_HOME", home.toString(),
            "CASSANDRA_PORT", String.valueOf(ports[0]),
            "CASSANDRA_STORAGE_PORT", String.valueOf(ports[1]),
            "CASSANDRA_JMX_PORT", String.valueOf(ports[2]));
    Files.createDirectories(home);
    Files.writeString(home.resolve("api-keys.conf"), "api-keys += " + key.configLine() + "\n");
    if (!Files.exists(home.resolve("master-keyset.json")))
      Files.writeString(home.resolve("master-keyset.json"), MasterKeyset.newKeysetJson());
  }

  int cassandraPort() {
    return cassandraPort;
  }

  /** {@code ops/cassandra start|stop|…} on this stack's Cassandra. */
  void cassandra(String command) throws IOException, InterruptedException {
    ProcessBuilder ops =
        new ProcessBuilder(root.resolve("ops/cassandra").toString(), command).inheritIO();
    ops.environment().putAll(cassandraEnv);
    if (ops.start().waitFor() != 0)
      throw new IllegalStateException("ops/cassandra " + command + " failed");
  }

  long cassandraPid() throws IOException {
    return Long.parseLong(Files.readString(home.resolve("cassandra/cassandra.pid")).strip());
  }

  /**
   * Starts a node from {@code target/callvault.jar} with {@code config} (a file of {@code
   * cluster-conf/}), its log appended to {@code node.log} in {@code dir}, and the environment given
   * on top of the stack's Cassandra, keyspaces, keys and spool.
   */
  Process startNode(
      String config, Path dir, List<String> jvmOptions, Map<String, String> environment)
      throws IOException {
    Files.createDirectories(dir);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-Dconfig.file=" + root.resolve("cluster-conf").resolve(config));
    command.add("-cp");
    command.add(root.resolve("target/callvault.jar") + ":" + root.resolve("target/lib") + "/*");
    command.add("org.callvault.cluster.Main");
    ProcessBuilder node =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node.log").toFile()));
    Map<String, String> env = node.environment();
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + cassandraPort);
    env.put("CALLVAULT_JOURNAL_KEYSPACE", keyspace);
    env.put("CALLVAULT_SNAPSHOT_KEYSPACE", keyspace + "_snapshot");
    env.put("CALLVAULT_SPOOL_DIR", dir.resolve("spool").toString());
    env.put("CALLVAULT_API_KEYS_FILE", home.resolve("api-keys.conf").toString());
    env.put("CALLVAULT_MASTER_KEYSET_FILE", home.resolve("master-keyset.json").toString());
    env.putAll(environment);
    Process started = node.start();
    nodes.add(started);
    return started;
  }

  /** Waits until {@code base}/v1/health answers 200. */
  void awaitHealthy(String base, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (get(base + "/v1/health").statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      TimeUnit.MILLISECONDS.sleep(500);
    }
    throw new IllegalStateException(base + " did not become healthy in " + timeout);
  }

  /** The heap a JVM has in use ({@code jcmd GC.heap_info}); NaN when it does not answer. */
  static double heapMb(Process jvm) {
    if (jvm == null || !jvm.isAlive()) return Double.NaN;
    try {
      Process jcmd =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                  String.valueOf(jvm.pid()),
                  "GC.heap_info")
              .redirectErrorStream(true)
              .start();
      String text = new String(jcmd.getInputStream().readAllBytes());
      jcmd.waitFor(10, TimeUnit.SECONDS);
      Matcher used = HEAP_USED.matcher(text);
      return used.find() ? Long.parseLong(used.group(1)) / 1024.0 : Double.NaN;
    } catch (IOException e) {
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    }
  }

  /** CPU seconds (user and system) a process has used, from {@code /proc/<pid>/stat}. */
  static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      // The command name, in parentheses, may hold spaces: count fields after its closing one.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0; // USER_HZ
    } catch (IOException | RuntimeException e) {
      return Double.NaN; // the process has ended
    }
  }

  /** A GET with the stack's API key. */
  HttpResponse<String> get(String url) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + key.key())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Stops every node it started (30 s each, then killed), then Cassandra. */
  void stopAll() {
    for (Process node : nodes) node.destroy();
    for (Process node : nodes)
      try {
        if (!node.waitFor(30, TimeUnit.SECONDS)) node.destroyForcibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    try {
      cassandra("stop");
    } catch (Exception e) {
      System.err.println("stopping Cassandra: " + e);
    }
  }
}
