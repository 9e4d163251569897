package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.callvault.core.Codec;
import org.callvault.core.Endpoint;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What a call's entity finds of its sockets after a restart, against what its ledger says. */
class CallSocketsTest {

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  private static final CallSpec SPEC =
      new CallSpec(
          "c-1",
          new Policy(
              Policy.ConsentMode.ONE_PARTY,
              Policy.OnDecline.STOP,
              true,
              300,
              Policy.PauseRendering.SILENCE,
              90),
          List.of(new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN)),
          List.of(new StreamSpec("agent", "agent", Codec.PCMU)));

  /** The call created, its media bound on {@code node} at {@code port} (event seq 2). */
  private static Call boundAt(String node, int port) {
    Event created = Ledger.seal(1, T0, "crm", new Change.CallCreated(SPEC), Ledger.GENESIS);
    Call call = Call.created("c-1", SPEC, created);
    return call.apply(
        Ledger.seal(
            2,
            T0.plusSeconds(1),
            "system",
            new Change.MediaBound(node, Map.of("agent", new Endpoint("127.0.0.1", port))),
            created.hash()));
  }

  private static CallSockets socketsBoundOn(FakeBinder binder, String node) {
    CallSockets sockets =
        new CallSockets("c-1", binder, binder, node, LoggerFactory.getLogger("test"));
    Event created = Ledger.seal(1, T0, "crm", new Change.CallCreated(SPEC), Ledger.GENESIS);
    sockets.bind(Call.created("c-1", SPEC, created), new Gates(), report -> {});
    return sockets; // bound at port 30000, never activated: its MediaBound was not answered
  }

  @Test
  void socketsWhoseBindingTheLedgerRecordedThoughTheWriteFailedGoOnAndStore() {
    FakeBinder binder = new FakeBinder();
    CallSockets sockets = socketsBoundOn(binder, "node-a");
    Call recorded = boundAt("node-a", 30000);
    assertEquals(CallSockets.Found.RECORDED, sockets.found(recorded));
    sockets.recorded(recorded);
    assertEquals(0, binder.closes, "the sockets the sender was told of stay open");
    assertEquals(true, sockets.storing(), "and store under the ledger's epoch");
  }

  @Test
  void socketsTheLedgerDoesNotNameAreClosedAndBoundAnew() {
    FakeBinder binder = new FakeBinder();
    CallSockets other = socketsBoundOn(binder, "node-a");
    assertEquals(CallSockets.Found.NONE, other.found(boundAt("node-a", 31000)), "another port");
    assertEquals(1, binder.closes);
    CallSockets elsewhere = socketsBoundOn(binder, "node-a");
    assertEquals(
        CallSockets.Found.NONE, elsewhere.found(boundAt("node-b", 30100)), "another node's");
    assertEquals(2, binder.closes);
  }
}
