package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.callvault.call.CallRecording.Reply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every command, event, reply and state goes through Jackson CBOR and comes back equal. */
class SerializationTest {

  private static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString("pekko.actor.provider = local"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final Instant T0 = Instant.parse("2026-11-28T10:15:30.123Z");

  private static final CallSpec SPEC =
      new CallSpec(
          "call-42",
          new Policy(Policy.ConsentMode.ALL_PARTY, Policy.OnDecline.RECORD_OTHERS, false, 120, Policy.PauseRendering.SKIP, 365),
          List.of(
              new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.GRANTED),
              new CallSpec.PartySpec("customer", Party.Role.CUSTOMER, Party.Consent.UNKNOWN)),
          List.of(new StreamSpec("a", "agent", StreamSpec.Codec.G722), new StreamSpec("c", "customer", StreamSpec.Codec.PCMA)));

  private static Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    assertEquals(JacksonCborSerializer.class, serialization.findSerializerFor(message).getClass(), "serializer of " + message);
    byte[] bytes = serialization.serialize(message).get();
    return serialization
        .deserialize(bytes, serialization.findSerializerFor(message).identifier(), serialization.findSerializerFor(message) instanceof org.apache.pekko.serialization.SerializerWithStringManifest s ? s.manifest(message) : "")
        .get();
  }

  private static void assertRoundTrip(Object message) {
    assertEquals(message, roundTrip(message));
  }

  private static List<CallRecording.Event> ledger() {
    CallRecording.Event created = Ledger.seal(1, T0, "crm", new CallRecording.CallCreated(SPEC), Ledger.GENESIS);
    CallRecording.Event consent =
        Ledger.seal(2, T0.plusSeconds(3), "ivr", new CallRecording.ConsentChanged("customer", Party.Consent.GRANTED, Party.Consent.UNKNOWN), created.hash());
    CallRecording.Event paused = Ledger.seal(3, T0.plusSeconds(9), "agent-7", new CallRecording.Paused("card payment"), consent.hash());
    CallRecording.Event resumed = Ledger.seal(4, T0.plusSeconds(40), "system", new CallRecording.Resumed("the pause exceeded maxPauseSeconds (30 s)"), paused.hash());
    CallRecording.Event stopped = Ledger.seal(5, T0.plusSeconds(50), "api", new CallRecording.Stopped(), resumed.hash());
    return List.of(created, consent, paused, resumed, stopped);
  }

  @Test
  void everyEventSurvivesSerialization() {
    ledger().forEach(SerializationTest::assertRoundTrip);
  }

  @Test
  void everyStateAndReplySurvivesSerialization() {
    CallRecording.State state = new CallRecording.NoCall();
    assertRoundTrip(state);
    for (CallRecording.Event event : ledger()) {
      state =
          state instanceof CallRecording.Call call
              ? call.apply(event)
              : CallRecording.Call.created("call-42", ((CallRecording.CallCreated) event.change()).spec(), event);
      assertRoundTrip(state);
    }
    CallRecording.Call call = (CallRecording.Call) state;
    assertEquals(1, call.pauses().size());
    assertRoundTrip(new CallRecording.Accepted(call, "already stopped"));
    assertRoundTrip(new CallRecording.Rejected(CallRecording.Rejection.CONFLICT, "no change is accepted after stop"));
  }

  @Test
  void everyCommandSurvivesSerialization() {
    TestProbe<Reply> probe = testKit.createTestProbe();
    for (Object command :
        List.of(
            new CallRecording.Create(SPEC, "crm", probe.ref()),
            new CallRecording.GetCall(probe.ref()),
            new CallRecording.ChangeConsent("customer", Party.Consent.WITHDRAWN, "ivr", probe.ref()),
            new CallRecording.Pause("card payment", "agent-7", probe.ref()),
            new CallRecording.Resume("agent-7", probe.ref()),
            new CallRecording.Stop("api", probe.ref()),
            new CallRecording.AutoResume(3),
            CallRecording.Passivate.INSTANCE)) {
      assertRoundTrip(command);
    }
  }

  /**
   * Stored ledgers are verified by recomputing hashes, so the canonical encoding of an event must
   * never change. This hash was computed apart from the code, over the UTF-8 bytes of
   * 64 zeros, a newline and
   * {@code {"by":"agent-7","change":{"reason":"card payment","type":"Paused"},"seq":3,"time":"2026-11-28T10:15:30.123Z"}}.
   */
  @Test
  void theCanonicalHashOfAKnownEventNeverChanges() {
    CallRecording.Event paused = Ledger.seal(3, T0, "agent-7", new CallRecording.Paused("card payment"), Ledger.GENESIS);
    assertEquals(EXPECTED_PAUSED_HASH, paused.hash());
    assertEquals(paused.hash(), Ledger.hashOf((CallRecording.Event) roundTrip(paused)));
  }

  private static final String EXPECTED_PAUSED_HASH = "66c3944a315839273517891b25191c1d5f5ef2607412530bbfda2e9aad991930";
}
