package org.callvault.webhooks;

import io.prometheus.metrics.core.metrics.Counter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * One attempt to deliver a notice: a JSON POST with the Standard Webhooks headers, signed anew at
 * each attempt ({@link WebhookSignature}), answered 2xx or not. Every attempt is counted, by event
 * and outcome, for {@code /metrics}. The one way a node POSTs a webhook.
 */
public final class WebhookSender {

  /** An attempt's outcome: delivered (2xx), or why not. */
  public record Outcome(boolean delivered, String why) {}

  private final WebhookSignature signature;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Counter attempts =
      Counter.builder()
          .name("callvault_webhook_attempts_total")
          .help("Attempts to deliver a webhook notice, by event and outcome (delivered, failed)")
          .labelNames("event", "outcome")
          .build();

  public WebhookSender(WebhookSignature signature) {
    this.signature = signature;
  }

  /** The attempts' counter, for {@code /metrics}. */
  public Counter metrics() {
    return attempts;
  }

  /** POSTs notice {@code id} of {@code event} to {@code url}; never fails, says how it went. */
  public CompletionStage<Outcome> post(URI url, String event, String id, String body) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(url)
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    signature.headers(id, System.currentTimeMillis() / 1000, body).forEach(builder::header);
    return http.sendAsync(builder.build(), HttpResponse.BodyHandlers.discarding())
        .handle(
            (response, failure) -> {
              Outcome outcome =
                  failure == null && response.statusCode() / 100 == 2
                      ? new Outcome(true, null)
                      : new Outcome(
                          false,
                          failure != null ? failure.toString() : "status " + response.statusCode());
              attempts.labelValues(event, outcome.delivered() ? "delivered" : "failed").inc();
              return outcome;
            });
  }
}
