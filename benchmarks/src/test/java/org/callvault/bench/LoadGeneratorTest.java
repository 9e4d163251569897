package org.callvault.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The load generator against {@link FakeCallVault}: what arrives is what the record says was sent.
 */
class LoadGeneratorTest {

  @Test
  void patternAvoidsSilenceAndPoisonCodesAndIsAPureFunction() {
    Set<Integer> seen = new HashSet<>();
    for (long k = 0; k < 2000; k++) {
      byte[] p = Pattern.payload(42, k);
      for (int i = 0; i < p.length; i++) {
        int b = p[i] & 0xFF;
        assertFalse(b == 0xFF || b == 0x7F || b == 0xD5 || b == 0x55 || b == 0x00, "byte " + b);
        assertEquals(p[i], Pattern.payloadByte(42, k, i));
        assertNotEquals(0, Codec.PCMU.decode(p[i]));
        seen.add(b);
      }
    }
    assertEquals(251, seen.size());
    assertFalse(java.util.Arrays.equals(Pattern.payload(42, 7), Pattern.payload(42, 8)));
    assertFalse(java.util.Arrays.equals(Pattern.payload(42, 7), Pattern.payload(43, 7)));
    assertEquals(0, Codec.ulawToLinear(0xFF));
    assertEquals(0, Codec.ulawToLinear(0x7F));
    assertEquals(-32124, Codec.ulawToLinear(0x00));
    assertEquals(8, Codec.alawToLinear(0xD5));
    assertEquals(-8, Codec.alawToLinear(0x55));
  }

  @Test
  @Timeout(30)
  void twentyCallsArriveComplete_inOrder_paced_withThePattern() throws Exception {
    try (FakeCallVault fake = new FakeCallVault(true)) {
      Summary s =
          LoadGenerator.run(
              new Options()
                  .api(fake.api())
                  .prefix("plain")
                  .calls(20)
                  .duration(Duration.ofSeconds(5))
                  .seed(7)
                  .stopCallsAtEnd(true));
      TimeUnit.MILLISECONDS.sleep(200);
      assertEquals(20 * 2 * 250, s.totals().unique());
      assertEquals(20 * 2 * 250, fake.totalDatagrams());
      for (CallRecord call : s.calls()) {
        assertTrue(
            fake.requests.contains(
                "POST /v1/calls/" + call.callId() + "/stop {\"by\":\"loadgen\"}"),
            call.callId());
        for (StreamRecord stream : call.streams()) {
          List<FakeCallVault.Datagram> got = fake.stream(call.callId(), stream.label()).list();
          assertEquals(250, got.size());
          assertEquals(250, stream.sent().size());
          assertEquals(1, stream.segments().size());
          Segment seg = stream.segments().get(0);
          for (int k = 0; k < got.size(); k++) {
            FakeCallVault.Datagram d = got.get(k);
            SentPacket sent = stream.sent().get(k);
            assertEquals(stream.source(), d.from());
            assertEquals(172, d.data().length);
            assertEquals(2, d.version());
            assertEquals(0, d.payloadType());
            assertEquals(k, sent.index());
            assertEquals((seg.firstSeq() + k) & 0xFFFF, d.seq());
            assertEquals(sent.seq(), d.seq());
            assertEquals(seg.timestampOf(k), d.timestamp());
            assertEquals(seg.ssrc(), d.ssrc());
            assertEquals(k == 0, d.marker());
            assertArrayEquals(Pattern.payload(stream.patternSeed(), k), d.payload());
          }
          // Paced at 20 ms, not sent in a burst: the 250 slots span about 4.98 s. How late slots
          // leave on a loaded machine is the capacity benchmark's to measure (it prints the
          // pacing), not a unit test's to assert: the tolerance only tells pacing from a burst.
          long first = stream.sent().get(0).sendNanos();
          long last = stream.sent().get(249).sendNanos();
          assertEquals(249 * 20.0, (last - first) / 1e6, 500.0);
        }
      }
      assertEquals(10_000L, s.pacing().slots(), "every slot's lateness is measured: " + s.pacing());
      // All call ids distinct streams; SSRCs distinct across the run.
      Set<Long> ssrcs = new HashSet<>();
      for (CallRecord c : s.calls())
        for (StreamRecord r : c.streams()) ssrcs.add(r.segments().get(0).ssrc());
      assertEquals(40, ssrcs.size());
    }
  }

  @Test
  @Timeout(30)
  void impairmentsArriveExactlyAsRecorded_andRepeatWithTheSeed() throws Exception {
    try (FakeCallVault fake = new FakeCallVault(true)) {
      Options o =
          new Options()
              .api(fake.api())
              .prefix("impaired")
              .calls(4)
              .duration(Duration.ofSeconds(2))
              .codec(Codec.PCMA)
              .loss(0.05)
              .reorder(0.05)
              .duplicate(0.05)
              .malformed(0.05)
              .foreign(0.05)
              .ssrcChangeAt(0.6)
              .senderPause(1.2, 0.4)
              .seed(99);
      Summary s = LoadGenerator.run(o);
      TimeUnit.MILLISECONDS.sleep(200);
      Counts t = s.totals();
      assertTrue(
          t.lost() > 0
              && t.reordered() > 0
              && t.duplicates() > 0
              && t.malformed() > 0
              && t.foreign() > 0,
          t.toString());
      for (CallRecord call : s.calls()) {
        for (StreamRecord stream : call.streams()) {
          Counts c = stream.counts();
          assertEquals(100, c.slots());
          assertEquals(20, c.silenced());
          assertEquals(1, c.ssrcChanges());
          assertEquals(2, stream.segments().size());
          assertEquals(30, stream.segments().get(1).firstIndex());
          assertNotEquals(stream.segments().get(0).ssrc(), stream.segments().get(1).ssrc());
          assertEquals(List.of(new Silence(60, 80)), stream.silences());
          assertEquals(c.slots() - c.silenced(), c.unique() + c.lost());
          assertEquals(c.lost(), stream.lostIndices().size());

          List<FakeCallVault.Datagram> got = fake.stream(call.callId(), stream.label()).list();
          List<FakeCallVault.Datagram> genuine = new ArrayList<>();
          int malformed = 0, foreign = 0;
          for (FakeCallVault.Datagram d : got) {
            if (!d.from().equals(stream.source())) {
              foreign++;
              assertTrue(d.wellFormed());
              byte[] p = d.payload();
              for (byte b : p) assertEquals(Pattern.POISON, b);
            } else if (!d.wellFormed()) {
              malformed++;
            } else {
              genuine.add(d);
            }
          }
          assertEquals(c.foreign(), foreign);
          assertEquals(c.malformed(), malformed);
          // Genuine packets arrive exactly in the recorded order with the recorded headers and the
          // pattern.
          assertEquals(stream.sent().size(), genuine.size());
          Set<Long> lost = new HashSet<>(stream.lostIndices());
          for (int i = 0; i < genuine.size(); i++) {
            FakeCallVault.Datagram d = genuine.get(i);
            SentPacket p = stream.sent().get(i);
            assertEquals(p.seq(), d.seq());
            assertEquals(p.timestamp(), d.timestamp());
            assertEquals(p.ssrc(), d.ssrc());
            assertEquals(p.marker(), d.marker());
            assertEquals(8, d.payloadType());
            assertFalse(lost.contains(p.index()));
            assertFalse(stream.silences().get(0).contains(p.index()));
            Segment seg = stream.segmentOf(p.index());
            assertEquals(seg.ssrc(), p.ssrc());
            assertEquals(seg.timestampOf(p.index()), p.timestamp());
            assertArrayEquals(Pattern.payload(stream.patternSeed(), p.index()), d.payload());
          }
          // Reordered packets come after their successor; duplicates right after their first copy.
          for (int i = 0; i < stream.sent().size(); i++) {
            SentPacket p = stream.sent().get(i);
            if (p.reordered()) assertTrue(i > 0 && stream.sent().get(i - 1).index() > p.index());
            if (p.duplicate()) assertEquals(stream.sent().get(i - 1).seq(), p.seq());
          }
          // Sequence numbers: one per genuine slot (sent or lost), none for paused slots.
          Map<Long, Integer> seqOf = new HashMap<>();
          for (SentPacket p : stream.sent()) seqOf.put(p.index(), p.seq());
          Segment second = stream.segments().get(1);
          assertEquals(second.firstSeq(), seqOf.getOrDefault(30L, second.firstSeq()));
          if (seqOf.containsKey(59L) && seqOf.containsKey(80L))
            assertEquals((seqOf.get(59L) + 1) & 0xFFFF, seqOf.get(80L));
          if (seqOf.containsKey(80L))
            assertTrue(stream.sent().stream().anyMatch(p -> p.index() == 80 && p.marker()));
        }
      }
      // The same seed gives the same run, whatever the timing.
      Summary again = LoadGenerator.run(o.prefix("impaired-again"));
      for (int c = 0; c < 4; c++)
        for (int i = 0; i < 2; i++) {
          StreamRecord a = s.calls().get(c).streams().get(i),
              b = again.calls().get(c).streams().get(i);
          assertEquals(a.lostIndices(), b.lostIndices());
          assertEquals(a.segments(), b.segments());
          assertEquals(a.patternSeed(), b.patternSeed());
          assertEquals(a.counts(), b.counts());
          for (int j = 0; j < a.sent().size(); j++) {
            SentPacket x = a.sent().get(j), y = b.sent().get(j);
            assertEquals(
                List.of(x.index(), x.seq(), x.timestamp(), x.duplicate(), x.reordered()),
                List.of(y.index(), y.seq(), y.timestamp(), y.duplicate(), y.reordered()));
          }
        }
    }
  }

  @Test
  @Timeout(30)
  void blockingActionsFallBetweenPackets_andMovedEndpointsAreFollowed() throws Exception {
    try (FakeCallVault fake = new FakeCallVault(true)) {
      int[] newPort = new int[1];
      Options o =
          new Options()
              .api(fake.api())
              .prefix("timeline")
              .calls(2)
              .duration(Duration.ofSeconds(3))
              .postToEachCall(1.0, "/pause", "{\"reason\":\"card\",\"by\":\"agent\"}")
              .postToEachCall(2.0, "/resume", "{\"by\":\"agent\"}")
              .at(
                  1.5,
                  "move timeline-2 customer",
                  true,
                  c -> newPort[0] = fake.move("timeline-2", "customer"))
              .followMoves(true)
              .followInterval(Duration.ofMillis(200));
      Summary s = LoadGenerator.run(o);
      TimeUnit.MILLISECONDS.sleep(200);
      assertEquals(3, s.actions().size());
      ActionResult pause = s.actions().get(0);
      assertTrue(pause.ok() && pause.blocking());
      for (CallRecord call : s.calls()) {
        long pausedAt = fake.requestNanos.get("pause " + call.callId());
        long resumedAt = fake.requestNanos.get("resume " + call.callId());
        assertTrue(pause.startNanos() <= pausedAt && pausedAt <= pause.endNanos());
        for (StreamRecord stream : call.streams()) {
          for (SentPacket p : stream.sent()) {
            if (p.index() < 50)
              assertTrue(p.sendNanos() < pausedAt, "slot " + p.index() + " before the pause");
            else assertTrue(p.sendNanos() > pausedAt, "slot " + p.index() + " after the pause");
            if (p.index() < 100) assertTrue(p.sendNanos() < resumedAt);
            else assertTrue(p.sendNanos() > resumedAt);
          }
        }
      }
      assertTrue(s.pacing().timelineShiftNanos() > 0);
      assertEquals(1, s.moves().size());
      Move m = s.moves().get(0);
      assertEquals("timeline-2", m.callId());
      assertEquals("customer", m.label());
      assertEquals(newPort[0], m.to().getPort());
      FakeCallVault.Stream moved = fake.stream("timeline-2", "customer");
      int atNew = 0;
      for (FakeCallVault.Datagram d : moved.list())
        if (((InetSocketAddress) d.on().getLocalAddress()).getPort() == newPort[0]) {
          atNew++;
          assertTrue(d.nanos() > m.detectedNanos());
        }
      assertTrue(atNew > 25 && atNew < 75, "packets at the new endpoint: " + atNew);
      assertEquals(150, moved.list().size());
    }
  }

  @Test
  @Timeout(20)
  void aFailingActionFailsTheRunWithItsSummary_andMissingRtpIsNamed() throws Exception {
    try (FakeCallVault fake = new FakeCallVault(false)) {
      LoadGenerator.ActionFailedException e =
          assertThrows(
              LoadGenerator.ActionFailedException.class,
              () ->
                  LoadGenerator.run(
                      new Options()
                          .api(fake.api())
                          .prefix("failing")
                          .duration(Duration.ofMillis(400))
                          .postToCall(0.2, "nope", "/pause", "{}")));
      assertTrue(e.getMessage().contains("404"), e.getMessage());
      assertEquals(40, e.summary().totals().unique());

      fake.announceRtp = false;
      Api.ApiException missing =
          assertThrows(
              Api.ApiException.class,
              () ->
                  LoadGenerator.run(
                      new Options()
                          .api(fake.api())
                          .prefix("nortp")
                          .duration(Duration.ofMillis(200))));
      assertTrue(
          missing.getMessage().contains("names no RTP endpoint for stream 'agent'"),
          missing.getMessage());
    }
    assertThrows(
        java.net.ConnectException.class,
        () ->
            LoadGenerator.run(
                new Options().api("http://127.0.0.1:1").duration(Duration.ofMillis(200))));
  }

  @Test
  @Timeout(20)
  void commandLinePrintsTheServersCountersAndTheLoss() throws Exception {
    try (FakeCallVault fake = new FakeCallVault(false)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
      int status =
          LoadGenerator.cli(
              new String[] {
                "--api",
                fake.api(),
                "--calls",
                "3",
                "--duration",
                "0.6",
                "--loss",
                "2%",
                "--malformed",
                "0.05",
                "--foreign",
                "0.05",
                "--prefix",
                "cli",
                "--stop-at-end",
                "--settle",
                "1",
                "--max-loss",
                "1"
              },
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      String printed = out.toString(StandardCharsets.UTF_8);
      assertEquals(0, status, printed + err.toString(StandardCharsets.UTF_8));
      assertTrue(printed.contains("== server =="), printed);
      assertTrue(printed.contains("loss: 0.0000% (0 of "), printed);
      assertTrue(printed.contains("rejected {"), printed);

      assertEquals(
          2,
          LoadGenerator.cli(
              new String[] {"--calls", "x"},
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8)));
      assertEquals(
          1,
          LoadGenerator.cli(
              new String[] {"--api", "http://127.0.0.1:1", "--duration", "1"},
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8)));
      assertNotNull(Cli.USAGE);
    }
  }
}
