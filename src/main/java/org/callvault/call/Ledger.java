package org.callvault.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import org.callvault.core.Json;

/**
 * The hash chain over a call's events.
 *
 * <p>Each event's hash is SHA-256 over the previous event's hash, a newline, and the canonical
 * encoding of the event: compact JSON of {@code seq}, {@code time}, {@code by} and {@code change}
 * (with its {@code type}), the fields of every object in key order, times in ISO-8601 UTC with
 * millisecond precision, and null fields left out. Leaving nulls out keeps old events verifiable
 * when a later version adds an optional field to a change. The first event's previous hash is
 * {@link #GENESIS}.
 */
public final class Ledger {

  public static final String GENESIS = "0".repeat(64);

  /**
   * Keys are put in order by {@link #sorted}, so the encoding does not depend on the mapper's
   * order.
   */
  private static final ObjectMapper CANONICAL = Json.MAPPER;

  private Ledger() {}

  /** The event that follows {@code prevHash}, with its hash computed. */
  public static Event seal(long seq, Instant time, String by, Change change, String prevHash) {
    Event unsealed =
        new Event(seq, time.truncatedTo(ChronoUnit.MILLIS), by, change, prevHash, null);
    return new Event(unsealed.seq(), unsealed.time(), by, change, prevHash, hashOf(unsealed));
  }

  /**
   * SHA-256 over the previous hash and the canonical encoding of the event (its own hash left out).
   */
  public static String hashOf(Event event) {
    try {
      ObjectNode node = CANONICAL.createObjectNode();
      node.put("seq", event.seq());
      node.set("time", CANONICAL.valueToTree(event.time()));
      node.put("by", event.by());
      node.set("change", CANONICAL.valueToTree(event.change()));
      byte[] canonical = CANONICAL.writeValueAsBytes(sorted(node));
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(String.valueOf(event.prevHash()).getBytes(StandardCharsets.US_ASCII));
      sha256.update((byte) '\n');
      sha256.update(canonical);
      return HexFormat.of().formatHex(sha256.digest());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("event cannot be encoded canonically: " + event, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** The same tree with the fields of every object in key order, so the encoding is one string. */
  private static JsonNode sorted(JsonNode node) {
    if (node.isObject()) {
      ObjectNode out = CANONICAL.createObjectNode();
      List<String> names = new ArrayList<>();
      node.fieldNames().forEachRemaining(names::add);
      Collections.sort(names);
      for (String name : names) out.set(name, sorted(node.get(name)));
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = CANONICAL.createArrayNode();
      node.forEach(item -> out.add(sorted(item)));
      return out;
    }
    return node;
  }

  /** The outcome of checking a chain from its first event. */
  public record Verification(
      boolean valid, long events, Long brokenAt, String reason, String lastHash) {}

  /**
   * Checks a chain one event at a time, in journal order. Once broken it stays broken at the first
   * event that failed.
   */
  public static final class Verifier {
    private long events;
    private String lastHash = GENESIS;
    private Long brokenAt;
    private String reason;

    /**
     * Checks the next event; {@code journalSeq} is the sequence number the journal stored it under.
     */
    public Verifier accept(long journalSeq, Event event) {
      events++;
      if (brokenAt != null) return this;
      if (event.seq() != journalSeq) {
        fail(journalSeq, "event claims seq " + event.seq() + " but is stored as seq " + journalSeq);
      } else if (journalSeq != events) {
        fail(
            journalSeq,
            "expected seq " + events + ", found " + journalSeq + " (an event is missing)");
      } else if (!lastHash.equals(event.prevHash())) {
        fail(
            journalSeq,
            "prevHash "
                + event.prevHash()
                + " does not match the hash of the previous event "
                + lastHash);
      } else {
        String computed = hashOf(event);
        if (!computed.equals(event.hash())) {
          fail(
              journalSeq,
              "stored hash "
                  + event.hash()
                  + " does not match the recomputed hash "
                  + computed
                  + " (the event was altered)");
        } else {
          lastHash = computed;
        }
      }
      return this;
    }

    private void fail(long seq, String why) {
      brokenAt = seq;
      reason = why;
    }

    public Verification result() {
      return new Verification(
          brokenAt == null, events, brokenAt, reason, brokenAt == null ? lastHash : null);
    }
  }
}
