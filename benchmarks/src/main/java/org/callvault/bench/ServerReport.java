package org.callvault.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * The server's per-stream counters ({@code streams[].stats} of {@code GET /v1/calls/{id}}) next to
 * what was sent, and the loss they add up to.
 *
 * @param streams one per stream of the run, in order
 * @param errors calls whose resource could not be read, with why
 * @param statsPresent whether any stream had a {@code stats} object
 * @param expected genuine packets that should have been stored: distinct packets sent minus those
 *     the server dropped by gate, summed over the streams with stats
 * @param stored packets the server says it stored, summed over the same streams
 */
public record ServerReport(
    List<ServerReport.StreamStats> streams,
    List<String> errors,
    boolean statsPresent,
    long expected,
    long stored) {

  /**
   * One stream's counters; a field the server did not report is null.
   *
   * @param sent what the generator sent on it
   */
  public record StreamStats(
      String callId,
      String label,
      Counts sent,
      boolean present,
      Long received,
      Long stored,
      Long droppedByGate,
      Map<String, Long> rejected,
      Long lost,
      Long duplicated,
      Long late,
      Long chunksStored,
      String lastPacketAt) {

    /** Packets that should have been stored: distinct packets sent minus those dropped by gate. */
    public long expected() {
      return Math.max(0, sent.unique() - (droppedByGate == null ? 0 : droppedByGate));
    }

    public long rejectedTotal() {
      return rejected.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * 1 − stored / expected; 0 when nothing was expected. Negative when the server stored more than
   * was sent.
   */
  public double lossRatio() {
    return expected == 0 ? 0 : 1.0 - (double) stored / expected;
  }

  /** Missing packets: expected − stored (negative when more were stored). */
  public long missing() {
    return expected - stored;
  }

  /** Reads every call of {@code summary} from the API ({@code concurrency} requests at a time). */
  public static ServerReport collect(Api api, Summary summary, int concurrency)
      throws InterruptedException {
    Semaphore slots = new Semaphore(concurrency);
    List<CompletableFuture<Api.Response>> answers = new ArrayList<>();
    for (CallRecord c : summary.calls()) {
      slots.acquire();
      answers.add(api.getAsync(Api.callPath(c.callId())).whenComplete((r, e) -> slots.release()));
    }
    List<StreamStats> streams = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    boolean any = false;
    long expected = 0, stored = 0;
    for (int i = 0; i < answers.size(); i++) {
      CallRecord c = summary.calls().get(i);
      JsonNode call = null;
      try {
        Api.Response r = answers.get(i).join();
        if (r.ok()) call = r.json();
        else
          errors.add(c.callId() + ": GET answered " + r.status() + ": " + Api.abbreviate(r.body()));
      } catch (RuntimeException e) {
        errors.add(c.callId() + ": GET failed: " + (e.getCause() != null ? e.getCause() : e));
      }
      for (StreamRecord s : c.streams()) {
        StreamStats st = parse(c.callId(), s, call);
        streams.add(st);
        if (st.present()) {
          any = true;
          expected += st.expected();
          stored += st.stored() == null ? 0 : st.stored();
        }
      }
    }
    return new ServerReport(List.copyOf(streams), List.copyOf(errors), any, expected, stored);
  }

  static StreamStats parse(String callId, StreamRecord s, JsonNode call) {
    JsonNode stats = null;
    if (call != null)
      for (JsonNode n : call.path("streams"))
        if (s.label().equals(n.path("label").asText()) && n.path("stats").isObject())
          stats = n.get("stats");
    if (stats == null)
      return new StreamStats(
          callId,
          s.label(),
          s.counts(),
          false,
          null,
          null,
          null,
          Map.of(),
          null,
          null,
          null,
          null,
          null);
    Map<String, Long> rejected = new TreeMap<>();
    JsonNode r = stats.path("rejected");
    if (r.isObject()) {
      for (Map.Entry<String, JsonNode> e : r.properties())
        rejected.put(e.getKey(), e.getValue().asLong());
    } else if (r.isNumber()) {
      rejected.put("total", r.asLong());
    }
    JsonNode last = stats.get("lastPacketAt");
    return new StreamStats(
        callId,
        s.label(),
        s.counts(),
        true,
        number(stats, "received"),
        number(stats, "stored"),
        number(stats, "droppedByGate"),
        Collections.unmodifiableMap(rejected),
        number(stats, "lost"),
        number(stats, "duplicated"),
        number(stats, "late"),
        number(stats, "chunksStored"),
        last == null || last.isNull() ? null : last.asText());
  }

  private static Long number(JsonNode stats, String field) {
    JsonNode n = stats.get(field);
    return n != null && n.isNumber() ? n.asLong() : null;
  }
}
