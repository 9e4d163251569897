package org.callvault.api;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The answer to a request too malformed to be routed (a URI over the length limit, a bad header
 * line): the API's JSON error, like every other refusal. Named by {@code
 * pekko.http.server.parsing.error-handler}.
 */
public final class JsonParsingErrors extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    log.warning("refused a malformed request: {}", info.formatPretty());
    return HttpResponse.create()
        .withStatus(status.intValue())
        .withEntity(
            HttpEntities.create(
                ContentTypes.APPLICATION_JSON,
                CallJson.error(status.intValue(), info.formatPretty()).toString()));
  }
}
