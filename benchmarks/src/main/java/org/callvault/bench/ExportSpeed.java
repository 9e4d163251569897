package org.callvault.bench;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.callvault.call.CallSpec;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.Ledger;
import org.callvault.call.Party;
import org.callvault.call.Policy;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.export.Timeline;
import org.callvault.export.WavExport;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkPackets;
import org.callvault.store.ChunkStore;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * {@code benchmarks/export}: how fast a long call is rendered to WAV. A one-hour two-stream G.711
 * call (3,600 chunks of 50 packets per stream, its ledger of 7,200 listings) is exported as stereo
 * WAV, the export's own code from the ledger's timeline to the last byte: every chunk opened
 * (AES-256-GCM, as stored), its packets decoded and placed, the channels interleaved. The chunks
 * are held in memory, so Cassandra's read is not in the figure (a chunk is 8.6 KB; the store reads
 * two at a time per stream). Runs {@code --runs} times (the first warms the JIT) and writes {@code
 * export-<time>.md}, {@code .csv} and {@code .png} under {@code benchmarks/results}.
 *
 * <pre>
 * benchmarks/export [--minutes 60] [--runs 5]
 * </pre>
 */
public final class ExportSpeed {

  private static final long T0 = 1_800_000_000_000_000L; // µs
  private static final int PAYLOAD = 160;

  public static void main(String[] args) throws Exception {
    int minutes = 60;
    int runs = 5;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--minutes" -> minutes = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: benchmarks/export [--minutes 60] [--runs 5]");
          System.exit(2);
        }
      }
    }
    AeadConfig.register();
    Aead audio =
        KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM)
            .getPrimitive(RegistryConfiguration.get(), Aead.class);
    int seconds = minutes * 60;
    Map<String, byte[]> sealed = new HashMap<>();
    List<Event> ledger = ledger(seconds, audio, sealed);
    ChunkStore store = new SealedInMemory(audio, sealed);
    Timeline timeline = Timeline.of(ledger);
    WavExport.Plan plan = WavExport.plan(timeline, WavExport.Layout.STEREO, null);
    System.out.printf(
        Locale.ROOT,
        "export: a %d-minute stereo call, %,d chunks, %,d bytes of WAV%n",
        minutes,
        sealed.size(),
        plan.bytes());

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "export");
    List<Double> times = new ArrayList<>();
    try {
      for (int run = 1; run <= runs; run++) {
        long began = System.nanoTime();
        long bytes =
            WavExport.render(plan, store)
                .runWith(Sink.fold(0L, (sum, b) -> sum + b.size()), system)
                .toCompletableFuture()
                .get();
        double took = (System.nanoTime() - began) / 1e9;
        if (bytes != plan.bytes())
          throw new IllegalStateException("rendered " + bytes + " bytes of " + plan.bytes());
        times.add(took);
        System.out.printf(
            Locale.ROOT,
            "export: run %d: %.2f s, %.0f× real time%s%n",
            run,
            took,
            seconds / took,
            run == 1 ? " (warms the JIT)" : "");
      }
    } finally {
      system.terminate();
    }
    report(minutes, seconds, plan.bytes(), times);
  }

  /** CallCreated, then each stream's chunk of every second listed in turn, then CallStopped. */
  private static List<Event> ledger(int seconds, Aead audio, Map<String, byte[]> sealed)
      throws Exception {
    CallSpec spec =
        new CallSpec(
            "export",
            new Policy(
                Policy.ConsentMode.ONE_PARTY,
                Policy.OnDecline.STOP,
                true,
                300,
                Policy.PauseRendering.SILENCE,
                90),
            List.of(
                new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN),
                new CallSpec.PartySpec("customer", Party.Role.CUSTOMER, Party.Consent.UNKNOWN)),
            List.of(
                new StreamSpec("agent", "agent", Codec.PCMU),
                new StreamSpec("customer", "customer", Codec.PCMU)));
    List<Event> events = new ArrayList<>();
    Instant created = Instant.ofEpochMilli(T0 / 1000);
    events.add(Ledger.seal(1, created, "bench", new Change.CallCreated(spec), Ledger.GENESIS));
    Random random = new Random(1);
    byte[] payload = new byte[12 + PAYLOAD];
    for (int s = 0; s < seconds; s++) {
      for (String label : List.of("agent", "customer")) {
        long ts = (long) s * 8000;
        ChunkPackets.Builder packets = new ChunkPackets.Builder(50 * (12 + PAYLOAD + 18));
        for (int p = 0; p < 50; p++) {
          random.nextBytes(payload);
          packets.append((long) s * 50 + p, ts + (long) p * PAYLOAD, payload, 12, PAYLOAD);
        }
        long start = T0 + (long) s * 1_000_000;
        ChunkInfo info =
            new ChunkInfo(
                label,
                2,
                s,
                0,
                7,
                Codec.PCMU,
                (long) s * 50,
                (long) s * 50 + 49,
                ts,
                ts + 8000,
                50,
                0,
                T0,
                start,
                start + 1_000_000,
                null);
        sealed.put(
            key(info), audio.encrypt(packets.build(), key(info).getBytes(StandardCharsets.UTF_8)));
        Event last = events.get(events.size() - 1);
        events.add(
            Ledger.seal(
                last.seq() + 1,
                Instant.ofEpochMilli((start + 1_000_000) / 1000),
                "media",
                new Change.ChunkStored(info, StreamCounters.ZERO, false),
                last.hash()));
      }
    }
    Event last = events.get(events.size() - 1);
    events.add(
        Ledger.seal(
            last.seq() + 1,
            Instant.ofEpochMilli((T0 + (long) seconds * 1_000_000) / 1000),
            "bench",
            new Change.Stopped("the end of the call"),
            last.hash()));
    return events;
  }

  private static String key(ChunkInfo info) {
    return info.label() + "/" + info.epoch() + "/" + info.n();
  }

  /** The chunks as the store keeps them, sealed, opened on each read as the store opens them. */
  private record SealedInMemory(Aead audio, Map<String, byte[]> sealed) implements ChunkStore {

    @Override
    public CompletionStage<AudioChunk> read(String callId, ChunkInfo info) {
      try {
        String key = key(info);
        return CompletableFuture.completedFuture(
            new AudioChunk(
                callId,
                info,
                audio.decrypt(sealed.get(key), key.getBytes(StandardCharsets.UTF_8))));
      } catch (java.security.GeneralSecurityException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public CompletionStage<Void> write(AudioChunk chunk) {
      throw new UnsupportedOperationException("the export only reads");
    }

    @Override
    public CompletionStage<Void> ready() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> erase(String callId, Map<String, Map<Long, Long>> stored) {
      throw new UnsupportedOperationException("the export only reads");
    }

    @Override
    public CompletionStage<List<ChunkInfo>> storedAfter(
        String callId, String label, long epoch, long afterN) {
      return CompletableFuture.completedFuture(List.of());
    }
  }

  private static void report(int minutes, int seconds, long bytes, List<Double> times)
      throws Exception {
    Path out = Path.of("benchmarks/results").toAbsolutePath();
    Files.createDirectories(out);
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmm"));
    List<Double> warm = times.size() > 1 ? times.subList(1, times.size()) : times;
    double best = warm.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    double median = warm.stream().sorted().toList().get(warm.size() / 2);
    StringBuilder md = new StringBuilder();
    md.append("# Export speed, ").append(stamp).append("\n\n");
    md.append(MachineStamp.describe(Path.of("").toAbsolutePath())).append("\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`benchmarks/export --minutes %d --runs %d`: a %d-minute two-stream G.711 call"
                + " exported as stereo WAV (%,d bytes), every chunk opened (AES-256-GCM) and"
                + " decoded; chunks held in memory (Cassandra's read not included).%n%n"
                + "**Median of the warm runs: %.2f s, %.0f× real time** (best %.2f s, %.0f×).%n%n"
                + "| run | seconds | × real time |%n| --- | --- | --- |%n",
            minutes,
            times.size(),
            minutes,
            bytes,
            median,
            seconds / median,
            best,
            seconds / best));
    for (int i = 0; i < times.size(); i++)
      md.append(
          String.format(
              Locale.ROOT,
              "| %d%s | %.2f | %.0f |%n",
              i + 1,
              i == 0 ? " (warm-up)" : "",
              times.get(i),
              seconds / times.get(i)));
    Files.writeString(out.resolve("export-" + stamp + ".md"), md);
    try (PrintWriter csv =
        new PrintWriter(Files.newBufferedWriter(out.resolve("export-" + stamp + ".csv")))) {
      csv.println("run,minutes,bytes,seconds,times_real_time");
      for (int i = 0; i < times.size(); i++)
        csv.println(
            String.format(
                Locale.ROOT,
                "%d,%d,%d,%.3f,%.1f",
                i + 1,
                minutes,
                bytes,
                times.get(i),
                seconds / times.get(i)));
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(800)
            .height(400)
            .title("Export of a " + minutes + "-minute stereo call: × real time per run")
            .xAxisTitle("run (1 warms the JIT)")
            .yAxisTitle("× real time")
            .build();
    List<Integer> run = new ArrayList<>();
    List<Double> speed = new ArrayList<>();
    for (int i = 0; i < times.size(); i++) {
      run.add(i + 1);
      speed.add(seconds / times.get(i));
    }
    chart.addSeries("× real time", run, speed);
    BitmapEncoder.saveBitmap(
        chart, out.resolve("export-" + stamp + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
    System.out.println(md);
  }
}
