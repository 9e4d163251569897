package org.callvault.siprec;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.callvault.sip.ClientTransactions;
import org.callvault.sip.ServerTransactions;
import org.callvault.sip.SipIds;
import org.callvault.sip.SipMessage;
import org.callvault.sip.SipParseException;
import org.callvault.sip.SipParser;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;
import org.callvault.sip.SipTimers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIP over UDP and TCP on one port (RFC 3261 §18), on one Netty thread: every message is parsed, a
 * request handed to the {@link ServerTransactions}, a response to the {@link ClientTransactions} of
 * the server's own INVITEs (both confined to that thread, as are their timers), and answered on the
 * path it came by. A message that cannot be parsed is answered with its status and reason when
 * enough of it was readable, and counted; it never reaches a call.
 */
public final class SipTransport implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SipTransport.class);

  private final EventLoopGroup group =
      new NioEventLoopGroup(
          1, (java.util.concurrent.ThreadFactory) r -> new Thread(r, "callvault-sip"));
  private final SipParser parser;
  private final ServerTransactions transactions;
  private final ClientTransactions invites;
  private final AtomicLong refused = new AtomicLong();
  private Channel udp;
  private Channel tcp;

  /** Requests the server sends itself (the re-INVITE after a call moved), over UDP. */
  public interface Client {
    /**
     * Sends an INVITE in a client transaction (RFC 3261 §17.1.1: retransmitted until a response
     * comes or Timer B gives up; a non-2xx final response ACKed there). {@code outcome} learns the
     * final response or that none came. Call on the SIP thread.
     */
    void invite(SipRequest invite, InetSocketAddress to, ClientTransactions.Outcome outcome);

    /** Sends a request that has no transaction (the ACK for a 2xx). Call on the SIP thread. */
    void send(SipRequest request, InetSocketAddress to);
  }

  /**
   * @param server builds the transaction user from the thread its answers must come back on and the
   *     client it sends its own requests with
   */
  public SipTransport(
      int maxMessageBytes,
      java.util.function.BiFunction<
              ScheduledExecutorService, Client, ServerTransactions.TransactionUser>
          server) {
    this.parser = new SipParser(maxMessageBytes);
    EventLoop loop = group.next();
    SipTimers timers =
        (delayMillis, task) -> {
          var scheduled = loop.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
          return () -> scheduled.cancel(false);
        };
    this.invites = new ClientTransactions(timers, ServerTransactions.Config.DEFAULT.t1Millis());
    Client client =
        new Client() {
          @Override
          public void invite(
              SipRequest invite, InetSocketAddress to, ClientTransactions.Outcome outcome) {
            invites.invite(invite, request -> send(request, to), outcome);
          }

          @Override
          public void send(SipRequest request, InetSocketAddress to) {
            udp.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(request.toBytes()), to));
          }
        };
    this.transactions =
        new ServerTransactions(
            timers, server.apply(loop, client), ServerTransactions.Config.DEFAULT);
  }

  /** Binds UDP and TCP on {@code host:port}; 0 picks a free port (the same for both). */
  public InetSocketAddress bind(String host, int port) throws InterruptedException {
    udp =
        new Bootstrap()
            .group(group)
            .channel(NioDatagramChannel.class)
            .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_536))
            .handler(new DatagramHandler())
            .bind(host, port)
            .sync()
            .channel();
    int bound = ((InetSocketAddress) udp.localAddress()).getPort();
    tcp =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new StreamHandler());
                  }
                })
            .bind(host, bound)
            .sync()
            .channel();
    InetSocketAddress address = (InetSocketAddress) udp.localAddress();
    log.info("SIPREC listening on {}:{} (UDP and TCP)", host, address.getPort());
    return address;
  }

  /** Messages refused as malformed since start. */
  public long refused() {
    return refused.get();
  }

  /** Hands a parsed request to the transactions; {@code reply} sends a response back its way. */
  private void receive(
      SipMessage message,
      InetSocketAddress from,
      boolean reliable,
      java.util.function.Consumer<byte[]> reply) {
    if (message instanceof SipResponse response) {
      // One that no transaction takes is a retransmitted final response, or not ours: dropped.
      invites.receive(response);
      return;
    }
    SipRequest request = (SipRequest) message;
    SipRequest stamped = request.withSource(from.getAddress().getHostAddress(), from.getPort());
    transactions.receive(stamped, reliable, response -> reply.accept(response.toBytes()));
  }

  private void refuse(
      SipParseException e, java.util.function.Consumer<byte[]> reply, InetSocketAddress from) {
    refused.incrementAndGet();
    log.debug("refused a message from {}: {} {}", from, e.statusCode(), e.reason());
    e.answer(SipIds.newTag()).ifPresent(reply);
  }

  /** UDP: one message per datagram. */
  private final class DatagramHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      ByteBuf content = packet.content();
      byte[] data = new byte[content.readableBytes()];
      content.getBytes(content.readerIndex(), data);
      InetSocketAddress from = packet.sender();
      java.util.function.Consumer<byte[]> reply =
          bytes -> ctx.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), from));
      if (SipParser.keepAliveLength(data, 0, data.length) == data.length)
        return; // a CRLF keep-alive
      try {
        receive(parser.parseDatagram(data, 0, data.length), from, false, reply);
      } catch (SipParseException e) {
        refuse(e, reply, from);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // One socket serves every SRC: a failure with one datagram must not close it.
      log.error("SIP over UDP: {}", cause.toString(), cause);
    }
  }

  /** TCP: messages framed by Content-Length (§18.3); a stream that cannot be framed is closed. */
  private final class StreamHandler extends ByteToMessageDecoder {
    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      InetSocketAddress from = (InetSocketAddress) ctx.channel().remoteAddress();
      java.util.function.Consumer<byte[]> reply =
          bytes -> ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes));
      while (in.isReadable()) {
        byte[] data = new byte[Math.min(in.readableBytes(), parser.maxMessageSize() + 4)];
        in.getBytes(in.readerIndex(), data);
        int alive = SipParser.keepAliveLength(data, 0, data.length);
        if (alive > 0) {
          in.skipBytes(alive);
          if (alive >= 4) reply.accept(new byte[] {'\r', '\n'}); // RFC 5626 §3.5.1 pong
          continue;
        }
        int length;
        try {
          length = parser.streamMessageLength(data, 0, data.length);
        } catch (SipParseException e) {
          // Nothing tells where the next message would start: answer, and close the connection.
          refuse(e, reply, from);
          in.skipBytes(in.readableBytes());
          ctx.close();
          return;
        }
        if (length < 0) return; // wait for the rest
        in.skipBytes(length);
        try {
          receive(parser.parseStreamMessage(data, 0, length), from, true, reply);
        } catch (SipParseException e) {
          refuse(e, reply, from); // framed: the connection goes on with the next message
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.warn("SIP over TCP from {}: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  @Override
  public void close() {
    if (udp != null) udp.close();
    if (tcp != null) tcp.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
