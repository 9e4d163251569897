package org.callvault.store;

import com.typesafe.config.Config;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import java.util.List;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.cassandra.journal.CassandraJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * The ledger's journal: pekko-persistence-cassandra's, with each write (one entity's events,
 * batched by the plugin) timed from its start to Cassandra's answer, and its failures counted, for
 * {@code /metrics}. Configured as {@code pekko.persistence.cassandra.journal.class}; Pekko makes
 * it, so its metrics are the class's own, registered once by the node.
 */
public final class TimedJournal extends CassandraJournal {

  private static final Histogram SECONDS =
      Histogram.builder()
          .name("callvault_journal_write_seconds")
          .help("From a ledger write's start to Cassandra's answer (an entity's events at once)")
          .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
          .build();

  private static final Counter FAILURES =
      Counter.builder()
          .name("callvault_journal_write_failures_total")
          .help("Ledger writes that failed (Cassandra down, a timeout, the breaker open)")
          .build();

  public TimedJournal(Config config, String configPath) {
    super(config, configPath);
  }

  /** The journal's metrics, for the node's registry. */
  public static List<Collector> metrics() {
    return List.of(SECONDS, FAILURES);
  }

  @Override
  public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    long start = System.nanoTime();
    Future<Seq<Try<BoxedUnit>>> written = super.asyncWriteMessages(messages);
    written.onComplete(
        result -> {
          SECONDS.observe((System.nanoTime() - start) / 1e9);
          if (result.isFailure()) FAILURES.inc();
          else result.get().foreach(each -> each.isFailure() ? incremented() : BoxedUnit.UNIT);
          return BoxedUnit.UNIT;
        },
        context().dispatcher());
    return written;
  }

  private static BoxedUnit incremented() {
    FAILURES.inc();
    return BoxedUnit.UNIT;
  }
}
