package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.callvault.api.access.TestKeys;

/** The REST API of a node, as the integration tests call it: with the key of every role. */
final class Http {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient PLAIN =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String base;
  private final HttpClient client;

  Http(String base) {
    this(base, null);
  }

  /** An API over HTTPS whose certificate {@code tls} trusts; plain HTTP for null. */
  Http(String base, javax.net.ssl.SSLContext tls) {
    this.base = base;
    this.client =
        tls == null
            ? PLAIN
            : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(tls).build();
  }

  JsonNode get(String path, int expectedStatus) throws Exception {
    return send("GET", path, null, expectedStatus);
  }

  JsonNode post(String path, String body, int expectedStatus) throws Exception {
    return send("POST", path, body, expectedStatus);
  }

  /** For {@link #send}: answer the body of a 2xx, or null for any other status. */
  static final int ANY_OK = -1;

  JsonNode send(String method, String path, String body, int expectedStatus) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + TestKeys.ALL);
    request =
        body == null
            ? request.method(method, HttpRequest.BodyPublishers.noBody())
            : request
                .method(method, HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
    HttpResponse<String> response =
        client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (expectedStatus == ANY_OK)
      return response.statusCode() / 100 == 2 ? JSON.readTree(response.body()) : null;
    assertEquals(
        expectedStatus,
        response.statusCode(),
        method + " " + path + " answered " + response.body());
    return JSON.readTree(response.body());
  }

  /** The body of a GET that must answer 200, as bytes, with its Content-Length checked. */
  byte[] bytes(String path) throws Exception {
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + TestKeys.ALL)
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(
        200,
        response.statusCode(),
        () -> "GET " + path + " answered " + new String(response.body()));
    assertEquals(
        String.valueOf(response.body().length),
        response.headers().firstValue("Content-Length").orElse("?"),
        "Content-Length of " + path);
    return response.body();
  }
}
