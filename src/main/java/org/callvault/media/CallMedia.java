package org.callvault.media;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.GapCause;
import org.callvault.core.Gate;
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.media.relay.MediaRelay;
import org.callvault.media.relay.Relay;
import org.callvault.media.relay.RelayIntake;
import org.callvault.store.AudioChunk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sockets of one call on this node ({@link MediaBinder.Session}): a {@link MediaStream} per
 * stream, what their recorders hand on, and how they close, hand off and relay.
 */
final class CallMedia implements MediaBinder.Session, StreamRecorder.Output {

  private static final Logger log = LoggerFactory.getLogger(CallMedia.class);

  private final MediaServer server;
  private final String callId;
  private final Consumer<MediaReport> reports;

  /** What a node that handed this call off must put on what it relays here. */
  final long token;

  // Added to only by the call's entity (at bind, and when the call gains streams).
  private final Map<String, MediaStream> streams =
      Collections.synchronizedMap(new LinkedHashMap<>());
  private final AtomicInteger openStreams = new AtomicInteger();
  private final AtomicInteger relayingStreams = new AtomicInteger();
  private volatile long epoch;
  private volatile boolean closing;
  private volatile boolean handedOff;

  /** Per stream, the chunks written and reported that the ledger is not known to list. */
  private final Map<String, ArrayDeque<ChunkInfo>> unlisted = new LinkedHashMap<>();

  private boolean released;

  CallMedia(MediaServer server, String callId, Consumer<MediaReport> reports, long token) {
    this.server = server;
    this.callId = callId;
    this.reports = reports;
    this.token = token;
  }

  void add(StreamSpec spec, Gate gate, StreamCounters baseline, ChunkInfo lastStored)
      throws MediaBinder.MediaUnavailableException {
    EventLoop loop = server.nextLoop();
    MediaServer.Settings settings = server.settings();
    StreamRecorder recorder =
        new StreamRecorder(
            callId, spec, gate, baseline, lastStored, settings.streams(), this, System.nanoTime());
    RelayIntake intake = new RelayIntake(recorder, token, settings.relay().idle().toNanos());
    StreamHandler rtpHandler = StreamHandler.rtp(recorder, intake);
    StreamHandler rtcpHandler = StreamHandler.rtcp(recorder);
    MediaServer.SocketPair sockets = server.bindPair(loop, rtpHandler, rtcpHandler);
    ChunkWriter writer =
        new ChunkWriter(
            settings.writes(),
            server.store(),
            server.spool(),
            ChunkWriter.Scheduler.of(loop),
            new Outcome(recorder));
    MediaStream stream =
        new MediaStream(recorder, intake, rtpHandler, rtcpHandler, sockets, writer);
    streams.put(spec.label(), stream);
    openStreams.incrementAndGet();
    stream.tick =
        loop.scheduleAtFixedRate(
            () -> {
              long now = System.nanoTime();
              intake.releaseWhenDue(now);
              recorder.tick(now);
            },
            100,
            100,
            TimeUnit.MILLISECONDS);
  }

  @Override
  public Map<String, Endpoint> add(List<StreamSpec> added, Function<String, ? extends Gate> gates)
      throws MediaBinder.MediaUnavailableException {
    // A stream bound now would never be closed with the others: the entity binds it where the
    // call goes next (it binds all the call's streams there), or not at all after a stop.
    if (closing)
      throw new MediaBinder.MediaUnavailableException("the call's sockets here are closing");
    Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    for (StreamSpec spec : added) {
      add(spec, gates.apply(spec.label()), StreamCounters.ZERO, null);
      endpoints.put(spec.label(), server.endpoint(streams.get(spec.label()).port()));
    }
    return endpoints;
  }

  @Override
  public Map<String, Endpoint> endpoints() {
    Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    streams.forEach((label, s) -> endpoints.put(label, server.endpoint(s.port())));
    return endpoints;
  }

  @Override
  public void activate(long epoch) {
    this.epoch = epoch;
    streams.values().forEach(s -> s.recorder.activate(epoch));
  }

  @Override
  public long epoch() {
    return epoch;
  }

  @Override
  public synchronized List<ChunkInfo> unlisted() {
    List<ChunkInfo> all = new ArrayList<>();
    unlisted.values().forEach(all::addAll);
    return all;
  }

  @Override
  public synchronized void listed(ChunkInfo chunk) {
    ArrayDeque<ChunkInfo> of = unlisted.get(chunk.label());
    while (of != null
        && !of.isEmpty()
        && (of.peekFirst().epoch() < chunk.epoch()
            || (of.peekFirst().epoch() == chunk.epoch() && of.peekFirst().n() <= chunk.n())))
      of.pollFirst();
  }

  private synchronized void written(ChunkInfo chunk) {
    unlisted.computeIfAbsent(chunk.label(), l -> new ArrayDeque<>()).addLast(chunk);
  }

  @Override
  public void takeOverFrom(String node) {
    // Until what the old node held arrives, or relay-idle without word from it.
    long until = System.nanoTime() + server.settings().relay().idle().toNanos();
    for (MediaStream stream : streams.values()) stream.intake.holdDirectUntil(until);
    server.relays().ask(node, new MediaRelay.RelayTo(callId, endpoints(), token));
  }

  /** What this session's streams counted themselves, together. */
  StreamCounters sinceStart() {
    StreamCounters total = StreamCounters.ZERO;
    for (MediaStream s : streams.values()) total = total.plus(s.recorder.sinceStart());
    return total;
  }

  @Override
  public Map<String, StreamCounters> counters() {
    Map<String, StreamCounters> counters = new LinkedHashMap<>();
    streams.forEach((label, s) -> counters.put(label, s.recorder.counters()));
    return counters;
  }

  @Override
  public void close() {
    finish(false);
  }

  @Override
  public void handOff() {
    finish(true);
  }

  /**
   * Stops recording; the sockets close, or with {@code relay} go on receiving for the next node.
   */
  private void finish(boolean relay) {
    if (closing) return;
    closing = true;
    if (streams.isEmpty()) {
      release();
      reports.accept(new MediaReport.Closed(Map.of()));
      return;
    }
    if (relay) {
      handedOff = true;
      relayingStreams.set(streams.size());
      server.relaying(callId, this);
    }
    for (MediaStream s : streams.values()) {
      s.rtp()
          .eventLoop()
          .execute(
              () -> {
                s.tick.cancel(false);
                s.intake.releaseWhenDue(
                    Long.MAX_VALUE); // what waited is received before the stream closes
                s.recorder.close();
                if (relay) startRelay(s);
                else server.closeSockets(s.sockets);
                if (openStreams.decrementAndGet() == 0) maybeClosed();
              });
    }
  }

  /**
   * On the stream's loop: from now on its datagrams are held, then relayed, until the relay ends.
   */
  private void startRelay(MediaStream s) {
    s.relay =
        new Relay(
            server.settings().relay(),
            (datagram, to) ->
                s.rtp().writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(datagram), to)),
            System.nanoTime());
    s.rtpHandler.relayTo(s.relay);
    s.rtcpHandler.relayTo(s.relay); // RTCP is dropped from now on: the next node anchors its own
    s.tick =
        s.rtp()
            .eventLoop()
            .scheduleAtFixedRate(
                () -> {
                  if (s.relay.over(System.nanoTime())) endRelay(s);
                },
                100,
                100,
                TimeUnit.MILLISECONDS);
  }

  /** Any thread: the node that took the call over receives its streams at {@code endpoints}. */
  void relayTo(Map<String, Endpoint> endpoints, long token) {
    for (var e : endpoints.entrySet()) {
      MediaStream s = streams.get(e.getKey());
      if (s == null) continue;
      InetSocketAddress target = new InetSocketAddress(e.getValue().host(), e.getValue().port());
      s.rtp()
          .eventLoop()
          .execute(
              () -> {
                if (s.relay != null)
                  s.relay.to(target, token, System.nanoTime(), System.currentTimeMillis() * 1000);
              });
    }
  }

  /** On the stream's loop: the sender has moved (or never will): the old sockets close. */
  private void endRelay(MediaStream s) {
    s.tick.cancel(false);
    server.closeSockets(s.sockets);
    Relay r = s.relay;
    String label = s.recorder.label();
    if (r.target() == null)
      log.warn(
          "call {}: '{}' was never asked for by the node that took it over; {} held packets are"
              + " lost",
          callId,
          label,
          r.lost());
    else if (r.lost() > 0)
      log.warn(
          "call {}: relayed {} packets of '{}' to {}; {} arrived while the hold was full and are"
              + " lost",
          callId,
          r.relayed(),
          label,
          r.target(),
          r.lost());
    else
      log.info("call {}: relayed {} packets of '{}' to {}", callId, r.relayed(), label, r.target());
    if (relayingStreams.decrementAndGet() == 0) server.relayEnded(callId, this);
  }

  /** Reports Closed once every stream is closed and every write it started has finished. */
  private void maybeClosed() {
    if (openStreams.get() != 0 || !streams.values().stream().allMatch(s -> s.writer.idle())) return;
    synchronized (this) {
      if (released) return;
      release();
    }
    reports.accept(new MediaReport.Closed(counters()));
  }

  /** The call no longer counts against the node's limit; its sockets close unless they relay. */
  void release() {
    if (released) return;
    released = true;
    server.released(callId, this);
    for (MediaStream s : streams.values()) if (!handedOff) server.closeSockets(s.sockets);
  }

  // ------------------------------------------------------------------ what the recorders hand on

  @Override
  public void chunk(StreamRecorder from, AudioChunk chunk) {
    streams.get(from.label()).writer.write(chunk);
  }

  @Override
  public void digit(String label, String digit, long wallMillis) {
    reports.accept(new MediaReport.DigitPressed(label, digit, wallMillis));
  }

  @Override
  public void timeout(String label, long lastPacketAt, long silentMillis) {
    reports.accept(new MediaReport.TimedOut(label, lastPacketAt, silentMillis));
  }

  /** What became of one stream's chunks in storage. */
  private final class Outcome implements ChunkWriter.Outcome {
    private final StreamRecorder recorder;

    Outcome(StreamRecorder recorder) {
      this.recorder = recorder;
    }

    @Override
    public void written(AudioChunk chunk) {
      recorder.stored(chunk.info());
      CallMedia.this.written(chunk.info());
      reports.accept(new MediaReport.ChunkWritten(chunk.info(), recorder.counters()));
    }

    @Override
    public void lost(ChunkInfo i, GapCause cause, String detail, int attempts) {
      server.unstored();
      if (cause != GapCause.STORE_OVERLOAD)
        log.error(
            "call {}: chunk {} of '{}' could not be stored after {} attempts: {}",
            callId,
            i.n(),
            i.label(),
            attempts,
            detail);
      reports.accept(
          new MediaReport.ChunkLost(
              i.label(), i.startWallMicros(), i.endWallMicros(), i.packets(), cause, detail));
    }

    @Override
    public void idle() {
      if (closing) maybeClosed();
    }
  }
}
