package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The production template as an operator uses it: {@code ops/schema} creates the keyspaces and
 * tables with replication from the environment, and a node on {@code cluster-conf/production.conf}
 * (auto-creation off, cluster bootstrap through discovery) forms its cluster and records a call on
 * them without creating a table.
 */
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
      assertTrue(out.contains("8 statements applied"), out);
    }
    try (CqlSession session = NodeProcess.cassandra()) {
      assertEquals(4, tables(session, keyspace));
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

    // The bootstrap finds this node alone through config discovery and forms the cluster.
    int management = NodeProcess.freePort();
    Map<String, String> nodeEnv = new HashMap<>();
    nodeEnv.put("CALLVAULT_MANAGEMENT_PORT", String.valueOf(management));
    nodeEnv.put("CALLVAULT_DISCOVERY_METHOD", "config");
    nodeEnv.put("CALLVAULT_REQUIRED_CONTACT_POINTS", "1");
    nodeEnv.put("CALLVAULT_REMOTE_HOST", "127.0.0.1");
    nodeEnv.put("CALLVAULT_HTTP_HOST", "127.0.0.1");
    String callId = "schema-" + UUID.randomUUID();
    try (NodeProcess node =
        NodeProcess.start(
            "production",
            keyspace,
            nodeEnv,
            "-Dconfig.file=" + Path.of("cluster-conf/production.conf").toAbsolutePath(),
            "-Dpekko.discovery.config.services.callvault.endpoints.0.host=127.0.0.1",
            "-Dpekko.discovery.config.services.callvault.endpoints.0.port=" + management)) {
      Http api = new Http(node.base());
      String body =
          "{\"callId\":\""
              + callId
              + "\",\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"}],"
              + "\"streams\":[{\"label\":\"agent\",\"party\":\"agent\",\"codec\":\"PCMU\"}]}";
      // Until the bootstrap has formed the cluster, sharding cannot place the call: 503.
      Instant deadline = Instant.now().plusSeconds(60);
      var created = api.send("POST", "/v1/calls", body, Http.ANY_OK);
      while (created == null && Instant.now().isBefore(deadline)) {
        Thread.sleep(500);
        created = api.send("POST", "/v1/calls", body, Http.ANY_OK);
      }
      assertTrue(created != null, "no call created within 60 s:\n" + node.tail());
      assertEquals("RECORDING", created.path("state").asText(), created.toString());
      assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());
      assertTrue(
          java.nio.file.Files.readString(node.log).contains("Bootstrap"),
          "the cluster bootstrap ran:\n" + node.tail());
      node.stop();
    }
    try (CqlSession session = NodeProcess.cassandra()) {
      assertEquals(4, tables(session, keyspace), "the node created no table");
      long rows =
          session
              .execute(
                  "SELECT count(*) FROM "
                      + keyspace
                      + ".messages WHERE persistence_id = ? AND partition_nr = 0",
                  "CallRecording|" + callId)
              .one()
              .getLong(0);
      assertEquals(
          3,
          rows,
          "the call's CallCreated, MediaBound and, at the node's graceful stop, its handoff"
              + " (MediaReleased) are in the production messages table");
    }
  }

  private static long tables(CqlSession session, String keyspace) {
    return session
        .execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)
        .all()
        .size();
  }
}
