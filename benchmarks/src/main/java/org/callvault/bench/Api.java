package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A small client of the CallVault REST API (JSON over HTTP/1.1). */
public final class Api {

  static final ObjectMapper MAPPER = new ObjectMapper();

  private final URI base;
  private final Duration timeout;
  private final String key;
  private final HttpClient http;

  /**
   * @param key the API key sent as {@code Authorization: Bearer}; null for none
   */
  public Api(URI base, Duration timeout, String key) {
    this.key = key;
    String b = base.toString();
    this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
    this.timeout = timeout;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .build();
  }

  public Api(URI base, String key) {
    this(base, Duration.ofSeconds(10), key);
  }

  public URI base() {
    return base;
  }

  /** A status and body; {@link #json()} parses the body. */
  public record Response(String method, String path, int status, String body) {

    public boolean ok() {
      return status >= 200 && status < 300;
    }

    public JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException(
            method
                + " "
                + path
                + " answered "
                + status
                + " with a body that is not JSON: "
                + abbreviate(body),
            e);
      }
    }

    /**
     * This response, or an {@link ApiException} naming the request, status and body when it is not
     * 2xx.
     */
    public Response requireOk() throws ApiException {
      if (!ok())
        throw new ApiException(
            method + " " + path + " answered " + status + ": " + abbreviate(body), status, body);
      return this;
    }
  }

  /** A refusal by the API, or an answer the generator cannot use. */
  public static final class ApiException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String body;

    public ApiException(String message, int status, String body) {
      super(message);
      this.status = status;
      this.body = body;
    }

    public int status() {
      return status;
    }

    public String body() {
      return body;
    }
  }

  public Response get(String path) throws IOException, InterruptedException {
    return toResponse(
        "GET", path, http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString()));
  }

  public Response post(String path, String json) throws IOException, InterruptedException {
    return toResponse(
        "POST", path, http.send(postRequest(path, json), HttpResponse.BodyHandlers.ofString()));
  }

  public CompletableFuture<Response> getAsync(String path) {
    return http.sendAsync(request(path).GET().build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> toResponse("GET", path, r));
  }

  public CompletableFuture<Response> postAsync(String path, String json) {
    return http.sendAsync(postRequest(path, json), HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> toResponse("POST", path, r));
  }

  /** {@code GET /v1/calls/{id}}: the call resource; throws unless 200. */
  public JsonNode getCall(String callId) throws IOException, InterruptedException {
    return get(callPath(callId)).requireOk().json();
  }

  /**
   * Creates {@code count} two-stream G.711 calls ({@code agent}, {@code customer}) named {@code
   * prefix-1} …, {@code inFlight} requests at a time, each sent again a second later while the node
   * answers 503 (busy; the same call id creates the call once), ten times at most; their ids.
   */
  public List<String> createCalls(String prefix, int count, int inFlight)
      throws IOException, InterruptedException {
    List<String> ids = new ArrayList<>();
    List<CompletableFuture<Response>> answers = new ArrayList<>();
    Semaphore slots = new Semaphore(inFlight);
    for (int c = 0; c < count; c++) {
      String id = prefix + "-" + (c + 1);
      ids.add(id);
      ObjectNode body = MAPPER.createObjectNode().put("callId", id);
      ArrayNode parties = body.putArray("parties");
      parties.addObject().put("id", "agent").put("role", "AGENT");
      parties.addObject().put("id", "customer").put("role", "CUSTOMER");
      ArrayNode streams = body.putArray("streams");
      for (String label : List.of("agent", "customer"))
        streams.addObject().put("label", label).put("party", label).put("codec", "PCMU");
      slots.acquire();
      answers.add(created(body.toString(), 10).whenComplete((r, e) -> slots.release()));
    }
    for (CompletableFuture<Response> answer : answers) answer.join().requireOk();
    return ids;
  }

  private CompletableFuture<Response> created(String body, int attempts) {
    return postAsync("/v1/calls", body)
        .thenCompose(
            r -> {
              if (r.status() != 503 || attempts <= 1) return CompletableFuture.completedFuture(r);
              return CompletableFuture.supplyAsync(
                      () -> null, CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS))
                  .thenCompose(x -> created(body, attempts - 1));
            });
  }

  /** {@code POST /v1/calls/{id}/pause}. */
  public Response pause(String callId, String reason, String by)
      throws IOException, InterruptedException {
    ObjectNode body = MAPPER.createObjectNode().put("reason", reason).put("by", by);
    return post(callPath(callId) + "/pause", body.toString());
  }

  /** {@code POST /v1/calls/{id}/resume}. */
  public Response resume(String callId, String by) throws IOException, InterruptedException {
    return post(callPath(callId) + "/resume", MAPPER.createObjectNode().put("by", by).toString());
  }

  /** {@code POST /v1/calls/{id}/stop}. */
  public Response stop(String callId, String by) throws IOException, InterruptedException {
    return post(callPath(callId) + "/stop", MAPPER.createObjectNode().put("by", by).toString());
  }

  public static String callPath(String callId) {
    return "/v1/calls/" + callId;
  }

  /**
   * The RTP endpoint the call resource names for stream {@code label} ({@code streams[].rtp}), with
   * an unspecified host (0.0.0.0, ::) replaced by the API's host; null when the stream has none.
   */
  public InetSocketAddress rtpEndpoint(JsonNode call, String label) {
    for (JsonNode s : call.path("streams")) {
      if (!label.equals(s.path("label").asText())) continue;
      JsonNode rtp = s.get("rtp");
      if (rtp == null
          || !rtp.isObject()
          || !rtp.hasNonNull("host")
          || !rtp.path("port").canConvertToInt()) return null;
      String host = rtp.get("host").asText();
      if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]"))
        host = base.getHost();
      int port = rtp.get("port").asInt();
      if (port < 1 || port > 65535) return null;
      return new InetSocketAddress(host, port);
    }
    return null;
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(timeout)
            .header("Accept", "application/json");
    return key == null ? request : request.header("Authorization", "Bearer " + key);
  }

  private HttpRequest postRequest(String path, String json) {
    return request(path)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
  }

  private static Response toResponse(String method, String path, HttpResponse<String> r) {
    return new Response(method, path, r.statusCode(), r.body());
  }

  static String abbreviate(String s) {
    if (s == null) return "";
    s = s.strip();
    return s.length() <= 500 ? s : s.substring(0, 500) + "…";
  }
}
