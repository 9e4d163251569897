package org.callvault.store;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;

/** How {@code CASSANDRA_CONTACT_POINTS} is read, by the service and by {@code ops/schema} alike. */
public final class ContactPoints {

  /** The native port of a contact point given without one. */
  public static final int DEFAULT_PORT = 9042;

  private ContactPoints() {}

  /**
   * {@code host[:port],…} as addresses, unresolved; blanks are skipped.
   *
   * @throws IllegalArgumentException when a port is not a number from 1 to 65535
   */
  public static List<InetSocketAddress> parse(String points) {
    return Arrays.stream(points.split(","))
        .map(String::trim)
        .filter(p -> !p.isEmpty())
        .map(ContactPoints::point)
        .toList();
  }

  private static InetSocketAddress point(String point) {
    int colon = point.lastIndexOf(':');
    if (colon < 0) return InetSocketAddress.createUnresolved(point, DEFAULT_PORT);
    String port = point.substring(colon + 1);
    try {
      int number = Integer.parseInt(port);
      if (number >= 1 && number <= 65535)
        return InetSocketAddress.createUnresolved(point.substring(0, colon), number);
    } catch (NumberFormatException e) {
      // reported below, with the whole point
    }
    throw new IllegalArgumentException(
        "CASSANDRA_CONTACT_POINTS: '"
            + point
            + "' must be host or host:port with a port from 1 to 65535");
  }
}
