package org.callvault.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ops/schema.cql as {@code ops/schema} applies it. */
class SchemaTest {

  private static String schema() throws Exception {
    return Files.readString(Path.of("ops/schema.cql"));
  }

  @Test
  void theProductionSchemaIsTwoKeyspacesSixteenTablesAndTheUpgradesWithTheKeyspacesRenamed()
      throws Exception {
    List<String> statements = Schema.statements(schema(), "cv_journal", "cv_snap", null);
    assertEquals(27, statements.size());
    assertEquals(
        List.of("ALTER TABLE cv_journal.audio_chunks WITH compression = { 'enabled' : 'false' }"),
        statements.stream()
            .filter(s -> s.startsWith("ALTER") && s.contains("compression"))
            .toList(),
        "sealed audio, which does not compress, is stored uncompressed in an earlier table too");
    assertEquals(
        List.of(
            "ALTER TABLE cv_journal.audio_chunks ADD IF NOT EXISTS gated_ts bigint",
            "ALTER TABLE cv_journal.audio_chunks ADD IF NOT EXISTS sealed int"),
        statements.stream().filter(s -> s.contains(" ADD ")).toList(),
        "a table of an earlier version gains the columns");
    assertEquals(
        List.of(
            "cv_journal.messages",
            "cv_journal.metadata",
            "cv_journal.all_persistence_ids",
            "cv_journal.audio_chunks",
            "cv_journal.recording_keys",
            "cv_snap.snapshots"),
        statements.stream()
            .filter(s -> s.startsWith("ALTER") && s.endsWith(" WITH speculative_retry = '100ms'"))
            .map(s -> s.split(" ")[2])
            .toList(),
        "every table of an earlier version asks another replica after 100 ms");
    assertEquals(
        List.of(
            "cv_journal.tag_views",
            "cv_journal.tag_write_progress",
            "cv_journal.tag_scanning",
            "cv_journal.offset_store",
            "cv_journal.projection_management",
            "cv_journal.calls",
            "cv_journal.calls_by_hour",
            "cv_journal.calls_by_party",
            "cv_journal.webhook_outbox",
            "cv_journal.webhook_cursor"),
        statements.stream()
            .filter(s -> s.startsWith("CREATE TABLE") && s.endsWith("speculative_retry = '100ms'"))
            .map(s -> s.split(" ")[5])
            .toList(),
        "and so does every table added since, from its creation");
    assertTrue(
        statements.get(0).startsWith("CREATE KEYSPACE IF NOT EXISTS cv_journal"),
        statements.get(0));
    assertEquals(
        16, statements.stream().filter(s -> s.startsWith("CREATE TABLE IF NOT EXISTS ")).count());
    assertTrue(
        statements.stream()
            .anyMatch(s -> s.startsWith("CREATE TABLE IF NOT EXISTS cv_journal.recording_keys")));
    assertEquals(
        1,
        statements.stream()
            .filter(s -> s.startsWith("CREATE KEYSPACE IF NOT EXISTS cv_snap"))
            .count());
    assertTrue(
        statements.stream()
            .anyMatch(s -> s.startsWith("CREATE TABLE IF NOT EXISTS cv_journal.audio_chunks")));
    assertTrue(
        statements.stream()
            .anyMatch(s -> s.startsWith("CREATE TABLE IF NOT EXISTS cv_snap.snapshots")));
    for (String s : statements) {
      assertFalse(
          s.matches("(?s).*\\bcallvault(_snapshot)?\\b.*"), "no default keyspace left: " + s);
      assertFalse(s.contains("--"), "comments removed: " + s);
    }
  }

  @Test
  void replicationFromTheEnvironmentReplacesTheFilesOnEveryKeyspace() throws Exception {
    List<String> statements =
        Schema.statements(schema(), "callvault", "callvault_snapshot", "'dc1': 3, 'dc2': 5");
    List<String> keyspaces =
        statements.stream().filter(s -> s.startsWith("CREATE KEYSPACE")).toList();
    assertEquals(2, keyspaces.size());
    for (String k : keyspaces)
      assertTrue(
          k.endsWith(
              "WITH REPLICATION = { 'class' : 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 5 }"),
          k);
  }

  @Test
  void aReplicationThatIsNotDataCentersAndFactorsIsRefusedWithAnExample() {
    for (String bad :
        List.of("3", "'dc1': 0", "dc1: 3", "'dc1': 3; DROP KEYSPACE callvault", "'dc1': 3,")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Schema.statements(schema(), "a", "b", bad),
              bad);
      assertTrue(e.getMessage().contains("'dc1': 3, 'dc2': 3"), e.getMessage());
    }
  }
}
