package org.callvault.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.media.relay.MediaRelay;
import org.callvault.media.relay.Relay;
import org.callvault.media.relay.RelayEnvelope;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The media server on real UDP sockets, with a chunk store the test controls. */
class MediaServerTest {

  /** A store whose writes succeed, fail, or wait until released, as the test says. */
  static final class ControlledStore implements ChunkStore {
    final LinkedBlockingQueue<AudioChunk> written = new LinkedBlockingQueue<>();
    final AtomicInteger attempts = new AtomicInteger();
    volatile boolean failing;
    volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    @Override
    public CompletionStage<Void> write(AudioChunk chunk) {
      attempts.incrementAndGet();
      if (failing)
        return CompletableFuture.failedFuture(new IllegalStateException("Cassandra is down"));
      return gate.thenRun(() -> written.add(chunk));
    }

    @Override
    public CompletionStage<Void> ready() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<AudioChunk> read(String callId, ChunkInfo info) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Void> erase(String callId, Map<String, Map<Long, Long>> stored) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<List<ChunkInfo>> storedAfter(
        String callId, String label, long epoch, long afterN) {
      return CompletableFuture.completedFuture(List.of());
    }
  }

  private final ControlledStore store = new ControlledStore();
  private final LinkedBlockingQueue<MediaReport> reports = new LinkedBlockingQueue<>();
  private MediaServer server;

  /** What this test's servers asked other nodes to relay. */
  private final List<MediaRelay.RelayTo> asked = new CopyOnWriteArrayList<>();

  private MediaServer server(int maxCalls, int queuePerStream, int retries) {
    server = server(42000, maxCalls, queuePerStream, retries);
    return server;
  }

  /**
   * 200 ms chunks, relay-idle 2 s as in production; what the server asks of other nodes' relays is
   * kept in {@link #asked}.
   */
  private MediaServer server(int portMin, int maxCalls, int queuePerStream, int retries) {
    return new MediaServer(
        new MediaServer.Settings(
            new MediaServer.Sockets("127.0.0.1", "127.0.0.1", portMin, portMin + 99, 65536, 1),
            maxCalls,
            new StreamRecorder.Settings(
                200 * 8,
                16,
                Duration.ofMillis(40).toNanos(),
                Duration.ofSeconds(30).toNanos(),
                250),
            new ChunkWriter.Settings(queuePerStream, retries),
            new Relay.Settings(Duration.ofSeconds(2), Duration.ofSeconds(5), 1000),
            new Headroom.Settings(Duration.ZERO, 1.0, 1.0)),
        store,
        spool,
        source -> (node, request) -> asked.add(request));
  }

  /** The spool the next server made is given; none unless a test opens one. */
  private org.callvault.store.Spool spool;

  private MediaServer other;

  @AfterEach
  void close() {
    if (server != null) server.close();
    if (other != null) other.close();
  }

  private static TestGates openGates(String... labels) {
    return TestGates.open(labels);
  }

  private static void sendPackets(Endpoint endpoint, int count) throws Exception {
    try (DatagramChannel channel = DatagramChannel.open()) {
      channel.bind(new InetSocketAddress("127.0.0.1", 0));
      for (int k = 0; k < count; k++) {
        byte[] packet = StreamRecorderTest.rtp(0, k, 160L * k, 42, StreamRecorderTest.payload(k));
        channel.send(
            ByteBuffer.wrap(packet), new InetSocketAddress(endpoint.host(), endpoint.port()));
        Thread.sleep(2); // a fast sender; the recorder's flood limit allows 250 a second
      }
    }
  }

  /**
   * Packets {@code from} .. {@code from + count - 1} of SSRC 42, 20 ms apart in RTP time, from
   * {@code channel}.
   */
  private static void sendPackets(DatagramChannel channel, Endpoint endpoint, int from, int count)
      throws Exception {
    for (int k = from; k < from + count; k++) {
      byte[] packet = StreamRecorderTest.rtp(0, k, 160L * k, 42, StreamRecorderTest.payload(k));
      channel.send(
          ByteBuffer.wrap(packet), new InetSocketAddress(endpoint.host(), endpoint.port()));
      Thread.sleep(2);
    }
  }

  private <T extends MediaReport> T next(Class<T> type) throws InterruptedException {
    while (true) {
      MediaReport report = reports.poll(10, TimeUnit.SECONDS);
      if (report == null)
        throw new AssertionError("no " + type.getSimpleName() + " reported within 10 s");
      if (type.isInstance(report)) return type.cast(report);
    }
  }

  @Test
  void packetsOnTheBoundPortBecomeStoredChunksAndCloseReportsTheFinalCounters() throws Exception {
    MediaBinder.Session session =
        server(10, 8, 0)
            .bind(
                "call-1",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                openGates("a"),
                Map.of(),
                Map.of(),
                reports::add);
    Endpoint endpoint = session.endpoints().get("a");
    assertEquals(0, endpoint.port() % 2, "RTP is on an even port");
    assertTrue(endpoint.port() >= 42000 && endpoint.port() <= 42098);
    session.activate(2);
    sendPackets(endpoint, 30);
    MediaReport.ChunkWritten first = next(MediaReport.ChunkWritten.class);
    assertEquals(10, first.chunk().packets(), "200 ms chunks of 20 ms packets");
    assertEquals(2, first.chunk().epoch());
    session.close();
    MediaReport.Closed closed = next(MediaReport.Closed.class);
    StreamCounters counters = closed.counters().get("a");
    assertEquals(30, counters.received());
    assertEquals(30, counters.stored());
    assertEquals(3, counters.chunksStored());
    assertEquals(3, store.written.size());
  }

  /**
   * The node's packet totals (its metrics) count what its sockets received since it started: a
   * call's own packets while it records and after it closed, never the counts its ledger carried
   * from another node, and never less than before.
   */
  @Test
  void theNodesPacketTotalsCountWhatItsSocketsReceivedAndNeverGoDown() throws Exception {
    MediaServer server = server(10, 8, 0);
    MediaBinder.Session first =
        server.bind(
            "call-t1",
            List.of(new StreamSpec("a", "agent", Codec.PCMU)),
            openGates("a"),
            Map.of(),
            Map.of(),
            reports::add);
    first.activate(1);
    sendPackets(first.endpoints().get("a"), 30);
    first.close();
    assertEquals(30, next(MediaReport.Closed.class).counters().get("a").received());
    StreamCounters afterFirst = server.packetTotals();
    assertEquals(30, afterFirst.received());
    assertEquals(30, afterFirst.stored());
    assertEquals(3, afterFirst.chunksStored());

    // A call moved here: its ledger had counted 1,000 packets elsewhere.
    StreamCounters elsewhere = new StreamCounters(1000, 1000, 7, Map.of(), 3, 0, 0, 100, 0);
    MediaBinder.Session moved =
        server.bind(
            "call-t2",
            List.of(new StreamSpec("a", "agent", Codec.PCMU)),
            openGates("a"),
            Map.of("a", elsewhere),
            Map.of(),
            reports::add);
    moved.activate(2);
    sendPackets(moved.endpoints().get("a"), 20);
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (server.packetTotals().stored() < 50 && System.nanoTime() < deadline) Thread.sleep(20);
    StreamCounters whileRecording = server.packetTotals();
    assertEquals(
        50, whileRecording.received(), "the moved call counts its own 20 while it records");
    assertEquals(50, whileRecording.stored());
    assertEquals(0, whileRecording.droppedByGate(), "none of the 7 its ledger carried");
    moved.close();
    assertEquals(1020, next(MediaReport.Closed.class).counters().get("a").received());
    StreamCounters afterBoth = server.packetTotals();
    assertEquals(50, afterBoth.received(), "and the same once it closed");
    assertEquals(50, afterBoth.stored());
    assertEquals(5, afterBoth.chunksStored());
    assertEquals(0, afterBoth.lost());
  }

  /** Ports another program holds are skipped: the stream binds the next free pair and records. */
  @Test
  void aStreamWhosePortsAreTakenBindsTheNextFreePairAndRecords() throws Exception {
    try (DatagramChannel taken = DatagramChannel.open();
        DatagramChannel alsoTaken = DatagramChannel.open()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 43000));
      alsoTaken.bind(new InetSocketAddress("127.0.0.1", 43003));
      server = server(43000, 10, 8, 0);
      MediaBinder.Session session =
          server.bind(
              "call-ports",
              List.of(new StreamSpec("a", "agent", Codec.PCMU)),
              openGates("a"),
              Map.of(),
              Map.of(),
              reports::add);
      Endpoint endpoint = session.endpoints().get("a");
      assertEquals(43004, endpoint.port(), "43000 and 43003 are held: their pairs are skipped");
      session.activate(2);
      sendPackets(endpoint, 10);
      assertEquals(10, next(MediaReport.ChunkWritten.class).chunk().packets());
      session.close();
      assertEquals(10, next(MediaReport.Closed.class).counters().get("a").stored());
    }
  }

  @Test
  void aSlowStoreIsNeverQueuedWithoutBoundAndTheRefusedAudioIsReportedAsAGap() throws Exception {
    store.gate = new CompletableFuture<>();
    MediaBinder.Session session =
        server(10, 2, 0)
            .bind(
                "call-2",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                openGates("a"),
                Map.of(),
                Map.of(),
                reports::add);
    session.activate(2);
    sendPackets(
        session.endpoints().get("a"), 60); // six chunks: one writing, one waiting, four refused
    // The store is let go only once the four were refused: a slow machine may still be receiving
    // the last packets when the first refusal is reported.
    for (int refused = 0; refused < 4; refused++) {
      MediaReport.ChunkLost lost = next(MediaReport.ChunkLost.class);
      assertEquals(GapCause.STORE_OVERLOAD, lost.cause());
      assertEquals(null, lost.detail());
      assertEquals(10, lost.packets());
    }
    store.gate.complete(null);
    session.close();
    MediaReport.Closed closed = next(MediaReport.Closed.class);
    assertEquals(2, closed.counters().get("a").chunksStored());
    assertEquals(20, closed.counters().get("a").stored());
    assertEquals(60, closed.counters().get("a").received());
    assertEquals(4, server.chunksUnstored());
  }

  @Test
  void aFailingStoreIsRetriedThenTheChunkIsReportedLostWithTheCause() throws Exception {
    store.failing = true;
    MediaBinder.Session session =
        server(10, 8, 2)
            .bind(
                "call-3",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                openGates("a"),
                Map.of(),
                Map.of(),
                reports::add);
    session.activate(2);
    sendPackets(session.endpoints().get("a"), 10);
    MediaReport.ChunkLost lost = next(MediaReport.ChunkLost.class);
    assertEquals(GapCause.STORE_FAILURE, lost.cause());
    assertTrue(lost.detail().contains("Cassandra is down"), lost.detail());
    assertEquals(3, store.attempts.get(), "one write and two retries");
    session.close();
    assertInstanceOf(MediaReport.Closed.class, next(MediaReport.Closed.class));
  }

  @TempDir Path spoolDir;

  private org.callvault.store.Spool openSpool(long maxBytes) throws Exception {
    spool =
        org.callvault.store.Spool.open(
            new org.callvault.store.Spool.Settings(
                spoolDir, maxBytes, 0, 1 << 20, Duration.ofMillis(50)),
            org.callvault.store.TestChunks.MASTER);
    return spool;
  }

  @Test
  void whileTheStoreFailsChunksWaitInTheSpoolAndAreStoredAndReportedInOrderWhenItIsBack()
      throws Exception {
    openSpool(1 << 30);
    store.failing = true;
    MediaBinder.Session session =
        server(10, 8, 1)
            .bind(
                "call-9",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                openGates("a"),
                Map.of(),
                Map.of(),
                reports::add);
    session.activate(2);
    sendPackets(session.endpoints().get("a"), 60); // six chunks of 200 ms
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (server.spooledChunks() < 5 && System.nanoTime() < deadline) Thread.sleep(20);
    assertTrue(server.spooledChunks() >= 5, "spooled: " + server.spooledChunks());
    assertTrue(server.spoolBytes() > 5 * 1784, "bytes: " + server.spoolBytes());
    assertTrue(server.spoolOldestMillis() > 0);
    assertTrue(store.written.isEmpty());

    store.failing = false;
    List<Long> reported = new ArrayList<>();
    for (int i = 0; i < 6; i++) reported.add(next(MediaReport.ChunkWritten.class).chunk().n());
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), reported, "reported in order");
    List<Long> stored = new ArrayList<>();
    for (AudioChunk c : store.written) stored.add(c.info().n());
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), stored, "stored in order, each once");
    int packets = 0;
    for (AudioChunk c : store.written)
      packets += org.callvault.store.ChunkPackets.read(c.packets(), (q, t, d, o, l) -> {});
    assertEquals(60, packets, "every packet sent is stored");
    session.close();
    MediaReport.Closed closed = next(MediaReport.Closed.class);
    assertEquals(60, closed.counters().get("a").stored());
    assertEquals(0, server.chunksUnstored());
    assertEquals(0, server.spooledChunks());
    assertEquals(0, server.spoolBytes(), "the spool is emptied once all is stored");
    assertTrue(reports.stream().noneMatch(r -> r instanceof MediaReport.ChunkLost), "" + reports);
  }

  /**
   * Chunks a previous run left in the spool are stored when the server starts, and each is handed
   * on to its call once stored: those stored before anyone listened at once, the rest as stored.
   */
  @Test
  void chunksAPreviousRunSpooledAreHandedOnToTheirCallsOnceStored() throws Exception {
    openSpool(1 << 30);
    for (long n = 0; n < 3; n++) spool.append(org.callvault.store.TestChunks.chunk("call-7", n));
    spool.close();
    openSpool(1 << 30);
    store.failing = true;
    server(10, 8, 1);
    List<String> told = new CopyOnWriteArrayList<>();
    server.onStoredFromSpool((callId, chunk) -> told.add(callId + "/" + chunk.n()));
    Thread.sleep(300);
    assertEquals(List.of(), told, "nothing is stored yet");
    store.failing = false;
    server.replayed().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("call-7/0", "call-7/1", "call-7/2"), told, "each once stored, in order");
    server.close();
    server = null;

    spool = null;
    openSpool(1 << 30);
    spool.append(org.callvault.store.TestChunks.chunk("call-8", 0));
    spool.close();
    openSpool(1 << 30);
    server(10, 8, 1).replayed().toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<String> later = new CopyOnWriteArrayList<>();
    server.onStoredFromSpool((callId, chunk) -> later.add(callId + "/" + chunk.n()));
    assertEquals(List.of("call-8/0"), later, "stored before anyone listened: told at once");
  }

  @Test
  void whatASpoolTooSmallCannotHoldIsReportedLostAsSpoolFullAndTheRestIsStored() throws Exception {
    openSpool(5000); // two chunks of 200 ms
    store.failing = true;
    MediaBinder.Session session =
        server(10, 8, 0)
            .bind(
                "call-10",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                openGates("a"),
                Map.of(),
                Map.of(),
                reports::add);
    session.activate(2);
    sendPackets(session.endpoints().get("a"), 60);
    List<MediaReport.ChunkLost> lost = new ArrayList<>();
    for (int i = 0; i < 4; i++) lost.add(next(MediaReport.ChunkLost.class));
    for (MediaReport.ChunkLost l : lost) {
      assertEquals(GapCause.SPOOL_FULL, l.cause());
      assertEquals(10, l.packets());
      assertTrue(l.detail().contains("its limit is 5000"), l.detail());
    }
    store.failing = false;
    List<Long> reported = new ArrayList<>();
    for (int i = 0; i < 2; i++) reported.add(next(MediaReport.ChunkWritten.class).chunk().n());
    assertEquals(List.of(0L, 1L), reported);
    session.close();
    next(MediaReport.Closed.class);
    assertEquals(4, server.chunksUnstored());
  }

  @Test
  void aNodeAtItsCallLimitRefusesMediaAndFreesItsPortsWhenACallCloses() throws Exception {
    MediaServer server = server(1, 8, 0);
    MediaBinder.Session one =
        server.bind(
            "call-4",
            List.of(new StreamSpec("a", "agent", Codec.PCMU)),
            openGates("a"),
            Map.of(),
            Map.of(),
            reports::add);
    MediaBinder.MediaUnavailableException refused =
        assertThrows(
            MediaBinder.MediaUnavailableException.class,
            () ->
                server.bind(
                    "call-5",
                    List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                    openGates("a"),
                    Map.of(),
                    Map.of(),
                    reports::add));
    assertTrue(refused.getMessage().contains("limit of 1 calls"), refused.getMessage());
    one.close();
    next(MediaReport.Closed.class);
    assertEquals(0, server.portsInUse());
    assertEquals(0, server.activeCalls());
  }

  @Test
  void noStreamIsAddedToSocketsThatAreClosingAndTheyStillReportClosedAndFreeTheirPorts()
      throws Exception {
    MediaServer server = server(10, 8, 0);
    MediaBinder.Session session =
        server.bind(
            "call-10",
            List.of(new StreamSpec("a", "agent", Codec.PCMU)),
            openGates("a"),
            Map.of(),
            Map.of(),
            reports::add);
    session.close();
    MediaBinder.MediaUnavailableException refused =
        assertThrows(
            MediaBinder.MediaUnavailableException.class,
            () -> session.add(List.of(new StreamSpec("b", "agent", Codec.PCMU)), openGates("b")));
    assertTrue(refused.getMessage().contains("closing"), refused.getMessage());
    assertEquals(
        Map.of("a", StreamCounters.ZERO).keySet(),
        next(MediaReport.Closed.class).counters().keySet());
    assertEquals(0, server.portsInUse());
    assertEquals(0, server.activeCalls());
  }

  @Test
  void aHandedOffCallKeepsReceivingAndRelaysEveryPacketToTheNodeThatTookItOver() throws Exception {
    handOff("call-6", false);
  }

  @Test
  void aSenderThatMovesBeforeTheHeldPacketsArriveLosesNoneOfThem() throws Exception {
    handOff("call-8", true);
  }

  /**
   * 50 packets stored on the old node, 30 held there after the handoff, then either 20 relayed as
   * they arrive and 40 sent to the new node, or (the sender quick to move) 60 sent to the new node
   * of which the first 20 arrive before the held ones: all 140 stored once, in order.
   */
  private void handOff(String callId, boolean senderFirst) throws Exception {
    StreamSpec spec = new StreamSpec("a", "agent", Codec.PCMU);
    MediaServer oldNode = server(10, 8, 0);
    other = server(42100, 10, 8, 0);
    MediaServer newNode = other;
    LinkedBlockingQueue<MediaReport> newReports = new LinkedBlockingQueue<>();
    try (DatagramChannel sender = DatagramChannel.open()) {
      sender.bind(new InetSocketAddress("127.0.0.1", 0));
      MediaBinder.Session before =
          oldNode.bind(callId, List.of(spec), openGates("a"), Map.of(), Map.of(), reports::add);
      before.activate(2);
      sendPackets(sender, before.endpoints().get("a"), 0, 50);
      before.handOff();
      MediaReport.Closed closed = next(MediaReport.Closed.class);
      assertEquals(
          50,
          closed.counters().get("a").stored(),
          "what arrived before the handoff is stored there");
      assertEquals(1, oldNode.relayingCalls());

      // The sender goes on sending to the old endpoint while the new node starts: held there.
      sendPackets(sender, before.endpoints().get("a"), 50, 30);
      AudioChunk lastBefore = null;
      for (AudioChunk c : store.written)
        if (lastBefore == null || c.info().n() > lastBefore.info().n()) lastBefore = c;
      MediaBinder.Session after =
          newNode.bind(
              callId,
              List.of(spec),
              openGates("a"),
              closed.counters(),
              Map.of("a", lastBefore.info()),
              newReports::add);
      after.activate(5);
      after.takeOverFrom("pekko://callvault@127.0.0.1:1"); // the old node, asked to relay
      assertEquals(1, asked.size());
      MediaRelay.RelayTo request = asked.get(0);
      assertEquals(callId, request.callId());
      assertEquals(
          after.endpoints(),
          request.endpoints(),
          "the old node is told where the call is received now");
      if (senderFirst) {
        sendPackets(
            sender, after.endpoints().get("a"), 80, 20); // kept back until the held ones come
        assertTrue(oldNode.relayTo(callId, request.endpoints(), request.token()));
        // The relay goes quiet (the sender has moved): the next direct datagram releases those
        // kept back, and is handled itself after them.
        Thread.sleep(2300); // relay-idle, 2 s
      } else {
        assertTrue(oldNode.relayTo(callId, request.endpoints(), request.token()));
        sendPackets(sender, before.endpoints().get("a"), 80, 20); // relayed as they arrive
      }
      sendPackets(sender, after.endpoints().get("a"), 100, 40); // the sender has moved
      oldNode.relaysEnded().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(
          0,
          oldNode.relayingCalls(),
          "the old sockets closed once nothing arrived for relay-idle (2 s)");
      assertEquals(0, oldNode.portsInUse());
      after.close();
      MediaReport.Closed end = null;
      while (end == null) {
        MediaReport r = newReports.poll(10, TimeUnit.SECONDS);
        if (r == null) throw new AssertionError("the new node's session never reported Closed");
        if (r instanceof MediaReport.Closed c) end = c;
      }
      assertEquals(
          140,
          end.counters().get("a").stored(),
          "50 before the handoff, then 90 on the new node: none lost: "
              + end.counters().get("a")
              + " "
              + store.written.stream()
                  .map(c -> c.info().epoch() + ":" + c.info().firstSeq() + "-" + c.info().lastSeq())
                  .toList());
      assertEquals(0, end.counters().get("a").lost());
    }
    ChunkInfo lastOld = null;
    ChunkInfo firstNew = null;
    long packets = 0;
    for (AudioChunk chunk : store.written) {
      ChunkInfo i = chunk.info();
      packets += i.packets();
      if (i.epoch() == 2 && (lastOld == null || i.n() > lastOld.n())) lastOld = i;
      if (i.epoch() == 5 && (firstNew == null || i.n() < firstNew.n())) firstNew = i;
    }
    assertEquals(140, packets, "every packet stored once");
    assertEquals(49, lastOld.lastSeq());
    assertEquals(
        50,
        firstNew.firstSeq(),
        "the new node's first stored packet is the one after the old node's last");
    assertEquals(
        lastOld.endWallMicros(),
        firstNew.startWallMicros(),
        "the sender's clock goes on: the new audio starts where the old ended");
    long late = 0;
    for (AudioChunk chunk : store.written)
      if (chunk.info().epoch() == 5 && chunk.info().firstSeq() < 80) late++;
    assertTrue(late > 0, "the held packets are stored on the new node");
  }

  @Test
  void aRelayedDatagramWithoutTheCallsTokenIsRefusedAndNotStored() throws Exception {
    MediaBinder.Session session =
        server(10, 8, 0)
            .bind(
                "call-7",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                openGates("a"),
                Map.of(),
                Map.of(),
                reports::add);
    session.activate(2);
    session.takeOverFrom("pekko://callvault@127.0.0.1:1");
    long token = asked.get(0).token();
    Endpoint endpoint = session.endpoints().get("a");
    try (DatagramChannel channel = DatagramChannel.open()) {
      channel.bind(new InetSocketAddress("127.0.0.1", 0));
      InetSocketAddress forged = new InetSocketAddress("127.0.0.1", 4000);
      for (int k = 0; k < 10; k++) {
        byte[] packet = StreamRecorderTest.rtp(0, k, 160L * k, 42, StreamRecorderTest.payload(k));
        byte[] envelope =
            RelayEnvelope.wrap(
                token + 1, System.currentTimeMillis() * 1000, forged, packet, 0, packet.length);
        channel.send(
            ByteBuffer.wrap(envelope), new InetSocketAddress(endpoint.host(), endpoint.port()));
      }
      byte[] truncated =
          java.util.Arrays.copyOf(RelayEnvelope.wrap(token, 0, forged, new byte[0], 0, 0), 12);
      channel.send(
          ByteBuffer.wrap(truncated), new InetSocketAddress(endpoint.host(), endpoint.port()));
    }
    Thread.sleep(200);
    session.close();
    StreamCounters counters = next(MediaReport.Closed.class).counters().get("a");
    assertEquals(0, counters.received());
    assertEquals(11L, counters.rejected().get("BAD_RELAY"));
    assertTrue(store.written.isEmpty());
  }

  @Test
  void aDatagramKeptBackWhileTheGateWasClosedIsNotStoredWhenTheGateOpensBeforeItIsHandedOn()
      throws Exception {
    TestGates gates = openGates("a");
    MediaBinder.Session session =
        server(10, 8, 0)
            .bind(
                "call-9",
                List.of(new StreamSpec("a", "agent", Codec.PCMU)),
                gates,
                Map.of(),
                Map.of(),
                reports::add);
    session.activate(2);
    session.takeOverFrom(
        "pekko://callvault@127.0.0.1:1"); // direct datagrams are kept back: no relay comes in this
    // test
    try (DatagramChannel sender = DatagramChannel.open()) {
      sender.bind(new InetSocketAddress("127.0.0.1", 0));
      gates.set("a", false); // paused
      sendPackets(sender, session.endpoints().get("a"), 0, 10);
      for (int i = 0; i < 200 && session.counters().get("a").droppedByGate() < 10; i++)
        Thread.sleep(10); // until the loop has read them
      gates.set("a", true); // resumed, while the hold goes on
      sendPackets(sender, session.endpoints().get("a"), 10, 10);
    }
    session.close(); // hands on what waited
    StreamCounters counters = next(MediaReport.Closed.class).counters().get("a");
    assertEquals(20, counters.received());
    assertEquals(10, counters.droppedByGate(), "the ten sent while paused are gated as they came");
    assertEquals(10, counters.stored());
    for (AudioChunk chunk : store.written)
      assertTrue(
          chunk.info().firstSeq() >= 10, "nothing sent while paused is stored: " + chunk.info());
  }
}
