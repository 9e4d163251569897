package org.callvault.bench;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * rtpengine under the capacity benchmark, as a contact center would run it to record: Debian's
 * {@code rtpengine} in user space ({@code --table=-1}), recording every call to pcap ({@code
 * --recording-method=pcap}), calls set up through its NG protocol with {@code record call}. It
 * relays what it receives to the other party's declared address, so while calls run an {@code
 * rtpsink} takes the relayed packets on the senders' ports (its CPU is not rtpengine's). What was
 * stored is the packets in the calls' pcap files.
 */
final class RtpengineRecorder implements Recorder {

  private static final InetSocketAddress NG = new InetSocketAddress("127.0.0.1", 22223);

  private final Path home;
  private final Path recordings;
  private final Process daemon;
  private final Rtpengine control;
  private final Path sinkProgram;
  private Process relaySink;

  RtpengineRecorder(Path home, Path sinkProgram, int maxCalls) throws Exception {
    this.home = Files.createDirectories(home);
    this.sinkProgram = sinkProgram;
    recordings = Files.createDirectories(home.resolve("recordings"));
    daemon =
        new ProcessBuilder(
                "rtpengine",
                "--foreground",
                "--log-stderr",
                "--log-level=4",
                "--table=-1",
                "--interface=127.0.0.1",
                "--listen-ng=127.0.0.1:" + NG.getPort(),
                "--port-min=16000",
                "--port-max=" + (16000 + 8 * maxCalls + 100),
                "--recording-dir=" + recordings,
                "--recording-method=pcap",
                "--delete-delay=0", // a deleted call is closed (its pcap flushed) at once
                "--pidfile=" + home.resolve("rtpengine.pid"))
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(home.resolve("rtpengine.log").toFile()))
            .start();
    control = new Rtpengine(NG);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!control.ping()) {
      if (!daemon.isAlive() || System.nanoTime() > deadline) {
        close();
        throw new IllegalStateException(
            "rtpengine did not start (is Debian's rtpengine-daemon installed? see "
                + home.resolve("rtpengine.log")
                + ")");
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
  }

  @Override
  public String name() {
    return "rtpengine";
  }

  @Override
  public long pid() {
    return daemon.pid();
  }

  @Override
  public long storePid() {
    return 0;
  }

  @Override
  public long storeWrites() {
    return -1;
  }

  @Override
  public double heapMb() {
    return Double.NaN;
  }

  @Override
  public Setup create(String prefix, int calls, int firstSource) throws Exception {
    relaySink =
        new ProcessBuilder(
                sinkProgram.toString(),
                "--port",
                String.valueOf(firstSource),
                "--count",
                String.valueOf(2 * calls))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    List<String> ids = new ArrayList<>();
    double[] latencies = new double[calls];
    StringBuilder plan = new StringBuilder();
    long began = System.nanoTime();
    for (int c = 0; c < calls; c++) {
      String id = prefix + "-" + (c + 1);
      ids.add(id);
      int caller = firstSource + 2 * c;
      long sentAt = System.nanoTime();
      int[] ports = control.call(id, caller, caller + 1);
      latencies[c] = (System.nanoTime() - sentAt) / 1e6;
      plan.append(caller).append(' ').append(ports[0]).append('\n');
      plan.append(caller + 1).append(' ').append(ports[1]).append('\n');
    }
    return Setup.of(ids, plan.toString(), began, latencies, 0);
  }

  @Override
  public void stop(List<String> callIds) throws Exception {
    for (String id : callIds) control.delete(id);
    if (relaySink != null) {
      relaySink.destroy();
      relaySink.waitFor();
      relaySink = null;
    }
  }

  /** The packets in the calls' pcap files, once two counts a second apart agree (30 s at most). */
  @Override
  public Counted settle(List<String> callIds) throws Exception {
    String prefix =
        callIds.isEmpty() ? "" : callIds.get(0).substring(0, callIds.get(0).lastIndexOf('-'));
    long previous = -1;
    for (int round = 0; round < 30; round++) {
      long stored = Rtpengine.packetsRecorded(recordings, prefix);
      if (stored == previous) return new Counted(stored, stored, 0);
      previous = stored;
      TimeUnit.SECONDS.sleep(1);
    }
    return new Counted(previous, previous, 0);
  }

  @Override
  public void close() {
    control.close();
    if (relaySink != null) relaySink.destroy();
    daemon.destroy();
    try {
      if (!daemon.waitFor(10, TimeUnit.SECONDS)) daemon.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
