package org.callvault.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.callvault.api.ApiServer;
import org.callvault.api.access.Authenticator;
import org.callvault.call.Policy;
import org.callvault.call.RetentionSweep;
import org.callvault.media.MediaServer;
import org.callvault.store.CassandraChunkStore;
import org.callvault.store.MasterKeyset;
import org.callvault.store.Spool;

/**
 * Everything a node is configured with, read once from {@code callvault} (reference.conf under the
 * overlay of {@code -Dconfig.file}), each part into the named settings of the feature it
 * configures. Invalid settings fail here, at start, with the key that is wrong.
 *
 * @param downGoneMembers down a member at once when its cluster port refuses connections ({@link
 *     GoneMembers})
 * @param media null when the node receives no media ({@code callvault.media.enabled = off})
 * @param sip null when the node runs no SIPREC server
 * @param haltAfterChunks fault injection for tests: halt after this many stored chunks; 0 never
 * @param spool null when chunks storage cannot take are lost rather than spooled
 * @param spoolReplayWait how long a starting node waits for its spool to be stored before it hosts
 *     calls
 */
record NodeSettings(
    boolean bootstrap,
    boolean downGoneMembers,
    Duration askTimeout,
    Policy defaultPolicy,
    ApiServer.Settings http,
    Authenticator.Settings auth,
    String readJournal,
    CassandraChunkStore.Settings audio,
    MasterKeyset master,
    long haltAfterChunks,
    MediaServer.Settings media,
    Spool.Settings spool,
    Duration spoolReplayWait,
    String webhookUrl,
    String webhookSecret,
    RetentionSweep.Settings retention,
    Sip sip) {

  /**
   * The SIPREC server: where it listens, how large a message may be, and what its decisions need.
   *
   * @param allowedSources the SRC addresses (IP literals) whose requests are served
   * @param policyBySource per SRC address (a trunk), the policy of its calls
   * @param retryAfter what a 503 asks the SRC to wait
   * @param sessionExpires the longest session interval granted (RFC 4028)
   * @param minSessionExpires the shortest session interval accepted (the {@code Min-SE})
   */
  record Sip(
      String host,
      int port,
      String advertisedHost,
      int maxMessageBytes,
      Set<String> allowedSources,
      Map<String, Policy> policyBySource,
      Duration retryAfter,
      Duration sessionExpires,
      Duration minSessionExpires) {

    static Sip from(Config sip, Config defaultPolicy) {
      Map<String, Policy> bySource = new HashMap<>();
      Config policies = sip.getConfig("policies");
      for (String source : policies.root().keySet()) {
        Config merged = policies.getConfig("\"" + source + "\"").withFallback(defaultPolicy);
        bySource.put(source, Policy.fromConfig(merged, "callvault.sip.policies." + source));
      }
      return new Sip(
          sip.getString("host"),
          sip.getInt("port"),
          sip.getString("advertised-host"),
          (int) sip.getBytes("max-message-bytes").longValue(),
          Set.copyOf(listOrCommas(sip, "allowed-sources")),
          Map.copyOf(bySource),
          sip.getDuration("retry-after"),
          sip.getDuration("session-expires"),
          sip.getDuration("min-session-expires"));
    }

    /** This server's Contact URI. */
    String contact() {
      return "sip:srs@" + advertisedHost + ":" + port;
    }
  }

  /**
   * Reads {@code callvault}, after checking that the libraries' settings CallVault relies on are
   * there: an overlay that does not include {@code node.conf} (and so application.conf) would
   * otherwise run without them.
   */
  static NodeSettings from(Config config) {
    if (!config.hasPath(
            "pekko.actor.serialization-bindings.\"org.callvault.core.CborSerializable\"")
        || !config.getBoolean("pekko.cluster.sharding.remember-entities"))
      throw new IllegalArgumentException(
          "the configuration lacks the service's application.conf (the Pekko settings it runs on):"
              + " an overlay given with -Dconfig.file must start with include \"node.conf\" (see"
              + " cluster-conf/)");
    Config callvault = config.getConfig("callvault");
    if (callvault.hasPath("media.fault.halt-after-chunks"))
      throw new IllegalArgumentException(
          "callvault.media.fault.halt-after-chunks is now callvault.audio.fault.halt-after-chunks");
    Config defaultPolicy = callvault.getConfig("default-policy");
    Config media = callvault.getConfig("media");
    Config spool = callvault.getConfig("spool");
    ApiServer.Settings http = ApiServer.Settings.from(callvault.getConfig("http"));
    Authenticator.Settings auth = Authenticator.Settings.from(callvault.getConfig("auth"));
    if (!auth.acceptsAny())
      throw new IllegalArgumentException(
          "callvault.auth: no API key and no sign-in tokens are configured, so every request"
              + " would be refused. Create a key with `ops/callvault keys create <id> --roles"
              + " recorder,...` and list it in callvault.auth.api-keys or the file"
              + " CALLVAULT_API_KEYS_FILE names");
    return new NodeSettings(
        callvault.getBoolean("cluster.bootstrap"),
        callvault.getBoolean("cluster.down-gone-members"),
        callvault.getDuration("ask-timeout"),
        Policy.fromConfig(defaultPolicy, "callvault.default-policy"),
        http,
        auth,
        callvault.getString("ledger.read-journal"),
        CassandraChunkStore.Settings.from(callvault.getConfig("audio")),
        MasterKeyset.from(callvault.getConfig("crypto")),
        callvault.getLong("audio.fault.halt-after-chunks"),
        media.getBoolean("enabled") ? MediaServer.Settings.from(media) : null,
        spool.getBoolean("enabled")
            ? Spool.Settings.from(spool, Path.of("data", "spool-" + http.port()))
            : null,
        spool.getDuration("replay-wait"),
        callvault.getString("webhook.url"),
        callvault.getString("webhook.secret"),
        RetentionSweep.Settings.from(callvault.getConfig("retention")),
        callvault.getBoolean("sip.enabled")
            ? Sip.from(callvault.getConfig("sip"), defaultPolicy)
            : null);
  }

  /** A list setting that an environment variable may give as one comma-separated string. */
  static List<String> listOrCommas(Config config, String path) {
    if (config.getValue(path).valueType() == ConfigValueType.STRING)
      return Arrays.stream(config.getString(path).split(","))
          .map(String::trim)
          .filter(s -> !s.isEmpty())
          .toList();
    return config.getStringList(path);
  }
}
