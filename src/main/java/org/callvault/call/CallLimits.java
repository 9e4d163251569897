package org.callvault.call;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.callvault.core.StreamCounters;
import org.slf4j.Logger;

/**
 * The limits that stop a call by themselves ({@link Policy#maxDurationSeconds()}, {@link
 * Policy#noMediaSeconds()}): a call whose controller died would otherwise record, and hold its
 * sockets, for ever. Keeps when this node's sockets last received a packet; only the entity's
 * thread uses it.
 */
final class CallLimits {

  /** Timer: whether the call has reached a limit of its policy that stops it. */
  public enum Check implements CallRecording.Command {
    INSTANCE
  }

  /** How often an active call checks its limits. */
  static final Duration EVERY = Duration.ofSeconds(5);

  private long received = -1;
  private Instant receivedAt;

  /**
   * Checks {@code call}'s limits every {@link #EVERY} while it is active, if it has any here
   * ({@code media}: this node receives media).
   */
  static void start(TimerScheduler<CallRecording.Command> timers, Call call, boolean media) {
    Policy policy = call.policy();
    if (!call.stopped()
        && (policy.maxDurationSeconds() != null || (policy.noMediaSeconds() != null && media)))
      timers.startTimerWithFixedDelay(Check.class, Check.INSTANCE, EVERY);
  }

  /**
   * The changes that stop {@code call} at {@code now}, with why, if it must stop; none else ({@code
   * sockets}: as {@link Requests#stop}, asked only when it stops).
   */
  List<Change> due(
      Call call,
      Instant now,
      Map<String, StreamCounters> live,
      java.util.function.Supplier<Continuity.Sockets> sockets,
      Logger log) {
    return reached(call, now, live)
        .map(
            reason -> {
              log.warn("call {} stops itself: {}", call.callId(), reason);
              return Requests.stop(call, now.toEpochMilli() * 1000, reason, sockets.get())
                  .changes();
            })
        .orElse(List.of());
  }

  /**
   * Why {@code call} must stop itself at {@code now}, if it must: it has lasted its policy's {@code
   * maxDurationSeconds}, or none of its streams received here ({@code live}, null when this node
   * receives none of its media) has received a packet for {@code noMediaSeconds}.
   */
  private Optional<String> reached(Call call, Instant now, Map<String, StreamCounters> live) {
    Integer maxDuration = call.policy().maxDurationSeconds();
    if (maxDuration != null && !now.isBefore(call.createdAt().plusSeconds(maxDuration)))
      return Optional.of(
          "the call reached its maximum duration of " + maxDuration + " s (maxDurationSeconds)");
    Integer noMedia = call.policy().noMediaSeconds();
    if (noMedia == null || live == null) return Optional.empty();
    long total = 0;
    for (StreamCounters counters : live.values()) total += counters.received();
    if (total != received || receivedAt == null) {
      received = total;
      receivedAt = now;
    }
    if (!now.isBefore(receivedAt.plusSeconds(noMedia)))
      return Optional.of(
          "no media arrived for " + noMedia + " s (noMediaSeconds): its sender is gone");
    return Optional.empty();
  }
}
