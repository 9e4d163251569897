package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A chunk that reached Cassandra but not the ledger (the node halts between the two) is adopted
 * exactly once when the call recovers on a new node, and its audio is in the export.
 */
@ResourceLock(value = Machine.LOCK, mode = ResourceAccessMode.READ)
class CrashConsistencyIT {

  @Test
  void aChunkStoredButNotListedBeforeACrashIsAdoptedExactlyOnce() throws Exception {
    String keyspace = "crash_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String prefix = "crash-" + UUID.randomUUID().toString().substring(0, 8);
    String callId;
    Set<String> inCassandra;
    try (NodeProcess first =
        NodeProcess.start(
            "crash-first", keyspace, Map.of(), "-Dcallvault.audio.fault.halt-after-chunks=5")) {
      LoadGenerator.Running load =
          LoadGenerator.start(
              new Options()
                  .apiKey(TestKeys.ALL)
                  .api(first.base())
                  .prefix(prefix)
                  .calls(1)
                  .codec(Codec.PCMU)
                  .duration(Duration.ofSeconds(5))
                  .seed(5));
      callId = load.callIds().get(0);
      assertEquals(
          137,
          first.awaitExit(Duration.ofSeconds(30)),
          "the node halts after its 5th stored chunk:\n" + first.tail());
      load.cancel();
      load.close();
      assertTrue(first.tail().contains("halting after 5 stored chunks"));
      inCassandra = storedChunks(keyspace, callId);
    }
    assertTrue(inCassandra.size() >= 5, "the chunks written before the halt: " + inCassandra);

    try (NodeProcess second = NodeProcess.start("crash-second", keyspace, Map.of())) {
      Http api = new Http(second.base());
      Map<String, Integer> listed = new HashMap<>();
      Set<String> adopted = new TreeSet<>();
      Instant deadline = Instant.now().plusSeconds(30);
      while (true) {
        listed.clear();
        adopted.clear();
        for (JsonNode event : api.get("/v1/calls/" + callId + "/ledger", 200).path("events")) {
          if (!event.path("type").asText().equals("ChunkStored")) continue;
          JsonNode chunk = event.path("details").path("chunk");
          String key =
              key(
                  chunk.path("label").asText(),
                  chunk.path("epoch").asLong(),
                  chunk.path("n").asLong());
          listed.merge(key, 1, Integer::sum);
          if (event.path("details").path("adopted").asBoolean()) adopted.add(key);
        }
        if (listed.keySet().containsAll(inCassandra) || Instant.now().isAfter(deadline)) break;
        Thread.sleep(200);
      }
      assertEquals(
          new TreeSet<>(inCassandra),
          new TreeSet<>(listed.keySet()),
          "every stored chunk is listed");
      listed.forEach((key, times) -> assertEquals(1, times, key + " is listed once"));
      assertTrue(!adopted.isEmpty(), "the chunk stored but not listed at the halt is adopted");

      JsonNode call = api.get("/v1/calls/" + callId, 200);
      assertEquals(
          "RECORDING", call.path("state").asText(), "the call is recording again on the new node");
      assertTrue(call.path("streams").get(0).has("rtp"));
      api.post("/v1/calls/" + callId + "/stop", "{\"by\":\"test\"}", 200);
      assertTrue(api.get("/v1/calls/" + callId + "/ledger/verify", 200).path("valid").asBoolean());

      // Every listed chunk's audio is in the export: each stream holds its packets' samples.
      JsonNode timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
      for (JsonNode stream : timeline.path("streams")) {
        short[] pcm =
            Recordings.pcm(
                api.bytes(
                    "/v1/calls/"
                        + callId
                        + "/audio.wav?layout=stream&label="
                        + stream.path("label").asText()),
                1)[0];
        long packets = 0;
        for (JsonNode chunk : stream.path("chunks")) packets += chunk.path("packets").asLong();
        long audible = 0;
        for (short sample : pcm) if (sample != 0) audible++;
        assertEquals(
            packets * 160,
            audible,
            "every stored sample of "
                + stream.path("label").asText()
                + " is audible, nothing else");
      }
      second.stop();
    }
  }

  private static String key(String label, long epoch, long n) {
    return label + "/" + epoch + "/" + n;
  }

  private static Set<String> storedChunks(String keyspace, String callId) {
    Set<String> keys = new HashSet<>();
    try (CqlSession session = NodeProcess.cassandra()) {
      for (Row row :
          session.execute("SELECT call_id, label, epoch, n FROM " + keyspace + ".audio_chunks")) {
        if (row.getString("call_id").equals(callId))
          keys.add(key(row.getString("label"), row.getLong("epoch"), row.getLong("n")));
      }
    }
    return keys;
  }
}
