package org.callvault.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.callvault.store.ContactPoints;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one CallVault node ({@link Node}) in this JVM. Exits with {@link #EXIT_PORT_IN_USE} when a
 * port it must listen on is taken, so that scripts can tell that from a crash, and with {@link
 * #EXIT_FAILED} when it cannot start for another reason (logged with its cause); on either the
 * JVM's shutdown hook runs the actor system's coordinated shutdown.
 */
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  static final int EXIT_PORT_IN_USE = 3;
  static final int EXIT_FAILED = 1;

  private Main() {}

  public static void main(String[] args) {
    Config config;
    NodeSettings settings;
    try {
      config = config();
      settings = NodeSettings.from(config);
    } catch (RuntimeException e) { // an invalid setting: say which, start nothing
      log.error("the configuration is invalid: {}", e.getMessage());
      System.exit(EXIT_FAILED);
      return;
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "callvault", config);
    try {
      Node.start(system, settings);
    } catch (Node.PortInUse e) {
      log.error(e.getMessage());
      System.exit(EXIT_PORT_IN_USE);
    } catch (Throwable e) { // whatever it is, the node must not linger half started
      log.error("the node could not start: {}", e.getMessage(), e);
      System.exit(EXIT_FAILED);
    }
  }

  /**
   * The configuration ({@code -Dconfig.file} overlay on the defaults) with the environment applied.
   */
  static Config config() {
    Config config = ConfigFactory.load();
    String points = System.getenv("CASSANDRA_CONTACT_POINTS");
    if (points == null || points.isBlank()) return config;
    List<String> contactPoints =
        ContactPoints.parse(points).stream()
            .map(p -> p.getHostString() + ":" + p.getPort())
            .toList();
    return ConfigFactory.parseMap(
            Map.of("datastax-java-driver.basic.contact-points", contactPoints))
        .withFallback(config);
  }
}
