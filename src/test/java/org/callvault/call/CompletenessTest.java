package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.callvault.core.Codec;
import org.callvault.core.GapCause;
import org.callvault.core.Json;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.Test;

/**
 * A recording's completeness, folded from its ledger: what the network lost, what each gap lost,
 * what a gate dropped (counted apart), per stream and for the call; and the tags the read model
 * follows.
 */
class CompletenessTest {

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
          List.of(
              new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN),
              new CallSpec.PartySpec("customer", Party.Role.CUSTOMER, Party.Consent.UNKNOWN)),
          List.of(
              new StreamSpec("a", "agent", Codec.PCMU),
              new StreamSpec("c", "customer", Codec.PCMU)));

  private Call call = Call.created("c-1", SPEC, event(1, new Change.CallCreated(SPEC), null));

  private Event event(long seq, Change change, Call before) {
    return Ledger.seal(
        seq,
        T0.plusSeconds(seq),
        "test",
        change,
        before == null ? Ledger.GENESIS : before.lastHash());
  }

  private void then(Change change) {
    call = call.apply(event(call.seq() + 1, change, call));
  }

  private static StreamCounters counters(long stored, long lost, long late, long gated) {
    return new StreamCounters(stored + gated, stored, gated, Map.of(), lost, 0, late, 5, 0);
  }

  @Test
  void aStreamMissesWhatTheNetworkLostWhatArrivedLateAndWhatItsGapsLostButNotWhatItsGateDropped() {
    then(new Change.MediaGap("a", GapCause.NODE_FAILURE, null, 1_000_000, 4_000_000, 150));
    then(
        new Change.MediaGap("a", GapCause.STORE_OVERLOAD, "queue full", 9_000_000, 10_000_000, 50));
    then(new Change.MediaGap("a", GapCause.NODE_FAILURE, null, 20_000_000, 21_000_000, 50));
    then(
        new Change.MediaReleased(
            "node-2",
            Map.of("a", counters(1_000, 7, 3, 400), "c", counters(1_200, 0, 0, 400)),
            ReleaseReason.STOPPED));

    Completeness a = Completeness.of(call.media("a"));
    assertEquals(1_000, a.stored());
    assertEquals(7, a.lostOnNetwork());
    assertEquals(3, a.late());
    assertEquals(400, a.gated(), "counted apart");
    assertEquals(250, a.lostInGaps());
    assertEquals(260, a.missing());
    assertEquals(1_260, a.expected(), "stored + lost + late + gaps; the gated 400 not expected");
    assertEquals(1_000 / 1_260.0, a.ratio(), 1e-12);
    assertFalse(a.complete());
    assertEquals(new MediaState.GapTotal(2, 200, 4_000_000), a.gaps().get(GapCause.NODE_FAILURE));
    assertEquals(new MediaState.GapTotal(1, 50, 1_000_000), a.gaps().get(GapCause.STORE_OVERLOAD));

    Completeness c = Completeness.of(call.media("c"));
    assertTrue(c.complete(), "a stream only paused is complete");
    assertEquals(1.0, c.ratio());
    assertEquals(400, c.gated());

    Completeness whole = Completeness.of(call);
    assertEquals(2_200, whole.stored());
    assertEquals(2_460, whole.expected());
    assertEquals(800, whole.gated());
    assertFalse(whole.complete());
  }

  @Test
  void aGapThatCannotCountItsPacketsStillMakesTheRecordingIncomplete() {
    then(
        new Change.MediaReleased(
            "node-1", Map.of("a", counters(500, 0, 0, 0)), ReleaseReason.STOPPED));
    assertTrue(Completeness.of(call).complete());
    then(new Change.MediaGap("a", GapCause.NODE_FAILURE, null, 30_000_000, 32_500_000, 0));
    Completeness a = Completeness.of(call.media("a"));
    assertEquals(0, a.missing());
    assertEquals(1.0, a.ratio(), "no packet is known lost");
    assertFalse(a.complete(), "but 2.5 s are: a gap in time");
    assertEquals(2_500_000, a.gaps().get(GapCause.NODE_FAILURE).micros());
  }

  @Test
  void aCallWithNothingExpectedIsComplete() {
    assertEquals(0, Completeness.of(call).expected());
    assertEquals(1.0, Completeness.of(call).ratio());
    assertTrue(Completeness.of(call).complete());
  }

  @Test
  void theCallAsTheReadModelKeepsItReadsBackTheSameFromItsJson() throws Exception {
    then(new Change.Paused("card payment"));
    then(new Change.MediaGap("a", GapCause.HANDOFF, null, 1_000_000, 1_500_000, 25));
    then(
        new Change.MediaReleased(
            "node-1", Map.of("a", counters(500, 2, 0, 50)), ReleaseReason.STOPPED));
    then(new Change.Stopped(null));
    then(new Change.LegalHoldChanged(true, "litigation"));
    Call read = Json.MAPPER.readValue(Json.MAPPER.writeValueAsString(call), Call.class);
    assertEquals(call, read);
    assertEquals(Phase.STOPPED, read.phase());
    assertEquals(Completeness.of(call), Completeness.of(read));
  }

  @Test
  void onlyTheEventsTheListingShowsAreTaggedAndEachCallKeepsOneTag() {
    Event created = event(1, new Change.CallCreated(SPEC), null);
    Event stored =
        event(
            2,
            new Change.ChunkStored(
                new org.callvault.core.ChunkInfo(
                    "a", 2, 0, 0, 1, Codec.PCMU, 1, 50, 0, 8000, 50, 0, 0, 0, 1_000_000, null),
                StreamCounters.ZERO,
                false),
            null);
    assertEquals(1, CatalogTags.of("c-1", created).size());
    assertEquals(
        CatalogTags.of("c-1", created),
        CatalogTags.of("c-1", event(3, new Change.Stopped(null), null)));
    assertEquals(java.util.Set.of(), CatalogTags.of("c-1", stored), "the per-chunk events are not");
    assertEquals(
        java.util.Set.of(),
        CatalogTags.of("c-1", event(4, new Change.Accessed("audio", "supervisor"), null)));
    java.util.Set<String> tags = new java.util.HashSet<>();
    for (int i = 0; i < 200; i++) tags.addAll(CatalogTags.of("call-" + i, created));
    assertEquals(CatalogTags.COUNT, tags.size(), "calls spread over every tag: " + tags);
  }
}
