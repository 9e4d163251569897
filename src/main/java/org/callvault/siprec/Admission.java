package org.callvault.siprec;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntSupplier;
import org.callvault.call.Policy;
import org.callvault.sip.SessionTimer;
import org.callvault.sip.SipIds;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipResponse;
import org.callvault.sip.Via;

/**
 * Whether this node takes a new recording session (an INVITE outside a dialog), decided from its
 * headers before its body is read, and the policy its call is recorded under.
 *
 * <pre>
 * checked in this order                                      else
 * the request comes from a configured SRC                    403
 * this server supports every option tag in Require           420 with Unsupported (RFC 3261 §8.2.2.3)
 * it is a recording session: Require: siprec, or a Contact
 *   with the +sip.src feature tag (RFC 7866 §6.1.1)          488 with Warning
 * the node records fewer calls than its limit                503 with Retry-After
 * </pre>
 *
 * <p>The limit is checked last so that a request the node would refuse anyway is not told to come
 * back later. The policy is the source's own ({@code callvault.sip.policies}, by SRC address: one
 * trunk records all parties, another one) or else the default.
 */
final class Admission {

  /** The option tags this server supports (RFC 7866 §5, RFC 4028). */
  private static final Set<String> SUPPORTED = Set.of("siprec", SessionTimer.TAG);

  private final RecordingServer.Settings settings;
  private final IntSupplier activeCalls;

  /**
   * @param activeCalls the calls whose media this node receives now
   */
  Admission(RecordingServer.Settings settings, IntSupplier activeCalls) {
    this.settings = settings;
    this.activeCalls = activeCalls;
  }

  /** The response that refuses {@code invite}; empty when it may become a call. */
  Optional<SipResponse> refusal(SipRequest invite) {
    String source = sourceOf(invite);
    if (!settings.allowedSources().contains(source))
      return Optional.of(
          Answers.refusal(
              invite, 403, "Forbidden: " + source + " is not a configured recording client"));
    List<String> unknown =
        invite.require().stream()
            .filter(t -> !SUPPORTED.contains(t.toLowerCase(Locale.ROOT)))
            .toList();
    if (!unknown.isEmpty()) {
      return Optional.of(
          SipResponse.to(invite, 420)
              .reason("Bad Extension: " + String.join(", ", unknown))
              .toTag(SipIds.newTag())
              .header("Unsupported", String.join(", ", unknown))
              .build());
    }
    boolean siprec =
        invite.require().stream().anyMatch(t -> t.equalsIgnoreCase("siprec"))
            || invite.contacts().stream().anyMatch(c -> c.hasParam("+sip.src"));
    if (!siprec)
      return Optional.of(
          Answers.refusal(
              invite,
              488,
              "Not Acceptable Here: not a recording session (expected Require: siprec or a +sip.src"
                  + " Contact)"));
    if (activeCalls.getAsInt() >= settings.maxCalls())
      return Optional.of(
          Answers.unavailable(
              invite,
              "Service Unavailable: this recorder is at its limit of "
                  + settings.maxCalls()
                  + " calls",
              settings.retryAfterSeconds()));
    return Optional.empty();
  }

  /** The policy of a call from {@code source}: its own, else the default. */
  Policy policyOf(String source) {
    return settings.policyBySource().getOrDefault(source, settings.defaultPolicy());
  }

  /** The address the request came from: the top Via's {@code received}, else its sent-by host. */
  static String sourceOf(SipRequest request) {
    Via top = request.topVia();
    return top.received().orElse(top.host());
  }

  /** The port it came from: the top Via's {@code rport}, else its sent-by port, else 5060. */
  static int sourcePortOf(SipRequest request) {
    Via top = request.topVia();
    return top.rport().orElse(top.port() > 0 ? top.port() : 5060);
  }
}
