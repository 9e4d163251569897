package org.callvault.media.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Arrays;
import org.callvault.media.StreamRecorderTest;
import org.junit.jupiter.api.Test;

class RelayEnvelopeTest {

  private static final byte[] RTP =
      StreamRecorderTest.rtp(0, 7, 1120, 42, StreamRecorderTest.payload(7));

  @Test
  void anEnvelopeCarriesTheTokenTheArrivalTimeTheSenderAndTheDatagramUnchanged() {
    InetSocketAddress sender = new InetSocketAddress("192.0.2.10", 40002);
    byte[] wrapped =
        RelayEnvelope.wrap(0x1122334455667788L, 1_795_000_000_123_456L, sender, RTP, 0, RTP.length);
    assertEquals(4 + 8 + 8 + 1 + 4 + 2 + RTP.length, wrapped.length);
    assertTrue(RelayEnvelope.isRelayed(wrapped, wrapped.length));
    RelayEnvelope envelope = new RelayEnvelope();
    assertTrue(envelope.parse(wrapped, wrapped.length));
    assertEquals(0x1122334455667788L, envelope.token());
    assertEquals(1_795_000_000_123_456L, envelope.wallMicros());
    assertEquals(sender, envelope.sender());
    assertArrayEquals(
        RTP,
        Arrays.copyOfRange(
            wrapped,
            envelope.payloadOffset(),
            envelope.payloadOffset() + envelope.payloadLength()));
  }

  @Test
  void anIpv6SenderTravelsWithItsSixteenBytes() {
    InetSocketAddress sender = new InetSocketAddress("2001:db8::7", 65535);
    byte[] wrapped = RelayEnvelope.wrap(-1L, 0, sender, RTP, 0, RTP.length);
    RelayEnvelope envelope = new RelayEnvelope();
    assertTrue(envelope.parse(wrapped, wrapped.length));
    assertEquals(sender, envelope.sender());
    assertEquals(-1L, envelope.token());
    assertEquals(RTP.length, envelope.payloadLength());
  }

  @Test
  void rtpAndRtcpAreNeverTakenForAnEnvelope() {
    assertFalse(
        RelayEnvelope.isRelayed(RTP, RTP.length),
        "RTP version 2 starts 0x80..0xBF; the magic starts 0x43");
    byte[] rtcp = {(byte) 0x80, (byte) 200, 0, 6};
    assertFalse(RelayEnvelope.isRelayed(rtcp, rtcp.length));
    assertFalse(
        RelayEnvelope.isRelayed(new byte[] {0x43, 0x56, 0x52}, 3), "shorter than the magic");
  }

  @Test
  void aTruncatedOrMalformedEnvelopeIsRefused() {
    byte[] wrapped =
        RelayEnvelope.wrap(5, 6, new InetSocketAddress("192.0.2.10", 4000), RTP, 0, RTP.length);
    RelayEnvelope envelope = new RelayEnvelope();
    for (int length : new int[] {4, 20, 21, 24, 26})
      assertFalse(envelope.parse(wrapped, length), "cut at " + length);
    assertTrue(envelope.parse(wrapped, 27), "an empty datagram after a whole header");
    assertEquals(0, envelope.payloadLength());
    byte[] badAddress = wrapped.clone();
    badAddress[20] = 5;
    assertFalse(
        envelope.parse(badAddress, badAddress.length),
        "an address of 5 bytes is neither IPv4 nor IPv6");
  }
}
