package org.callvault.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code callvault nodes} and {@code callvault drain}: the cluster's members. */
@Command(
    name = "nodes",
    description = {
      "Lists the cluster's members and their numbers.",
      "Each member (GET /v1/nodes) with its status and roles, and the numbers it reports of"
          + " itself: calls, RTP ports, packets, spool. A member that does not answer within 2 s"
          + " is listed without them.",
      "Needs the role admin, supervisor or compliance."
    })
final class NodesCommand implements Callable<Integer> {

  @Mixin ApiOptions api;

  @Override
  public Integer call() {
    JsonNode nodes = api.api().get("/v1/nodes");
    if (api.json) {
      api.printJson(nodes);
      return Cli.OK;
    }
    Table table =
        new Table(
            "NODE",
            "STATUS",
            "ROLES",
            "CALLS",
            "RELAYING",
            "PORTS",
            "RECEIVED",
            "STORED",
            "LOST",
            "SPOOLED");
    for (JsonNode n : nodes.path("nodes")) {
      boolean answered = n.path("reachable").asBoolean();
      JsonNode packets = n.path("packets");
      table.row(
          n.path("address").asText(),
          n.path("status").asText() + (answered ? "" : " (no answer)"),
          String.join(",", texts(n.path("roles"))),
          answered ? n.path("calls").asLong() : null,
          answered ? n.path("relayingCalls").asLong() : null,
          answered ? n.path("rtpPortsInUse").asLong() : null,
          answered ? packets.path("received").asLong() : null,
          answered ? packets.path("stored").asLong() : null,
          answered ? packets.path("lost").asLong() : null,
          answered ? n.path("spool").path("chunks").asLong() : null);
    }
    table.print(api.out());
    return Cli.OK;
  }

  /** The texts of a JSON array. */
  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(t -> texts.add(t.asText()));
    return texts;
  }

  @Command(
      name = "drain",
      description = {
        "Drains a node: its calls move to the others, then it leaves and exits.",
        "POST /v1/nodes/{address}/drain: the node leaves the cluster in order, as"
            + " ops/node drain makes it: its calls are handed off to the other nodes, its old"
            + " sockets relay until the senders have moved, then it exits.",
        "Needs the role admin."
      })
  static final class Drain implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(
        index = "0",
        paramLabel = "NODE",
        description =
            "Its address (pekko://callvault@10.0.0.6:25520, as 'nodes' lists it) or host:port.")
    String node;

    @Option(names = "--wait", description = "Wait until it has left the cluster.")
    boolean await;

    @Option(
        names = "--timeout",
        paramLabel = "SECONDS",
        defaultValue = "120",
        description = "How long --wait waits (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Override
    public Integer call() throws InterruptedException {
      ApiClient client = api.api();
      JsonNode member = client.post("/v1/nodes/" + CallsCommand.segment(node) + "/drain", "");
      String address = member.path("address").asText();
      if (!api.json)
        api.out()
            .println(
                address
                    + " is leaving: it hands its calls off, relays until their senders have"
                    + " moved, then exits.");
      if (await) {
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        while (listed(client, address)) {
          if (System.nanoTime() > deadline)
            throw new Cli.Failure(
                Cli.FAILED, address + " is still a member after " + timeoutSeconds + " s");
          Thread.sleep(500);
        }
        if (!api.json) api.out().println(address + " has left the cluster.");
      }
      if (api.json) api.printJson(member);
      return Cli.OK;
    }

    private static boolean listed(ApiClient client, String address) {
      for (JsonNode n : client.get("/v1/nodes").path("nodes"))
        if (n.path("address").asText().equals(address)) return true;
      return false;
    }
  }
}
