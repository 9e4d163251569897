package org.callvault.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.callvault.api.access.Role;
import org.callvault.core.StreamCounters;

/**
 * The cluster's members, for operators: {@code GET /v1/nodes} lists every member with the numbers
 * each node reports of itself (as its {@code /v1/health} does), and {@code POST
 * /v1/nodes/{address}/drain} makes one leave in order, as {@code ops/node drain} does. The cluster
 * side of both is behind {@link Nodes}.
 */
public final class NodeRoutes extends AllDirectives {

  /**
   * How long the listing waits for each member's numbers: a member that has not answered by then is
   * listed as not reachable, without them. Below the 3 s of health's storage check, so that a
   * listing stays quick with a member gone silent.
   */
  static final Duration PATIENCE = Duration.ofSeconds(2);

  /** What the API asks of the cluster. */
  public interface Nodes {
    /**
     * Every member of the cluster now, each with the numbers it reported within {@code patience},
     * or none when it did not answer. Never fails for a member that does not answer.
     */
    CompletionStage<List<Member>> members(Duration patience);

    /**
     * Makes the member at {@code address} ({@code pekko://callvault@host:port}, or {@code
     * host:port}) leave the cluster in order: it hands its calls off and exits.
     */
    Drain drain(String address);
  }

  /**
   * One member of the cluster.
   *
   * @param status its membership status as Pekko names it: Joining, Up, Leaving, Exiting, Down…
   * @param reachable whether it answered with its numbers in time
   * @param numbers what it reported of itself; null when it did not answer
   */
  public record Member(
      String address,
      String status,
      List<String> roles,
      boolean reachable,
      ApiServer.NodeStatus numbers) {}

  /** What became of a request to drain a member. */
  public sealed interface Drain {
    /** It leaves now; {@code member} as it was asked to. */
    record Started(Member member) implements Drain {}

    /** No member has that address. */
    record Unknown() implements Drain {}

    /** It cannot be drained now, for {@code reason} (it leaves already, it is the last one…). */
    record Refused(String reason) implements Drain {}
  }

  private final Nodes nodes;

  NodeRoutes(Nodes nodes) {
    this.nodes = nodes;
  }

  List<RouteTable.Entry> entries() {
    return List.of(
        new RouteTable.Entry(
            HttpMethods.GET,
            "/v1/nodes",
            RouteTable.Access.of(Role.ADMIN, Role.SUPERVISOR, Role.COMPLIANCE),
            (who, path) -> list()),
        new RouteTable.Entry(
            HttpMethods.POST,
            "/v1/nodes/{address}/drain",
            RouteTable.Access.of(Role.ADMIN),
            (who, path) -> drain(path.get("address"))));
  }

  private Route list() {
    return onSuccess(
        nodes.members(PATIENCE),
        members -> {
          ObjectNode json = CallJson.MAPPER.createObjectNode();
          ArrayNode list = json.putArray("nodes");
          members.forEach(m -> list.add(member(m)));
          return complete(CallRoutes.json(StatusCodes.OK, json));
        });
  }

  /**
   * 202 once the member was told to leave; 404 for an address that is no member, 409 for one that
   * cannot be drained now. The address is one path segment: its slashes come percent-encoded.
   */
  private Route drain(String encoded) {
    String address = URLDecoder.decode(encoded, StandardCharsets.UTF_8);
    Drain outcome = nodes.drain(address);
    if (outcome instanceof Drain.Started started)
      return complete(CallRoutes.json(StatusCodes.ACCEPTED, member(started.member())));
    if (outcome instanceof Drain.Refused refused)
      return complete(CallRoutes.json(StatusCodes.CONFLICT, CallJson.error(409, refused.reason())));
    return complete(
        CallRoutes.json(
            StatusCodes.NOT_FOUND,
            CallJson.error(404, "no member of the cluster has the address '" + address + "'")));
  }

  private static ObjectNode member(Member member) {
    ObjectNode json = CallJson.MAPPER.createObjectNode();
    json.put("address", member.address());
    json.put("status", member.status());
    ArrayNode roles = json.putArray("roles");
    member.roles().forEach(roles::add);
    json.put("reachable", member.reachable());
    if (member.numbers() != null) numbers(json, member.numbers());
    return json;
  }

  /**
   * A node's numbers as its health and the node listing show them: calls, ports, what was not
   * stored, admission, the spool and the packets its streams received.
   */
  static void numbers(ObjectNode json, ApiServer.NodeStatus now) {
    json.put("calls", now.calls());
    json.put("relayingCalls", now.relayingCalls());
    json.put("rtpPortsInUse", now.rtpPortsInUse());
    json.put("chunksUnstored", now.chunksUnstored());
    json.put("sipRefused", now.sipRefused());
    json.putObject("admission")
        .put("refusedForHeadroom", now.refusedForHeadroom())
        .put("eventLoopLagMillis", Math.round(now.eventLoopLagMillis() * 10) / 10.0);
    ObjectNode spool = json.putObject("spool");
    spool.put("chunks", now.spooledChunks());
    spool.put("bytes", now.spoolBytes());
    spool.put(
        "oldestAgeSeconds",
        now.spoolOldestMillis() == 0
            ? 0
            : Math.max(0, (System.currentTimeMillis() - now.spoolOldestMillis()) / 1000));
    StreamCounters packets = now.packets();
    json.putObject("packets")
        .put("received", packets.received())
        .put("stored", packets.stored())
        .put("droppedByGate", packets.droppedByGate())
        .put("lost", packets.lost())
        .put("duplicated", packets.duplicated())
        .put("late", packets.late())
        .put("rejected", packets.rejectedTotal());
  }
}
