package org.callvault.media.relay;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * What a handed-off stream's old RTP socket does with its datagrams (the old node's side of a
 * make-before-break move): holds them until the node that took the call over says where it receives
 * the stream, then relays them there in {@link RelayEnvelope}s, and goes on relaying what arrives
 * until nothing has for {@code idle}: the sender has moved. Only the socket's event loop touches
 * it.
 */
public final class Relay {

  /**
   * How a relay behaves.
   *
   * @param idle the sender has moved once nothing arrives for this long; then the old sockets close
   * @param hold the longest the old sockets wait for the new node to ask
   * @param holdPackets the most datagrams held meanwhile; more are lost and counted
   */
  public record Settings(Duration idle, Duration hold, int holdPackets) {}

  /** Sends one datagram from the old socket. */
  public interface Sender {
    void send(byte[] datagram, InetSocketAddress to);
  }

  private record Held(byte[] datagram, InetSocketAddress sender, long wallMicros) {}

  private final Settings settings;
  private final Sender out;
  private final long startedNanos;
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private InetSocketAddress target;
  private long token;
  private long lastNanos;
  private long relayed;
  private long dropped;

  public Relay(Settings settings, Sender out, long nowNanos) {
    this.settings = settings;
    this.out = out;
    this.startedNanos = nowNanos;
    this.lastNanos = nowNanos;
  }

  /**
   * A datagram that reached the old socket: relayed at once once a target is known, held before.
   */
  public void receive(
      byte[] data, int length, InetSocketAddress sender, long nowNanos, long wallMicros) {
    lastNanos = nowNanos;
    if (target != null) {
      send(RelayEnvelope.wrap(token, wallMicros, sender, data, 0, length));
    } else if (held.size() < settings.holdPackets()) {
      held.addLast(new Held(Arrays.copyOf(data, length), sender, wallMicros));
    } else {
      dropped++;
    }
  }

  /**
   * The node that took the call over receives the stream at {@code target} and put {@code token} on
   * what it accepts: what was held goes there now, then an empty envelope that ends it (the new
   * node stops keeping the sender's direct datagrams back), then whatever arrives from now on.
   */
  public void to(InetSocketAddress target, long token, long nowNanos, long wallMicros) {
    this.target = target;
    this.token = token;
    lastNanos = nowNanos;
    for (Held h : held)
      send(
          RelayEnvelope.wrap(
              token, h.wallMicros(), h.sender(), h.datagram(), 0, h.datagram().length));
    held.clear();
    out.send(RelayEnvelope.wrap(token, wallMicros, target, new byte[0], 0, 0), target);
  }

  private void send(byte[] envelope) {
    out.send(envelope, target);
    relayed++;
  }

  /**
   * Whether the sender has moved (nothing for {@code idle} since relaying began), or nobody asked
   * in time.
   */
  public boolean over(long nowNanos) {
    if (target != null) return nowNanos - lastNanos > settings.idle().toNanos();
    return nowNanos - startedNanos > settings.hold().toNanos();
  }

  /** Where the stream was relayed to; null if nobody asked. */
  public InetSocketAddress target() {
    return target;
  }

  /** Datagrams relayed, not counting the end-of-hold marker. */
  public long relayed() {
    return relayed;
  }

  /**
   * Datagrams lost: those that arrived while the hold was full, and those still held if nobody
   * asked.
   */
  public long lost() {
    return target == null ? dropped + held.size() : dropped;
  }
}
