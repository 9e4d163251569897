package org.callvault.api;

import java.time.Instant;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.callvault.api.access.Role;
import org.callvault.catalog.Catalog;

/**
 * {@code GET /v1/calls}: the calls of a time range, newest first, filtered by party, state, source
 * and completeness, a page at a time, from the read model ({@link Catalog}).
 */
final class ListingRoutes extends AllDirectives {

  private final Catalog catalog;

  /**
   * @param catalog the read model; null on a node without one (it answers 503)
   */
  ListingRoutes(Catalog catalog) {
    this.catalog = catalog;
  }

  List<RouteTable.Entry> entries() {
    return List.of(
        new RouteTable.Entry(
            HttpMethods.GET,
            "/v1/calls",
            RouteTable.Access.of(Role.SUPERVISOR, Role.COMPLIANCE),
            (who, p) -> parameterMap(this::list)));
  }

  private Route list(java.util.Map<String, String> query) {
    Catalog.Filter filter;
    try {
      filter =
          Catalog.Filter.parse(
              query,
              Instant.now(),
              catalog == null ? Catalog.DEFAULT_RANGE : catalog.defaultRange());
    } catch (IllegalArgumentException e) {
      return complete(
          CallRoutes.json(StatusCodes.BAD_REQUEST, CallJson.error(400, e.getMessage())));
    }
    if (catalog == null)
      return complete(
          CallRoutes.json(
              StatusCodes.SERVICE_UNAVAILABLE,
              CallJson.error(503, "this node keeps no read model of calls")));
    return onSuccess(
        catalog.page(filter),
        page -> complete(CallRoutes.json(StatusCodes.OK, CallJson.page(page))));
  }
}
