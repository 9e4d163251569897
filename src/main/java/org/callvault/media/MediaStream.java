package org.callvault.media;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import org.callvault.media.relay.Relay;
import org.callvault.media.relay.RelayIntake;

/**
 * One stream of a call on this node: its recorder, its RTP and RTCP sockets (both on one event
 * loop), how relayed datagrams reach it, and how its chunks reach storage. Fields that change are
 * touched only on the sockets' loop.
 */
final class MediaStream {

  final StreamRecorder recorder;
  final RelayIntake intake;
  final StreamHandler rtpHandler;
  final StreamHandler rtcpHandler;
  final MediaServer.SocketPair sockets;
  final ChunkWriter writer;

  /** The recorder's tick; after a handoff, the relay's. */
  ScheduledFuture<?> tick;

  /** Set once the call was handed off. */
  Relay relay;

  MediaStream(
      StreamRecorder recorder,
      RelayIntake intake,
      StreamHandler rtpHandler,
      StreamHandler rtcpHandler,
      MediaServer.SocketPair sockets,
      ChunkWriter writer) {
    this.recorder = recorder;
    this.intake = intake;
    this.rtpHandler = rtpHandler;
    this.rtcpHandler = rtcpHandler;
    this.sockets = sockets;
    this.writer = writer;
  }

  Channel rtp() {
    return sockets.rtp();
  }

  int port() {
    return sockets.port();
  }
}
