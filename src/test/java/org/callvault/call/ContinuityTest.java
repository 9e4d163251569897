package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.Test;

/** The continuity rules across media epochs, on calls folded from ledgers alone. */
class ContinuityTest {

  private static final Continuity.Sockets STORING = new Continuity.Sockets(false, Set.of());
  private static final Continuity.Sockets GONE = new Continuity.Sockets(true, Set.of());

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final long WALL0 = 1_800_000_000_000_000L;

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

  /** A ledger in progress: each change sealed after the last. */
  private static final class Ledgered {
    private final List<Event> events = new ArrayList<>();
    private Call call;

    Ledgered() {
      Event created = Ledger.seal(1, T0, "crm", new Change.CallCreated(SPEC), Ledger.GENESIS);
      events.add(created);
      call = Call.created("c-1", SPEC, created);
    }

    Ledgered then(Change change) {
      Event event =
          Ledger.seal(call.seq() + 1, T0.plusSeconds(call.seq()), "test", change, call.lastHash());
      events.add(event);
      call = call.apply(event);
      return this;
    }

    Ledgered bound(String node) {
      return then(
          new Change.MediaBound(
              node,
              Map.of(
                  "a", new Endpoint("127.0.0.1", 20000), "c", new Endpoint("127.0.0.1", 20002))));
    }

    Ledgered stored(ChunkInfo chunk) {
      return then(new Change.ChunkStored(chunk, StreamCounters.ZERO, false));
    }
  }

  /**
   * A second of 50 packets of SSRC {@code ssrc} of stream {@code label}, sequence numbers from
   * {@code firstSeq}, starting at {@code startWall}.
   */
  private static ChunkInfo chunk(
      String label, long epoch, long n, long ssrc, long firstSeq, long startWall) {
    return new ChunkInfo(
        label,
        epoch,
        n,
        0,
        ssrc,
        Codec.PCMU,
        firstSeq,
        firstSeq + 49,
        n * 8000,
        (n + 1) * 8000,
        50,
        0,
        startWall,
        startWall,
        startWall + 1_000_000,
        null);
  }

  @Test
  void mediaBoundForTheFirstTimeHasNotMovedAndAMoveFromSocketsNeverReleasedIsANodeFailure() {
    Ledgered ledger = new Ledgered().bound("node-1");
    assertNull(ledger.call.media().moveCause(), "the first binding is no move");
    ledger.bound("node-2");
    assertEquals(GapCause.NODE_FAILURE, ledger.call.media().moveCause());
    assertEquals("node-1", ledger.call.media().movedFrom());
  }

  @Test
  void aMoveFromSocketsHandedOffIsAHandoffAndAfterSocketsReleasedByAStopNoMove() {
    Ledgered handedOff =
        new Ledgered()
            .bound("node-1")
            .then(new Change.MediaReleased("node-1", Map.of(), ReleaseReason.HANDOFF))
            .bound("node-2");
    assertEquals(GapCause.HANDOFF, handedOff.call.media().moveCause());
    Ledgered stopped =
        new Ledgered()
            .bound("node-1")
            .then(new Change.MediaReleased("node-1", Map.of(), ReleaseReason.STOPPED))
            .bound("node-2");
    assertNull(stopped.call.media().moveCause());
    // A MediaReleased written before it had a reason was written after a stop.
    Ledgered old =
        new Ledgered()
            .bound("node-1")
            .then(new Change.MediaReleased("node-1", Map.of(), null))
            .bound("node-2");
    assertNull(old.call.media().moveCause());
  }

  @Test
  void aChunkIsListedOnceAndAnEarlierEpochKnowsItsLastListedChunk() {
    Ledgered ledger =
        new Ledgered()
            .bound("node-1")
            .stored(chunk("a", 2, 0, 7, 0, WALL0))
            .stored(chunk("a", 2, 1, 7, 50, WALL0 + 1_000_000));
    assertTrue(Continuity.alreadyListed(ledger.call, chunk("a", 2, 1, 7, 50, WALL0 + 1_000_000)));
    assertTrue(Continuity.alreadyListed(ledger.call, chunk("a", 2, 0, 7, 0, WALL0)));
    assertFalse(Continuity.alreadyListed(ledger.call, chunk("a", 2, 2, 7, 100, WALL0 + 2_000_000)));
    assertFalse(
        Continuity.alreadyListed(ledger.call, chunk("c", 2, 0, 7, 0, WALL0)),
        "each stream is listed apart");
    ledger.bound("node-2");
    ledger.stored(chunk("a", 4, 0, 7, 300, WALL0 + 6_000_000));
    assertTrue(
        Continuity.alreadyListed(ledger.call, chunk("a", 2, 1, 7, 50, WALL0 + 1_000_000)),
        "the earlier epoch's last listed chunk");
    assertFalse(
        Continuity.alreadyListed(ledger.call, chunk("a", 2, 2, 7, 100, WALL0 + 2_000_000)),
        "the earlier epoch's next chunk may still be stored late, from a spool");
  }

  @Test
  void aChunkStoredLateFromASpoolAfterTheCallMovedOnIsListedOnceWithoutMovingItsStream() {
    ChunkInfo listedLast = chunk("a", 2, 1, 7, 50, WALL0 + 1_000_000);
    ChunkInfo newEpoch = chunk("a", 4, 0, 7, 300, WALL0 + 6_000_000);
    Ledgered ledger =
        new Ledgered()
            .bound("node-1")
            .stored(chunk("a", 2, 0, 7, 0, WALL0))
            .stored(listedLast)
            .bound("node-2")
            .stored(newEpoch);
    ChunkInfo late = chunk("a", 2, 2, 7, 100, WALL0 + 2_000_000);

    List<Change> listing = Continuity.listedLate(ledger.call, late);
    assertEquals(1, listing.size(), listing.toString());
    Change.ChunkStored stored = (Change.ChunkStored) listing.get(0);
    assertEquals(late, stored.chunk());
    assertTrue(stored.adopted(), "listed as found, not as received now");
    ledger.then(stored);

    MediaState.StreamMedia a = ledger.call.media("a");
    assertEquals(4, a.epoch(), "the stream's place stays in the newest epoch");
    assertEquals(0, a.lastN());
    assertEquals(newEpoch, a.last());
    assertEquals(WALL0 + 7_000_000, a.lastEndWallMicros());
    assertEquals(4, a.chunks(), "but the late chunk is counted");
    assertEquals(200, a.packetsStored());
    assertEquals(2, a.lastNIn(2));
    assertTrue(Continuity.listedLate(ledger.call, late).isEmpty(), "listed once");
    assertTrue(Continuity.listedLate(ledger.call, listedLast).isEmpty(), "listed before the move");
    assertEquals(1, Continuity.listedLate(ledger.call, chunk("a", 2, 3, 7, 150, WALL0)).size());
    assertTrue(
        Continuity.listedLate(ledger.call, chunk("x", 2, 3, 7, 150, WALL0)).isEmpty(),
        "no such stream");
    assertTrue(
        Continuity.listedLate(ledger.call, chunk("a", 9, 0, 7, 150, WALL0)).isEmpty(),
        "no such epoch yet");
    assertTrue(
        Continuity.gapBefore(ledger.call, chunk("a", 4, 1, 7, 350, WALL0 + 7_000_000)).isEmpty(),
        "the next live chunk follows the newest epoch's");
  }

  @Test
  void theFirstChunkAfterAFailureRecordsTheGapWithThePacketsTheSequenceNumbersSayWereLost() {
    Ledgered ledger =
        new Ledgered().bound("node-1").stored(chunk("a", 2, 0, 7, 0, WALL0)).bound("node-2");
    assertEquals(4, ledger.call.mediaEpoch());
    assertTrue(
        Continuity.gapBefore(ledger.call, chunk("a", 2, 1, 7, 175, WALL0 + 3_500_000)).isEmpty(),
        "a late chunk of the old epoch opens no gap");
    ChunkInfo next = chunk("a", 4, 0, 7, 175, WALL0 + 3_500_000);
    Change.MediaGap gap = Continuity.gapBefore(ledger.call, next).orElseThrow();
    assertEquals("a", gap.label());
    assertEquals(GapCause.NODE_FAILURE, gap.cause());
    assertNull(gap.detail());
    assertEquals(
        WALL0 + 1_000_000, gap.startWallMicros(), "from just after the last sample stored");
    assertEquals(WALL0 + 3_500_000, gap.endWallMicros(), "to the first sample stored after");
    assertEquals(125, gap.packets(), "sequence numbers 50 to 174");
    ledger.stored(next);
    assertTrue(
        Continuity.gapBefore(ledger.call, chunk("a", 4, 1, 7, 225, WALL0 + 4_500_000)).isEmpty(),
        "the gap is recorded once");
  }

  @Test
  void aHandoffThatLostNothingHasNoGapAndOneWhoseSenderChangedItsSsrcCountsNoPackets() {
    Ledgered ledger =
        new Ledgered()
            .bound("node-1")
            .stored(chunk("a", 2, 0, 7, 0, WALL0))
            .then(new Change.MediaReleased("node-1", Map.of(), ReleaseReason.HANDOFF))
            .bound("node-2");
    long epoch = ledger.call.mediaEpoch();
    assertEquals(5, epoch);
    assertTrue(
        Continuity.gapBefore(ledger.call, chunk("a", epoch, 0, 7, 50, WALL0 + 1_000_000)).isEmpty(),
        "packet 50 follows 49: nothing lost");
    assertTrue(
        Continuity.gapBefore(ledger.call, chunk("a", epoch, 0, 7, 60, WALL0 + 1_200_000))
            .isPresent(),
        "but 50 to 59 lost would be a gap");
    Change.MediaGap gap =
        Continuity.gapBefore(ledger.call, chunk("a", epoch, 0, 8, 0, WALL0 + 1_500_000))
            .orElseThrow();
    assertEquals(GapCause.HANDOFF, gap.cause());
    assertEquals(0, gap.packets(), "another SSRC: the sequence numbers cannot tell");
    assertEquals(500_000, gap.endWallMicros() - gap.startWallMicros());
  }

  @Test
  void sequenceNumbersAreComparedAcrossTheirWrapButNotAcrossSoLongThatTheyMayHaveWrappedUnseen() {
    MediaState.StreamMedia listed =
        new MediaState.StreamMedia(
            2,
            0,
            1,
            50,
            WALL0 + 1_000_000,
            chunk("a", 2, 0, 7, 65_500, WALL0),
            StreamCounters.ZERO,
            Map.of());
    // The last stored packet was 65,549, which is 13 on the wire; the next stored is 23.
    assertEquals(
        9,
        Continuity.packetsMissedBefore(listed, chunk("a", 4, 0, 7, 23, WALL0 + 1_200_000)),
        "14 to 22");
    assertEquals(
        -1,
        Continuity.packetsMissedBefore(
            listed, chunk("a", 4, 0, 7, 23, WALL0 + 11 * 60 * 1_000_000L)),
        "eleven minutes later: unknown");
  }

  @Test
  void aStreamWithoutAudioSinceItsMediaMovedHasItsGapOpenUntilTheStop() {
    Ledgered ledger =
        new Ledgered().bound("node-1").stored(chunk("a", 2, 0, 7, 0, WALL0)).bound("node-2");
    List<Change.MediaGap> open = Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, STORING);
    assertEquals(1, open.size(), "only the stream that had audio before the move: " + open);
    assertEquals("a", open.get(0).label());
    assertEquals(WALL0 + 1_000_000, open.get(0).startWallMicros());
    assertEquals(WALL0 + 9_000_000, open.get(0).endWallMicros());
    ledger.stored(chunk("a", 4, 0, 7, 100, WALL0 + 3_000_000));
    assertTrue(
        Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, STORING).isEmpty(),
        "closed by the first chunk after the move");
    assertTrue(
        Continuity.gapsOpenAt(new Ledgered().bound("node-1").call, WALL0, STORING).isEmpty(),
        "nothing moved");
  }

  @Test
  void aStreamWhoseAudioSinceTheMoveIsOnItsWayAtTheStopHasOneGapUpToThatAudio() {
    // The stop comes while the first chunk after the move is still being stored: the sockets here
    // have received it, the ledger does not list it yet.
    Ledgered ledger =
        new Ledgered().bound("node-1").stored(chunk("a", 2, 0, 7, 0, WALL0)).bound("node-2");
    Continuity.Sockets receivingA = new Continuity.Sockets(false, Set.of("a"));
    assertTrue(
        Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, receivingA).isEmpty(),
        "no gap to the stop: the chunk on its way closes it");
    ChunkInfo first = chunk("a", 4, 0, 7, 100, WALL0 + 8_500_000);
    Change.MediaGap before = Continuity.gapBefore(ledger.call, first).orElseThrow();
    assertEquals(WALL0 + 1_000_000, before.startWallMicros());
    assertEquals(WALL0 + 8_500_000, before.endWallMicros(), "up to the audio, not to the stop");
    assertEquals(
        1,
        Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, STORING).size(),
        "with nothing on its way, the gap runs to the stop");
  }

  @Test
  void aCallStoppedBeforeItsRecoveredEntityBoundNewSocketsHasItsGapsFromItsLastAudioToTheStop() {
    // node-1 died; the entity recovered on node-2 and the stop came before it bound sockets there.
    Ledgered ledger =
        new Ledgered()
            .bound("node-1")
            .stored(chunk("a", 2, 0, 7, 0, WALL0))
            .stored(chunk("c", 2, 0, 9, 0, WALL0 + 500_000));
    List<Change.MediaGap> open = Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, GONE);
    assertEquals(2, open.size(), "both streams had audio: " + open);
    assertEquals(GapCause.NODE_FAILURE, open.get(0).cause());
    assertEquals(WALL0 + 1_000_000, open.get(0).startWallMicros(), "after a's last audio");
    assertEquals(WALL0 + 1_500_000, open.get(1).startWallMicros(), "after c's last audio");
    assertEquals(WALL0 + 9_000_000, open.get(1).endWallMicros());
    assertTrue(
        Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, STORING).isEmpty(),
        "its sockets store here: nothing is open");
    ledger.then(new Change.MediaReleased("node-1", Map.of(), ReleaseReason.HANDOFF));
    assertTrue(
        Continuity.gapsOpenAt(ledger.call, WALL0 + 9_000_000, GONE).isEmpty(),
        "released in order: a handoff relays, nothing was lost to a death");
  }

  @Test
  void afterRecoveryEachStreamIsLookedUpAfterItsLastListedChunkOfTheLastEpoch() {
    Ledgered ledger =
        new Ledgered()
            .bound("node-1")
            .stored(chunk("a", 2, 0, 7, 0, WALL0))
            .stored(chunk("a", 2, 1, 7, 50, WALL0 + 1_000_000));
    assertEquals(
        List.of(new Continuity.Lookup("a", 2, 1), new Continuity.Lookup("c", 2, -1)),
        Continuity.unlistedLookups(ledger.call));
    ledger.bound("node-2");
    assertEquals(5, ledger.call.mediaEpoch());
    assertEquals(
        List.of(new Continuity.Lookup("a", 5, -1), new Continuity.Lookup("c", 5, -1)),
        Continuity.unlistedLookups(ledger.call),
        "nothing listed under the new epoch yet");
  }

  @Test
  void chunksFoundUnlistedAreAdoptedOnceEachInOrderWithTheirStreamsCounters() {
    StreamCounters counters = new StreamCounters(100, 100, 0, Map.of(), 0, 0, 0, 2, 1);
    Ledgered ledger =
        new Ledgered()
            .bound("node-1")
            .then(new Change.ChunkStored(chunk("a", 2, 0, 7, 0, WALL0), counters, false));
    ChunkInfo listed = chunk("a", 2, 0, 7, 0, WALL0);
    ChunkInfo first = chunk("a", 2, 1, 7, 50, WALL0 + 1_000_000);
    ChunkInfo second = chunk("a", 2, 2, 7, 100, WALL0 + 2_000_000);
    ChunkInfo other = chunk("c", 2, 0, 9, 0, WALL0);
    List<Change.ChunkStored> adopted =
        Continuity.adoptions(ledger.call, List.of(listed, first, first, second, other));
    assertEquals(
        List.of(first, second, other), adopted.stream().map(Change.ChunkStored::chunk).toList());
    assertTrue(adopted.stream().allMatch(Change.ChunkStored::adopted));
    assertEquals(
        counters,
        adopted.get(0).counters(),
        "the stream's counters as the ledger last recorded them");
    assertEquals(StreamCounters.ZERO, adopted.get(2).counters());
  }
}
