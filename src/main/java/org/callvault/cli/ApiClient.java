package org.callvault.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.function.LongConsumer;
import org.callvault.core.Json;

/**
 * A node's REST API as the commands call it, with the JDK's HTTP client: JSON in and out, and
 * downloads. An answer the command cannot use becomes a {@link Cli.Failure} with the exit status
 * that says why, and the API's own error message.
 */
final class ApiClient {

  private static final Duration CONNECT = Duration.ofSeconds(5);

  /** How long a JSON request may take; the node's own asks time out well within it. */
  private static final Duration REQUEST = Duration.ofSeconds(30);

  private final URI base;
  private final String key;
  private final HttpClient http;

  ApiClient(URI base, String key) {
    this.base = base;
    this.key = key;
    this.http = HttpClient.newBuilder().connectTimeout(CONNECT).build();
  }

  JsonNode get(String path) {
    return json(request(path).timeout(REQUEST).GET().build());
  }

  JsonNode post(String path, String body) {
    return json(
        request(path)
            .timeout(REQUEST)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  /** What a download wrote. */
  record Download(long bytes, String sha256, String ledgerHash) {}

  /**
   * Streams the body of {@code GET path} into {@code into}, telling {@code progress} the bytes so
   * far. The whole body must arrive (its Content-Length), and its SHA-256 must be the one the
   * server sent ({@code Repr-Digest}) when it sent one.
   *
   * @param length told the Content-Length once the answer starts, or -1 without one
   */
  Download download(String path, OutputStream into, LongConsumer length, LongConsumer progress) {
    HttpResponse<InputStream> response = send(request(path).GET().build(), ofStream());
    try (InputStream body = response.body()) {
      if (response.statusCode() != 200)
        throw failure(
            response.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8));
      long expected = response.headers().firstValueAsLong("Content-Length").orElse(-1);
      length.accept(expected);
      MessageDigest digest = sha256();
      byte[] buffer = new byte[64 * 1024];
      long bytes = 0;
      for (int n; (n = body.read(buffer)) > 0; ) {
        into.write(buffer, 0, n);
        digest.update(buffer, 0, n);
        bytes += n;
        progress.accept(bytes);
      }
      if (expected >= 0 && bytes != expected)
        throw new Cli.Failure(
            Cli.FAILED, "the download ended after " + bytes + " of " + expected + " bytes");
      byte[] sha = digest.digest();
      String sent = response.headers().firstValue("Repr-Digest").orElse(null);
      if (sent != null && sent.startsWith("sha-256=:")) {
        String expectedSha = sent.substring("sha-256=:".length(), sent.length() - 1);
        if (!expectedSha.equals(Base64.getEncoder().encodeToString(sha)))
          throw new Cli.Failure(
              Cli.FAILED,
              "the bytes received do not have the SHA-256 the server sent (Repr-Digest "
                  + sent
                  + ")");
      }
      return new Download(
          bytes,
          HexFormat.of().formatHex(sha),
          response.headers().firstValue("CallVault-Ledger-Hash").orElse(null));
    } catch (IOException e) {
      throw new Cli.Failure(Cli.FAILED, "the download of " + path + " broke off: " + e);
    }
  }

  private static HttpResponse.BodyHandler<InputStream> ofStream() {
    return HttpResponse.BodyHandlers.ofInputStream();
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/json");
    return key == null ? request : request.header("Authorization", "Bearer " + key);
  }

  private JsonNode json(HttpRequest request) {
    HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() / 100 != 2) throw failure(response.statusCode(), response.body());
    try {
      return Json.MAPPER.readTree(response.body());
    } catch (IOException e) {
      throw new Cli.Failure(
          Cli.FAILED,
          request.method()
              + " "
              + request.uri().getPath()
              + " answered no JSON: "
              + e.getMessage());
    }
  }

  private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
    try {
      return http.send(request, body);
    } catch (HttpConnectTimeoutException | ConnectException e) {
      throw unreachable(e);
    } catch (HttpTimeoutException e) {
      throw new Cli.Failure(
          Cli.UNREACHABLE, base + " did not answer within " + REQUEST.toSeconds() + " s");
    } catch (IOException e) {
      for (Throwable t = e; t != null; t = t.getCause())
        if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException)
          throw unreachable(e);
      throw new Cli.Failure(Cli.FAILED, request.method() + " " + request.uri() + " failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Cli.Failure(Cli.FAILED, "interrupted");
    }
  }

  private Cli.Failure unreachable(IOException e) {
    return new Cli.Failure(
        Cli.UNREACHABLE,
        "no CallVault API answers at "
            + base
            + " ("
            + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
            + "); set --url or CALLVAULT_URL");
  }

  /** The API's refusal, with its message, as the exit status for its status. */
  private Cli.Failure failure(int status, String body) {
    String message;
    try {
      message = Json.MAPPER.readTree(body).path("error").asText("");
    } catch (IOException notJson) {
      message = "";
    }
    if (message.isEmpty()) message = body.length() > 200 ? body.substring(0, 200) + "…" : body;
    int exit =
        switch (status) {
          case 400 -> Cli.USAGE;
          case 401, 403, 429 -> Cli.DENIED;
          case 404 -> Cli.NOT_FOUND;
          default -> Cli.FAILED;
        };
    String hint = status == 401 && key == null ? " (no API key: --key or CALLVAULT_API_KEY)" : "";
    return new Cli.Failure(exit, status + ": " + message + hint);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
