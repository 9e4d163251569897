package org.callvault.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Three real Cassandra nodes in one cluster, each on a loopback address of its own (127.0.0.2–4)
 * and run by {@code ops/cassandra} as an operator would, apart from the build's shared Cassandra. A
 * node can be killed ({@code kill -9}) and started again on its data.
 */
final class CassandraRing implements AutoCloseable {

  static final int PORT = 19142;
  private static final int STORAGE_PORT = 17100;
  private static final String[] HOSTS = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};

  private final Path root = Path.of(System.getProperty("user.dir"), "target/it-ring");
  private final boolean[] running = new boolean[HOSTS.length];

  private CassandraRing() {}

  /** Starts the three nodes on fresh data, one after the other (each joins the first). */
  static CassandraRing start() throws Exception {
    CassandraRing ring = new CassandraRing();
    delete(ring.root);
    try {
      for (int i = 0; i < HOSTS.length; i++) ring.startFresh(i);
    } catch (Exception | Error e) {
      ring.close();
      throw e;
    }
    return ring;
  }

  private static void delete(Path dir) throws java.io.IOException {
    if (Files.exists(dir))
      try (Stream<Path> old = Files.walk(dir)) {
        old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
  }

  /**
   * Starts node {@code node} on fresh data. A node that joins while the first is stalled gives up
   * on its seed and exits: the tests beside this one load the machine, and the first node paused
   * for 14 s in a run.
   */
  private void startFresh(int node) throws Exception {
    // A joining node that misses the seed's gossip in its first round exits ("Unable to contact
    // any seeds", seen on a loaded machine while the seed answered it): it is started again on
    // fresh data, up to three times, a few seconds apart.
    for (int attempt = 1; ; attempt++) {
      try {
        start(node);
        return;
      } catch (IllegalStateException e) {
        if (node == 0 || attempt == 3) throw e;
        System.out.println(
            "cassandra ring: node " + (node + 1) + " did not join (" + e.getMessage() + "); again");
        ItCassandra.ops("stop", env(node), Duration.ofSeconds(60)); // nothing to stop if it exited
        delete(root.resolve("node-" + (node + 1)));
        Thread.sleep(5000);
      }
    }
  }

  /** The CQL contact points of all three, for {@code CASSANDRA_CONTACT_POINTS}. */
  String contactPoints() {
    List<String> points = new ArrayList<>();
    for (String host : HOSTS) points.add(host + ":" + PORT);
    return String.join(",", points);
  }

  /**
   * Node {@code node}'s four tokens, apart from the others': a node that joins while another is
   * still joining would otherwise allocate a token that collides with it and fail to start.
   */
  private static String tokens(int node) {
    List<String> tokens = new ArrayList<>();
    for (int k = 0; k < 4; k++)
      tokens.add(
          String.valueOf(Long.MIN_VALUE / 2 + (k * HOSTS.length + node) * (Long.MAX_VALUE / 12)));
    return String.join(",", tokens);
  }

  private Map<String, String> env(int node) {
    return Map.of(
        "CASSANDRA_INITIAL_TOKENS", tokens(node),
        "CALLVAULT_HOME", root.resolve("node-" + (node + 1)).toString(),
        "CASSANDRA_LISTEN_ADDRESS", HOSTS[node],
        "CASSANDRA_SEEDS", HOSTS[0] + ":" + STORAGE_PORT,
        "CASSANDRA_PORT", String.valueOf(PORT),
        "CASSANDRA_STORAGE_PORT", String.valueOf(STORAGE_PORT),
        "CASSANDRA_JMX_PORT", String.valueOf(17201 + node),
        "CASSANDRA_HEAP", "512M");
  }

  /** Starts node {@code node} (0–2) on its data; returns once it answers CQL. */
  void start(int node) throws Exception {
    ItCassandra.ops("start", env(node), Duration.ofSeconds(240));
    running[node] = true;
  }

  /** Kills node {@code node} with SIGKILL; returns once it has exited. */
  void kill(int node) throws Exception {
    Path pidFile = root.resolve("node-" + (node + 1)).resolve("cassandra/cassandra.pid");
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
    process.destroyForcibly();
    process.onExit().get(30, TimeUnit.SECONDS);
    running[node] = false;
  }

  /** Kills every node still running: their data is the test's alone and not kept. */
  @Override
  public void close() throws Exception {
    for (int i = 0; i < HOSTS.length; i++) if (running[i]) kill(i);
  }
}
