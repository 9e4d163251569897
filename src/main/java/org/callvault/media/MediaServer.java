package org.callvault.media;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
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
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.callvault.call.ChunkInfo;
import org.callvault.call.Endpoint;
import org.callvault.call.Gates;
import org.callvault.call.MediaBinder;
import org.callvault.call.MediaReport;
import org.callvault.call.StreamCounters;
import org.callvault.call.StreamSpec;
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
      long haltAfterChunks) {}

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

  @Override
  public CompletionStage<List<ChunkInfo>> storedAfter(String callId, String label, long epoch, long afterN) {
    return store.storedAfter(callId, label, epoch, afterN);
  }

  @Override
  public Session bind(
      String callId, List<StreamSpec> streams, Gates gates, Map<String, StreamCounters> baseline, Consumer<MediaReport> reports)
      throws MediaUnavailableException {
    if (activeCalls.incrementAndGet() > settings.maxCalls()) {
      activeCalls.decrementAndGet();
      throw new MediaUnavailableException("this node is at its limit of " + settings.maxCalls() + " calls (callvault.media.max-calls)");
    }
    CallSession session = new CallSession(callId, reports);
    try {
      for (StreamSpec stream : streams) {
        session.add(stream, gates.gate(stream.label()), baseline.getOrDefault(stream.label(), StreamCounters.ZERO));
      }
    } catch (MediaUnavailableException | RuntimeException e) {
      session.release();
      throw e;
    }
    return session;
  }

  // -------------------------------------------------------------------------------- a call

  private final class CallSession implements Session, StreamRecorder.Output {
    private final String callId;
    private final Consumer<MediaReport> reports;
    private final Map<String, Stream> streams = new LinkedHashMap<>();
    private final AtomicInteger pendingWrites = new AtomicInteger();
    private volatile boolean closing;
    private final AtomicInteger openStreams = new AtomicInteger();
    private boolean released;

    CallSession(String callId, Consumer<MediaReport> reports) {
      this.callId = callId;
      this.reports = reports;
    }

    void add(StreamSpec spec, Gates.Gate gate, StreamCounters baseline) throws MediaUnavailableException {
      EventLoop loop = group.next();
      StreamRecorder recorder = new StreamRecorder(callId, spec, gate, baseline, recorderSettings, this, System.nanoTime());
      Stream stream = bindPair(loop, recorder);
      streams.put(spec.label(), stream);
      openStreams.incrementAndGet();
      stream.tick = loop.scheduleAtFixedRate(() -> recorder.tick(System.nanoTime()), 100, 100, TimeUnit.MILLISECONDS);
    }

    @Override
    public Map<String, Endpoint> endpoints() {
      Map<String, Endpoint> endpoints = new LinkedHashMap<>();
      streams.forEach((label, s) -> endpoints.put(label, new Endpoint(settings.advertisedHost(), s.port)));
      return endpoints;
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
      if (closing) return;
      closing = true;
      if (streams.isEmpty()) {
        release();
        reports.accept(new MediaReport.Closed(Map.of()));
        return;
      }
      for (Stream s : streams.values()) {
        s.rtp.eventLoop().execute(() -> {
          s.tick.cancel(false);
          s.recorder.close();
          s.rtp.close();
          s.rtcp.close();
          ports.release(s.port);
          if (openStreams.decrementAndGet() == 0) maybeClosed();
        });
      }
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
      for (Stream s : streams.values()) {
        if (s.rtp.isOpen()) {
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
          reports.accept(new MediaReport.ChunkLost(i.label(), i.startWallMicros(), i.endWallMicros(), i.packets(), "STORE_OVERLOAD"));
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
              new MediaReport.ChunkLost(i.label(), i.startWallMicros(), i.endWallMicros(), i.packets(), "STORE_FAILURE: " + failure.getMessage()));
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
    final java.util.ArrayDeque<AudioChunk> queue = new java.util.ArrayDeque<>();
    boolean writing;
    ScheduledFuture<?> tick;

    Stream(StreamRecorder recorder, int port, Channel rtp, Channel rtcp) {
      this.recorder = recorder;
      this.port = port;
      this.rtp = rtp;
      this.rtcp = rtcp;
    }
  }

  /** Binds an even RTP port and the RTCP port above it, both on {@code loop}, trying ports until a pair binds. */
  private Stream bindPair(EventLoop loop, StreamRecorder recorder) throws MediaUnavailableException {
    for (int attempt = 0; attempt < 32; attempt++) {
      int port = ports.acquire();
      if (port < 0) throw new MediaUnavailableException("no free RTP port in " + settings.portMin() + "-" + settings.portMax());
      ChannelFuture rtp = bootstrap(loop, new StreamHandler(recorder, false)).bind(settings.bindHost(), port).awaitUninterruptibly();
      if (!rtp.isSuccess()) {
        ports.markUnusable(port); // taken by another program: never hand it out again
        continue;
      }
      ChannelFuture rtcp = bootstrap(loop, new StreamHandler(recorder, true)).bind(settings.bindHost(), port + 1).awaitUninterruptibly();
      if (!rtcp.isSuccess()) {
        rtp.channel().close();
        ports.markUnusable(port);
        continue;
      }
      return new Stream(recorder, port, rtp.channel(), rtcp.channel());
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
   */
  static final class StreamHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private final StreamRecorder recorder;
    private final boolean rtcp;
    private final byte[] scratch = new byte[2048];

    StreamHandler(StreamRecorder recorder, boolean rtcp) {
      this.recorder = recorder;
      this.rtcp = rtcp;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      ByteBuf content = packet.content();
      int length = content.readableBytes();
      content.getBytes(content.readerIndex(), scratch, 0, Math.min(length, scratch.length));
      if (rtcp) recorder.onRtcp(scratch, Math.min(length, scratch.length), packet.sender());
      else recorder.onRtp(scratch, length, packet.sender(), System.nanoTime(), System.currentTimeMillis() * 1000);
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
