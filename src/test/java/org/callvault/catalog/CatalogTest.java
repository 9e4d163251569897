package org.callvault.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.callvault.call.Call;
import org.callvault.call.CallSpec;
import org.callvault.call.Change;
import org.callvault.call.Ledger;
import org.callvault.call.Party;
import org.callvault.call.Phase;
import org.callvault.call.Policy;
import org.callvault.call.SipSession;
import org.junit.jupiter.api.Test;

/** The listing's parameters, its page tokens, and a call's source as the listing names it. */
class CatalogTest {

  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  @Test
  void aListingWithoutParametersIsTheNewestFiftyOfTheLast31Days() {
    Catalog.Filter filter = Catalog.Filter.parse(Map.of(), NOW, Duration.ofDays(31));
    assertEquals(NOW, filter.to());
    assertEquals(NOW.minus(Duration.ofDays(31)), filter.from());
    assertEquals(50, filter.limit());
    assertNull(filter.state());
    assertNull(filter.party());
    assertNull(filter.after());
  }

  @Test
  void everyParameterIsRead() {
    Catalog.Filter filter =
        Catalog.Filter.parse(
            Map.of(
                "from", "2026-12-01T00:00:00Z",
                "to", "2026-12-02T00:00:00Z",
                "party", " sip:alice@example.com ",
                "state", "stopped",
                "source", "10.0.0.7",
                "incomplete", "true",
                "limit", "500",
                "pageToken", Catalog.token(new CatalogStore.Place(NOW, "call-7"))),
            NOW,
            Duration.ofDays(31));
    assertEquals(Instant.parse("2026-12-01T00:00:00Z"), filter.from());
    assertEquals(Instant.parse("2026-12-02T00:00:00Z"), filter.to());
    assertEquals("sip:alice@example.com", filter.party());
    assertEquals(Phase.STOPPED, filter.state());
    assertEquals("10.0.0.7", filter.source());
    assertTrue(filter.incompleteOnly());
    assertEquals(500, filter.limit());
    assertEquals(new CatalogStore.Place(NOW, "call-7"), filter.after());
  }

  @Test
  void everyWrongParameterIsNamedInOneError() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Catalog.Filter.parse(
                    Map.of(
                        "state", "ringing",
                        "limit", "ten",
                        "to", "noon",
                        "pageToken", "%%%",
                        "size", "3"),
                    NOW,
                    Duration.ofDays(31)));
    for (String part :
        List.of(
            "state must be one of",
            "limit must be 1 to 500, was 'ten'",
            "to must be an ISO-8601 instant",
            "pageToken is not one this API gave",
            "unknown parameter 'size'"))
      assertTrue(e.getMessage().contains(part), part + " in: " + e.getMessage());
  }

  @Test
  void aTokenNamesThePlaceItWasMadeFromAndNothingElseReadsAsOne() {
    CatalogStore.Place place =
        new CatalogStore.Place(Instant.ofEpochMilli(1_796_000_123_456L), "a:b@c");
    assertEquals(place, Catalog.place(Catalog.token(place)));
    assertNull(Catalog.place("bm90IGEgdG9rZW4"), "base64 of 'not a token'");
    assertNull(Catalog.place("!!"));
  }

  @Test
  void aCallsSourceIsApiOrItsSiprecClientsHost() {
    assertEquals("api", Catalog.sourceOf(call(null)));
    assertEquals("10.0.0.7", Catalog.sourceOf(call("10.0.0.7:5060")));
    assertEquals("::1", Catalog.sourceOf(call("[::1]:5060")));
  }

  private static Call call(String src) {
    SipSession sip =
        src == null
            ? null
            : new SipSession(
                "sip-1",
                null,
                src,
                "UDP",
                "l",
                "r",
                "sip:rec@x",
                "sip:src@y",
                "sip:src@y",
                List.of(),
                null);
    CallSpec spec =
        new CallSpec(
            "c-1",
            new Policy(
                Policy.ConsentMode.ONE_PARTY,
                Policy.OnDecline.STOP,
                true,
                300,
                Policy.PauseRendering.SILENCE,
                90),
            List.of(new CallSpec.PartySpec("agent", Party.Role.AGENT, Party.Consent.UNKNOWN)),
            List.of(),
            null,
            sip);
    return Call.created(
        "c-1", spec, Ledger.seal(1, NOW, "crm", new Change.CallCreated(spec), Ledger.GENESIS));
  }
}
