package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/**
 * A thousand calls created, stopped and read once each, and two left recording; the node stopped
 * and started again: the start recovers the two active calls and none of the stopped ones, which
 * stay readable.
 */
@ResourceLock(Machine.LOCK)
class RememberedCallsIT {

  private static final int STOPPED = 1000;

  private static String body(String callId) {
    return """
    {"callId":"%s","parties":[{"id":"agent","role":"AGENT"}],
     "streams":[{"label":"agent","party":"agent","codec":"PCMU"}]}
    """
        .formatted(callId);
  }

  @Test
  void aNodeStartRecoversTheActiveCallsAndNoneOfTheThousandStoppedOnesThatWereRead()
      throws Exception {
    String keyspace = "remembered_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String prefix = "remembered-" + UUID.randomUUID().toString().substring(0, 8);
    List<String> active = List.of(prefix + "-active-1", prefix + "-active-2");
    try (NodeProcess first = NodeProcess.start("remembered-first", keyspace, Map.of())) {
      Http api = new Http(first.base());
      for (String callId : active) api.post("/v1/calls", body(callId), 201);
      ExecutorService clients = Executors.newFixedThreadPool(8);
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < STOPPED; i++) {
        String callId = prefix + "-stopped-" + i;
        done.add(
            clients.submit(
                () -> {
                  api.post("/v1/calls", body(callId), 201);
                  api.post("/v1/calls/" + callId + "/stop", "{\"by\":\"qa\"}", 200);
                  api.get("/v1/calls/" + callId, 200);
                  return null;
                }));
      }
      for (Future<?> f : done) f.get();
      clients.shutdown();
      first.stop();
    }

    try (NodeProcess second = NodeProcess.start("remembered-second", keyspace, Map.of())) {
      // Remembered calls start with their shards, as the node comes up: wait for both active ones.
      Instant deadline = Instant.now().plusSeconds(60);
      long recording = 0;
      while (Instant.now().isBefore(deadline)) {
        recording = count(second, "recovered: RECORDING");
        if (recording >= active.size()) break;
        Thread.sleep(250);
      }
      Thread.sleep(3000); // any stopped call remembered would have started with them
      long stopped = count(second, "recovered: STOPPED");
      System.out.println(
          "remembered: after "
              + STOPPED
              + " stopped calls were read, the node start recovered "
              + recording
              + " recording and "
              + stopped
              + " stopped calls");
      assertEquals(active.size(), recording, "the active calls are recovered:\n" + second.tail());
      assertEquals(0, stopped, "no stopped call is recovered");

      Http api = new Http(second.base());
      assertEquals(
          "STOPPED",
          api.get("/v1/calls/" + prefix + "-stopped-7", 200).path("state").asText(),
          "a stopped call is still read from its ledger");
      assertEquals(1, count(second, "recovered: STOPPED"), "by starting its entity for the read");
      for (String callId : active)
        api.post("/v1/calls/" + callId + "/stop", "{\"by\":\"qa\"}", 200);
      second.stop();
    }
  }

  private static long count(NodeProcess node, String text) throws Exception {
    return Files.readAllLines(node.log).stream().filter(line -> line.contains(text)).count();
  }
}
