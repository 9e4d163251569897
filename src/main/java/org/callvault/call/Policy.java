package org.callvault.call;

import java.util.ArrayList;
import java.util.List;
import org.callvault.core.CborSerializable;

/**
 * The recording rules of one call, fixed when the call is created.
 *
 * @param consentMode whether one party's consent suffices or every party must grant it
 * @param onDecline what a decline or withdrawal of consent does to the other streams
 * @param pauseAllowed false on lines that must be recorded in full (e.g. MiFID trading lines)
 * @param maxPauseSeconds a pause longer than this resumes automatically, as an event by {@code
 *     system}
 * @param pauseRendering how exports show a paused or consent-held span
 * @param retentionDays how long the recording is kept
 * @param maxDurationSeconds the call stops itself after this long (its controller died or forgot
 *     it); null for no limit (calls created before the limit existed)
 * @param noMediaSeconds the call stops itself when none of its streams has received a packet for
 *     this long; null for no limit
 * @param minRetentionDays no request erases the recording before this many days after its stop (a
 *     regulator's minimum, e.g. MiFID II's five years); null for none (calls created before it
 *     existed)
 */
public record Policy(
    ConsentMode consentMode,
    OnDecline onDecline,
    boolean pauseAllowed,
    int maxPauseSeconds,
    PauseRendering pauseRendering,
    int retentionDays,
    Integer maxDurationSeconds,
    Integer noMediaSeconds,
    Integer minRetentionDays)
    implements CborSerializable {

  /** A policy without a minimum retention. */
  public Policy(
      ConsentMode consentMode,
      OnDecline onDecline,
      boolean pauseAllowed,
      int maxPauseSeconds,
      PauseRendering pauseRendering,
      int retentionDays,
      Integer maxDurationSeconds,
      Integer noMediaSeconds) {
    this(
        consentMode,
        onDecline,
        pauseAllowed,
        maxPauseSeconds,
        pauseRendering,
        retentionDays,
        maxDurationSeconds,
        noMediaSeconds,
        null);
  }

  /** The days after its stop before which no request erases the recording (0 for none). */
  public int minRetention() {
    return minRetentionDays == null ? 0 : minRetentionDays;
  }

  /** A policy without the limits that stop a call by themselves. */
  public Policy(
      ConsentMode consentMode,
      OnDecline onDecline,
      boolean pauseAllowed,
      int maxPauseSeconds,
      PauseRendering pauseRendering,
      int retentionDays) {
    this(
        consentMode,
        onDecline,
        pauseAllowed,
        maxPauseSeconds,
        pauseRendering,
        retentionDays,
        null,
        null);
  }

  /** A week: a recording longer than that is a line left open, not a call. */
  public static final int MAX_DURATION_SECONDS = 604_800;

  /** Ten years: the longest retention a regulator asks of a contact center we know of is seven. */
  public static final int MAX_RETENTION_DAYS = 3650;

  /** A pause may last a day at most: longer is a stopped recording, not a pause. */
  public static final int MAX_PAUSE_SECONDS = 86_400;

  public enum ConsentMode {
    /** Gates open from the start; one party's (the operator's) consent is enough. */
    ONE_PARTY,
    /** Every gate stays closed until every party has granted consent. */
    ALL_PARTY
  }

  public enum OnDecline {
    /** A decline or withdrawal closes every gate for the rest of the call. */
    STOP,
    /** Only the declining party's streams close; the others go on. */
    RECORD_OTHERS
  }

  public enum PauseRendering {
    /** Paused spans are silence of their real length in exports. */
    SILENCE,
    /** Paused spans are cut out of every channel in exports. */
    SKIP
  }

  /**
   * A policy from configuration (the keys of {@code callvault.default-policy}); {@code path} names
   * where it was read, for the error that an invalid one raises.
   */
  public static Policy fromConfig(com.typesafe.config.Config c, String path) {
    Policy policy =
        new Policy(
            c.getEnum(ConsentMode.class, "consentMode"),
            c.getEnum(OnDecline.class, "onDecline"),
            c.getBoolean("pauseAllowed"),
            c.getInt("maxPauseSeconds"),
            c.getEnum(PauseRendering.class, "pauseRendering"),
            c.getInt("retentionDays"),
            c.getInt("maxDurationSeconds"),
            c.getInt("noMediaSeconds"),
            c.getInt("minRetentionDays"));
    if (!policy.problems().isEmpty())
      throw new IllegalArgumentException(
          path + " is invalid: " + String.join("; ", policy.problems()));
    return policy;
  }

  /** What is wrong with this policy, field by field; empty when it is valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (consentMode == null) problems.add("policy.consentMode is required");
    if (onDecline == null) problems.add("policy.onDecline is required");
    if (pauseRendering == null) problems.add("policy.pauseRendering is required");
    if (maxPauseSeconds < 1 || maxPauseSeconds > MAX_PAUSE_SECONDS)
      problems.add(
          "policy.maxPauseSeconds must be between 1 and "
              + MAX_PAUSE_SECONDS
              + ", was "
              + maxPauseSeconds);
    if (retentionDays < 1 || retentionDays > MAX_RETENTION_DAYS)
      problems.add(
          "policy.retentionDays must be between 1 and "
              + MAX_RETENTION_DAYS
              + ", was "
              + retentionDays);
    if (maxDurationSeconds != null
        && (maxDurationSeconds < 60 || maxDurationSeconds > MAX_DURATION_SECONDS))
      problems.add(
          "policy.maxDurationSeconds must be between 60 and "
              + MAX_DURATION_SECONDS
              + ", was "
              + maxDurationSeconds);
    if (noMediaSeconds != null && (noMediaSeconds < 10 || noMediaSeconds > MAX_PAUSE_SECONDS))
      problems.add(
          "policy.noMediaSeconds must be between 10 and "
              + MAX_PAUSE_SECONDS
              + ", was "
              + noMediaSeconds);
    if (minRetentionDays != null && (minRetentionDays < 0 || minRetentionDays > retentionDays))
      problems.add(
          "policy.minRetentionDays must be between 0 and retentionDays ("
              + retentionDays
              + "), was "
              + minRetentionDays);
    return problems;
  }
}
