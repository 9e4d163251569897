package org.callvault.call;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.callvault.core.Endpoint;
import org.callvault.core.StreamSpec;

/**
 * A created call as its ledger says it is: a pure fold of its events ({@link #created}, then {@link
 * #apply} for each). The entity's state, and what exports replay a ledger with.
 *
 * @param haltedBy the party whose decline or withdrawal stopped recording under onDecline STOP
 * @param seq the seq of the last event applied
 * @param lastHash the hash of the last event applied
 * @param compliance its legal hold and erasure
 */
public record Call(
    String callId,
    CallSpec spec,
    List<Party> parties,
    List<StreamSpec> streams,
    List<PauseSpan> pauses,
    String haltedBy,
    Instant createdAt,
    Instant stoppedAt,
    String stoppedBy,
    MediaState media,
    long seq,
    String lastHash,
    Compliance compliance)
    implements State {

  public Call {
    parties = List.copyOf(parties);
    streams = List.copyOf(streams);
    pauses = List.copyOf(pauses);
    if (compliance == null) compliance = Compliance.NONE; // a snapshot from before it existed
  }

  /** What the ledger says of a stream's stored audio. */
  public MediaState.StreamMedia media(String label) {
    return media.stream(label);
  }

  /** The seq of the event that recorded the current sockets; 0 before any. */
  public long mediaEpoch() {
    return media.epoch();
  }

  /** Where each stream's RTP goes now, by label. */
  public Map<String, Endpoint> endpoints() {
    return media.endpoints();
  }

  public Policy policy() {
    return spec.policy();
  }

  public Phase phase() {
    if (stoppedAt != null) return Phase.STOPPED;
    if (openPause().isPresent()) return Phase.PAUSED;
    if (haltedBy != null) return Phase.CONSENT_REFUSED;
    if (policy().consentMode() == Policy.ConsentMode.ALL_PARTY
        && parties.stream()
            .anyMatch(p -> !p.consent().refused() && p.consent() != Party.Consent.GRANTED))
      return Phase.AWAITING_CONSENT;
    return Phase.RECORDING;
  }

  public boolean stopped() {
    return phase() == Phase.STOPPED;
  }

  /** Whether audio of this stream may be stored now. */
  public boolean gateOpen(String label) {
    if (phase() != Phase.RECORDING) return false;
    return streams.stream()
        .filter(s -> s.label().equals(label))
        .findFirst()
        .flatMap(s -> party(s.party()))
        .map(p -> !p.consent().refused())
        .orElse(false);
  }

  public Optional<Party> party(String id) {
    return parties.stream().filter(p -> p.id().equals(id)).findFirst();
  }

  public Optional<PauseSpan> openPause() {
    if (pauses.isEmpty()) return Optional.empty();
    PauseSpan last = pauses.get(pauses.size() - 1);
    return last.end() == null ? Optional.of(last) : Optional.empty();
  }

  /** The call its first event creates. */
  public static Call created(String callId, CallSpec spec, Event event) {
    List<Party> parties = new ArrayList<>();
    String haltedBy = null;
    for (CallSpec.PartySpec p : spec.parties()) {
      Party party = partyOf(p, event);
      parties.add(party);
      if (party.consent().refused()
          && spec.policy().onDecline() == Policy.OnDecline.STOP
          && haltedBy == null) haltedBy = p.id();
    }
    return new Call(
        callId,
        spec,
        parties,
        spec.streams(),
        List.of(),
        haltedBy,
        event.time(),
        null,
        null,
        MediaState.NONE,
        event.seq(),
        event.hash(),
        Compliance.NONE);
  }

  /** The call after {@code event}. */
  public Call apply(Event event) {
    Change change = event.change();
    Call next = this;
    if (change instanceof Change.ConsentChanged c) {
      next = withConsent(c, event);
    } else if (change instanceof Change.Paused p) {
      next =
          withPauses(
              append(
                  pauses,
                  new PauseSpan(
                      event.seq(), event.time(), event.by(), p.reason(), null, null, null)));
    } else if (change instanceof Change.Resumed r) {
      next = withPauses(closeLast(event, r.reason()));
    } else if (change instanceof Change.Stopped) {
      next =
          new Call(
              callId,
              spec,
              parties,
              streams,
              pauses,
              haltedBy,
              createdAt,
              event.time(),
              event.by(),
              media,
              seq,
              lastHash,
              compliance);
    } else if (change instanceof Change.MediaBound bound) {
      next = withMedia(media.bound(bound.node(), event.seq(), bound.endpoints()));
    } else if (change instanceof Change.PartyJoined joined) {
      next = withParties(append(parties, partyOf(joined.party(), event)));
    } else if (change instanceof Change.PartyRenamed renamed) {
      List<Party> updated = new ArrayList<>();
      for (Party p : parties)
        updated.add(p.id().equals(renamed.party()) ? p.renamed(renamed.name(), renamed.aor()) : p);
      next = withParties(updated);
    } else if (change instanceof Change.StreamsAdded added) {
      List<StreamSpec> all = new ArrayList<>(streams);
      all.addAll(added.streams());
      Map<String, Endpoint> endpoints = new LinkedHashMap<>(media.endpoints());
      endpoints.putAll(added.endpoints());
      next =
          new Call(
              callId,
              spec,
              parties,
              all,
              pauses,
              haltedBy,
              createdAt,
              stoppedAt,
              stoppedBy,
              media.withEndpoints(endpoints),
              seq,
              lastHash,
              compliance);
    } else if (change instanceof Change.ChunkStored stored) {
      String label = stored.chunk().label();
      next =
          withMedia(
              media.withStream(label, media(label).listing(stored.chunk(), stored.counters())));
    } else if (change instanceof Change.MediaGap gap) {
      next = withMedia(media.withStream(gap.label(), media(gap.label()).withGap(gap)));
    } else if (change instanceof Change.MediaReleased released) {
      next = withMedia(media.releasedWith(released.counters(), released.reasonOrStopped()));
    } else if (change instanceof Change.LegalHoldChanged hold) {
      next = withCompliance(compliance.hold(hold.on(), hold.reason(), event));
    } else if (change instanceof Change.RecordingErased erased) {
      next = withCompliance(compliance.erase(erased.reason(), event));
    }
    return next.chained(event);
  }

  private Call withMedia(MediaState next) {
    return new Call(
        callId,
        spec,
        parties,
        streams,
        pauses,
        haltedBy,
        createdAt,
        stoppedAt,
        stoppedBy,
        next,
        seq,
        lastHash,
        compliance);
  }

  private Call withCompliance(Compliance next) {
    return new Call(
        callId, spec, parties, streams, pauses, haltedBy, createdAt, stoppedAt, stoppedBy, media,
        seq, lastHash, next);
  }

  private Call withConsent(Change.ConsentChanged change, Event event) {
    List<Party> updated = new ArrayList<>();
    for (Party p : parties)
      updated.add(
          p.id().equals(change.party())
              ? p.withConsent(change.decision(), event.by(), event.time())
              : p);
    String halted = haltedBy;
    if (halted == null
        && change.decision().refused()
        && policy().onDecline() == Policy.OnDecline.STOP) halted = change.party();
    return new Call(
        callId,
        spec,
        updated,
        streams,
        pauses,
        halted,
        createdAt,
        stoppedAt,
        stoppedBy,
        media,
        seq,
        lastHash,
        compliance);
  }

  private Call withParties(List<Party> updated) {
    return new Call(
        callId,
        spec,
        updated,
        streams,
        pauses,
        haltedBy,
        createdAt,
        stoppedAt,
        stoppedBy,
        media,
        seq,
        lastHash,
        compliance);
  }

  private Call withPauses(List<PauseSpan> updated) {
    return new Call(
        callId,
        spec,
        parties,
        streams,
        updated,
        haltedBy,
        createdAt,
        stoppedAt,
        stoppedBy,
        media,
        seq,
        lastHash,
        compliance);
  }

  private static Party partyOf(CallSpec.PartySpec p, Event event) {
    Party.Consent consent = p.consent() == null ? Party.Consent.UNKNOWN : p.consent();
    boolean decided = consent != Party.Consent.UNKNOWN;
    return new Party(
        p.id(),
        p.role(),
        consent,
        decided ? event.by() : null,
        decided ? event.time() : null,
        p.name(),
        p.aor());
  }

  private List<PauseSpan> closeLast(Event event, String reason) {
    List<PauseSpan> updated = new ArrayList<>(pauses);
    PauseSpan open = updated.remove(updated.size() - 1);
    updated.add(
        new PauseSpan(
            open.startSeq(),
            open.start(),
            open.by(),
            open.reason(),
            event.time(),
            event.by(),
            reason));
    return updated;
  }

  private Call chained(Event event) {
    return new Call(
        callId,
        spec,
        parties,
        streams,
        pauses,
        haltedBy,
        createdAt,
        stoppedAt,
        stoppedBy,
        media,
        event.seq(),
        event.hash(),
        compliance);
  }

  private static <T> List<T> append(List<T> list, T item) {
    List<T> copy = new ArrayList<>(list);
    copy.add(item);
    return copy;
  }
}
