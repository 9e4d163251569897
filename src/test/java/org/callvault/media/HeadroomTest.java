package org.callvault.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HeadroomTest {

  private static final long MS = 1_000_000L;

  private final AtomicLong now = new AtomicLong(1_000_000 * MS);
  private final Headroom headroom =
      new Headroom(new Headroom.Settings(Duration.ofMillis(50), 0.9, 0.5), now::get);

  @Test
  void aNodeWithNothingMeasuredYetTakesCalls() {
    assertNull(headroom.refusal());
    assertEquals(0, headroom.refused());
  }

  @Test
  void anEventLoopRunningLateRefusesNewCallsForTheNextSecondOnly() {
    headroom.eventLoopLag(2 * MS);
    assertNull(headroom.refusal(), "2 ms late is within 50 ms");
    headroom.eventLoopLag(80 * MS);
    now.addAndGet(900 * MS);
    headroom.eventLoopLag(1 * MS);
    String why = headroom.refusal();
    assertTrue(why != null && why.contains("ran 80 ms late") && why.contains("(50 ms)"), why);
    now.addAndGet(200 * MS); // the late run is now 1.1 s ago
    assertNull(headroom.refusal());
    assertEquals(1, headroom.refused());
  }

  @Test
  void busyCpusRefuseNewCallsByTheirMeanOverFiveSeconds() {
    for (int s = 0; s < 5; s++) {
      headroom.cpuLoad(0.97);
      now.addAndGet(1000 * MS);
    }
    String why = headroom.refusal();
    assertTrue(why != null && why.contains("97 % busy") && why.contains("max-cpu (90 %)"), why);
    // Two quieter seconds bring the mean of the last five under the limit: (3 × 0.97 + 2 × 0.7) /
    // 5.
    for (int s = 0; s < 2; s++) {
      headroom.cpuLoad(0.7);
      now.addAndGet(1000 * MS);
    }
    assertEquals(0.862, headroom.cpu(), 0.001);
    assertNull(headroom.refusal());
    headroom.cpuLoad(-1); // the platform does not know yet: not a sample
    assertEquals(0.862, headroom.cpu(), 0.001);
  }

  @Test
  void aSpoolFullerThanItsLimitRefusesNewCallsUntilItDrains() {
    headroom.spoolFull(0.6);
    String why = headroom.refusal();
    assertTrue(why != null && why.contains("spool is 60 % full"), why);
    headroom.spoolFull(0.1);
    assertNull(headroom.refusal());
  }

  @Test
  void limitsAtTheirOffValuesRefuseNothing() {
    Headroom off = new Headroom(new Headroom.Settings(Duration.ZERO, 1.0, 1.0), now::get);
    off.eventLoopLag(5_000 * MS);
    off.cpuLoad(1.0);
    off.spoolFull(1.0);
    assertNull(off.refusal());
  }
}
