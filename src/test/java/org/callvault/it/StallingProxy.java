package org.callvault.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of Cassandra's CQL port that can hold everything for a while: connections
 * stay open, bytes in either direction wait, as when Cassandra stalls (a long GC pause, a disk that
 * stops answering) rather than goes away.
 */
final class StallingProxy implements AutoCloseable {

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile long stalledUntilNanos;
  private volatile boolean closed;

  StallingProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "stalling-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** The connections made through the proxy so far. */
  int connections() {
    return sockets.size() / 2;
  }

  /** From now on, for {@code duration}, nothing passes in either direction. */
  void stall(Duration duration) {
    stalledUntilNanos = System.nanoTime() + duration.toNanos();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(target.getAddress(), target.getPort());
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        if (!closed) System.err.println("stalling proxy: " + e);
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[65536];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  long wait;
                  while ((wait = stalledUntilNanos - System.nanoTime()) > 0)
                    Thread.sleep(Math.max(1, wait / 1_000_000));
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // one side closed: close the other
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "stalling-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket s : sockets) closeQuietly(s);
  }
}
