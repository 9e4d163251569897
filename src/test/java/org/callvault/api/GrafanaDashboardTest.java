package org.callvault.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.callvault.api.access.Authenticator;
import org.callvault.api.access.TestKeys;
import org.callvault.core.StreamCounters;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard of {@code ops/grafana} asks only for what a node's {@code GET /metrics}
 * serves: every metric a panel's query names is a sample of a real scrape.
 */
class GrafanaDashboardTest {

  private static final Pattern METRIC = Pattern.compile("\\b(?:callvault|jvm|process)_[a-z_]+");

  @Test
  void everyMetricTheDashboardQueriesIsOneTheNodeServes() throws Exception {
    JsonNode dashboard =
        new ObjectMapper().readTree(Path.of("ops/grafana/callvault-dashboard.json").toFile());
    assertEquals("callvault", dashboard.path("uid").asText());
    Set<String> queried = new TreeSet<>();
    int panels = 0;
    for (JsonNode panel : dashboard.path("panels")) {
      panels++;
      assertTrue(panel.path("targets").size() > 0, panel.path("title") + " queries something");
      for (JsonNode target : panel.path("targets")) {
        Matcher m = METRIC.matcher(target.path("expr").asText());
        while (m.find()) queried.add(m.group());
      }
    }
    assertTrue(panels >= 10, "panels: " + panels);

    // A node that has seen a rejected datagram, so that every metric it can serve is in the scrape.
    StreamCounters packets = new StreamCounters(100, 90, 5, Map.of("MALFORMED", 2L), 1, 0, 0, 9, 0);
    ApiServer.NodeStatus status =
        new ApiServer.NodeStatus(
            "pekko://callvault@127.0.0.1:25520",
            "Up",
            true,
            1,
            2,
            0,
            4,
            0,
            0,
            0,
            0,
            0,
            0,
            0.5,
            packets);
    Authenticator authenticator = TestKeys.authenticator(10);
    Metrics metrics = new Metrics(() -> status, authenticator);
    new org.callvault.store.TimedWrites(null).metrics().forEach(metrics::register);
    String scrape = new String(metrics.scrape(), StandardCharsets.UTF_8);
    Set<String> served = new HashSet<>();
    for (String line : scrape.split("\n"))
      if (!line.startsWith("#") && !line.isBlank()) served.add(line.split("[ {]", 2)[0]);

    Set<String> missing = new TreeSet<>(queried);
    missing.removeAll(served);
    assertTrue(missing.isEmpty(), "queried but not served: " + missing + "\nserved: " + served);
    assertTrue(queried.size() >= 20, "metrics queried: " + queried);
  }
}
