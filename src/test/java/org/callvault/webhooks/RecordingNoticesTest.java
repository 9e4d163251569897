package org.callvault.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.callvault.call.Call;
import org.callvault.call.CallSpec;
import org.callvault.call.Change;
import org.callvault.call.Event;
import org.callvault.call.Ledger;
import org.callvault.call.Party;
import org.callvault.call.Policy;
import org.callvault.core.Codec;
import org.callvault.core.GapCause;
import org.callvault.core.Json;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.Test;

/** The recording.* notices a ledger makes, their ids, and how long a refused one waits. */
class RecordingNoticesTest {

  private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
  private static final CallSpec SPEC =
      new CallSpec(
          "c-1",
          new Policy(
              Policy.ConsentMode.ONE_PARTY,
              Policy.OnDecline.STOP,
              true,
              300,
              Policy.PauseRendering.SILENCE,
              90),
          List.of(new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.GRANTED)),
          List.of(new StreamSpec("a", "agent", Codec.PCMU)));

  private Call call;

  private JsonNode notice(String expectedEvent, Change change) throws Exception {
    Event event =
        call == null
            ? Ledger.seal(1, T0, "crm", change, Ledger.GENESIS)
            : Ledger.seal(
                call.seq() + 1, T0.plusSeconds(call.seq()), "agent-7", change, call.lastHash());
    call = call == null ? Call.created("c-1", SPEC, event) : call.apply(event);
    RecordingNotices.Notice notice = RecordingNotices.of(call, event).orElseThrow();
    assertEquals(expectedEvent, notice.event());
    assertEquals("msg_c-1_" + event.seq(), notice.id(), "the same id whenever it is sent");
    JsonNode body = Json.MAPPER.readTree(notice.body());
    assertEquals(expectedEvent, body.path("event").asText());
    assertEquals("c-1", body.path("callId").asText());
    assertEquals(event.seq(), body.path("seq").asLong());
    assertEquals(event.time().toString(), body.path("time").asText());
    return body;
  }

  @Test
  void aCallsLifeMakesOneNoticePerEventThatChangesItsRecording() throws Exception {
    JsonNode started = notice("recording.started", new Change.CallCreated(SPEC));
    assertEquals("agent", started.path("parties").get(0).path("id").asText());
    assertEquals("GRANTED", started.path("parties").get(0).path("consent").asText());
    assertEquals("a", started.path("streams").get(0).path("label").asText());
    assertEquals("RECORDING", started.path("state").asText());

    JsonNode paused = notice("recording.paused", new Change.Paused("card payment"));
    assertEquals("card payment", paused.path("reason").asText());
    assertEquals("agent-7", paused.path("by").asText());
    assertEquals("PAUSED", paused.path("state").asText());

    notice("recording.resumed", new Change.Resumed(null));
    JsonNode gap =
        notice(
            "recording.gap",
            new Change.MediaGap("a", GapCause.STORE_FAILURE, "timeout", 1_000, 2_000_000, 100));
    assertEquals("STORE_FAILURE", gap.path("cause").asText());
    assertEquals("timeout", gap.path("detail").asText());
    assertEquals(100, gap.path("packets").asInt());
    assertEquals(1_000, gap.path("startWallMicros").asLong());

    JsonNode stopped = notice("recording.stopped", new Change.Stopped(null));
    assertEquals("STOPPED", stopped.path("state").asText());
    JsonNode erased = notice("recording.erased", new Change.RecordingErased("retention"));
    assertEquals("retention", erased.path("reason").asText());

    Event read =
        Ledger.seal(
            call.seq() + 1, T0, "qa", new Change.Accessed("audio", "supervisor"), call.lastHash());
    assertTrue(RecordingNotices.of(call.apply(read), read).isEmpty(), "a read makes none");
  }

  @Test
  void aRefusedNoticeWaitsTwiceAsLongEachTimeAndAtMostFiveMinutes() {
    assertEquals(Duration.ofSeconds(1), OutboxDelivery.wait(1));
    assertEquals(Duration.ofSeconds(2), OutboxDelivery.wait(2));
    assertEquals(Duration.ofSeconds(256), OutboxDelivery.wait(9));
    assertEquals(Duration.ofMinutes(5), OutboxDelivery.wait(10));
    assertEquals(Duration.ofMinutes(5), OutboxDelivery.wait(60));
    long total = 0;
    for (int a = 1; a < OutboxDelivery.ATTEMPTS; a++) total += OutboxDelivery.wait(a).toSeconds();
    assertEquals(4_711, total, "a notice is given up 79 minutes after its first refusal");
  }
}
