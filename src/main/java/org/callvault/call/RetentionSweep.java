package org.callvault.call;

import com.typesafe.config.Config;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Erases the recordings whose retention has passed: every call is asked, in turn, to erase itself
 * if its policy's {@code retentionDays} after its stop have passed and it is not on legal hold (the
 * call decides, from its ledger: {@link Requests#erase}). One runner in the cluster, a cluster
 * singleton: when its node leaves or dies it starts again on another, and a sweep started over
 * erases nothing twice (an erased call answers that it is).
 *
 * <p>It looks at every call each time, waking each from its journal: at {@code calls-per-second}
 * (100 by default) a million calls take under three hours a day.
 */
public final class RetentionSweep {

  /**
   * @param every how often a sweep starts (the first one {@code every} after the singleton starts)
   * @param callsPerSecond how fast calls are asked, so that a sweep does not crowd the journal
   */
  public record Settings(Duration every, int callsPerSecond) {

    /** Reads {@code callvault.retention}. */
    public static Settings from(Config retention) {
      return new Settings(
          retention.getDuration("sweep-every"), retention.getInt("calls-per-second"));
    }
  }

  /** What one sweep did. */
  public record Outcome(int asked, int erased, int kept, int refused, int failed) {
    Outcome plus(Outcome o) {
      return new Outcome(
          asked + o.asked,
          erased + o.erased,
          kept + o.kept,
          refused + o.refused,
          failed + o.failed);
    }
  }

  /** Who the ledger names as the cause of an erasure by retention. */
  public static final String BY = "system:retention";

  private RetentionSweep() {}

  private enum Tick {
    INSTANCE
  }

  private record Swept(Outcome outcome, Throwable failure) {}

  /**
   * Starts the cluster's one sweeper ({@code callIds}: every call's id, as the journal lists them).
   */
  public static void start(
      ActorSystem<?> system,
      Calls calls,
      Supplier<Source<String, NotUsed>> callIds,
      Clock clock,
      Settings settings) {
    Behavior<Object> sweeper =
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers -> {
                      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.every());
                      boolean[] running = {false};
                      return Behaviors.receive(Object.class)
                          .onMessageEquals(
                              Tick.INSTANCE,
                              () -> {
                                if (running[0]) return Behaviors.same();
                                running[0] = true;
                                ctx.pipeToSelf(
                                    sweep(
                                        system,
                                        calls,
                                        callIds.get(),
                                        clock.instant(),
                                        settings.callsPerSecond()),
                                    Swept::new);
                                return Behaviors.same();
                              })
                          .onMessage(
                              Swept.class,
                              swept -> {
                                running[0] = false;
                                if (swept.failure() != null)
                                  ctx.getLog()
                                      .error(
                                          "the retention sweep failed: {}",
                                          swept.failure().toString());
                                else ctx.getLog().info("retention sweep: {}", swept.outcome());
                                return Behaviors.same();
                              })
                          .build();
                    }));
    ClusterSingleton.get(system).init(SingletonActor.of(sweeper, "retention-sweep"));
  }

  /**
   * One pass over {@code callIds}: each call erases itself if its retention has passed by {@code
   * now}.
   */
  public static CompletionStage<Outcome> sweep(
      ActorSystem<?> system,
      Calls calls,
      Source<String, NotUsed> callIds,
      Instant now,
      int callsPerSecond) {
    return callIds
        .throttle(callsPerSecond, Duration.ofSeconds(1))
        .mapAsyncUnordered(
            4,
            callId ->
                calls
                    .ask(callId, replyTo -> new Custody.Erase("retention", now, true, BY, replyTo))
                    .handle(RetentionSweep::counted))
        .runFold(new Outcome(0, 0, 0, 0, 0), Outcome::plus, system);
  }

  private static Outcome counted(CallRecording.Reply reply, Throwable failure) {
    if (failure != null) return new Outcome(1, 0, 0, 0, 1);
    if (reply instanceof CallRecording.Accepted accepted)
      return accepted.note() == null ? new Outcome(1, 1, 0, 0, 0) : new Outcome(1, 0, 1, 0, 0);
    return new Outcome(1, 0, 0, 1, 0);
  }
}
