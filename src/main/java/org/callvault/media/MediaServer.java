package org.callvault.media;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.Gate;
import org.callvault.core.GapCause;
import java.util.function.Function;
import org.callvault.core.MediaBinder;
import org.callvault.core.MediaReport;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.store.AudioChunk;
import org.callvault.store.ChunkStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's media plane: a port pool, Netty event loops that receive every stream's RTP and
 * RTCP, and the bounded, retrying writer that stores their chunks.
 *
 * <p>No actor sees a packet: a stream's datagrams are handled by its {@link StreamRecorder} on
 * one event-loop thread, and its entity hears of a chunk only once it is stored.
 */
public final class MediaServer implements MediaBinder, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MediaServer.class);

  /** How a node receives media. */
  public record Settings(
      String bindHost,
      String advertisedHost,
      int portMin,
      int portMax,
      int maxCalls,
      Duration chunkDuration,
      int reorderPackets,
      Duration reorderDelay,
      Duration mediaTimeout,
      int floodPacketsPerSecond,
      int storeQueuePerStream,
      int storeRetries,
      int receiveBufferBytes,
      int eventLoopThreads,
      long haltAfterChunks,
      Duration relayIdle,
      Duration relayHold,
      int relayHoldPackets) {}

  private final Settings settings;
  private final ChunkStore store;
  private final PortPool ports;
  private final EventLoopGroup group;
  private final boolean epoll;
  private final StreamRecorder.Settings recorderSettings;
  private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "callvault-chunk-retry");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger activeCalls = new AtomicInteger();
  private final AtomicLong chunksUnstored = new AtomicLong();
  private final AtomicLong chunksWritten = new AtomicLong();
  /** The calls whose sockets are bound here, by call id. */
  private final Map<String, CallSession> sessions = new ConcurrentHashMap<>();
  /** The calls handed off to another node whose old sockets still receive here, by call id. */
  private final Map<String, CallSession> relaying = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();

  /** How this node asks the node that handed a call off to relay its old sockets' datagrams here. */
  public interface RelayAsk {
    void ask(String node, String callId, Map<String, Endpoint> endpoints, long token);
  }

  private volatile RelayAsk relayAsk = (node, callId, endpoints, token) -> {};

  public void relayAsk(RelayAsk ask) {
    this.relayAsk = ask;
  }

  public MediaServer(Settings settings, ChunkStore store) {
    this.settings = settings;
    this.store = store;
    this.ports = new PortPool(settings.portMin(), settings.portMax());
    this.epoll = Epoll.isAvailable();
    int threads = settings.eventLoopThreads() > 0 ? settings.eventLoopThreads() : Runtime.getRuntime().availableProcessors();
    this.group = epoll ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    this.recorderSettings =
        new StreamRecorder.Settings(
            (int) (settings.chunkDuration().toMillis() * 8),
            settings.reorderPackets(),
            settings.reorderDelay().toNanos(),
            settings.mediaTimeout().toNanos(),
            settings.floodPacketsPerSecond());
    log.info(
        "media: {} transport, ports {}-{} on {}, at most {} calls",
        epoll ? "epoll" : "NIO", settings.portMin(), settings.portMax(), settings.bindHost(), settings.maxCalls());
  }

  /**
   * Fault injection for the crash-consistency test: the JVM halts right after the Nth chunk
   * reaches storage and before its entity hears of it, leaving a chunk stored but not listed.
   */
  private void haltIfAsked() {
    if (settings.haltAfterChunks() > 0 && chunksWritten.incrementAndGet() == settings.haltAfterChunks()) {
      log.error("halting after {} stored chunks (callvault.media.fault.halt-after-chunks)", settings.haltAfterChunks());
      Runtime.getRuntime().halt(137);
    }
  }

  /** Chunks dropped because storage was too slow or failing, since the node started. */
  public long chunksUnstored() {
    return chunksUnstored.get();
  }

  public int activeCalls() {
    return activeCalls.get();
  }

  /** Calls handed off whose old sockets still relay to the node that took them over. */
  public int relayingCalls() {
    return relaying.size();
  }

  /**
   * The secret a node that handed {@code callId} off must put on what it relays here, or empty
   * when the call has no sockets here.
   */
  public OptionalLong relayToken(String callId) {
    CallSession session = sessions.get(callId);
    return session == null ? OptionalLong.empty() : OptionalLong.of(session.token);
  }

  /**
   * The node that took {@code callId} over receives its streams at {@code endpoints}: what the
   * call's old sockets held since the handoff goes there now, and what they receive from now on,
   * until the sender has moved. False when no handed-off call of that id receives here.
   */
  public boolean relayTo(String callId, Map<String, Endpoint> endpoints, long token) {
    CallSession session = relaying.get(callId);
    if (session == null) return false;
    for (var e : endpoints.entrySet()) {
      Stream stream = session.streams.get(e.getKey());
      if (stream == null) continue;
      InetSocketAddress target = new InetSocketAddress(e.getValue().host(), e.getValue().port());
      stream.rtp.eventLoop().execute(() -> {
        if (stream.relay != null) stream.relay.to(target, token);
      });
    }
    return true;
  }

  /**
   * The node that handed {@code callId} off is being asked to relay: until what it held arrives
   * (its end-of-hold marker) or {@code relay-idle} passes, datagrams the sender sends here
   * directly wait, so that the held ones, which are older, are put in order before them.
   */
  public void expectRelay(String callId) {
    CallSession session = sessions.get(callId);
    if (session == null) return;
    long until = System.nanoTime() + settings.relayIdle().toNanos();
    // Set at once, not through the loop's task queue: the loop may handle datagrams that are
    // already waiting before it runs a task.
    for (Stream stream : session.streams.values()) stream.rtpHandler.holdDirectUntil(until);
  }

  /** Completes once no handed-off call relays any more (each ends when its sender has moved, or gives up). */
  public CompletionStage<Void> relaysEnded() {
    CompletableFuture<Void> ended = new CompletableFuture<>();
    Runnable check = new Runnable() {
      @Override
      public void run() {
        if (relaying.isEmpty()) ended.complete(null);
        else retries.schedule(this, 100, TimeUnit.MILLISECONDS);
      }
    };
    check.run();
    return ended;
  }

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(String callId, String label, long epoch, long afterN) {
    return store.storedAfter(callId, label, epoch, afterN);
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
      throw new MediaUnavailableException("this node is at its limit of " + settings.maxCalls() + " calls (callvault.media.max-calls)");
    }
    CallSession session = new CallSession(callId, reports, random.nextLong());
    try {
      for (StreamSpec stream : streams) {
        session.add(stream, gates.apply(stream.label()), baseline.getOrDefault(stream.label(), StreamCounters.ZERO), lastStored.get(stream.label()));
      }
    } catch (MediaUnavailableException | RuntimeException e) {
      session.release();
      throw e;
    }
    sessions.put(callId, session);
    return session;
  }

  // -------------------------------------------------------------------------------- a call

  private final class CallSession implements Session, StreamRecorder.Output {
    private final String callId;
    private final Consumer<MediaReport> reports;
    /** What a node that handed this call off must put on what it relays here. */
    private final long token;
    // Added to only by the call's entity (at bind, and when the call gains streams).
    private final Map<String, Stream> streams = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    private final AtomicInteger pendingWrites = new AtomicInteger();
    private volatile boolean closing;
    private volatile boolean handedOff;
    private final AtomicInteger openStreams = new AtomicInteger();
    private final AtomicInteger relayingStreams = new AtomicInteger();
    private boolean released;

    CallSession(String callId, Consumer<MediaReport> reports, long token) {
      this.callId = callId;
      this.reports = reports;
      this.token = token;
    }

    void add(StreamSpec spec, Gate gate, StreamCounters baseline, ChunkInfo lastStored) throws MediaUnavailableException {
      EventLoop loop = group.next();
      StreamRecorder recorder = new StreamRecorder(callId, spec, gate, baseline, lastStored, recorderSettings, this, System.nanoTime());
      Stream stream = bindPair(loop, recorder, token);
      streams.put(spec.label(), stream);
      openStreams.incrementAndGet();
      stream.tick =
          loop.scheduleAtFixedRate(
              () -> {
                long now = System.nanoTime();
                stream.rtpHandler.releaseWhenDue(now);
                recorder.tick(now);
              },
              100, 100, TimeUnit.MILLISECONDS);
    }

    @Override
    public Map<String, Endpoint> add(List<StreamSpec> added, Function<String, ? extends Gate> gates) throws MediaUnavailableException {
      Map<String, Endpoint> endpoints = new LinkedHashMap<>();
      for (StreamSpec spec : added) {
        add(spec, gates.apply(spec.label()), StreamCounters.ZERO, null);
        endpoints.put(spec.label(), new Endpoint(settings.advertisedHost(), streams.get(spec.label()).port));
      }
      return endpoints;
    }

    @Override
    public Map<String, Endpoint> endpoints() {
      Map<String, Endpoint> endpoints = new LinkedHashMap<>();
      streams.forEach((label, s) -> endpoints.put(label, new Endpoint(settings.advertisedHost(), s.port)));
      return endpoints;
    }

    @Override
    public void takeOverFrom(String node) {
      expectRelay(callId);
      relayAsk.ask(node, callId, endpoints(), token);
    }

    @Override
    public void activate(long epoch) {
      streams.values().forEach(s -> s.recorder.activate(epoch));
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

    /** Stops recording; the sockets close, or with {@code relay} go on receiving for the next node. */
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
        relaying.put(callId, this);
      }
      for (Stream s : streams.values()) {
        s.rtp.eventLoop().execute(() -> {
          s.tick.cancel(false);
          s.rtpHandler.releaseWhenDue(Long.MAX_VALUE); // what waited is received before the stream closes
          s.recorder.close();
          if (relay) {
            startRelay(s);
          } else {
            s.rtp.close();
            s.rtcp.close();
            ports.release(s.port);
          }
          if (openStreams.decrementAndGet() == 0) maybeClosed();
        });
      }
    }

    /** On the stream's loop: from now on its datagrams are held, then relayed, until the relay ends. */
    private void startRelay(Stream s) {
      long now = System.nanoTime();
      s.relay = new Relay(s, now);
      s.rtpHandler.relay = s.relay;
      s.rtcpHandler.relay = s.relay;
      s.tick = s.rtp.eventLoop().scheduleAtFixedRate(() -> {
        if (s.relay.over(System.nanoTime())) endRelay(s);
      }, 100, 100, TimeUnit.MILLISECONDS);
    }

    /** On the stream's loop: the sender has moved (or never will): the old sockets close. */
    private void endRelay(Stream s) {
      s.tick.cancel(false);
      s.rtp.close();
      s.rtcp.close();
      ports.release(s.port);
      Relay r = s.relay;
      if (r.target == null)
        log.warn("call {}: '{}' was never asked for by the node that took it over; {} held packets are lost", callId, s.recorder.label(), r.held.size() + r.dropped);
      else if (r.dropped > 0)
        log.warn("call {}: relayed {} packets of '{}' to {}; {} arrived while the hold was full and are lost", callId, r.relayed, s.recorder.label(), r.target, r.dropped);
      else log.info("call {}: relayed {} packets of '{}' to {}", callId, r.relayed, s.recorder.label(), r.target);
      if (relayingStreams.decrementAndGet() == 0) relaying.remove(callId, this);
    }

    /** Reports Closed once every stream is closed and every write it started has finished. */
    private void maybeClosed() {
      if (openStreams.get() == 0 && pendingWrites.get() == 0 && !released) {
        synchronized (this) {
          if (released) return;
          release();
        }
        reports.accept(new MediaReport.Closed(counters()));
      }
    }

    void release() {
      if (released) return;
      released = true;
      sessions.remove(callId, this);
      for (Stream s : streams.values()) {
        if (!handedOff && s.rtp.isOpen()) {
          s.rtp.close();
          s.rtcp.close();
          ports.release(s.port);
        }
      }
      activeCalls.decrementAndGet();
    }

    // Called on the stream's event loop. A stream's chunks are written one at a time, in order,
    // so its entity lists them in order; a few wait behind a slow write, and beyond that the
    // chunk is refused and the gap recorded rather than queued without bound.
    @Override
    public void chunk(StreamRecorder from, AudioChunk chunk) {
      Stream stream = streams.get(from.label());
      boolean start;
      synchronized (stream) {
        if (stream.queue.size() >= settings.storeQueuePerStream()) {
          chunksUnstored.incrementAndGet();
          ChunkInfo i = chunk.info();
          reports.accept(new MediaReport.ChunkLost(i.label(), i.startWallMicros(), i.endWallMicros(), i.packets(), GapCause.STORE_OVERLOAD, null));
          return;
        }
        stream.queue.addLast(chunk);
        pendingWrites.incrementAndGet();
        start = !stream.writing;
        stream.writing = true;
      }
      if (start) write(stream, stream.queue.peekFirst(), 0);
    }

    private void write(Stream stream, AudioChunk chunk, int attempt) {
      store.write(chunk).whenComplete((ok, failure) -> {
        StreamRecorder from = stream.recorder;
        if (failure == null) {
          haltIfAsked();
          from.stored.addAndGet(chunk.info().packets());
          from.chunksStored.incrementAndGet();
          reports.accept(new MediaReport.ChunkWritten(chunk.info(), from.counters()));
          next(stream);
        } else if (attempt < settings.storeRetries()) {
          // The key is deterministic: a retry stores the same row, never a second copy.
          retries.schedule(() -> write(stream, chunk, attempt + 1), 200L << attempt, TimeUnit.MILLISECONDS);
        } else {
          chunksUnstored.incrementAndGet();
          ChunkInfo i = chunk.info();
          log.error("call {}: chunk {} of '{}' could not be stored after {} attempts: {}", callId, i.n(), i.label(), attempt + 1, failure.toString());
          reports.accept(
              new MediaReport.ChunkLost(i.label(), i.startWallMicros(), i.endWallMicros(), i.packets(), GapCause.STORE_FAILURE, failure.getMessage()));
          next(stream);
        }
      });
    }

    private void next(Stream stream) {
      AudioChunk following;
      synchronized (stream) {
        stream.queue.pollFirst();
        following = stream.queue.peekFirst();
        stream.writing = following != null;
      }
      pendingWrites.decrementAndGet();
      if (following != null) write(stream, following, 0);
      else if (closing) maybeClosed();
    }

    @Override
    public void digit(String label, String digit, long wallMillis) {
      reports.accept(new MediaReport.DigitPressed(label, digit, wallMillis));
    }

    @Override
    public void timeout(String label, long lastPacketAt, long silentMillis) {
      reports.accept(new MediaReport.TimedOut(label, lastPacketAt, silentMillis));
    }
  }

  private static final class Stream {
    final StreamRecorder recorder;
    final int port;
    final Channel rtp;
    final Channel rtcp;
    final StreamHandler rtpHandler;
    final StreamHandler rtcpHandler;
    final java.util.ArrayDeque<AudioChunk> queue = new java.util.ArrayDeque<>();
    boolean writing;
    ScheduledFuture<?> tick;
    /** Set on the stream's loop once the call was handed off. */
    Relay relay;

    Stream(StreamRecorder recorder, int port, Channel rtp, Channel rtcp, StreamHandler rtpHandler, StreamHandler rtcpHandler) {
      this.recorder = recorder;
      this.port = port;
      this.rtp = rtp;
      this.rtcp = rtcp;
      this.rtpHandler = rtpHandler;
      this.rtcpHandler = rtcpHandler;
    }
  }

  /**
   * What a handed-off stream's old RTP socket does with its datagrams: holds them until the node
   * that took the call over says where it receives it, then relays them there (in {@link
   * RelayEnvelope}s, from this socket), and goes on relaying what arrives until nothing has for
   * {@code relay-idle}: the sender has moved. Only its event loop touches it.
   */
  private final class Relay {
    private record Held(byte[] datagram, InetSocketAddress sender, long wallMicros) {}

    final Stream stream;
    final long startedNanos;
    final java.util.ArrayDeque<Held> held = new java.util.ArrayDeque<>();
    InetSocketAddress target;
    long token;
    long lastNanos;
    long relayed;
    long dropped;

    Relay(Stream stream, long nowNanos) {
      this.stream = stream;
      this.startedNanos = nowNanos;
      this.lastNanos = nowNanos;
    }

    void receive(byte[] data, int length, InetSocketAddress sender, long nowNanos, long wallMicros) {
      lastNanos = nowNanos;
      if (target != null) {
        send(RelayEnvelope.wrap(token, wallMicros, sender, data, 0, length));
      } else if (held.size() < settings.relayHoldPackets()) {
        held.addLast(new Held(java.util.Arrays.copyOf(data, length), sender, wallMicros));
      } else {
        dropped++;
      }
    }

    void to(InetSocketAddress target, long token) {
      this.target = target;
      this.token = token;
      lastNanos = System.nanoTime();
      for (Held h : held) send(RelayEnvelope.wrap(token, h.wallMicros(), h.sender(), h.datagram(), 0, h.datagram().length));
      held.clear();
      // An empty envelope ends what was held: the new node stops keeping the sender's direct
      // datagrams back.
      send(RelayEnvelope.wrap(token, System.currentTimeMillis() * 1000, target, new byte[0], 0, 0));
      relayed--;
    }

    private void send(byte[] envelope) {
      stream.rtp.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(envelope), target));
      relayed++;
    }

    /** Whether the sender has moved (nothing for relay-idle since relaying began), or nobody asked in time. */
    boolean over(long nowNanos) {
      if (target != null) return nowNanos - lastNanos > settings.relayIdle().toNanos();
      return nowNanos - startedNanos > settings.relayHold().toNanos();
    }
  }

  /** Binds an even RTP port and the RTCP port above it, both on {@code loop}, trying ports until a pair binds. */
  private Stream bindPair(EventLoop loop, StreamRecorder recorder, long token) throws MediaUnavailableException {
    for (int attempt = 0; attempt < 32; attempt++) {
      int port = ports.acquire();
      if (port < 0) throw new MediaUnavailableException("no free RTP port in " + settings.portMin() + "-" + settings.portMax());
      StreamHandler rtpHandler = new StreamHandler(recorder, false, token, settings.relayIdle().toNanos());
      ChannelFuture rtp = bootstrap(loop, rtpHandler).bind(settings.bindHost(), port).awaitUninterruptibly();
      if (!rtp.isSuccess()) {
        ports.markUnusable(port); // taken by another program: never hand it out again
        continue;
      }
      StreamHandler rtcpHandler = new StreamHandler(recorder, true, token, settings.relayIdle().toNanos());
      ChannelFuture rtcp = bootstrap(loop, rtcpHandler).bind(settings.bindHost(), port + 1).awaitUninterruptibly();
      if (!rtcp.isSuccess()) {
        rtp.channel().close();
        ports.markUnusable(port);
        continue;
      }
      return new Stream(recorder, port, rtp.channel(), rtcp.channel(), rtpHandler, rtcpHandler);
    }
    throw new MediaUnavailableException("could not bind an RTP/RTCP port pair in " + settings.portMin() + "-" + settings.portMax());
  }

  private Bootstrap bootstrap(EventLoop loop, io.netty.channel.ChannelHandler handler) {
    return new Bootstrap()
        .group(loop)
        .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
        .option(ChannelOption.SO_RCVBUF, settings.receiveBufferBytes())
        .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(2048))
        .handler(handler);
  }

  /**
   * Hands each datagram of a stream's RTP or RTCP socket to the stream's recorder, copied into a
   * buffer of its own (one handler per socket, so not shared). Longer datagrams than the buffer
   * are refused by the recorder as OVERSIZE before any byte past it is read.
   *
   * <p>On the RTP socket, a datagram relayed by the node that handed the call off is unwrapped and
   * given to the recorder with its sender and time of arrival there, if it carries the call's
   * token. Once this call is handed off in turn, datagrams go to its {@link Relay} instead.
   */
  static final class StreamHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private final StreamRecorder recorder;
    private final boolean rtcp;
    private final long token;
    private final byte[] scratch = new byte[2048];
    private final byte[] relayed = new byte[2048];
    private final RelayEnvelope envelope = new RelayEnvelope();
    /** Set on the socket's loop when the call is handed off. */
    private Relay relay;
    /**
     * While the old node relays, the sender's direct datagrams wait: they are newer than any it
     * relays, and one relayed late (a busy old node) must not find its place already taken.
     * {@code holding} until the old node's held datagrams have come (its marker) and then no
     * relayed one for {@link #relayQuietNanos} (the sender has moved), or, without any word
     * from the old node, until {@code holdDeadlineNanos}.
     */
    private boolean holding;
    private boolean heldArrived;
    private long holdDeadlineNanos;
    private long lastRelayedNanos;
    private final java.util.ArrayDeque<Kept> direct = new java.util.ArrayDeque<>();

    /** A direct datagram kept back: a copy of its bytes, who sent it and when it came. */
    private record Kept(byte[] data, InetSocketAddress sender, long nanos, long wallMicros) {}

    /**
     * A sender sends every 20 ms, but a node that is leaving can stall: this long without a relayed
     * datagram (relay-idle, the old node's own test that the sender has moved), it sends here now.
     */
    private final long relayQuietNanos;

    /** A hold asked for from another thread, taken up by the loop at its next datagram or tick. */
    private volatile long holdRequested;

    /** Any thread: keep direct datagrams back while the old node relays, or until {@code deadlineNanos}. */
    void holdDirectUntil(long deadlineNanos) {
      holdRequested = deadlineNanos;
    }

    private void takeHoldRequest() {
      long requested = holdRequested;
      if (requested == 0) return;
      holdRequested = 0;
      holding = true;
      heldArrived = false;
      holdDeadlineNanos = requested;
    }

    private boolean stillHolding(long nowNanos) {
      if (!holding || direct.size() >= 1000) return false;
      if (heldArrived) return nowNanos - lastRelayedNanos < relayQuietNanos;
      return nowNanos - holdDeadlineNanos < 0;
    }

    /** On the socket's loop: hands on what waited once the hold is over (every tick, and at close). */
    void releaseWhenDue(long nowNanos) {
      takeHoldRequest();
      if (holding && (nowNanos == Long.MAX_VALUE || !stillHolding(nowNanos))) releaseDirect();
    }

    /** Hands on the direct datagrams kept back, in the order they came. */
    private void releaseDirect() {
      holding = false;
      // Each kept datagram is a copy of its own: the scratch buffer may hold the datagram that is
      // being handled now, which goes to the recorder after these.
      while (!direct.isEmpty()) {
        Kept k = direct.pollFirst();
        recorder.onRtp(k.data(), k.data().length, k.sender(), k.nanos(), k.wallMicros());
      }
    }

    StreamHandler(StreamRecorder recorder, boolean rtcp, long token, long relayQuietNanos) {
      this.recorder = recorder;
      this.rtcp = rtcp;
      this.token = token;
      this.relayQuietNanos = relayQuietNanos;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      ByteBuf content = packet.content();
      int length = content.readableBytes();
      int copied = Math.min(length, scratch.length);
      content.getBytes(content.readerIndex(), scratch, 0, copied);
      long nowNanos = System.nanoTime();
      long wallMicros = System.currentTimeMillis() * 1000;
      takeHoldRequest();
      if (relay != null) {
        // Handed off: RTCP is dropped (the next node anchors its own), RTP goes to that node.
        if (!rtcp && length <= copied) relay.receive(scratch, length, packet.sender(), nowNanos, wallMicros);
        return;
      }
      if (rtcp) {
        recorder.onRtcp(scratch, copied, packet.sender());
      } else if (RelayEnvelope.isRelayed(scratch, copied)) {
        if (length > copied || !envelope.parse(scratch, copied) || envelope.token() != token) {
          recorder.refuseRelay();
          return;
        }
        lastRelayedNanos = nowNanos;
        if (envelope.payloadLength() == 0) {
          heldArrived = true; // the old node has sent all it held; what it relays now is live
          return;
        }
        System.arraycopy(scratch, envelope.payloadOffset(), relayed, 0, envelope.payloadLength());
        // When it reached the old node, on this node's clock: the reorder delay and the
        // timestamp checks see the packet's own timing, not the relay's burst.
        long age = Math.max(0, wallMicros - envelope.wallMicros()) * 1000;
        recorder.onRelayedRtp(relayed, envelope.payloadLength(), envelope.sender(), nowNanos - age, envelope.wallMicros());
      } else if (stillHolding(nowNanos)) {
        // Gated as it comes, not when handed on: one that came while the gate was closed is
        // dropped now, even if the gate has opened by the time the others are handed on.
        if (recorder.recording()) direct.addLast(new Kept(java.util.Arrays.copyOf(scratch, copied), packet.sender(), nowNanos, wallMicros));
        else recorder.onRtp(scratch, length, packet.sender(), nowNanos, wallMicros);
      } else {
        if (holding) releaseDirect(); // the relay has gone quiet, or never spoke: go on
        recorder.onRtp(scratch, length, packet.sender(), nowNanos, wallMicros);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // A UDP socket is shared by every sender: one bad datagram must not close it.
      log.warn("call {}: {} of '{}': {}", recorder.callId(), rtcp ? "RTCP" : "RTP", recorder.label(), cause.toString());
    }
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    retries.shutdownNow();
  }

  /** For diagnostics: the ports this node's calls hold now. */
  List<Integer> portsInUse() {
    return new ArrayList<>(ports.inUse());
  }
}
