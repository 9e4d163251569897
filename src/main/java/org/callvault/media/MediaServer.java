package org.callvault.media;

import com.typesafe.config.Config;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
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
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkStore;
import org.callvault.store.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's media plane: a port pool, Netty event loops that receive every stream's RTP and RTCP,
 * the calls whose sockets are bound here ({@link CallMedia}) and those handed off whose old sockets
 * still relay.
 *
 * <p>No actor sees a packet: a stream's datagrams are handled by its {@link StreamRecorder} on one
 * event-loop thread, and its entity hears of a chunk only once it is stored.
 */
public final class MediaServer implements MediaBinder, MediaRelay.Source, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MediaServer.class);

  /**
   * Where and how a node receives media ({@code callvault.media} in reference.conf).
   *
   * @param maxCalls calls beyond this are refused media before the others degrade
   * @param admission when a new call is refused before this node has no headroom left
   */
  public record Settings(
      Sockets sockets,
      int maxCalls,
      StreamRecorder.Settings streams,
      ChunkWriter.Settings writes,
      Relay.Settings relay,
      Headroom.Settings admission) {

    /** Reads {@code callvault.media}. */
    public static Settings from(Config media) {
      return new Settings(
          new Sockets(
              media.getString("bind-host"),
              media.getString("advertised-host"),
              media.getInt("port-min"),
              media.getInt("port-max"),
              media.getInt("receive-buffer"),
              media.getInt("event-loop-threads")),
          media.getInt("max-calls"),
          new StreamRecorder.Settings(
              (int) (media.getDuration("chunk-duration").toMillis() * 8),
              media.getInt("reorder-packets"),
              media.getDuration("reorder-delay").toNanos(),
              media.getDuration("timeout").toNanos(),
              media.getInt("flood-packets-per-second")),
          new ChunkWriter.Settings(
              media.getInt("store-queue-per-stream"), media.getInt("store-retries")),
          new Relay.Settings(
              media.getDuration("relay.idle"),
              media.getDuration("relay.hold"),
              media.getInt("relay.hold-packets")),
          Headroom.Settings.from(media.getConfig("admission")));
    }
  }

  /**
   * The sockets: bound on {@code bindHost}, announced as {@code advertisedHost}, RTP on even ports
   * of the range and RTCP on the odd one above; {@code eventLoopThreads} 0 for one per core.
   */
  public record Sockets(
      String bindHost,
      String advertisedHost,
      int portMin,
      int portMax,
      int receiveBufferBytes,
      int eventLoopThreads) {}

  /** A stream's RTP and RTCP sockets; closed once, which frees their ports. */
  static final class SocketPair {
    private final int port;
    private final Channel rtp;
    private final Channel rtcp;
    private final AtomicBoolean closed = new AtomicBoolean();

    SocketPair(int port, Channel rtp, Channel rtcp) {
      this.port = port;
      this.rtp = rtp;
      this.rtcp = rtcp;
    }

    int port() {
      return port;
    }

    Channel rtp() {
      return rtp;
    }
  }

  private final Settings settings;
  private final ChunkStore store;
  private final Spool spool;
  private final CompletableFuture<Void> replayed = new CompletableFuture<>();
  private final MediaRelay.Requests relays;
  private final PortPool ports;
  private final EventLoopGroup group;
  private final boolean epoll;
  private final AtomicInteger activeCalls = new AtomicInteger();
  private final AtomicLong chunksUnstored = new AtomicLong();
  private final Headroom headroom;

  /** The calls whose sockets are bound here, by call id. */
  private final Map<String, CallMedia> sessions = new ConcurrentHashMap<>();

  private final PacketTotals packets = new PacketTotals(sessions);

  /** The calls handed off to another node whose old sockets still receive here, by call id. */
  private final Map<String, CallMedia> relaying = new ConcurrentHashMap<>();

  /** Completes when {@link #relaying} empties; replaced when a handoff starts relaying. */
  private CompletableFuture<Void> relaysEnded = CompletableFuture.completedFuture(null);

  private final SecureRandom random = new SecureRandom();

  /** A chunk a previous run spooled, stored before anyone listened for it. */
  private record StoredFromSpool(String callId, ChunkInfo info) {}

  private final List<StoredFromSpool> storedFromSpool = new java.util.ArrayList<>();

  private BiConsumer<String, ChunkInfo> storedLate;

  /**
   * @param spool where chunks wait while storage cannot take them; null for none. What a previous
   *     run left in it is written to storage at once ({@link #replayed}).
   * @param relays how this node asks the node that handed a call off to relay what its old sockets
   *     still receive; given this server, which relays when asked in turn
   */
  public MediaServer(
      Settings settings,
      ChunkStore store,
      Spool spool,
      Function<MediaRelay.Source, MediaRelay.Requests> relays) {
    this.settings = settings;
    this.store = store;
    this.spool = spool;
    this.ports = new PortPool(settings.sockets().portMin(), settings.sockets().portMax());
    this.epoll = Epoll.isAvailable();
    int threads =
        settings.sockets().eventLoopThreads() > 0
            ? settings.sockets().eventLoopThreads()
            : Runtime.getRuntime().availableProcessors();
    this.group = epoll ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    this.relays = relays.apply(this);
    this.headroom = new Headroom(settings.admission(), System::nanoTime);
    headroom.measure(group, () -> spool == null ? 0 : spool.fullness());
    replay();
    log.info(
        "media: {} transport, ports {}-{} on {}, at most {} calls",
        epoll ? "epoll" : "NIO",
        settings.sockets().portMin(),
        settings.sockets().portMax(),
        settings.sockets().bindHost(),
        settings.maxCalls());
  }

  @Override
  public String refusesNewCalls() {
    return headroom.refusal();
  }

  /** New calls refused because this node had no headroom, since it started. */
  public long refusedForHeadroom() {
    return headroom.refused();
  }

  /** The worst media event-loop lag of the last second, in milliseconds. */
  public double eventLoopLagMillis() {
    return headroom.lagNanos() / 1e6;
  }

  @Override
  public Session bind(
      String callId,
      List<StreamSpec> streams,
      Function<String, ? extends Gate> gates,
      Map<String, StreamCounters> baseline,
      Map<String, ChunkInfo> lastStored,
      Consumer<MediaReport> reports)
      throws MediaUnavailableException {
    if (activeCalls.incrementAndGet() > settings.maxCalls()) {
      activeCalls.decrementAndGet();
      throw new MediaUnavailableException(
          "this node is at its limit of "
              + settings.maxCalls()
              + " calls (callvault.media.max-calls)");
    }
    CallMedia session = new CallMedia(this, callId, reports, random.nextLong());
    try {
      for (StreamSpec stream : streams) {
        session.add(
            stream,
            gates.apply(stream.label()),
            baseline.getOrDefault(stream.label(), StreamCounters.ZERO),
            lastStored.get(stream.label()));
      }
    } catch (MediaUnavailableException | RuntimeException e) {
      session.release();
      throw e;
    }
    sessions.put(callId, session);
    return session;
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(
      String callId, String label, long epoch, long afterN) {
    return store.storedAfter(callId, label, epoch, afterN);
  }

  @Override
  public CompletionStage<Void> erase(String callId, Map<String, Map<Long, Long>> stored) {
    return store.erase(callId, stored);
  }

  @Override
  public boolean relayTo(String callId, Map<String, Endpoint> endpoints, long token) {
    CallMedia session = relaying.get(callId);
    if (session == null) return false;
    session.relayTo(endpoints, token);
    return true;
  }

  /**
   * Completes once no handed-off call relays any more (each ends when its sender has moved, or
   * gives up).
   */
  public synchronized CompletionStage<Void> relaysEnded() {
    return relaysEnded;
  }

  // -------------------------------------------------------------------------- numbers

  /** Calls whose sockets are bound here now. */
  public int activeCalls() {
    return activeCalls.get();
  }

  /** Calls handed off whose old sockets still relay to the node that took them over. */
  public int relayingCalls() {
    return relaying.size();
  }

  /** RTP ports (each with the RTCP port above it) held by calls and relays now. */
  public int portsInUse() {
    return ports.inUse().size();
  }

  /** What every stream received here counted since the node started ({@link PacketTotals}). */
  public StreamCounters packetTotals() {
    return packets.now();
  }

  /** Chunks refused or failed by storage since the node started, each a recorded gap. */
  public long chunksUnstored() {
    return chunksUnstored.get();
  }

  // --------------------------------------------------------------- for the calls' sessions

  Settings settings() {
    return settings;
  }

  Spool spool() {
    return spool;
  }

  /**
   * Completes once the chunks a previous run left in the spool are stored: until then a call's
   * entity that recovers here would not find them in storage.
   */
  public CompletionStage<Void> replayed() {
    return replayed;
  }

  /** The bytes the spool holds on disk, 0 without one. */
  public long spoolBytes() {
    return spool == null ? 0 : spool.bytes();
  }

  /** The chunks in the spool not yet stored, 0 without one. */
  public int spooledChunks() {
    return spool == null ? 0 : spool.chunks();
  }

  /** When the oldest chunk in the spool was spooled (epoch millis), 0 when none waits. */
  public long spoolOldestMillis() {
    return spool == null ? 0 : spool.oldestMillis();
  }

  /**
   * From now on each chunk a previous run left in the spool is handed to {@code listener} (call id
   * and chunk) once stored, and those stored already at once: the call may have moved on, or
   * recovered before the chunk reached storage, and its ledger lists the chunk only when told.
   */
  public void onStoredFromSpool(BiConsumer<String, ChunkInfo> listener) {
    List<StoredFromSpool> already;
    synchronized (storedFromSpool) {
      storedLate = listener;
      already = List.copyOf(storedFromSpool);
      storedFromSpool.clear();
    }
    already.forEach(chunk -> listener.accept(chunk.callId(), chunk.info()));
  }

  private void replay() {
    if (spool == null || spool.found().isEmpty()) {
      replayed.complete(null);
      return;
    }
    int found = spool.found().size();
    log.info("storing the {} chunks a previous run left in the spool", found);
    AtomicInteger stored = new AtomicInteger();
    ChunkWriter.replaying(
        store,
        spool,
        ChunkWriter.Scheduler.of(group.next()),
        new ChunkWriter.Outcome() {
          @Override
          public void written(AudioChunk chunk) {
            stored.incrementAndGet();
            BiConsumer<String, ChunkInfo> listener;
            synchronized (storedFromSpool) {
              listener = storedLate;
              if (listener == null)
                storedFromSpool.add(new StoredFromSpool(chunk.callId(), chunk.info()));
            }
            if (listener != null) listener.accept(chunk.callId(), chunk.info());
          }

          @Override
          public void lost(ChunkInfo chunk, GapCause cause, String detail, int attempts) {
            log.error("a spooled chunk is lost: {}", detail);
          }

          @Override
          public void idle() {
            log.info("stored {} of the {} chunks the spool held", stored.get(), found);
            replayed.complete(null);
          }
        });
  }

  ChunkStore store() {
    return store;
  }

  MediaRelay.Requests relays() {
    return relays;
  }

  EventLoop nextLoop() {
    return group.next();
  }

  Endpoint endpoint(int port) {
    return new Endpoint(settings.sockets().advertisedHost(), port);
  }

  void unstored() {
    chunksUnstored.incrementAndGet();
  }

  /** The session no longer holds a call's place here (its old sockets may still relay). */
  void released(String callId, CallMedia session) {
    packets.release(callId, session);
    activeCalls.decrementAndGet();
  }

  synchronized void relaying(String callId, CallMedia session) {
    if (relaying.isEmpty()) relaysEnded = new CompletableFuture<>();
    relaying.put(callId, session);
  }

  synchronized void relayEnded(String callId, CallMedia session) {
    relaying.remove(callId, session);
    if (relaying.isEmpty()) relaysEnded.complete(null);
  }

  void closeSockets(SocketPair pair) {
    if (!pair.closed.compareAndSet(false, true)) return;
    pair.rtp.close();
    pair.rtcp.close();
    ports.release(pair.port);
  }

  /**
   * Binds an even RTP port and the RTCP port above it, both on {@code loop}, trying ports until a
   * pair binds.
   */
  SocketPair bindPair(EventLoop loop, ChannelHandler rtpHandler, ChannelHandler rtcpHandler)
      throws MediaUnavailableException {
    Sockets sockets = settings.sockets();
    Throwable lastFailure = null;
    for (int attempt = 0; attempt < 32; attempt++) {
      int port = ports.acquire();
      if (port < 0)
        throw new MediaUnavailableException(
            "no free RTP port in " + sockets.portMin() + "-" + sockets.portMax());
      ChannelFuture rtp = bootstrap(loop).bind(sockets.bindHost(), port).awaitUninterruptibly();
      if (!rtp.isSuccess()) {
        ports.markUnusable(port); // taken by another program: never hand it out again
        lastFailure = rtp.cause();
        continue;
      }
      ChannelFuture rtcp =
          bootstrap(loop).bind(sockets.bindHost(), port + 1).awaitUninterruptibly();
      if (!rtcp.isSuccess()) {
        rtp.channel().close();
        ports.markUnusable(port);
        lastFailure = rtcp.cause();
        continue;
      }
      // The stream's handlers join only the pair that bound (a handler is one socket's alone),
      // on the sockets' loop and before the port is handed out, so they see every datagram.
      loop.submit(
              () -> {
                rtp.channel().pipeline().addLast(rtpHandler);
                rtcp.channel().pipeline().addLast(rtcpHandler);
              })
          .syncUninterruptibly();
      return new SocketPair(port, rtp.channel(), rtcp.channel());
    }
    throw new MediaUnavailableException(
        "could not bind an RTP/RTCP port pair in "
            + sockets.portMin()
            + "-"
            + sockets.portMax()
            + " (32 tried; the last: "
            + lastFailure
            + ")");
  }

  /** Until a stream's handler joins, what arrives is dropped (the call is not recording yet). */
  @io.netty.channel.ChannelHandler.Sharable
  private static final class NotYet extends io.netty.channel.ChannelInboundHandlerAdapter {}

  private static final NotYet NOT_YET = new NotYet();

  private Bootstrap bootstrap(EventLoop loop) {
    return new Bootstrap()
        .group(loop)
        .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
        .option(ChannelOption.SO_RCVBUF, settings.sockets().receiveBufferBytes())
        .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(2048))
        .handler(NOT_YET);
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    if (spool != null) spool.close();
  }
}
