package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * ops/schema.cql is what production runs on: applied to the real Cassandra, with keyspace
 * auto-creation off, a node records a call on it.
 */
class ProductionSchemaIT {

  /** The statements of ops/schema.cql, comments removed, keyspaces renamed, one replica in datacenter1. */
  static List<String> schemaStatements(String keyspace) throws Exception {
    String cql =
        Files.readAllLines(Path.of("ops/schema.cql")).stream()
            .filter(line -> !line.trim().startsWith("--"))
            .collect(Collectors.joining("\n"));
    List<String> statements = new ArrayList<>();
    for (String statement : cql.split(";")) {
      if (statement.isBlank()) continue;
      statements.add(
          statement
              .replace("callvault_snapshot.", keyspace + "_snapshot.")
              .replace("EXISTS callvault_snapshot", "EXISTS " + keyspace + "_snapshot")
              .replace("callvault.", keyspace + ".")
              .replace("EXISTS callvault\n", "EXISTS " + keyspace + "\n")
              .replace("'datacenter1' : 3", "'datacenter1' : 1"));
    }
    return statements;
  }

  @Test
  void aNodeRecordsACallOnTheProductionSchemaWithoutCreatingTables() throws Exception {
    String keyspace = "schema_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    List<String> statements = schemaStatements(keyspace);
    assertEquals(7, statements.size(), "two keyspaces and five tables");
    try (CqlSession session =
        NodeProcess.cassandra()) {
      for (String statement : statements) session.execute(statement);
      assertEquals(4, tables(session, keyspace));
    }

    String callId = "schema-" + UUID.randomUUID();
    try (NodeProcess node =
        NodeProcess.start(
            "production-schema",
            keyspace,
            Map.of(),
            "-Dpekko.persistence.cassandra.journal.keyspace-autocreate=false",
            "-Dpekko.persistence.cassandra.journal.tables-autocreate=false",
            "-Dpekko.persistence.cassandra.snapshot.keyspace-autocreate=false",
            "-Dpekko.persistence.cassandra.snapshot.tables-autocreate=false",
            "-Dcallvault.audio.tables-autocreate=false")) {
      HttpClient http = HttpClient.newHttpClient();
      String body =
          "{\"callId\":\"" + callId + "\",\"parties\":[{\"id\":\"agent\",\"role\":\"AGENT\"}],"
              + "\"streams\":[{\"label\":\"agent\",\"party\":\"agent\",\"codec\":\"PCMU\"}]}";
      HttpResponse<String> created =
          http.send(
              HttpRequest.newBuilder(URI.create(node.base() + "/v1/calls")).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(201, created.statusCode(), created.body() + "\n" + node.tail());
      HttpResponse<String> verified =
          http.send(HttpRequest.newBuilder(URI.create(node.base() + "/v1/calls/" + callId + "/ledger/verify")).build(), HttpResponse.BodyHandlers.ofString());
      assertTrue(verified.body().contains("\"valid\":true"), verified.body());
      node.stop();
    }
    try (CqlSession session =
        NodeProcess.cassandra()) {
      assertEquals(4, tables(session, keyspace), "the node created no table");
      long rows =
          session
              .execute("SELECT count(*) FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0", "CallRecording|" + callId)
              .one()
              .getLong(0);
      assertEquals(3, rows, "the call's CallCreated, MediaBound and, at the node's graceful stop, its handoff (MediaReleased) are in the production messages table");
    }
  }

  private static long tables(CqlSession session, String keyspace) {
    return session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace).all().size();
  }
}
