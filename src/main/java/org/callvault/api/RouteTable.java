package org.callvault.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.callvault.api.access.Authenticator;
import org.callvault.api.access.Principal;
import org.callvault.api.access.Role;

/**
 * The API's routes, each with its method, its path, who may use it and what it does; the API serves
 * these and nothing else. Every route but an open one is answered only after its request's
 * credentials are checked (401 without valid ones, 429 for a source that failed too often) and the
 * route's roles (403, naming the roles it needs). A route cannot be added without saying who may
 * use it, and {@code RouteTableTest} walks every route with every role.
 */
final class RouteTable extends AllDirectives {

  /** Who may use a route: a principal with one of {@code roles}, or anyone at all when open. */
  record Access(Set<Role> roles, boolean open) {

    /**
     * Anyone, without credentials: only what probes and load balancers must reach, and the
     * console's pages, which carry no data.
     */
    static final Access OPEN = new Access(Set.of(), true);

    static Access of(Role first, Role... more) {
      return new Access(EnumSet.of(first, more), false);
    }

    String needed() {
      return roles.stream().sorted().map(Role::id).collect(Collectors.joining(" or "));
    }
  }

  /**
   * What a route does, for {@code principal} (null on an open route), with the value of each {@code
   * {name}} segment of its path.
   */
  interface Handler {
    Route handle(Principal principal, Map<String, String> path);
  }

  /** One route: {@code path} is {@code /v1/calls/{id}/pause}, a segment in braces a value. */
  record Entry(HttpMethod method, String path, Access access, Handler handler) {

    String[] segments() {
      return path.substring(1).split("/", -1);
    }

    /** The values of its {name} segments if {@code requested} is this route's path, else null. */
    Map<String, String> match(String[] requested) {
      String[] pattern = segments();
      if (pattern.length != requested.length) return null;
      Map<String, String> values = new LinkedHashMap<>();
      for (int i = 0; i < pattern.length; i++) {
        if (pattern[i].startsWith("{") && pattern[i].endsWith("}")) {
          if (requested[i].isEmpty()) return null;
          values.put(pattern[i].substring(1, pattern[i].length() - 1), requested[i]);
        } else if (!pattern[i].equals(requested[i])) return null;
      }
      return values;
    }
  }

  private final List<Entry> entries;
  private final Authenticator authenticator;

  RouteTable(List<Entry> entries, Authenticator authenticator) {
    this.entries = List.copyOf(entries);
    this.authenticator = authenticator;
  }

  List<Entry> entries() {
    return entries;
  }

  /** The whole API: each request to the route its method and path name, if its caller may. */
  Route route() {
    return extractRequest(this::serve);
  }

  private Route serve(HttpRequest request) {
    String[] requested = request.getUri().path().substring(1).split("/", -1);
    List<Entry> atPath = new ArrayList<>();
    Map<String, String> values = null;
    Entry chosen = null;
    for (Entry e : entries) {
      Map<String, String> match = e.match(requested);
      if (match == null) continue;
      atPath.add(e);
      if (e.method().equals(request.method())) {
        chosen = e;
        values = match;
      }
    }
    if (chosen != null && chosen.access().open()) return chosen.handler().handle(null, values);
    Entry route = chosen;
    Map<String, String> path = values;
    String source =
        request
            .getAttribute(AttributeKeys.remoteAddress)
            .flatMap(a -> a.getAddress())
            .map(java.net.InetAddress::getHostAddress)
            .orElse("unknown");
    Optional<String> authorization = request.getHeader("Authorization").map(h -> h.value());
    return onSuccess(
        authenticator.authenticate(authorization, source),
        outcome -> {
          if (outcome instanceof Authenticator.Throttled t)
            return respondWithHeader(
                RetryAfter.create(t.retryAfterSeconds()),
                () ->
                    complete(
                        CallRoutes.json(
                            StatusCodes.TOO_MANY_REQUESTS,
                            CallJson.error(
                                429,
                                "too many failed attempts to authenticate from "
                                    + source
                                    + "; try again in "
                                    + t.retryAfterSeconds()
                                    + " s"))));
          if (outcome instanceof Authenticator.Refused r)
            return respondWithHeader(
                WWWAuthenticate.create(HttpChallenge.create("Bearer", "callvault")),
                () ->
                    complete(
                        CallRoutes.json(
                            StatusCodes.UNAUTHORIZED, CallJson.error(401, r.reason()))));
          Principal principal = ((Authenticator.Authenticated) outcome).principal();
          if (atPath.isEmpty())
            return complete(
                CallRoutes.json(
                    StatusCodes.NOT_FOUND,
                    CallJson.error(404, "no such resource: " + request.getUri().path())));
          if (route == null)
            return respondWithHeader(
                Allow.create(atPath.stream().map(Entry::method).toArray(HttpMethod[]::new)),
                () ->
                    complete(
                        CallRoutes.json(
                            StatusCodes.METHOD_NOT_ALLOWED,
                            CallJson.error(
                                405,
                                request.method().value()
                                    + " is not allowed here; allowed: "
                                    + atPath.stream()
                                        .map(e -> e.method().value())
                                        .collect(Collectors.joining(", "))))));
          if (!principal.mayUse(route.access().roles()))
            return complete(
                CallRoutes.json(
                    StatusCodes.FORBIDDEN,
                    CallJson.error(
                        403,
                        request.method().value()
                            + " "
                            + route.path()
                            + " needs the role "
                            + route.access().needed()
                            + "; "
                            + principal.name()
                            + " has "
                            + (principal.roles().isEmpty()
                                ? "no role"
                                : principal.roles().stream()
                                    .sorted()
                                    .map(Role::id)
                                    .collect(Collectors.joining(", "))))));
          return route.handler().handle(principal, path);
        });
  }

  /** The paths of the table, for messages: "GET /v1/calls/{id}". */
  @Override
  public String toString() {
    return Arrays.toString(
        entries.stream().map(e -> e.method().value() + " " + e.path()).toArray());
  }
}
