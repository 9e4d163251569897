package org.callvault.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A CallVault node in its own JVM, started from the packaged jar as {@code ops/run} starts it,
 * against the Cassandra that the build started for the integration tests.
 */
final class NodeProcess implements AutoCloseable {

  private static final HttpClient PLAIN =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  final String name;

  /** Where the node's API listens: loopback, or its own address in a network namespace. */
  final String host;

  final int httpPort;

  /** The node's cluster (remoting) port: its address is pekko://callvault@127.0.0.1:port. */
  final int remotePort;

  /** Where the node's SIPREC server listens, UDP and TCP. */
  final int sipPort;

  final Path log;
  private final Process process;

  /** How a client reaches the API: plain, or trusting its certificate when it speaks HTTPS. */
  private final javax.net.ssl.SSLContext tls;

  private final HttpClient http;

  private NodeProcess(
      String name,
      String host,
      int httpPort,
      int remotePort,
      int sipPort,
      Path log,
      Process process,
      javax.net.ssl.SSLContext tls) {
    this.tls = tls;
    this.http =
        tls == null
            ? PLAIN
            : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(tls).build();
    this.sipPort = sipPort;
    this.name = name;
    this.host = host;
    this.httpPort = httpPort;
    this.remotePort = remotePort;
    this.log = log;
    this.process = process;
  }

  /** The Cassandra native port the build started Cassandra on. */
  static int cassandraPort() {
    return Integer.parseInt(System.getProperty("callvault.it.cassandra.port", "19042"));
  }

  /**
   * A driver session to the tests' Cassandra alone. The driver would also read the contact points
   * of the service's reference.conf (127.0.0.1:9042, a developer's ops/run Cassandra): its
   * configuration here is the driver's defaults only, but for a longer request timeout.
   */
  static com.datastax.oss.driver.api.core.CqlSession cassandra() {
    return cassandra(cassandraPort());
  }

  /** As above, to the Cassandra on loopback at {@code port}. */
  static com.datastax.oss.driver.api.core.CqlSession cassandra(int port) {
    var options = com.datastax.oss.driver.api.core.config.OptionsMap.driverDefaults();
    // Schema changes wait for agreement: on a loaded machine that takes longer than 2 s.
    options.put(
        com.datastax.oss.driver.api.core.config.TypedDriverOption.REQUEST_TIMEOUT,
        Duration.ofSeconds(30));
    // Without the driver's schema metadata, which it refreshes after each schema change (a second
    // each, debounced): a keyspace of ops/schema.cql is made in about a second instead of 27.
    options.put(
        com.datastax.oss.driver.api.core.config.TypedDriverOption.METADATA_SCHEMA_ENABLED, false);
    return com.datastax.oss.driver.api.core.CqlSession.builder()
        .withConfigLoader(
            com.datastax.oss.driver.api.core.config.DriverConfigLoader.fromMap(options))
        .addContactPoint(new java.net.InetSocketAddress("127.0.0.1", port))
        .withLocalDatacenter("datacenter1")
        .build();
  }

  /**
   * Keyspaces whose schema this JVM has created, as port/keyspace; its lock is held while one is
   * created.
   */
  private static final java.util.Set<String> SCHEMAS = new java.util.HashSet<>();

  /**
   * Creates the schema of {@code keyspace} (and its snapshot keyspace) in the Cassandra on loopback
   * at {@code port} from {@code ops/schema.cql}, as {@code ops/schema} does in production, once per
   * keyspace and one keyspace at a time. A node on {@code cluster-conf/local.conf} would create its
   * tables itself, but with the driver's 2 s request timeout: with tests running at once a table
   * creation took longer, the node logged it and went on without the table, and never became
   * healthy.
   */
  static void createSchema(int port, String keyspace) throws IOException {
    synchronized (SCHEMAS) { // not the class's lock: freePort() is not held up behind a schema
      createSchemaOnce(port, keyspace);
    }
  }

  private static void createSchemaOnce(int port, String keyspace) throws IOException {
    if (SCHEMAS.contains(port + "/" + keyspace)) return;
    List<String> statements =
        org.callvault.store.Schema.statements(
            Files.readString(Path.of(System.getProperty("user.dir"), "ops/schema.cql")),
            keyspace,
            keyspace + "_snapshot",
            "'datacenter1': 1");
    try (var session = cassandra(port)) {
      if (!org.callvault.store.Schema.apply(session, statements, line -> {}))
        throw new IllegalStateException("Cassandra does not agree on the schema of " + keyspace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted making the schema of " + keyspace, e);
    }
    SCHEMAS.add(port + "/" + keyspace);
  }

  /** Ports handed out in this JVM: nodes start in parallel and bind theirs later. */
  private static final java.util.Set<Integer> GIVEN = new java.util.HashSet<>();

  /**
   * A port free now and never handed out before by this JVM: the OS may give the same ephemeral
   * port to two probes in a row, and two nodes starting at once would then collide on it.
   */
  static synchronized int freePort() {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        if (GIVEN.add(socket.getLocalPort())) return socket.getLocalPort();
      } catch (IOException e) {
        throw new IllegalStateException("no free port", e);
      }
    }
    throw new IllegalStateException("no port that was not handed out already");
  }

  private static final Map<String, Integer> RTP_SLICES = new java.util.HashMap<>();

  /**
   * The first RTP port of nodes called {@code name}: each test's nodes (their names less a trailing
   * {@code -N}, so that a node started again keeps its ports) have 300 ports of 20000–22999 apart
   * from other tests', so that tests running at once never bind one another's ports, where a sender
   * still sending to a call that moved would reach another test's call.
   */
  private static synchronized int rtpPortMin(String name) {
    return 20000 + 300 * RTP_SLICES.computeIfAbsent(name, n -> RTP_SLICES.size() % 10);
  }

  /**
   * Starts a node whose journal lives in {@code keyspace} and waits until its API answers healthy.
   */
  static NodeProcess start(
      String name, String keyspace, Map<String, String> extraEnv, String... jvmOptions)
      throws Exception {
    return start(name, keyspace, null, "127.0.0.1", extraEnv, jvmOptions);
  }

  /**
   * As above, in network namespace {@code netns} (null: this one) as a host of its own at {@code
   * host}: its API, cluster and media sockets bind there.
   */
  static NodeProcess start(
      String name,
      String keyspace,
      String netns,
      String host,
      Map<String, String> extraEnv,
      String... jvmOptions)
      throws Exception {
    Path root = Path.of(System.getProperty("user.dir"));
    Path jar = root.resolve("target/callvault.jar");
    if (!Files.exists(jar))
      throw new IllegalStateException(
          jar + " is missing: integration tests run after `mvn package`");
    Path logs = Files.createDirectories(root.resolve("target/it-logs"));
    Path log = logs.resolve(name + ".log");
    int httpPort = freePort();
    List<String> command = new ArrayList<>();
    if (netns != null)
      command.addAll(List.of("ip", "netns", "exec", netns)); // execs java: the process is the node
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    if (List.of(jvmOptions).stream().noneMatch(o -> o.startsWith("-Dconfig.file=")))
      command.add("-Dconfig.file=" + root.resolve("cluster-conf/local.conf"));
    command.addAll(List.of(jvmOptions));
    command.add("-cp");
    command.add(jar + ":" + root.resolve("target/lib") + "/*");
    command.add("org.callvault.cluster.Main");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.put("CALLVAULT_REMOTE_PORT", String.valueOf(freePort()));
    env.put("CALLVAULT_HTTP_PORT", String.valueOf(httpPort));
    env.put("CALLVAULT_SIP_PORT", String.valueOf(freePort()));
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + cassandraPort());
    env.put("CALLVAULT_JOURNAL_KEYSPACE", keyspace);
    env.put("CALLVAULT_SNAPSHOT_KEYSPACE", keyspace + "_snapshot");
    env.put("CALLVAULT_API_KEYS_FILE", org.callvault.api.access.TestKeys.file().toString());
    env.put(
        "CALLVAULT_MASTER_KEYSET_FILE",
        root.resolve("src/test/resources/test-master-keyset.json").toString());
    if (!host.equals("127.0.0.1")) {
      env.put("CALLVAULT_HTTP_HOST", host);
      env.put("CALLVAULT_REMOTE_HOST", host);
      env.put("CALLVAULT_MEDIA_HOST", host);
      env.put("CALLVAULT_SIP_HOST", host);
    }
    int rtpPortMin = rtpPortMin(name.replaceFirst("-\\d+$", ""));
    env.put("CALLVAULT_RTP_PORT_MIN", String.valueOf(rtpPortMin));
    env.put("CALLVAULT_RTP_PORT_MAX", String.valueOf(rtpPortMin + 299));
    // A node started again under the same name finds its spool again.
    env.put("CALLVAULT_SPOOL_DIR", root.resolve("target/it-spool").resolve(name).toString());
    // The tests run several nodes, Cassandra and load on two cores: the machine is busy by design,
    // so admission by headroom is off here unless a test turns it on (AdmissionIT does).
    env.put("CALLVAULT_ADMISSION_MAX_LAG", "0");
    env.put("CALLVAULT_ADMISSION_MAX_CPU", "1.0");
    env.putAll(extraEnv);
    boolean local = command.contains("-Dconfig.file=" + root.resolve("cluster-conf/local.conf"));
    java.util.regex.Matcher loopback =
        java.util.regex.Pattern.compile("127\\.0\\.0\\.1:(\\d+)")
            .matcher(env.get("CASSANDRA_CONTACT_POINTS"));
    if (local && loopback.matches()) createSchema(Integer.parseInt(loopback.group(1)), keyspace);
    NodeProcess node =
        new NodeProcess(
            name,
            host,
            Integer.parseInt(env.get("CALLVAULT_HTTP_PORT")),
            Integer.parseInt(env.get("CALLVAULT_REMOTE_PORT")),
            Integer.parseInt(env.get("CALLVAULT_SIP_PORT")),
            log,
            builder.start(),
            env.containsKey("CALLVAULT_TLS_KEYSTORE")
                ? Certificates.trusting(
                    Path.of(env.get("CALLVAULT_TLS_KEYSTORE")),
                    env.get("CALLVAULT_TLS_KEYSTORE_PASSWORD"))
                : null);
    try {
      node.awaitHealthy(Duration.ofSeconds(90));
    } catch (Exception | AssertionError notHealthy) {
      node.close(); // not left running after the test
      throw notHealthy;
    }
    return node;
  }

  String base() {
    return (tls == null ? "http://" : "https://") + host + ":" + httpPort;
  }

  /** The API of this node, as the tests call it. */
  Http api() {
    return new Http(base(), tls);
  }

  private void awaitHealthy(Duration timeout) throws Exception {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive())
        throw new IllegalStateException(
            "node " + name + " exited with " + process.exitValue() + ":\n" + tail());
      try {
        HttpResponse<String> health =
            http.send(
                HttpRequest.newBuilder(URI.create(base() + "/v1/health"))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (health.statusCode() == 200) return;
      } catch (IOException notListeningYet) {
        // The JVM is still starting; the deadline bounds the wait.
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "node " + name + " not healthy within " + timeout + ":\n" + tail());
  }

  /**
   * Stops the node as an operator would (SIGTERM: coordinated shutdown, the node leaves the
   * cluster) and waits for it to exit. The JVM then exits with 143, as for any SIGTERM.
   */
  void stop() throws Exception {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS))
      throw new IllegalStateException("node " + name + " did not stop within 60 s:\n" + tail());
    if (process.exitValue() != 143 || !Files.readString(log).contains("Successfully shut down"))
      throw new IllegalStateException(
          "node "
              + name
              + " did not shut down cleanly (exit "
              + process.exitValue()
              + "):\n"
              + tail());
  }

  /** Waits for the node to exit on its own; its exit status. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
      throw new IllegalStateException(
          "node " + name + " still running after " + timeout + ":\n" + tail());
    return process.exitValue();
  }

  /** Kills the node with SIGKILL, as a crash would. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) kill();
  }
}
