package org.callvault.api;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.function.Supplier;
import org.callvault.api.access.Authenticator;
import org.callvault.core.StreamCounters;

/**
 * {@code GET /metrics}: this node's numbers, the same its health shows, and its JVM's (memory, GC,
 * threads), in Prometheus's text format. Read when scraped; counters count since the node started.
 */
final class Metrics implements MultiCollector {

  private final Supplier<ApiServer.NodeStatus> status;
  private final Authenticator authenticator;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  Metrics(Supplier<ApiServer.NodeStatus> status, Authenticator authenticator) {
    this.status = status;
    this.authenticator = authenticator;
    registry.register(this);
    JvmMetrics.builder().register(registry);
  }

  /** Serves {@code metrics} as well. */
  void register(io.prometheus.metrics.model.registry.Collector metrics) {
    registry.register(metrics);
  }

  /** The text a scrape gets. */
  byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16_384);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory failed", e);
    }
    return out.toByteArray();
  }

  @Override
  public MetricSnapshots collect() {
    ApiServer.NodeStatus now = status.get();
    StreamCounters packets = now.packets();
    MetricSnapshots.Builder out = MetricSnapshots.builder();
    gauge(out, "callvault_node_up", "1 while this node is an Up member of the cluster", now.up());
    gauge(
        out, "callvault_cluster_members_up", "Members of the cluster that are Up", now.upMembers());
    gauge(out, "callvault_calls_active", "Calls whose media this node receives now", now.calls());
    gauge(
        out,
        "callvault_calls_relaying",
        "Calls handed off whose old sockets here still relay to their new node",
        now.relayingCalls());
    gauge(
        out,
        "callvault_rtp_ports_in_use",
        "RTP ports (each with its RTCP port) held here now",
        now.rtpPortsInUse());
    counter(
        out,
        "callvault_packets_received",
        "Valid RTP packets from the streams' accepted sources",
        packets.received());
    counter(
        out,
        "callvault_packets_stored",
        "Packets in chunks that reached storage",
        packets.stored());
    counter(
        out,
        "callvault_packets_dropped_by_gate",
        "Packets dropped because their stream's gate was closed (pause, consent, not yet"
            + " recording)",
        packets.droppedByGate());
    counter(
        out,
        "callvault_packets_lost",
        "Packets never received, by the streams' sequence numbers",
        packets.lost());
    counter(out, "callvault_packets_duplicated", "Packets received twice", packets.duplicated());
    counter(
        out,
        "callvault_packets_late",
        "Packets that came after their stream's reorder window had passed them",
        packets.late());
    if (!packets.rejected().isEmpty()) {
      CounterSnapshot.Builder rejected =
          CounterSnapshot.builder()
              .name("callvault_packets_rejected")
              .help("Datagrams refused, by reason (malformed, foreign source, payload type…)");
      for (Map.Entry<String, Long> reason : packets.rejected().entrySet())
        rejected.dataPoint(
            CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("reason", reason.getKey()))
                .value(reason.getValue())
                .build());
      out.metricSnapshot(rejected.build());
    }
    counter(out, "callvault_chunks_stored", "Chunks that reached storage", packets.chunksStored());
    counter(
        out,
        "callvault_chunks_unstored",
        "Chunks storage refused or failed, each a recorded gap",
        now.chunksUnstored());
    gauge(
        out,
        "callvault_spool_chunks",
        "Chunks waiting in the spool for storage to take them",
        now.spooledChunks());
    gauge(out, "callvault_spool_bytes", "Bytes the spool takes on disk", now.spoolBytes());
    gauge(
        out,
        "callvault_spool_oldest_age_seconds",
        "How long the oldest spooled chunk has waited; 0 when none waits",
        now.spoolOldestMillis() == 0
            ? 0
            : Math.max(0, System.currentTimeMillis() - now.spoolOldestMillis()) / 1000.0);
    counter(
        out,
        "callvault_admission_refused",
        "New calls refused because the node had no headroom",
        now.refusedForHeadroom());
    gauge(
        out,
        "callvault_media_event_loop_lag_seconds",
        "The worst lag of the media event loops within the last second",
        now.eventLoopLagMillis() / 1000);
    counter(out, "callvault_sip_refused", "SIP messages refused as malformed", now.sipRefused());
    counter(
        out,
        "callvault_auth_refused",
        "API requests refused for missing or wrong credentials",
        authenticator.refused());
    counter(
        out,
        "callvault_auth_throttled",
        "API requests refused because their source failed authentication too often",
        authenticator.throttled());
    return out.build();
  }

  private static void gauge(MetricSnapshots.Builder out, String name, String help, double value) {
    out.metricSnapshot(
        GaugeSnapshot.builder()
            .name(name)
            .help(help)
            .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build())
            .build());
  }

  private static void gauge(MetricSnapshots.Builder out, String name, String help, boolean value) {
    gauge(out, name, help, value ? 1 : 0);
  }

  private static void counter(MetricSnapshots.Builder out, String name, String help, long value) {
    out.metricSnapshot(
        CounterSnapshot.builder()
            .name(name)
            .help(help)
            .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).build())
            .build());
  }
}
