package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.callvault.call.CallRecording.Reply;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.Json;
import org.callvault.core.MediaReport;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every command, event, reply and state goes through Jackson CBOR and comes back equal. */
class SerializationTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString("pekko.actor.provider = local")
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static final Instant T0 = Instant.parse("2026-11-28T10:15:30.123Z");

  private static final CallSpec SPEC =
      new CallSpec(
          "call-42",
          new Policy(
              Policy.ConsentMode.ALL_PARTY,
              Policy.OnDecline.RECORD_OTHERS,
              false,
              120,
              Policy.PauseRendering.SKIP,
              365),
          List.of(
              new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.GRANTED),
              new CallSpec.PartySpec("customer", Party.Role.CUSTOMER, Party.Consent.UNKNOWN)),
          List.of(
              new StreamSpec("a", "agent", Codec.G722),
              new StreamSpec("c", "customer", Codec.PCMA)));

  private static final ChunkInfo CHUNK =
      new ChunkInfo(
          "a",
          5,
          0,
          0,
          0xFFFF_FFF0L,
          Codec.G722,
          65_530,
          65_579,
          4_294_967_000L,
          4_294_975_000L,
          50,
          4_294_967_000L,
          1_795_000_000_000_000L,
          1_795_000_000_000_000L,
          1_795_000_001_000_000L,
          null);
  private static final StreamCounters COUNTERS =
      new StreamCounters(
          52,
          50,
          3,
          Map.of("FOREIGN_SOURCE", 2L, "BAD_VERSION", 1L),
          1,
          1,
          0,
          1,
          1_795_000_001_000L);

  private static Object roundTrip(Object message) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    assertEquals(
        JacksonCborSerializer.class,
        serialization.findSerializerFor(message).getClass(),
        "serializer of " + message);
    byte[] bytes = serialization.serialize(message).get();
    return serialization
        .deserialize(
            bytes,
            serialization.findSerializerFor(message).identifier(),
            serialization.findSerializerFor(message)
                    instanceof org.apache.pekko.serialization.SerializerWithStringManifest s
                ? s.manifest(message)
                : "")
        .get();
  }

  private static void assertRoundTrip(Object message) {
    assertEquals(message, roundTrip(message));
  }

  private static List<Event> ledger() {
    Event created = Ledger.seal(1, T0, "crm", new Change.CallCreated(SPEC), Ledger.GENESIS);
    Event consent =
        Ledger.seal(
            2,
            T0.plusSeconds(3),
            "ivr",
            new Change.ConsentChanged("customer", Party.Consent.GRANTED, Party.Consent.UNKNOWN),
            created.hash());
    Event paused =
        Ledger.seal(
            3, T0.plusSeconds(9), "agent-7", new Change.Paused("card payment"), consent.hash());
    Event resumed =
        Ledger.seal(
            4,
            T0.plusSeconds(40),
            "system",
            new Change.Resumed("the pause exceeded maxPauseSeconds (30 s)"),
            paused.hash());
    Event bound =
        Ledger.seal(
            5,
            T0.plusSeconds(41),
            "system",
            new Change.MediaBound(
                "pekko://callvault@127.0.0.1:25520",
                Map.of(
                    "a", new Endpoint("127.0.0.1", 20000), "c", new Endpoint("127.0.0.1", 20002))),
            resumed.hash());
    Event stored =
        Ledger.seal(
            6,
            T0.plusSeconds(42),
            "media",
            new Change.ChunkStored(CHUNK, COUNTERS, false),
            bound.hash());
    Event gap =
        Ledger.seal(
            7,
            T0.plusSeconds(43),
            "media",
            new Change.MediaGap("c", GapCause.STORE_OVERLOAD, null, 1, 2, 50),
            stored.hash());
    Event digit =
        Ledger.seal(
            8,
            T0.plusSeconds(44),
            "media",
            new Change.DtmfDetected("a", "5", 1_795_000_000_000L),
            gap.hash());
    Event timeout =
        Ledger.seal(
            9,
            T0.plusSeconds(45),
            "media",
            new Change.MediaTimeout("c", 1_795_000_000_000L, 30_000),
            digit.hash());
    Event unavailable =
        Ledger.seal(
            10,
            T0.plusSeconds(46),
            "system",
            new Change.MediaUnavailable("node", "no free RTP port"),
            timeout.hash());
    Event joined =
        Ledger.seal(
            11,
            T0.plusSeconds(47),
            "sip:192.0.2.7",
            new Change.PartyJoined(
                new CallSpec.PartySpec(
                    "carol",
                    Party.Role.OTHER,
                    Party.Consent.UNKNOWN,
                    "Carol",
                    "sip:carol@example.com")),
            unavailable.hash());
    Event renamed =
        Ledger.seal(
            12,
            T0.plusSeconds(48),
            "sip:192.0.2.7",
            new Change.PartyRenamed("carol", "Carol S.", "sip:carol@example.com"),
            joined.hash());
    Event added =
        Ledger.seal(
            13,
            T0.plusSeconds(49),
            "sip:192.0.2.7",
            new Change.StreamsAdded(
                List.of(new StreamSpec("3", "carol", Codec.PCMA, "192.0.2.7", 101)),
                Map.of("3", new Endpoint("127.0.0.1", 20004))),
            renamed.hash());
    Event stopped =
        Ledger.seal(14, T0.plusSeconds(50), "api", new Change.Stopped(null), added.hash());
    Event released =
        Ledger.seal(
            15,
            T0.plusSeconds(51),
            "media",
            new Change.MediaReleased("node", Map.of("a", COUNTERS), ReleaseReason.STOPPED),
            stopped.hash());
    Event held =
        Ledger.seal(
            16,
            T0.plusSeconds(52),
            "user:compliance-officer",
            new Change.LegalHoldChanged(true, "litigation 2026-17"),
            released.hash());
    Event read =
        Ledger.seal(
            17,
            T0.plusSeconds(53),
            "user:qa",
            new Change.Accessed("ledger", "supervisor"),
            held.hash());
    Event exported =
        Ledger.seal(
            18,
            T0.plusSeconds(54),
            "user:qa",
            new Change.ExportMade("ab".repeat(32), read.hash(), "stream", "a", 48_044),
            read.hash());
    Event lifted =
        Ledger.seal(
            19,
            T0.plusSeconds(55),
            "user:compliance-officer",
            new Change.LegalHoldChanged(false, null),
            exported.hash());
    Event erased =
        Ledger.seal(
            20,
            T0.plusSeconds(56),
            "system:retention",
            new Change.RecordingErased("retention"),
            lifted.hash());
    Event metadata =
        Ledger.seal(
            21,
            T0.plusSeconds(57),
            "sip:192.0.2.7",
            new Change.MetadataReceived("sealed:PHJlY29yZGluZy8+"),
            erased.hash());
    return List.of(
        created,
        consent,
        paused,
        resumed,
        bound,
        stored,
        gap,
        digit,
        timeout,
        unavailable,
        joined,
        renamed,
        added,
        stopped,
        released,
        held,
        read,
        exported,
        lifted,
        erased,
        metadata);
  }

  @Test
  void everyEventSurvivesSerialization() {
    ledger().forEach(SerializationTest::assertRoundTrip);
    SipSession sip =
        new SipSession(
            "d253c800@src.example.com",
            "0PdEJ5xu2vo4cVq3ukmsQw==",
            "192.0.2.7:5060",
            "UDP",
            "srs-1",
            "src-1",
            "sip:srs@192.0.2.9",
            "sip:2000@src.example.com",
            "sip:2000@192.0.2.7:5060",
            List.of("<sip:192.0.2.1;lr>"),
            "pekko://callvault@192.0.2.9:25520");
    CallSpec siprec =
        new CallSpec(
            "sip-d253c800@src.example.com",
            SPEC.policy(),
            SPEC.parties(),
            SPEC.streams(),
            null,
            sip);
    assertRoundTrip(
        Ledger.seal(1, T0, "sip:192.0.2.7", new Change.CallCreated(siprec), Ledger.GENESIS));
  }

  @Test
  void everyStateAndReplySurvivesSerialization() {
    State state = new State.NoCall();
    assertRoundTrip(state);
    for (Event event : ledger()) {
      state =
          state instanceof Call call
              ? call.apply(event)
              : Call.created("call-42", ((Change.CallCreated) event.change()).spec(), event);
      assertRoundTrip(state);
    }
    Call call = (Call) state;
    assertEquals(1, call.pauses().size());
    assertEquals(50, call.media("a").packetsStored());
    assertEquals(COUNTERS, call.media("a").counters());
    assertEquals(
        Map.of(GapCause.STORE_OVERLOAD, new MediaState.GapTotal(1, 50, 1)),
        call.media("c").gaps(),
        "the gap, in the state that snapshots keep");
    assertEquals(5, call.mediaEpoch());
    assertEquals("Carol S.", call.party("carol").orElseThrow().name());
    assertEquals(
        20004, call.endpoints().get("3").port(), "an added stream's endpoint is the call's");
    assertEquals("3", call.streams().get(call.streams().size() - 1).label());
    assertTrue(call.compliance().erased());
    assertEquals("system:retention", call.compliance().erasedBy());
    assertEquals(false, call.compliance().held(), "the hold was lifted before");
    assertRoundTrip(new CallRecording.Accepted(call, "already stopped"));
    assertRoundTrip(
        new CallRecording.Rejected(
            CallRecording.Rejection.CONFLICT, "no change is accepted after stop"));
  }

  @Test
  void everyCommandSurvivesSerialization() {
    TestProbe<Reply> probe = testKit.createTestProbe();
    for (Object command :
        List.of(
            new CallRecording.Create(SPEC, "crm", probe.ref()),
            new CallRecording.GetCall(probe.ref()),
            new CallRecording.ChangeConsent(
                "customer", Party.Consent.WITHDRAWN, "ivr", probe.ref()),
            new CallRecording.Pause("card payment", "agent-7", probe.ref()),
            new CallRecording.Resume("agent-7", probe.ref()),
            new CallRecording.Stop("api", probe.ref()),
            new CallRecording.Amend(
                List.of(
                    new CallSpec.PartySpec(
                        "carol",
                        Party.Role.OTHER,
                        Party.Consent.UNKNOWN,
                        "Carol",
                        "sip:carol@example.com")),
                List.of(new StreamSpec("3", "carol", Codec.PCMU)),
                "sealed:PHJlY29yZGluZy8+",
                "sip",
                probe.ref()),
            new CallRecording.AutoResume(3),
            CallRecording.Passivate.INSTANCE,
            CallMediaCommands.StartMedia.INSTANCE,
            new CallMediaCommands.Adopted(List.of(CHUNK), null),
            new CallMediaCommands.StoredLate(CHUNK),
            new Custody.SetLegalHold(true, "litigation", "user:co", probe.ref()),
            new Custody.Erase("erasure request", T0, false, "user:co", probe.ref()),
            new Custody.RecordAccess("audio", "supervisor", "user:qa", probe.ref()),
            new Custody.RecordExport(
                new Change.ExportMade("cd".repeat(32), "ef".repeat(32), "mono", null, 44),
                "user:qa",
                probe.ref()),
            new Custody.Erased(
                new Custody.Erase("retention", T0, true, "system:retention", probe.ref()), null),
            new CallRecording.FromMedia(new MediaReport.ChunkWritten(CHUNK, COUNTERS)),
            new CallRecording.FromMedia(
                new MediaReport.ChunkLost("c", 1, 2, 50, GapCause.STORE_FAILURE, "timeout")),
            new CallRecording.FromMedia(
                new MediaReport.DigitPressed("a", null, 1_795_000_000_000L)),
            new CallRecording.FromMedia(new MediaReport.TimedOut("c", 1, 30_000)),
            new CallRecording.FromMedia(new MediaReport.Closed(Map.of("a", COUNTERS))))) {
      assertRoundTrip(command);
    }
  }

  /**
   * Stored ledgers are verified by recomputing hashes, so the canonical encoding of an event must
   * never change. This hash was computed apart from the code, over the UTF-8 bytes of 64 zeros, a
   * newline and {@code {"by":"agent-7","change":{"reason":"card
   * payment","type":"Paused"},"seq":3,"time":"2026-11-28T10:15:30.123Z"}}.
   */
  @Test
  void theCanonicalHashOfAKnownEventNeverChanges() {
    Event paused = Ledger.seal(3, T0, "agent-7", new Change.Paused("card payment"), Ledger.GENESIS);
    assertEquals(EXPECTED_PAUSED_HASH, paused.hash());
    assertEquals(paused.hash(), Ledger.hashOf((Event) roundTrip(paused)));
  }

  /** Bytes as written under another manifest (an older class name), read back. */
  private static Object readAs(Object written, String manifest) {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    byte[] bytes = serialization.serialize(written).get();
    return serialization
        .deserialize(bytes, serialization.findSerializerFor(written).identifier(), manifest)
        .get();
  }

  @Test
  void eventsAndSnapshotsWrittenUnderTheEntitysOldNestedClassNamesStillRead() {
    Event paused = Ledger.seal(3, T0, "agent-7", new Change.Paused("card payment"), Ledger.GENESIS);
    assertEquals(paused, readAs(paused, "org.callvault.call.CallRecording$Event"));
    Call call =
        Call.created(
            "call-42",
            SPEC,
            Ledger.seal(1, T0, "crm", new Change.CallCreated(SPEC), Ledger.GENESIS));
    assertEquals(call, readAs(call, "org.callvault.call.CallRecording$Call"));
    assertEquals(
        new State.NoCall(), readAs(new State.NoCall(), "org.callvault.call.CallRecording$NoCall"));
  }

  @Test
  void aStreamSnapshottedBeforeItRememberedItsEarlierEpochsReadsWithNone() throws Exception {
    MediaState.StreamMedia media =
        new MediaState.StreamMedia(4, 2, 3, 150, 9, CHUNK, COUNTERS, Map.of(2L, 7L));
    assertEquals(media, roundTrip(media));
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    var serializer = (JacksonCborSerializer) serialization.findSerializerFor(media);
    var cbor =
        org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider.get(
                testKit.system().classicSystem())
            .getOrCreate("jackson-cbor", java.util.Optional.empty());
    var written = (com.fasterxml.jackson.databind.node.ObjectNode) cbor.valueToTree(media);
    written.remove("earlierLastN");
    Object read =
        serialization
            .deserialize(
                cbor.writeValueAsBytes(written),
                serializer.identifier(),
                MediaState.StreamMedia.class.getName())
            .get();
    assertEquals(
        new MediaState.StreamMedia(4, 2, 3, 150, 9, CHUNK, COUNTERS, Map.of()),
        read,
        "the shape before earlierLastN");
  }

  /**
   * A store failure was once written with its error in the cause ({@code "STORE_FAILURE:
   * timeout"}); such an event reads as cause and detail, and its hash, over the text it was written
   * with, still verifies.
   */
  @Test
  void aGapWrittenWithItsErrorInTheCauseReadsAsCauseAndDetailAndItsHashVerifies() throws Exception {
    // The canonical encoding of such an event as it was written, and its hash then: SHA-256
    // over the previous hash, a newline and that text.
    String canonical =
        "{\"by\":\"media\",\"change\":{\"cause\":\"STORE_FAILURE:"
            + " timeout\",\"endWallMicros\":2,\"label\":\"c\",\"packets\":50,"
            + "\"startWallMicros\":1,\"type\":\"MediaGap\"},\"seq\":1,\"time\":\"2026-11-28T10:15:30.123Z\"}";
    var sha = java.security.MessageDigest.getInstance("SHA-256");
    sha.update(
        (Ledger.GENESIS + "\n" + canonical).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    String hash = java.util.HexFormat.of().formatHex(sha.digest());

    Change read =
        Json.MAPPER.treeToValue(Json.MAPPER.readTree(canonical).get("change"), Change.class);
    Change.MediaGap gap = assertInstanceOf(Change.MediaGap.class, read);
    assertEquals(GapCause.STORE_FAILURE, gap.cause());
    assertEquals("timeout", gap.detail());
    Event old = new Event(1, T0, "media", gap, Ledger.GENESIS, hash);
    assertEquals(
        hash,
        Ledger.hashOf(old),
        "the hash is recomputed over the text the event was written with");
    assertEquals(
        hash,
        Ledger.hashOf((Event) roundTrip(old)),
        "and still is after the journal's own encoding");
  }

  @Test
  void aGapWithADetailIsWrittenWithItsCauseAndDetailApart() throws Exception {
    Change.MediaGap gap = new Change.MediaGap("c", GapCause.STORE_FAILURE, "timeout", 1, 2, 50);
    var tree = Json.MAPPER.valueToTree(gap);
    assertEquals("STORE_FAILURE", tree.get("cause").asText());
    assertEquals("timeout", tree.get("detail").asText());
    assertEquals(gap, Json.MAPPER.treeToValue(tree, Change.class));
    Event event = Ledger.seal(7, T0, "media", gap, Ledger.GENESIS);
    assertEquals(event, roundTrip(event));
  }

  private static final String EXPECTED_PAUSED_HASH =
      "66c3944a315839273517891b25191c1d5f5ef2607412530bbfda2e9aad991930";
}
