package org.callvault.catalog;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.Handler;
import org.apache.pekko.stream.javadsl.Sink;
import org.callvault.call.CatalogTags;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the calls' read model from the journal: one projection per {@link CatalogTags tag}, run
 * once in the cluster (a sharded daemon process, so they move with the nodes), each applying its
 * calls' tagged events in order to the call as the read model holds it. At least once: an event
 * applied again (after a restart, before its offset was saved) is recognised by its seq and
 * skipped. A call whose earlier events the read model never saw (created before it ran) is folded
 * from its whole ledger first.
 */
public final class CatalogProjection {

  private static final Logger log = LoggerFactory.getLogger(CatalogProjection.class);

  static final String NAME = "calls-catalog";

  private CatalogProjection() {}

  /** Starts the projections on this node once the read model's tables exist. */
  public static void start(ActorSystem<?> system, Catalog catalog) {
    catalog
        .store()
        .ready()
        .whenComplete(
            (ok, failed) -> {
              if (failed != null) {
                log.warn(
                    "the read model's tables are not ready ({}); trying again in 2 s",
                    failed.toString());
                system
                    .scheduler()
                    .scheduleOnce(
                        Duration.ofSeconds(2),
                        () -> start(system, catalog),
                        system.executionContext());
                return;
              }
              ShardedDaemonProcess.get(system)
                  .init(
                      ProjectionBehavior.Command.class,
                      NAME,
                      CatalogTags.COUNT,
                      i -> ProjectionBehavior.create(projection(system, catalog, i)),
                      ShardedDaemonProcessSettings.create(system),
                      Optional.of(ProjectionBehavior.stopMessage()));
            });
  }

  private static org.apache.pekko.projection.Projection<EventEnvelope<Event>> projection(
      ActorSystem<?> system, Catalog catalog, int i) {
    String tag = CatalogTags.tag(i);
    return CassandraProjection.atLeastOnce(
            ProjectionId.of(NAME, tag),
            EventSourcedProvider.<Event>eventsByTag(system, CassandraReadJournal.Identifier(), tag),
            () -> new Apply(system, catalog, i))
        .withSaveOffset(100, Duration.ofMillis(500));
  }

  /** Applies one tagged event to its call in the read model. */
  static final class Apply extends Handler<EventEnvelope<Event>> {

    private final Catalog catalog;
    private final CurrentEventsByPersistenceIdQuery journal;
    private final ActorSystem<?> system;
    private final int shard;

    Apply(ActorSystem<?> system, Catalog catalog, int shard) {
      this.system = system;
      this.catalog = catalog;
      this.shard = shard;
      this.journal =
          PersistenceQuery.get(system)
              .getReadJournalFor(
                  CurrentEventsByPersistenceIdQuery.class, CassandraReadJournal.Identifier());
    }

    @Override
    public CompletionStage<Done> process(EventEnvelope<Event> envelope) {
      String callId = PersistenceId.extractEntityId(envelope.persistenceId());
      Event event = envelope.event();
      catalog.lag().observe(Duration.between(event.time(), Instant.now()).toMillis() / 1000.0);
      return catalog
          .store()
          .find(callId)
          .thenCompose(
              held -> {
                if (held.isPresent() && event.seq() <= held.get().call().seq())
                  return CompletableFuture.completedFuture(Done.getInstance());
                CompletionStage<Optional<Catalog.Listed>> before =
                    held.isPresent() || event.change() instanceof Change.CallCreated
                        ? CompletableFuture.completedFuture(held)
                        : fromLedger(callId, envelope.persistenceId(), event.seq() - 1);
                return before.thenCompose(b -> applied(callId, b, event));
              });
    }

    /** The call folded from its ledger up to {@code toSeq}, every event, tagged or not. */
    private CompletionStage<Optional<Catalog.Listed>> fromLedger(
        String callId, String persistenceId, long toSeq) {
      return journal
          .currentEventsByPersistenceId(persistenceId, 0L, toSeq)
          .map(e -> (Event) e.event())
          .runWith(
              Sink.fold(
                  Optional.<org.callvault.call.Call>empty(),
                  (call, event) -> Optional.of(Catalog.applied(callId, call, event))),
              system)
          .thenApply(
              call -> call.map(c -> new Catalog.Listed(c, Catalog.sourceOf(c), Set.<String>of())));
    }

    private CompletionStage<Done> applied(
        String callId, Optional<Catalog.Listed> before, Event event) {
      if (before.isEmpty() && !(event.change() instanceof Change.CallCreated)) {
        log.warn(
            "call {}: its ledger has no CallCreated before seq {}; not listed",
            callId,
            event.seq());
        return CompletableFuture.completedFuture(Done.getInstance());
      }
      org.callvault.call.Call after =
          Catalog.applied(callId, before.map(Catalog.Listed::call), event);
      Set<String> keysBefore = before.map(Catalog.Listed::partyKeys).orElse(Set.of());
      CompletionStage<Set<String>> keys =
          before.isEmpty() || changesParties(event.change())
              ? catalog.partyKeys(after)
              : CompletableFuture.completedFuture(keysBefore);
      return keys.thenCompose(
          now -> {
            Set<String> removed = new HashSet<>(keysBefore);
            removed.removeAll(now);
            return catalog
                .followed(shard, after, event)
                .thenCompose(
                    followed ->
                        catalog
                            .store()
                            .write(
                                new Catalog.Listed(after, Catalog.sourceOf(after), now), removed))
                .thenApply(done -> Done.getInstance());
          });
    }

    private static boolean changesParties(Change change) {
      return change instanceof Change.CallCreated
          || change instanceof Change.PartyJoined
          || change instanceof Change.PartyRenamed
          || change instanceof Change.RecordingErased;
    }
  }
}
