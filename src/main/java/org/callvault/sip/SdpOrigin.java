package org.callvault.sip;

import java.security.SecureRandom;

/**
 * The values of the {@code o=} line the recording server writes in its SDP, <a
 * href="https://www.rfc-editor.org/rfc/rfc8866#section-5.2">RFC 8866 §5.2</a>.
 *
 * <pre>
 * o=&lt;username&gt; &lt;sess-id&gt; &lt;sess-version&gt; IN IP4 &lt;unicast-address&gt;
 * </pre>
 *
 * <p>RFC 3264 §8 requires the session id to stay the same for the whole dialog and the version to
 * grow with each new description, so this is kept with the dialog (in the call's ledger, so that
 * the node that takes a call over after a failover continues the sequence) and advanced with {@link
 * #next()}. Plain strings and longs, nothing else, so it persists as is.
 *
 * @param username {@code -} or a name without spaces
 * @param sessionId numeric, fixed for the dialog
 * @param version numeric, incremented for each new SDP the server sends in the dialog
 */
public record SdpOrigin(String username, long sessionId, long version) {

  private static final SecureRandom RANDOM = new SecureRandom();

  public SdpOrigin {
    if (username.isEmpty() || username.chars().anyMatch(c -> c <= ' ')) {
      throw new IllegalArgumentException("username must be non-empty without spaces: " + username);
    }
    if (sessionId < 0 || version < 0) throw new IllegalArgumentException("negative o= number");
  }

  /**
   * A new origin for a dialog: a random session id below 2<sup>62</sup> (RFC 8866 suggests an NTP
   * timestamp; any unique number will do) and version 1.
   */
  public static SdpOrigin create(String username) {
    return new SdpOrigin(username, RANDOM.nextLong() >>> 2, 1);
  }

  /** The origin of the next description in the same dialog: same session id, version + 1. */
  public SdpOrigin next() {
    return new SdpOrigin(username, sessionId, version + 1);
  }
}
