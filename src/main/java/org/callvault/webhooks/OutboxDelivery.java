package org.callvault.webhooks;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.callvault.core.CborSerializable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends what waits in the {@link Outbox}: one deliverer per shard, run once in the cluster (a
 * sharded daemon process, so it moves with the nodes), which every second sends the shard's due
 * notices. A notice not answered 2xx is tried again after 1 s, 2 s, 4 s… at most 5 min apart, and
 * given up (logged, counted) after {@link #ATTEMPTS} attempts, an hour and 19 minutes after the
 * first.
 */
public final class OutboxDelivery {

  private static final Logger log = LoggerFactory.getLogger(OutboxDelivery.class);

  static final String NAME = "webhook-delivery";
  static final int ATTEMPTS = 24;
  private static final Duration TICK = Duration.ofSeconds(1);
  private static final Duration LONGEST_WAIT = Duration.ofMinutes(5);

  /** What a deliverer is told: time to send, a round is over, stop. */
  public enum Command implements CborSerializable {
    TICK,
    DONE,
    STOP
  }

  private OutboxDelivery() {}

  /** Starts the deliverers of {@code shards} shards in the cluster. */
  public static void start(ActorSystem<?> system, Outbox outbox, WebhookSender sender, int shards) {
    ShardedDaemonProcess.get(system)
        .init(
            Command.class,
            NAME,
            shards,
            shard -> deliverer(outbox, sender, shard),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(Command.STOP));
  }

  private static Behavior<Command> deliverer(Outbox outbox, WebhookSender sender, int shard) {
    return Behaviors.withTimers(
        timers -> {
          timers.startSingleTimer(Command.TICK, TICK);
          return Behaviors.setup(
              context ->
                  Behaviors.receive(Command.class)
                      .onMessageEquals(
                          Command.TICK,
                          () -> {
                            context.pipeToSelf(
                                round(outbox, sender, shard),
                                (ok, failed) -> {
                                  if (failed != null)
                                    log.warn(
                                        "webhook outbox {}: a round failed ({}); trying again",
                                        shard,
                                        failed.toString());
                                  return Command.DONE;
                                });
                            return Behaviors.same();
                          })
                      .onMessageEquals(
                          Command.DONE,
                          () -> {
                            timers.startSingleTimer(Command.TICK, TICK);
                            return Behaviors.same();
                          })
                      .onMessageEquals(Command.STOP, Behaviors::stopped)
                      .build());
        });
  }

  /**
   * Sends every due notice of the shard once, from the minute of its cursor to now, and records how
   * each went; the cursor moves past the minutes left empty.
   */
  static CompletionStage<Void> round(Outbox outbox, WebhookSender sender, int shard) {
    Instant now = Instant.now();
    long current = Outbox.minuteOf(now);
    return outbox
        .cursor(shard, current - 60)
        .thenCompose(from -> minutes(outbox, sender, shard, now, from, current, from));
  }

  /**
   * The minutes from {@code minute} to {@code current}; {@code oldest}: the oldest minute found
   * holding a notice still (the cursor's next place).
   */
  private static CompletionStage<Void> minutes(
      Outbox outbox,
      WebhookSender sender,
      int shard,
      Instant now,
      long minute,
      long current,
      long oldest) {
    // A minute of slack: a node whose clock is a little behind may still add to the last one.
    if (minute > current) return outbox.advance(shard, Math.min(oldest, current - 1));
    return outbox
        .in(shard, minute)
        .thenCompose(
            waiting -> {
              List<CompletableFuture<Boolean>> each =
                  waiting.stream()
                      .map(
                          w ->
                              w.due().isAfter(now)
                                  ? CompletableFuture.completedFuture(true)
                                  : attempt(outbox, sender, shard, w)
                                      .thenApply(
                                          stays -> stays && Outbox.minuteOf(w.due()) == minute)
                                      .toCompletableFuture())
                      .toList();
              return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                  .thenCompose(
                      x -> {
                        boolean holds = each.stream().anyMatch(CompletableFuture::join);
                        long next = oldest == minute && !holds ? minute + 1 : oldest;
                        return minutes(outbox, sender, shard, now, minute + 1, current, next);
                      });
            });
  }

  /** One attempt at {@code notice}; whether it stays in its minute (never: it moves or leaves). */
  private static CompletionStage<Boolean> attempt(
      Outbox outbox, WebhookSender sender, int shard, Outbox.Waiting notice) {
    return sender
        .post(URI.create(notice.url()), notice.event(), notice.id(), notice.body())
        .thenCompose(
            outcome -> {
              if (outcome.delivered()) return outbox.remove(shard, notice);
              int attempts = notice.attempts() + 1;
              if (attempts >= ATTEMPTS) {
                log.error(
                    "call {}: {} to {} given up after {} attempts, last: {}",
                    notice.callId(),
                    notice.event(),
                    notice.url(),
                    attempts,
                    outcome.why());
                sender.metrics().labelValues(notice.event(), "given_up").inc();
                return outbox.remove(shard, notice);
              }
              Instant due = Instant.now().plus(wait(attempts));
              return outbox.retryAt(shard, notice, attempts, due);
            })
        .thenApply(done -> false);
  }

  /** How long a notice waits after its {@code attempts}th failed attempt. */
  static Duration wait(int attempts) {
    Duration wait = Duration.ofSeconds(1L << Math.min(attempts - 1, 20));
    return wait.compareTo(LONGEST_WAIT) > 0 ? LONGEST_WAIT : wait;
  }
}
