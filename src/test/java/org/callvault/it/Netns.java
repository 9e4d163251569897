package org.callvault.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Hosts of their own on this machine: network namespaces {@code <prefix>1..N} at 10.77.0.11, .12,
 * …, each with a veth to a bridge that this namespace reaches at 10.77.0.1 (needs root and
 * iproute2). A blackhole route cuts two hosts apart while both still reach this one, where
 * Cassandra (through {@link #forward}), the load generator and the webhook receiver live.
 */
final class Netns implements AutoCloseable {

  static final String GATEWAY = "10.77.0.1";

  private final String prefix;
  private final int hosts;
  private final List<ServerSocket> forwards = new ArrayList<>();

  private Netns(String prefix, int hosts) {
    this.prefix = prefix;
    this.hosts = hosts;
  }

  /** Creates the bridge and {@code hosts} namespaces; removes leftovers of an earlier run first. */
  static Netns create(String prefix, int hosts) throws Exception {
    Netns net = new Netns(prefix, hosts);
    net.remove();
    ip("link", "add", net.bridge(), "type", "bridge");
    ip("addr", "add", GATEWAY + "/24", "dev", net.bridge());
    ip("link", "set", net.bridge(), "up");
    for (int i = 1; i <= hosts; i++) {
      String ns = net.name(i);
      ip("netns", "add", ns);
      ip("link", "add", prefix + "v" + i, "type", "veth", "peer", "name", "eth0", "netns", ns);
      ip("link", "set", prefix + "v" + i, "master", net.bridge(), "up");
      ip("-n", ns, "addr", "add", net.address(i) + "/24", "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "route", "add", "default", "via", GATEWAY);
    }
    return net;
  }

  String name(int host) {
    return prefix + host;
  }

  String address(int host) {
    return "10.77.0." + (10 + host);
  }

  private String bridge() {
    return prefix + "br";
  }

  /** Cuts {@code host} off from every other namespace host; it still reaches the gateway. */
  void isolate(int host) throws Exception {
    for (int other = 1; other <= hosts; other++) {
      if (other == host) continue;
      ip("-n", name(host), "route", "add", "blackhole", address(other) + "/32");
      ip("-n", name(other), "route", "add", "blackhole", address(host) + "/32");
    }
  }

  /**
   * Makes {@code port} on the loopback of this namespace (the tests' Cassandra) reachable from the
   * hosts at {@link #GATEWAY}:{@code port}, by copying bytes both ways.
   */
  void forward(int port) throws IOException {
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(GATEWAY, port));
    forwards.add(server);
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket in = server.accept();
                  Socket out = new Socket("127.0.0.1", port);
                  pipe(in, out);
                  pipe(out, in);
                } catch (IOException e) {
                  if (!server.isClosed())
                    System.err.println("forward to 127.0.0.1:" + port + ": " + e);
                }
              }
            },
            "netns-forward-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void pipe(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException closed) {
                // One side closed its connection: the other is closed below, as a proxy does.
              } finally {
                try {
                  from.close();
                  to.close();
                } catch (IOException ignored) {
                  // Closing a socket that is already closed: nothing is left to release.
                }
              }
            },
            "netns-pipe");
    t.setDaemon(true);
    t.start();
  }

  private void remove() throws Exception {
    for (int i = 1; i <= hosts; i++) {
      run(false, "ip", "netns", "del", name(i));
      run(false, "ip", "link", "del", prefix + "v" + i);
    }
    run(false, "ip", "link", "del", bridge());
  }

  static void ip(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    run(true, command.toArray(String[]::new));
  }

  private static void run(boolean check, String... command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "network namespaces need iproute2 and root (run ops/install-test-deps as root): "
              + e.getMessage(),
          e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = p.waitFor();
    if (check && status != 0)
      throw new IllegalStateException(
          String.join(" ", command) + " failed (" + status + "): " + out.trim());
  }

  @Override
  public void close() throws Exception {
    for (ServerSocket s : forwards) s.close();
    remove();
  }
}
