package org.callvault.call;

import java.util.Set;

/**
 * The tags the calls' read model follows ({@code catalog}): a call's events that change what the
 * listing shows carry one tag, the same for all of a call's events, so that one projection sees
 * them in order. The per-chunk events ({@link Change.ChunkStored}) and the other events of the
 * media path carry none and cost the journal nothing more.
 */
public final class CatalogTags {

  /** How many tags calls are spread over: one projection instance runs per tag in the cluster. */
  public static final int COUNT = 4;

  private CatalogTags() {}

  /** The tag of projection instance {@code i}, 0 ≤ i < {@link #COUNT}. */
  public static String tag(int i) {
    return "calls-" + i;
  }

  /** The tags of {@code event} of call {@code callId}: its call's tag, or none. */
  static Set<String> of(String callId, Event event) {
    return listed(event.change()) ? Set.of(tag(Math.floorMod(callId.hashCode(), COUNT))) : Set.of();
  }

  /** Whether the listing shows what {@code change} changes. */
  static boolean listed(Change change) {
    return change instanceof Change.CallCreated
        || change instanceof Change.ConsentChanged
        || change instanceof Change.Paused
        || change instanceof Change.Resumed
        || change instanceof Change.Stopped
        || change instanceof Change.MediaGap
        || change instanceof Change.MediaReleased
        || change instanceof Change.PartyJoined
        || change instanceof Change.PartyRenamed
        || change instanceof Change.StreamsAdded
        || change instanceof Change.LegalHoldChanged
        || change instanceof Change.RecordingErased;
  }
}
