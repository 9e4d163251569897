package org.callvault.webhooks;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import org.callvault.call.Call;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.Party;
import org.callvault.core.Json;
import org.callvault.core.StreamSpec;

/**
 * The {@code recording.*} webhook notices a call's ledger makes: one per event that starts, pauses,
 * resumes, stops or erases a recording, or records a gap in it. Pure. A notice's id is the call's
 * id and the event's seq, so a notice sent again (a retry, or after a node's restart) has the same
 * {@code webhook-id}, by which a receiver can tell it has it already.
 *
 * <pre>
 * {"event":"recording.paused","callId":"…","seq":7,"time":"…","by":"agent-7","state":"PAUSED",
 *  "reason":"card payment"}
 * </pre>
 */
public final class RecordingNotices {

  /** A notice to deliver. */
  public record Notice(String id, String event, String callId, String body) {}

  private RecordingNotices() {}

  /** The notice of {@code event}, applied to the call that is now {@code after}; empty for none. */
  public static Optional<Notice> of(Call after, Event event) {
    Change change = event.change();
    ObjectNode json = Json.MAPPER.createObjectNode();
    String name;
    if (change instanceof Change.CallCreated) {
      name = "recording.started";
      ArrayNode parties = json.putArray("parties");
      for (Party p : after.parties())
        parties
            .addObject()
            .put("id", p.id())
            .put("role", p.role().name())
            .put("consent", p.consent().name());
      ArrayNode streams = json.putArray("streams");
      for (StreamSpec s : after.streams())
        streams.addObject().put("label", s.label()).put("party", s.party());
    } else if (change instanceof Change.Paused paused) {
      name = "recording.paused";
      json.put("reason", paused.reason());
    } else if (change instanceof Change.Resumed resumed) {
      name = "recording.resumed";
      if (resumed.reason() != null) json.put("reason", resumed.reason());
    } else if (change instanceof Change.Stopped stopped) {
      name = "recording.stopped";
      if (stopped.reason() != null) json.put("reason", stopped.reason());
    } else if (change instanceof Change.MediaGap gap) {
      name = "recording.gap";
      json.put("label", gap.label())
          .put("cause", gap.cause().name())
          .put("startWallMicros", gap.startWallMicros())
          .put("endWallMicros", gap.endWallMicros())
          .put("packets", gap.packets());
      if (gap.detail() != null) json.put("detail", gap.detail());
    } else if (change instanceof Change.RecordingErased erased) {
      name = "recording.erased";
      json.put("reason", erased.reason());
    } else {
      return Optional.empty();
    }
    ObjectNode notice = Json.MAPPER.createObjectNode();
    notice
        .put("event", name)
        .put("callId", after.callId())
        .put("seq", event.seq())
        .put("time", event.time().toString())
        .put("by", event.by())
        .put("state", after.phase().name());
    notice.setAll(json);
    return Optional.of(
        new Notice(
            "msg_" + after.callId() + "_" + event.seq(), name, after.callId(), notice.toString()));
  }
}
