package org.callvault.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.callvault.call.Call;
import org.callvault.call.Completeness;
import org.callvault.call.Event;
import org.callvault.call.Ledger;
import org.callvault.call.Party;
import org.callvault.call.PauseSpan;
import org.callvault.catalog.Catalog;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Endpoint;
import org.callvault.core.Json;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.callvault.export.Timeline;

/** The JSON the API answers with: the call resource, ledger entries, errors. */
final class CallJson {

  static final ObjectMapper MAPPER = Json.MAPPER;

  private CallJson() {}

  /**
   * The call resource: state, policy, parties with consent, streams with their gate, endpoint and
   * counters, pauses. {@code live} holds the counters of streams received on this node now; the
   * others show what the ledger last recorded. Each party's personal fields (name, aor) show as
   * {@code open} gives them: opened, or erased.
   */
  static ObjectNode call(
      Call call, Map<String, StreamCounters> live, java.util.function.BinaryOperator<String> open) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("callId", call.callId());
    json.put("state", call.phase().name());
    json.set("createdAt", MAPPER.valueToTree(call.createdAt()));
    if (call.stoppedAt() != null) {
      json.set("stoppedAt", MAPPER.valueToTree(call.stoppedAt()));
      json.put("stoppedBy", call.stoppedBy());
    }
    if (call.haltedBy() != null) json.put("haltedBy", call.haltedBy());
    if (call.spec().sip() != null) json.set("sip", MAPPER.valueToTree(call.spec().sip()));
    json.set("policy", MAPPER.valueToTree(call.policy()));
    ArrayNode parties = json.putArray("parties");
    for (Party party : call.parties()) {
      ObjectNode p = MAPPER.valueToTree(party);
      if (party.name() != null) p.put("name", open.apply("name", party.name()));
      if (party.aor() != null) p.put("aor", open.apply("aor", party.aor()));
      parties.add(p);
    }
    ArrayNode streams = json.putArray("streams");
    for (StreamSpec stream : call.streams()) {
      ObjectNode s = MAPPER.valueToTree(stream);
      s.put("gate", call.gateOpen(stream.label()) ? "OPEN" : "CLOSED");
      Endpoint endpoint = call.endpoints().get(stream.label());
      if (endpoint != null && call.stoppedAt() == null) s.set("rtp", MAPPER.valueToTree(endpoint));
      StreamCounters counters =
          live.getOrDefault(stream.label(), call.media(stream.label()).counters());
      s.set("stats", MAPPER.valueToTree(counters));
      s.set("completeness", completeness(Completeness.of(call.media(stream.label()))));
      streams.add(s);
    }
    json.set("completeness", completeness(Completeness.of(call)));
    ArrayNode pauses = json.putArray("pauses");
    for (PauseSpan pause : call.pauses()) {
      ObjectNode p = MAPPER.valueToTree(pause);
      p.remove("startSeq");
      pauses.add(p);
    }
    if (call.media().node() != null) {
      ObjectNode media = json.putObject("media");
      media.put("node", call.media().node());
      media.put("epoch", call.mediaEpoch());
      if (call.media().released() != null) media.put("released", call.media().released().name());
    }
    ObjectNode ledger = json.putObject("ledger");
    ledger.put("events", call.seq());
    ledger.put("lastHash", call.lastHash());
    return json;
  }

  /**
   * A page of the listing: each call's state, times, source, parties (their ids, roles and consent;
   * no personal field), custody and completeness; the token of the next page when there is one.
   */
  static ObjectNode page(Catalog.Page page) {
    ObjectNode json = MAPPER.createObjectNode();
    ArrayNode calls = json.putArray("calls");
    for (Catalog.Listed listed : page.calls()) {
      Call call = listed.call();
      ObjectNode c = calls.addObject();
      c.put("callId", call.callId());
      c.put("state", call.phase().name());
      c.set("createdAt", MAPPER.valueToTree(call.createdAt()));
      if (call.stoppedAt() != null) c.set("stoppedAt", MAPPER.valueToTree(call.stoppedAt()));
      c.put("source", listed.source());
      ArrayNode parties = c.putArray("parties");
      for (Party party : call.parties())
        parties
            .addObject()
            .put("id", party.id())
            .put("role", party.role().name())
            .put("consent", party.consent().name());
      c.put("legalHold", call.compliance().held());
      c.put("erased", call.compliance().erased());
      c.set("completeness", completeness(Completeness.of(call)));
    }
    if (page.nextPageToken() != null) json.put("nextPageToken", page.nextPageToken());
    return json;
  }

  /**
   * How complete a recording (or one stream of it) is: stored against expected, and what is
   * missing, by cause; what a closed gate dropped apart.
   */
  static ObjectNode completeness(Completeness c) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("ratio", c.ratio());
    json.put("complete", c.complete());
    json.put("expected", c.expected());
    json.put("stored", c.stored());
    json.put("missing", c.missing());
    json.put("lostOnNetwork", c.lostOnNetwork());
    json.put("late", c.late());
    json.put("gated", c.gated());
    ObjectNode gaps = json.putObject("gaps");
    c.gaps().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> gaps.set(e.getKey().name(), MAPPER.valueToTree(e.getValue())));
    return json;
  }

  /**
   * The recording's time axis: where it starts and ends, what is cut out, where each chunk lies.
   */
  static ObjectNode timeline(Timeline timeline) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("callId", timeline.callId());
    json.put("startMicros", timeline.startMicros());
    json.put("endMicros", timeline.endMicros());
    json.put("sampleRate", Timeline.RATE);
    json.put("samples", timeline.samples());
    json.put("pauseRendering", timeline.rendering().name());
    ArrayNode streams = json.putArray("streams");
    for (StreamSpec stream : timeline.streams()) {
      ObjectNode s = streams.addObject();
      s.put("label", stream.label());
      ArrayNode removed = s.putArray("removed");
      for (long[] span : timeline.removed(stream.label()))
        removed.addObject().put("startMicros", span[0]).put("endMicros", span[1]);
      ArrayNode chunks = s.putArray("chunks");
      for (ChunkInfo c : timeline.chunks(stream.label())) {
        ObjectNode chunk = MAPPER.valueToTree(c);
        chunk.remove("label");
        chunk.put("position", timeline.position(c, c.firstTs()));
        chunks.add(chunk);
      }
    }
    return json;
  }

  /** One ledger entry: seq, time, type, by, the change's details, and the hash chain. */
  static ObjectNode event(Event event) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("seq", event.seq());
    json.set("time", MAPPER.valueToTree(event.time()));
    json.put("type", event.change().type());
    json.put("by", event.by());
    ObjectNode details = MAPPER.valueToTree(event.change());
    details.remove("type");
    json.set("details", details);
    json.put("prevHash", event.prevHash());
    json.put("hash", event.hash());
    return json;
  }

  static ObjectNode verification(String callId, Ledger.Verification v) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("callId", callId);
    json.put("valid", v.valid());
    json.put("events", v.events());
    if (v.valid()) {
      json.put("lastHash", v.lastHash());
    } else {
      json.put("brokenAt", v.brokenAt());
      json.put("reason", v.reason());
    }
    return json;
  }

  static ObjectNode error(int status, String message) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("status", status);
    json.put("error", message);
    return json;
  }
}
