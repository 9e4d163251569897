package org.callvault.media;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.callvault.media.relay.Relay;
import org.callvault.media.relay.RelayIntake;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands each datagram of a stream's RTP or RTCP socket on, copied into a buffer of its own (one
 * handler per socket, so not shared): RTCP to the stream's recorder, RTP through the stream's
 * {@link RelayIntake}, and, once the call was handed off, RTP to its {@link Relay} instead (RTCP is
 * then dropped: the next node anchors its own). Datagrams longer than the buffer are refused by the
 * recorder as OVERSIZE before any byte past it is read.
 */
final class StreamHandler extends SimpleChannelInboundHandler<DatagramPacket> {

  private static final Logger log = LoggerFactory.getLogger(StreamHandler.class);

  private final StreamRecorder recorder;

  /** Null on the RTCP socket. */
  private final RelayIntake intake;

  private final byte[] scratch = new byte[2048];

  /** Set on the socket's loop when the call is handed off. */
  private Relay relay;

  static StreamHandler rtp(StreamRecorder recorder, RelayIntake intake) {
    return new StreamHandler(recorder, intake);
  }

  static StreamHandler rtcp(StreamRecorder recorder) {
    return new StreamHandler(recorder, null);
  }

  private StreamHandler(StreamRecorder recorder, RelayIntake intake) {
    this.recorder = recorder;
    this.intake = intake;
  }

  /** On the socket's loop: from now on datagrams go to {@code relay}. */
  void relayTo(Relay relay) {
    this.relay = relay;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
    ByteBuf content = packet.content();
    int length = content.readableBytes();
    int copied = Math.min(length, scratch.length);
    content.getBytes(content.readerIndex(), scratch, 0, copied);
    long nowNanos = System.nanoTime();
    long wallMicros = System.currentTimeMillis() * 1000;
    if (relay != null) {
      if (intake != null && length <= copied)
        relay.receive(scratch, length, packet.sender(), nowNanos, wallMicros);
    } else if (intake == null) {
      recorder.onRtcp(scratch, copied, packet.sender());
    } else {
      intake.receive(scratch, copied, length, packet.sender(), nowNanos, wallMicros);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A UDP socket is shared by every sender: one bad datagram must not close it.
    log.warn(
        "call {}: {} of '{}': {}",
        recorder.callId(),
        intake == null ? "RTCP" : "RTP",
        recorder.label(),
        cause.toString());
  }
}
