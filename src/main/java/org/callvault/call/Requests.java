package org.callvault.call;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.callvault.call.CallRecording.Rejected;
import org.callvault.call.CallRecording.Rejection;
import org.callvault.core.MediaReport;
import org.callvault.core.StreamSpec;

/**
 * What each request, and each report of the call's media, does to a call, decided from the call as
 * its ledger says it is: the rules of consent, pause and stop, in words a caller can act on. Pure:
 * the entity persists the changes decided here and answers with the rest.
 */
final class Requests {

  /**
   * What a request does: it is refused, it changes nothing (and the note says why), or these
   * changes.
   */
  sealed interface Decision permits Refused, Unchanged, Changes {}

  record Refused(Rejected rejected) implements Decision {}

  record Unchanged(String note) implements Decision {}

  record Changes(List<Change> changes) implements Decision {}

  private Requests() {}

  static Rejected notFound(String callId) {
    return new Rejected(Rejection.NOT_FOUND, "no call with id '" + callId + "'");
  }

  static Rejected afterStop(Call call) {
    return new Rejected(
        Rejection.CONFLICT,
        "call '"
            + call.callId()
            + "' was stopped at "
            + call.stoppedAt()
            + " by "
            + call.stoppedBy()
            + ": no change is accepted after stop");
  }

  /** The creation of call {@code callId}: refused when the spec is of another call or invalid. */
  static Optional<Rejected> refusedCreation(String callId, CallSpec spec) {
    if (!callId.equals(spec.callId()))
      return Optional.of(
          new Rejected(
              Rejection.INVALID,
              "callId '" + spec.callId() + "' was sent to call '" + callId + "'"));
    List<String> problems = spec.problems();
    return problems.isEmpty()
        ? Optional.empty()
        : Optional.of(new Rejected(Rejection.INVALID, String.join("; ", problems)));
  }

  /**
   * The creation of a call on a node that has no headroom left ({@code why}, null when it has):
   * refused, so that the calls recording there keep every packet, and the creator told to retry.
   */
  static Optional<Rejected> noHeadroom(String why) {
    return why == null
        ? Optional.empty()
        : Optional.of(
            new Rejected(
                Rejection.UNAVAILABLE,
                "this node takes no new call now: "
                    + why
                    + "; the call was not created; retry (the calls recording here go on)"));
  }

  /**
   * A creation of a call that exists: the same spec again is the same call, a different one is
   * refused.
   */
  static Decision recreate(Call call, CallRecording.Create create) {
    if (call.spec().equals(create.spec()))
      return new Unchanged(
          "call '" + call.callId() + "' already exists with this definition; nothing changed");
    return refused(
        Rejection.CONFLICT,
        "call '"
            + call.callId()
            + "' already exists with a different definition; a call id names one call");
  }

  static Decision legalHold(Call call, Custody.SetLegalHold hold) {
    Compliance now = call.compliance();
    if (now.erased())
      return refused(
          Rejection.CONFLICT,
          "call '"
              + call.callId()
              + "' was erased at "
              + now.erasedAt()
              + ": nothing is left to hold");
    if (hold.on() && (hold.reason() == null || hold.reason().isBlank()))
      return refused(Rejection.INVALID, "a legal hold needs a reason (field 'reason')");
    if (hold.on() == now.held())
      return new Unchanged(
          now.held()
              ? "the call is already on legal hold since "
                  + now.holdSince()
                  + " ("
                  + now.holdReason()
                  + "); nothing changed"
              : "the call is not on legal hold; nothing changed");
    return changes(new Change.LegalHoldChanged(hold.on(), hold.reason()));
  }

  /**
   * An erasure, judged at its {@code asOf}: only of a stopped call, never under legal hold nor
   * within the policy's minimum retention; the retention sweep's ({@code whenDue}) only once the
   * retention has passed.
   */
  static Decision erase(Call call, Custody.Erase erase) {
    Compliance now = call.compliance();
    if (now.erased())
      return new Unchanged(
          "the call was already erased at " + now.erasedAt() + " by " + now.erasedBy());
    if (!call.stopped())
      return refused(
          Rejection.CONFLICT,
          "call '" + call.callId() + "' is " + call.phase() + ": stop it before erasing it");
    if (now.held())
      return refused(
          Rejection.CONFLICT,
          "call '"
              + call.callId()
              + "' is on legal hold since "
              + now.holdSince()
              + " by "
              + now.holdBy()
              + " ("
              + now.holdReason()
              + "): lift the hold before erasing it");
    Instant minimum = call.stoppedAt().plus(Duration.ofDays(call.policy().minRetention()));
    if (erase.asOf().isBefore(minimum))
      return refused(
          Rejection.CONFLICT,
          "call '"
              + call.callId()
              + "' must be kept until "
              + minimum
              + " (minRetentionDays "
              + call.policy().minRetention()
              + " after its stop)");
    Instant due = call.stoppedAt().plus(Duration.ofDays(call.policy().retentionDays()));
    if (erase.whenDue() && erase.asOf().isBefore(due))
      return new Unchanged(
          "kept until " + due + " (retentionDays " + call.policy().retentionDays() + ")");
    return changes(
        new Change.RecordingErased(
            erase.whenDue()
                ? "its retention of "
                    + call.policy().retentionDays()
                    + " days after its stop ended at "
                    + due
                : erase.reason()));
  }

  static Decision access(Custody.RecordAccess access) {
    return changes(new Change.Accessed(access.what(), access.roles()));
  }

  static Decision export(Custody.RecordExport export) {
    return changes(export.export());
  }

  static Decision stopAgain(Call call) {
    return new Unchanged(
        "the call was already stopped at " + call.stoppedAt() + "; nothing changed");
  }

  static Decision consent(Call call, CallRecording.ChangeConsent change) {
    String partyId = change.party();
    Party.Consent decision = change.decision();
    Optional<Party> party = call.party(partyId);
    if (party.isEmpty()) {
      String parties = String.join(", ", call.parties().stream().map(Party::id).toList());
      return refused(
          Rejection.INVALID,
          "party '"
              + partyId
              + "' is not a party of call '"
              + call.callId()
              + "' (parties: "
              + parties
              + ")");
    }
    Party.Consent current = party.get().consent();
    if (decision == Party.Consent.UNKNOWN)
      return refused(Rejection.INVALID, "decision must be GRANTED, DECLINED or WITHDRAWN");
    if (decision == current)
      return new Unchanged(
          "consent of party '" + partyId + "' is already " + current + "; nothing changed");
    if (decision == Party.Consent.WITHDRAWN && current != Party.Consent.GRANTED)
      return refused(
          Rejection.CONFLICT,
          "consent of party '"
              + partyId
              + "' is "
              + current
              + ": only GRANTED consent can be withdrawn (record a refusal as DECLINED)");
    return changes(new Change.ConsentChanged(partyId, decision, current));
  }

  static Decision pause(Call call, CallRecording.Pause pause) {
    if (!call.policy().pauseAllowed())
      return refused(
          Rejection.CONFLICT,
          "pause refused: the policy of call '"
              + call.callId()
              + "' forbids pauses (pauseAllowed=false: the line must be recorded in full)");
    Optional<PauseSpan> open = call.openPause();
    if (open.isPresent()) {
      PauseSpan p = open.get();
      return new Unchanged(
          "already paused since "
              + p.start()
              + " by "
              + p.by()
              + " ("
              + p.reason()
              + "); nothing changed");
    }
    if (call.phase() == Phase.CONSENT_REFUSED)
      return refused(
          Rejection.CONFLICT,
          "recording of call '"
              + call.callId()
              + "' was halted for the rest of the call when party '"
              + call.haltedBy()
              + "' refused consent (onDecline=STOP)");
    return changes(new Change.Paused(pause.reason()));
  }

  static Decision resume(Call call) {
    if (call.openPause().isEmpty())
      return new Unchanged("call '" + call.callId() + "' is not paused; nothing changed");
    return changes(new Change.Resumed(null));
  }

  /**
   * The stop at {@code nowMicros}, after the gaps still open ({@link Continuity#gapsOpenAt}, by
   * what this node's {@code sockets} say).
   */
  static Decision stop(Call call, long nowMicros, Continuity.Sockets sockets) {
    return stop(call, nowMicros, null, sockets);
  }

  /** The stop, with why when the call stops itself ({@code reason}; null when it was asked). */
  static Changes stop(Call call, long nowMicros, String reason, Continuity.Sockets sockets) {
    List<Change> changes = new ArrayList<>(Continuity.gapsOpenAt(call, nowMicros, sockets));
    changes.add(new Change.Stopped(reason));
    return new Changes(changes);
  }

  /**
   * Parties and streams added to a running call, and parties renamed, after the metadata that said
   * so is recorded as received. Streams added come last, as a {@link Change.StreamsAdded} without
   * endpoints: the entity binds their sockets and fills them in.
   */
  static Decision amend(Call call, CallRecording.Amend amend) {
    List<Change> changes = new ArrayList<>();
    if (amend.metadata() != null) changes.add(new Change.MetadataReceived(amend.metadata()));
    List<CallSpec.PartySpec> parties = new ArrayList<>();
    for (Party p : call.parties())
      parties.add(new CallSpec.PartySpec(p.id(), p.role(), p.consent(), p.name(), p.aor()));
    for (CallSpec.PartySpec p : amend.parties()) {
      Optional<Party> known = call.party(p.id());
      if (known.isEmpty()) {
        changes.add(new Change.PartyJoined(p));
        parties.add(p);
      } else if (!Objects.equals(known.get().name(), p.name())
          || !Objects.equals(known.get().aor(), p.aor())) {
        changes.add(new Change.PartyRenamed(p.id(), p.name(), p.aor()));
      }
    }
    List<StreamSpec> added =
        amend.streams().stream()
            .filter(s -> call.streams().stream().noneMatch(k -> k.label().equals(s.label())))
            .toList();
    List<StreamSpec> all = new ArrayList<>(call.streams());
    all.addAll(added);
    List<String> problems =
        new CallSpec(call.callId(), call.policy(), parties, all, null, null).problems();
    if (!problems.isEmpty()) return refused(Rejection.INVALID, String.join("; ", problems));
    if (!added.isEmpty()) changes.add(new Change.StreamsAdded(added, Map.of()));
    if (changes.isEmpty()) return new Unchanged("nothing to add or change");
    return new Changes(changes);
  }

  /**
   * How long from {@code now} until {@code pause} has lasted the call's maxPauseSeconds (zero when
   * it has).
   */
  static Duration autoResumeDelay(Call call, PauseSpan pause, Instant now) {
    Duration delay =
        Duration.between(now, pause.start().plusSeconds(call.policy().maxPauseSeconds()));
    return delay.isNegative() ? Duration.ZERO : delay;
  }

  /**
   * The timer of the pause persisted at {@code pauseSeq} is due: it resumes, if that pause is still
   * open.
   */
  static Optional<Change> autoResume(Call call, long pauseSeq) {
    Optional<PauseSpan> open = call.openPause();
    if (open.isEmpty() || open.get().startSeq() != pauseSeq) return Optional.empty();
    return Optional.of(
        new Change.Resumed(
            "the pause exceeded maxPauseSeconds (" + call.policy().maxPauseSeconds() + " s)"));
  }

  /**
   * What the call's media reported, as changes of its ledger (none when nothing is to be recorded);
   * every report but {@link MediaReport.Closed}, which ends the session.
   */
  static List<Change> reported(Call call, MediaReport report) {
    if (report instanceof MediaReport.ChunkWritten written) {
      if (Continuity.alreadyListed(call, written.chunk())) return List.of();
      Change.ChunkStored stored =
          new Change.ChunkStored(written.chunk(), written.counters(), false);
      return Continuity.gapBefore(call, written.chunk())
          .<List<Change>>map(gap -> List.of(gap, stored))
          .orElse(List.of(stored));
    }
    if (report instanceof MediaReport.ChunkLost lost)
      return List.of(
          new Change.MediaGap(
              lost.label(),
              lost.cause(),
              lost.detail(),
              lost.startWallMicros(),
              lost.endWallMicros(),
              lost.packets()));
    if (report instanceof MediaReport.DigitPressed digit)
      return List.of(new Change.DtmfDetected(digit.label(), digit.digit(), digit.wallMillis()));
    if (report instanceof MediaReport.TimedOut timeout && !call.stopped())
      return List.of(
          new Change.MediaTimeout(timeout.label(), timeout.lastPacketAt(), timeout.silentMillis()));
    return List.of();
  }

  private static Decision refused(Rejection rejection, String message) {
    return new Refused(new Rejected(rejection, message));
  }

  private static Decision changes(Change change) {
    return new Changes(List.of(change));
  }
}
