package org.callvault.sip;

import java.util.Locale;
import java.util.Optional;

/**
 * The session timer a dialog runs on (<a href="https://www.rfc-editor.org/rfc/rfc4028">RFC
 * 4028</a>), as the answering side (the UAS) decides it for an INVITE, re-INVITE or UPDATE: the
 * {@code Session-Expires} interval and which side refreshes the session before it runs out.
 *
 * <p>A request whose sender supports timers ({@code Supported: timer} or {@code Require: timer}, or
 * a {@code Session-Expires} of its own) gets one; the interval is the one it asked for, at most
 * this side's, and never under the larger of the two {@code Min-SE}s; asked for less than this
 * side's minimum, it is refused with 422 and this side's {@code Min-SE} (§8.1). The refresher is
 * the one the request named, else the UAC: a recording server sends nothing in the dialog on its
 * own, so the client that keeps the call up keeps refreshing it.
 *
 * @param seconds the session interval
 * @param refresher {@code "uac"} or {@code "uas"}
 */
public record SessionTimer(long seconds, String refresher) {

  /** The smallest interval RFC 4028 allows anyone to ask for (§4, §5). */
  public static final long SMALLEST_MIN_SE = 90;

  /** The option tag of session timers. */
  public static final String TAG = "timer";

  /**
   * The timer this side answers {@code request} with; empty when its sender does not support
   * session timers.
   *
   * @param maxSeconds the longest interval this side grants (asked for more, it answers this)
   * @param minSeconds this side's {@code Min-SE}
   * @throws SipParseException 400 for a malformed {@code Session-Expires} or {@code Min-SE}, 422
   *     (with this side's {@code Min-SE} in {@link #tooSmall}) when the interval asked is shorter
   *     than {@code minSeconds}
   */
  public static Optional<SessionTimer> answer(SipRequest request, long maxSeconds, long minSeconds)
      throws SipParseException {
    Optional<String> asked = request.headers().first("Session-Expires");
    boolean supported =
        asked.isPresent()
            || request.supported().stream().anyMatch(TAG::equalsIgnoreCase)
            || request.require().stream().anyMatch(TAG::equalsIgnoreCase);
    if (!supported) return Optional.empty();
    long theirMin = 0;
    Optional<String> minSe = request.headers().first("Min-SE");
    if (minSe.isPresent()) theirMin = deltaSeconds(minSe.get().split(";", 2)[0], "Min-SE");
    long seconds = maxSeconds;
    String refresher = "uac";
    if (asked.isPresent()) {
      String[] parts = asked.get().split(";");
      long wanted = deltaSeconds(parts[0], "Session-Expires");
      if (wanted < minSeconds) throw tooSmall(minSeconds);
      seconds = Math.min(wanted, maxSeconds);
      for (int i = 1; i < parts.length; i++) {
        String[] param = parts[i].trim().split("=", 2);
        if (param.length == 2 && param[0].trim().equalsIgnoreCase("refresher")) {
          String r = param[1].trim().toLowerCase(Locale.ROOT);
          if (!r.equals("uac") && !r.equals("uas"))
            throw new SipParseException(
                400, "Bad Request: Session-Expires refresher is neither uac nor uas: " + r);
          refresher = r;
        }
      }
    }
    seconds = Math.max(seconds, Math.max(theirMin, minSeconds));
    return Optional.of(new SessionTimer(seconds, refresher));
  }

  /**
   * The 422 that refuses an interval under {@code minSeconds}; its {@code Min-SE} header is set.
   */
  private static SipParseException tooSmall(long minSeconds) {
    return new SipParseException(422, "Session Interval Too Small: the minimum is " + minSeconds);
  }

  /** Whether {@code e} is the 422 that needs this side's {@code Min-SE} in its response. */
  public static boolean isTooSmall(SipParseException e) {
    return e.statusCode() == 422;
  }

  private static long deltaSeconds(String value, String header) throws SipParseException {
    String v = value.trim();
    if (v.isEmpty() || v.length() > 10 || !v.chars().allMatch(Character::isDigit))
      throw new SipParseException(400, "Bad Request: " + header + " is not delta-seconds: " + v);
    return Long.parseLong(v);
  }

  /** The {@code Session-Expires} value of the answer, e.g. {@code 1800;refresher=uac}. */
  public String value() {
    return seconds + ";refresher=" + refresher;
  }

  /**
   * Whether the client refreshes: then this side expects a refresh before the interval ends, and
   * the answer carries {@code Require: timer} (§9).
   */
  public boolean clientRefreshes() {
    return refresher.equals("uac");
  }
}
