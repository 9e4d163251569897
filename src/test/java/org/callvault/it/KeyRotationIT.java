package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.CallRecord;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.StreamRecord;
import org.callvault.store.MasterKeyset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A master key rotated as an operator rotates it: a recording made before the rotation and one made
 * after both read back, sample for sample, on a node given the rotated keyset; the rewrap wraps the
 * older recording's keys under the new key; and then, on a node whose keyset no longer has the old
 * key, both still read back.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class KeyRotationIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static CallRecord record(NodeProcess node, String prefix) throws Exception {
    return LoadGenerator.start(
            new Options()
                .apiKey(TestKeys.ALL)
                .api(node.base())
                .prefix(prefix + "-" + UUID.randomUUID().toString().substring(0, 8))
                .calls(1)
                .codec(Codec.PCMU)
                .duration(Duration.ofSeconds(3))
                .stopCallsAtEnd(true)
                .seed(prefix.hashCode()))
        .await()
        .calls()
        .get(0);
  }

  /** Every packet of {@code sent} is in its export, in place. */
  private static void readsBack(NodeProcess node, CallRecord sent) throws Exception {
    Http api = node.api();
    JsonNode timeline = api.get("/v1/calls/" + sent.callId() + "/timeline", 200);
    for (StreamRecord stream : sent.streams()) {
      short[] exported =
          Recordings.pcm(
              api.bytes(
                  "/v1/calls/"
                      + sent.callId()
                      + "/audio.wav?layout=stream&label="
                      + stream.label()),
              1)[0];
      int present =
          Recordings.checkStream(
              stream, exported, Recordings.chunksOf(timeline, stream.label()), List.of());
      assertEquals(stream.sent().stream().filter(p -> !p.duplicate()).count(), present);
    }
  }

  @Test
  void recordingsMadeBeforeAndAfterARotationReadBackAndOutliveTheOldKey() throws Exception {
    String keyspace = "rotate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Path keyset = Files.createDirectories(Path.of("target/it-keys")).resolve(keyspace + ".json");
    Files.writeString(keyset, MasterKeyset.newKeysetJson());
    int oldKey = MasterKeyset.parse(Files.readString(keyset)).primaryKeyId();
    // The test's nodes run one after another on one spool, as one machine's would across restarts;
    // a spool of its own, for an earlier run's spool key is wrapped under another keyset.
    Map<String, String> env =
        Map.of(
            "CALLVAULT_MASTER_KEYSET_FILE", keyset.toAbsolutePath().toString(),
            "CALLVAULT_SPOOL_DIR",
                Path.of("target/it-spool", keyspace).toAbsolutePath().toString());

    CallRecord before;
    try (NodeProcess node = NodeProcess.start("rotation-1", keyspace, env)) {
      before = record(node, "before");
      node.stop();
    }

    Files.writeString(keyset, MasterKeyset.rotatedJson(Files.readString(keyset)));
    int newKey = MasterKeyset.parse(Files.readString(keyset)).primaryKeyId();
    CallRecord after;
    try (NodeProcess node = NodeProcess.start("rotation-2", keyspace, env)) {
      after = record(node, "after");
      readsBack(node, before);
      readsBack(node, after);
      JsonNode rewrapped = node.api().post("/v1/keys/rewrap", "", 200);
      assertEquals(newKey, rewrapped.path("primaryKeyId").asInt());
      assertEquals(
          1, rewrapped.path("rewrapped").asInt(), "the recording made before: " + rewrapped);
      assertEquals(1, rewrapped.path("alreadyPrimary").asInt(), "the one made after");
      node.stop();
    }

    ObjectNode keys = (ObjectNode) JSON.readTree(Files.readString(keyset));
    ArrayNode remaining = JSON.createArrayNode();
    for (JsonNode key : keys.path("key"))
      if (key.path("keyId").asInt() != oldKey) remaining.add(key);
    keys.set("key", remaining);
    Files.writeString(keyset, keys.toString());
    assertEquals(1, MasterKeyset.parse(Files.readString(keyset)).size(), "the old key is gone");
    try (NodeProcess node = NodeProcess.start("rotation-3", keyspace, env)) {
      readsBack(node, before);
      readsBack(node, after);
      assertTrue(
          node.api()
              .get("/v1/calls/" + before.callId() + "/ledger/verify", 200)
              .path("valid")
              .asBoolean());
      node.stop();
    }
  }
}
