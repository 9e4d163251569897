package org.callvault.sip;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Fresh identifiers for messages this server sends: Via branches (<a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-8.1.1.7">RFC 3261 §8.1.1.7</a>), tags
 * (§19.3) and Call-IDs (§8.1.1.4).
 *
 * <p>All are drawn from a {@link SecureRandom}: §19.3 asks for tags with at least 32 random bits,
 * and a guessable branch or tag would let a third party forge a CANCEL or BYE for a recording. A
 * recording server creates a few of these per call, so the cost does not matter.
 */
public final class SipIds {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private SipIds() {}

  /** {@code z9hG4bK} followed by 96 random bits in hex: unique across space and time. */
  public static String newBranch() {
    return Via.MAGIC_COOKIE + random(12);
  }

  /** 64 random bits in hex, twice the minimum of §19.3. */
  public static String newTag() {
    return random(8);
  }

  /** 128 random bits in hex, {@code @host} appended when a host is given. */
  public static String newCallId(String host) {
    String id = random(16);
    return host == null || host.isEmpty() ? id : id + "@" + host;
  }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HEX.formatHex(b);
  }
}
