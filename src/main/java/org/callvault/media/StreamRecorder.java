package org.callvault.media;

import java.net.InetSocketAddress;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Gate;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.media.relay.RelayIntake;
import org.callvault.media.rtp.ReorderWindow;
import org.callvault.media.rtp.RtcpSenderReport;
import org.callvault.media.rtp.RtpPacket;
import org.callvault.media.rtp.RtpProblem;
import org.callvault.media.rtp.SequenceUnwrapper;
import org.callvault.media.rtp.TelephoneEvent;
import org.callvault.store.AudioChunk;

/**
 * Everything one stream does with its datagrams, in plain Java: validate the source, parse, gate,
 * put in order, count, and assemble chunks of about a second for storage.
 *
 * <p>Single-threaded: {@link #onRtp}, {@link #onRtcp}, {@link #tick} and {@link #close} run on the
 * stream's one event-loop thread. {@link #activate} and {@link #counters} may be called from any
 * thread. Nothing here allocates per packet except the chunk buffer growing.
 */
final class StreamRecorder implements ReorderWindow.Sink, RelayIntake.Receiver {

  /**
   * What the recorder hands on: chunks to store, digits, timeouts. Called on the stream's thread.
   */
  interface Output {
    void chunk(StreamRecorder from, AudioChunk chunk);

    void digit(String label, String digit, long wallMillis);

    void timeout(String label, long lastPacketAt, long silentMillis);
  }

  /** The settings every stream of a node shares. */
  record Settings(
      int chunkSamples,
      int reorderPackets,
      long reorderDelayNanos,
      long timeoutNanos,
      int floodPacketsPerSecond) {
    static final int MAX_DATAGRAM = 1500;
  }

  private final String callId;
  private final StreamSpec spec;
  private final Gate gate;
  private final Settings settings;
  private final Output output;
  private final InetSocketAddress declaredSource;
  private final int dtmfPayloadType;

  private final RtpPacket rtp = new RtpPacket();
  private final RtcpSenderReport report = new RtcpSenderReport();
  private final TelephoneEvent event = new TelephoneEvent();
  private final ReorderWindow window;
  private final SequenceUnwrapper seqs = SequenceUnwrapper.forSequenceNumbers();
  private final SequenceUnwrapper stamps = SequenceUnwrapper.forTimestamps();

  private volatile long epoch; // 0 until activated

  /** The last chunk stored before these sockets, until this stream's first anchor is set. */
  private ChunkInfo continued;

  private InetSocketAddress source;
  private long ssrc = -1;
  private int segment;
  private boolean gateWasOpen;
  private long lastDigitTimestamp = -1;

  private final ChunkAssembler chunks;

  private final FloodLimit flood;

  private long lastPacketNanos;
  private long highestArrivalNanos;
  private boolean timeoutReported;

  // RFC 3550 A.1: how far a sequence number may jump before a packet is suspect.
  private static final long MAX_DROPOUT = 3000;
  private static final long MAX_MISORDER = 100;

  /** How far a timestamp may run ahead of the time that passed: a second, for a sender's jitter. */
  private static final long TIMESTAMP_SLACK = 8000;

  private static final long MIN_PACKET_SAMPLES = 40;
  private int restartSeq = -1;

  // A packet of a new SSRC, held until the next one confirms it.
  private final byte[] held = new byte[Settings.MAX_DATAGRAM];
  private int heldLength;
  private long heldSsrc = -1;
  private int heldSeq;
  private InetSocketAddress heldSender;
  private long heldNanos;
  private long heldWallMicros;

  private final StreamStats stats;

  StreamRecorder(
      String callId,
      StreamSpec spec,
      Gate gate,
      StreamCounters baseline,
      Settings settings,
      Output output,
      long nowNanos) {
    this(callId, spec, gate, baseline, null, settings, output, nowNanos);
  }

  /**
   * @param lastStored the stream's last chunk stored before these sockets (another node's, or an
   *     earlier binding's); null if none
   */
  StreamRecorder(
      String callId,
      StreamSpec spec,
      Gate gate,
      StreamCounters baseline,
      ChunkInfo lastStored,
      Settings settings,
      Output output,
      long nowNanos) {
    this.callId = callId;
    this.continued = lastStored;
    this.spec = spec;
    this.gate = gate;
    this.settings = settings;
    this.output = output;
    this.declaredSource = StreamSpec.parseSource(spec.source());
    this.source = declaredSource;
    this.dtmfPayloadType = spec.dtmfPayloadType() == null ? -1 : spec.dtmfPayloadType();
    this.window =
        new ReorderWindow(
            settings.reorderPackets(), Settings.MAX_DATAGRAM, settings.reorderDelayNanos());
    this.chunks = new ChunkAssembler(callId, spec, settings.chunkSamples());
    this.stats = new StreamStats(baseline);
    this.flood = new FloodLimit(settings.floodPacketsPerSecond(), nowNanos);
    this.lastPacketNanos = nowNanos;
  }

  String label() {
    return spec.label();
  }

  String callId() {
    return callId;
  }

  /** From now on chunks are stored under {@code epoch}; before, every packet is dropped. */
  void activate(long epoch) {
    this.epoch = epoch;
  }

  /** Whether a packet arriving now would be stored: activated, and the gate open. */
  @Override
  public boolean recording() {
    return epoch != 0 && gate.isOpen();
  }

  /** Storage has {@code chunk}: its packets count as stored. Any thread. */
  void stored(ChunkInfo chunk) {
    stats.stored(chunk);
  }

  StreamCounters counters() {
    return stats.counters();
  }

  /** What this recorder counted itself, less what the ledger had counted before it. */
  StreamCounters sinceStart() {
    return stats.sinceStart();
  }

  // ------------------------------------------------------------------------------------- RTP

  /** One datagram from the RTP socket, already copied into {@code data}. */
  @Override
  public void onRtp(
      byte[] data, int length, InetSocketAddress sender, long nowNanos, long wallMicros) {
    if (!flood.allows(nowNanos)) {
      reject(Rejection.FLOOD.index());
      return;
    }
    receive(data, length, sender, nowNanos, wallMicros);
  }

  /**
   * One datagram that {@code sender} sent to the node that held this call before, relayed here with
   * the relay token. {@code arrivalNanos} is when it reached that node, on this node's clock. Not
   * counted against the flood limit: what was held during the handoff comes at once.
   */
  @Override
  public void onRelayedRtp(
      byte[] data, int length, InetSocketAddress sender, long arrivalNanos, long wallMicros) {
    receive(data, length, sender, arrivalNanos, wallMicros);
  }

  /** A datagram that claimed to be relayed but did not carry this call's token. */
  @Override
  public void refuseRelay() {
    reject(Rejection.BAD_RELAY.index());
  }

  private void receive(
      byte[] data, int length, InetSocketAddress sender, long nowNanos, long wallMicros) {
    if (length > Settings.MAX_DATAGRAM) {
      reject(Rejection.OVERSIZE.index());
      return;
    }
    if (source != null
        && !(source.getPort() == 0
            ? source.getAddress().equals(sender.getAddress())
            : source.equals(sender))) {
      reject(Rejection.FOREIGN_SOURCE.index());
      return;
    }
    RtpProblem problem = RtpPacket.parse(data, 0, length, rtp);
    if (problem != RtpProblem.NONE) {
      reject(Rejection.index(problem));
      return;
    }
    int pt = rtp.payloadType();
    if (pt != spec.codec().payloadType && pt != dtmfPayloadType) {
      reject(Rejection.UNKNOWN_PAYLOAD_TYPE.index());
      return;
    }
    boolean digit = pt == dtmfPayloadType;
    if (digit && !TelephoneEvent.parse(data, rtp.payloadOffset(), rtp.payloadLength(), event)) {
      reject(Rejection.BAD_TELEPHONE_EVENT.index());
      return;
    }
    if (ssrc != -1 && rtp.ssrc() != ssrc) {
      if (rtp.ssrc() != heldSsrc || rtp.sequenceNumber() != ((heldSeq + 1) & 0xFFFF)) {
        hold(data, length, sender, nowNanos, wallMicros);
        return;
      }
      // Two packets in sequence from the new SSRC: a new segment starts with the held one.
      byte[] current = java.util.Arrays.copyOf(data, length);
      startSegment();
      releaseHeld();
      RtpPacket.parse(current, 0, length, rtp);
      if (digit) TelephoneEvent.parse(current, rtp.payloadOffset(), rtp.payloadLength(), event);
      accept(current, sender, nowNanos, wallMicros, digit);
      return;
    }
    if (heldLength > 0) dropHeld(); // the held packet was a stray: its SSRC did not go on
    if (ssrc != -1 && !plausible(nowNanos)) {
      if (rtp.sequenceNumber() != restartSeq) {
        restartSeq = (rtp.sequenceNumber() + 1) & 0xFFFF;
        reject(Rejection.SEQUENCE_JUMP.index());
        return;
      }
      startSegment(); // the sender restarted its numbering: the next packet confirmed the jump
    }
    accept(data, sender, nowNanos, wallMicros, digit);
  }

  /**
   * Whether the parsed packet's sequence number and timestamp are near the stream's (RFC 3550 A.1).
   */
  private boolean plausible(long nowNanos) {
    long seqAhead = seqs.peek(rtp.sequenceNumber()) - seqs.highest();
    long tsAhead = stamps.peek(rtp.timestamp()) - stamps.highest();
    long elapsedSamples = (nowNanos - highestArrivalNanos) / 125_000L;
    // Each sequence number advances the timestamp by a packet's duration at least (5 ms here, the
    // shortest ptime in use), more across silence: a sequence number that runs ahead of (or falls
    // behind) its timestamp is corrupt, not a loss (or a late packet).
    long minStep = MIN_PACKET_SAMPLES;
    return seqAhead > -MAX_MISORDER
        && seqAhead < MAX_DROPOUT
        && tsAhead <= elapsedSamples + TIMESTAMP_SLACK
        && tsAhead >= -(MAX_MISORDER * 160L + TIMESTAMP_SLACK)
        && (seqAhead <= 1 || tsAhead >= (seqAhead - 1) * minStep)
        && (seqAhead >= 0 || tsAhead <= (seqAhead + 1) * minStep);
  }

  /** Keeps a packet of a new SSRC aside until the next packet confirms the SSRC. */
  private void hold(
      byte[] data, int length, InetSocketAddress sender, long nowNanos, long wallMicros) {
    if (heldLength > 0) dropHeld();
    System.arraycopy(data, 0, held, 0, length);
    heldLength = length;
    heldSsrc = rtp.ssrc();
    heldSeq = rtp.sequenceNumber();
    heldSender = sender;
    heldNanos = nowNanos;
    heldWallMicros = wallMicros;
  }

  private void dropHeld() {
    heldLength = 0;
    heldSsrc = -1;
    reject(Rejection.UNCONFIRMED_SSRC.index());
  }

  private void releaseHeld() {
    int length = heldLength;
    heldLength = 0;
    heldSsrc = -1;
    RtpPacket.parse(held, 0, length, rtp);
    boolean digit = rtp.payloadType() == dtmfPayloadType;
    if (digit) TelephoneEvent.parse(held, rtp.payloadOffset(), rtp.payloadLength(), event);
    accept(held, heldSender, heldNanos, heldWallMicros, digit);
  }

  /** A valid packet of the stream's current SSRC, already parsed into {@link #rtp}. */
  private void accept(
      byte[] data, InetSocketAddress sender, long nowNanos, long wallMicros, boolean digit) {
    if (source == null || source.getPort() == 0)
      source = sender; // latch on the first valid packet (a declared host: its port)
    if (ssrc == -1) {
      ssrc = rtp.ssrc();
      segment = 0;
    }
    stats.received(wallMicros / 1000);
    lastPacketNanos = nowNanos;
    timeoutReported = false;

    // Unwrapped for every packet, gated or not, so a long pause cannot make the numbering
    // ambiguous.
    long extTs = stamps.unwrap(rtp.timestamp());
    long before = seqs.started() ? seqs.highest() : Long.MIN_VALUE;
    long extSeq = seqs.unwrap(rtp.sequenceNumber());
    if (extSeq > before) highestArrivalNanos = nowNanos;

    if (digit) reportDigit(extTs, wallMicros);
    if (epoch == 0 || !gate.isOpen()) {
      stats.droppedByGate();
      if (gateWasOpen) {
        // Audio before the gate closed is stored; the gap after it is the gate's, not a loss.
        window.flush(this);
        finishChunk();
        gateWasOpen = false;
        chunks.gatedFrom(extTs); // the next chunk stored is the first after the gate reopens
      }
      return;
    }
    if (!gateWasOpen) {
      window.flush(
          this); // the next packet starts a fresh run: the gated span is not counted as lost
      gateWasOpen = true;
    }
    if (chunks.empty() && window.held() == 0 && !chunks.anchored()) {
      if (continued != null) firstAnchor(extTs, wallMicros);
      else setAnchor(extTs, wallMicros);
    }
    // A digit is never stored as audio; it goes through the window empty so that its sequence
    // number is not counted as lost.
    ReorderWindow.Offer offer =
        window.offer(
            extSeq,
            extTs,
            nowNanos,
            data,
            rtp.payloadOffset(),
            digit ? 0 : rtp.payloadLength(),
            this);
    if (offer == ReorderWindow.Offer.DUPLICATE) stats.duplicated();
    else if (offer == ReorderWindow.Offer.TOO_LATE) stats.late();
    window.drain(nowNanos, this);
  }

  private void startSegment() {
    window.flush(this);
    finishChunk();
    ssrc = rtp.ssrc();
    segment++;
    restartSeq = -1;
    seqs.reset();
    stamps.reset();
    chunks.unanchor();
    lastDigitTimestamp = -1;
  }

  private void setAnchor(long extTs, long wallMicros) {
    chunks.anchor(extTs, wallMicros);
  }

  /**
   * The first anchor of these sockets. A sender that goes on with the SSRC of the audio stored
   * before them (the call moved to this node) keeps that audio's clock: its timestamps place the
   * new audio right after the old, where the wall clock of a packet's arrival would place it a few
   * milliseconds off, overlapping or apart.
   */
  private void firstAnchor(long extTs, long wallMicros) {
    ChunkInfo before = continued;
    continued = null;
    long ahead = (rtp.sequenceNumber() - before.lastSeq()) & 0xFFFF;
    if (before.ssrc() != ssrc || segment != 0 || ahead == 0 || ahead >= MAX_DROPOUT) {
      setAnchor(extTs, wallMicros);
      return;
    }
    int samples =
        (int)
            (rtp.timestamp()
                - (before.anchorTs() & 0xFFFF_FFFFL)); // the 32-bit clock's signed distance
    setAnchor(extTs, before.anchorWallMicros() + Math.floorDiv(samples * 1_000_000L, 8000));
  }

  /** Reports a digit when its event ends (already parsed into {@link #event}). */
  private void reportDigit(long extTs, long wallMicros) {
    // An event's end is sent three times (RFC 4733 §2.5.1.4); the timestamp names the event.
    if (!event.end() || extTs == lastDigitTimestamp) return;
    lastDigitTimestamp = extTs;
    boolean open = epoch != 0 && gate.isOpen();
    output.digit(
        spec.label(),
        open ? String.valueOf(TelephoneEvent.digit(event.event())) : null,
        wallMicros / 1000);
  }

  private void reject(int reason) {
    stats.rejected(reason);
  }

  // ------------------------------------------------------------------------------------ RTCP

  /**
   * One datagram from the RTCP socket: a sender report re-anchors the current segment's wall clock.
   */
  void onRtcp(byte[] data, int length, InetSocketAddress sender) {
    if (source == null || !source.getAddress().equals(sender.getAddress())) return;
    if (!RtcpSenderReport.parse(data, 0, length, report)
        || report.ssrc() != ssrc
        || !report.hasWallClock()) return;
    if (!chunks.empty()) finishChunk(); // a chunk has one anchor
    long highest = stamps.highest();
    // Extend the report's 32-bit timestamp to the one nearest the stream's highest.
    long ts = (highest & ~0xFFFF_FFFFL) | report.rtpTimestamp();
    if (ts - highest > 0x8000_0000L) ts -= 0x1_0000_0000L;
    else if (highest - ts > 0x8000_0000L) ts += 0x1_0000_0000L;
    setAnchor(ts, report.wallClockMicros());
  }

  // ------------------------------------------------------------------------ ordered packets

  @Override
  public void packet(
      long extSeq, long extTimestamp, long arrivalNanos, byte[] buf, int off, int len) {
    if (len == 0) return; // a telephone-event's place in the sequence
    if (chunks.append(extSeq, extTimestamp, buf, off, len)) finishChunk();
  }

  @Override
  public void lost(long firstExtSeq, long count) {
    stats.lost(count);
  }

  private void finishChunk() {
    AudioChunk chunk = chunks.finish(epoch, segment, ssrc);
    if (chunk != null) output.chunk(this, chunk);
  }

  // ----------------------------------------------------------------------------------- timers

  /**
   * Called every ~100 ms on the stream's thread: releases held packets, closes idle chunks, reports
   * silence.
   */
  void tick(long nowNanos) {
    window.drain(nowNanos, this);
    long silent = nowNanos - lastPacketNanos;
    if (!chunks.empty()
        && silent > settings.reorderDelayNanos() + (long) settings.chunkSamples() * 125_000L) {
      window.flush(this);
      finishChunk();
    }
    if (epoch != 0 && !timeoutReported && silent > settings.timeoutNanos()) {
      timeoutReported = true;
      output.timeout(spec.label(), stats.lastPacketAt(), silent / 1_000_000L);
    }
  }

  /** Hands on everything held; the stream receives nothing after this. */
  void close() {
    if (heldLength > 0) dropHeld();
    window.flush(this);
    finishChunk();
  }
}
