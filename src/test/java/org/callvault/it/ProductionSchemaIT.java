package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * The production template as an operator uses it: {@code ops/schema} creates the keyspaces and
 * tables with replication from the environment, and a node on {@code cluster-conf/production.conf}
 * (auto-creation off, cluster bootstrap through discovery) forms its cluster and records a call on
 * them without creating a table. Two such nodes form their cluster over TLS (Artery {@code
 * tls-tcp}, both sides authenticated) and serve the API over HTTPS.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class ProductionSchemaIT {

  @Test
  void aProductionNodeFormsItsClusterByBootstrapAndRecordsOnTheSchemaThatOpsSchemaCreated()
      throws Exception {
    String keyspace = "schema_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Map<String, String> env = new HashMap<>();
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + NodeProcess.cassandraPort());
    env.put("CASSANDRA_REPLICATION", "'datacenter1': 1");
    env.put("CALLVAULT_JOURNAL_KEYSPACE", keyspace);
    env.put("CALLVAULT_SNAPSHOT_KEYSPACE", keyspace + "_snapshot");
    // An audio table as an earlier version created it, before gated_ts: ops/schema upgrades it.
    try (CqlSession session = NodeProcess.cassandra()) {
      session.execute(
          "CREATE KEYSPACE "
              + keyspace
              + " WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 1}");
      session.execute(
          "CREATE TABLE "
              + keyspace
              + ".audio_chunks (call_id text, label text, epoch bigint, bucket bigint, n bigint,"
              + " segment int, ssrc bigint, codec text, first_seq bigint, last_seq bigint,"
              + " first_ts bigint, end_ts bigint, packets int, anchor_ts bigint,"
              + " anchor_wall_us bigint, start_wall_us bigint, end_wall_us bigint, data blob,"
              + " PRIMARY KEY ((call_id, label, epoch, bucket), n))");
    }
    for (int run = 1; run <= 2; run++) {
      ProcessBuilder schema = new ProcessBuilder("ops/schema").redirectErrorStream(true);
      schema.environment().putAll(env);
      Process p = schema.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), "ops/schema, run " + run + ":\n" + out);
      int statements =
          org.callvault.store.Schema.statements(
                  java.nio.file.Files.readString(Path.of("ops/schema.cql")),
                  keyspace,
                  keyspace + "_snapshot",
                  null)
              .size();
      assertTrue(out.contains(statements + " statements applied"), out);
    }
    try (CqlSession session = NodeProcess.cassandra()) {
      assertEquals(
          15,
          tables(session, keyspace),
          "the journal's three and its three of events by tag, audio and recording keys, the read"
              + " model's three and its projections' two, the webhook outbox and its cursor");
      assertEquals(
          "int",
          session
              .execute(
                  "SELECT type FROM system_schema.columns WHERE keyspace_name = ? AND table_name ="
                      + " 'audio_chunks' AND column_name = 'sealed'",
                  keyspace)
              .one()
              .getString(0),
          "the earlier audio table gained sealed");
      assertEquals(
          "bigint",
          session
              .execute(
                  "SELECT type FROM system_schema.columns WHERE keyspace_name = ? AND table_name ="
                      + " 'audio_chunks' AND column_name = 'gated_ts'",
                  keyspace)
              .one()
              .getString(0),
          "the earlier audio table gained gated_ts");
      assertEquals(
          "false",
          session
              .execute(
                  "SELECT compression FROM system_schema.tables WHERE keyspace_name = ? AND"
                      + " table_name = 'audio_chunks'",
                  keyspace)
              .one()
              .getMap(0, String.class, String.class)
              .get("enabled"),
          "sealed audio is not compressed: the earlier table's compression is turned off");
      assertEquals(1, tables(session, keyspace + "_snapshot"));
      String replication =
          session
              .execute(
                  "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
                  keyspace)
              .one()
              .getMap(0, String.class, String.class)
              .toString();
      assertTrue(
          replication.contains("NetworkTopologyStrategy") && replication.contains("datacenter1=1"),
          replication);
    }

    // Two nodes on the production overlay: the bootstrap finds both through config discovery
    // and they form the cluster over TLS (both sides authenticated), their APIs on HTTPS.
    Path tls = java.nio.file.Files.createDirectories(Path.of("target/it-tls"));
    Path keystore = Certificates.selfSigned(tls.resolve("node.p12"), "changeit");
    int[] management = {NodeProcess.freePort(), NodeProcess.freePort()};
    List<String> discovery = new ArrayList<>();
    discovery.add("-Dconfig.file=" + Path.of("cluster-conf/production.conf").toAbsolutePath());
    // Both nodes on one host, told apart by their management ports (DNS gives hosts alone).
    discovery.add(
        "-Dpekko.management.cluster.bootstrap.contact-point.filter-on-fallback-port=false");
    for (int i = 0; i < 2; i++) {
      discovery.add(
          "-Dpekko.discovery.config.services.callvault.endpoints." + i + ".host=127.0.0.1");
      discovery.add(
          "-Dpekko.discovery.config.services.callvault.endpoints." + i + ".port=" + management[i]);
    }
    List<java.util.concurrent.CompletableFuture<NodeProcess>> starting = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Map<String, String> nodeEnv = new HashMap<>();
      nodeEnv.put("CALLVAULT_MANAGEMENT_PORT", String.valueOf(management[i]));
      nodeEnv.put("CALLVAULT_DISCOVERY_METHOD", "config");
      nodeEnv.put("CALLVAULT_REQUIRED_CONTACT_POINTS", "2");
      nodeEnv.put("CALLVAULT_REMOTE_HOST", "127.0.0.1");
      nodeEnv.put("CALLVAULT_HTTP_HOST", "127.0.0.1");
      nodeEnv.put("CALLVAULT_RTP_PORT_MIN", String.valueOf(23000 + 1000 * i));
      nodeEnv.put("CALLVAULT_RTP_PORT_MAX", String.valueOf(23999 + 1000 * i));
      for (String store : List.of("TLS_KEYSTORE", "CLUSTER_KEYSTORE", "CLUSTER_TRUSTSTORE")) {
        nodeEnv.put("CALLVAULT_" + store, keystore.toAbsolutePath().toString());
        nodeEnv.put("CALLVAULT_" + store + "_PASSWORD", "changeit");
      }
      String name = "production-" + (i + 1);
      starting.add(
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return NodeProcess.start(
                      name, keyspace, nodeEnv, discovery.toArray(String[]::new));
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              }));
    }
    String callId = "schema-" + UUID.randomUUID();
    NodeProcess first = null;
    NodeProcess second = null;
    try {
      first = starting.get(0).join();
      second = starting.get(1).join();
      assertTrue(first.base().startsWith("https://"), first.base());
      Http api = first.api();
      JsonNode health = api.get("/v1/health", 200);
      assertEquals(2, health.path("members").asInt(), "both nodes are Up: " + health);
      // pekko-management's readiness: an Up member whose storage answers; and liveness.
      for (int port : management)
        for (String path : List.of("/ready", "/alive")) {
          var answer =
              java.net.http.HttpClient.newHttpClient()
                  .send(
                      java.net.http.HttpRequest.newBuilder(
                              java.net.URI.create("http://127.0.0.1:" + port + path))
                          .timeout(java.time.Duration.ofSeconds(10))
                          .build(),
                      java.net.http.HttpResponse.BodyHandlers.ofString());
          assertEquals(200, answer.statusCode(), port + path + ": " + answer.body());
        }
      for (NodeProcess node : List.of(first, second)) {
        String log = java.nio.file.Files.readString(node.log);
        assertTrue(log.contains("Bootstrap"), "the cluster bootstrap ran:\n" + node.tail());
        assertTrue(
            log.contains("pekko://callvault@127.0.0.1:") && log.contains("tls-tcp"),
            "remoting over TLS:\n" + node.tail());
      }
      String body =
          "{\"callId\":\""
              + callId
              + "\",\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"}],"
              + "\"streams\":[{\"label\":\"agent\",\"party\":\"agent\",\"codec\":\"PCMU\"}]}";
      JsonNode created = api.post("/v1/calls", body, 201);
      assertEquals("RECORDING", created.path("state").asText(), created.toString());
      // The call is read through either node, over the TLS between them if it lives on the other.
      JsonNode read = second.api().get("/v1/calls/" + callId, 200);
      assertEquals(created.path("media").path("epoch"), read.path("media").path("epoch"));
      assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
      // A call is created on each node in turn until one lives on the second: its media is
      // there, and it answers through the first.
      String remote = null;
      for (int i = 0; i < 40 && remote == null; i++) {
        String id = callId + "-" + i;
        JsonNode c = api.post("/v1/calls", body.replace(callId, id), 201);
        if (!c.path("media").path("node").asText().endsWith(":" + second.remotePort)) continue;
        remote = id;
        assertEquals("RECORDING", c.path("state").asText());
      }
      assertTrue(remote != null, "no call of 40 was placed on the second node");
      // The read model runs on the schema: the listing finds both calls, through either node.
      java.time.Instant deadline = java.time.Instant.now().plusSeconds(30);
      java.util.Set<String> listed = new java.util.HashSet<>();
      while (!(listed.contains(callId) && listed.contains(remote))
          && java.time.Instant.now().isBefore(deadline)) {
        Thread.sleep(200);
        listed.clear();
        for (JsonNode c : second.api().get("/v1/calls?limit=500", 200).path("calls"))
          listed.add(c.path("callId").asText());
      }
      assertTrue(
          listed.contains(callId) && listed.contains(remote),
          "the listing holds " + callId + " and " + remote + ": " + listed);
      first.stop();
      second.stop();
    } finally {
      for (var s : starting)
        s.thenAccept(
            node -> {
              try {
                node.close();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    }
    try (CqlSession session = NodeProcess.cassandra()) {
      assertEquals(15, tables(session, keyspace), "the node created no table");
      long rows =
          session
              .execute(
                  "SELECT count(*) FROM "
                      + keyspace
                      + ".messages WHERE persistence_id = ? AND partition_nr = 0",
                  "CallRecording|" + callId)
              .one()
              .getLong(0);
      assertTrue(
          rows >= 3,
          "the call's CallCreated, MediaBound and, at the nodes' graceful stop, its handoff"
              + " (MediaReleased) are in the production messages table: "
              + rows);
    }
  }

  private static long tables(CqlSession session, String keyspace) {
    return session
        .execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)
        .all()
        .size();
  }
}
