package org.callvault.call;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.callvault.core.CborSerializable;
import org.callvault.core.StreamSpec;

/**
 * Everything a call is created with. {@code webhook}, when set, is where the call's {@code
 * media.moved} notices go (otherwise the node's {@code callvault.webhook.url}). Two creations of
 * the same call id are the same call only when their specs are equal; that is what makes {@code
 * POST /v1/calls} idempotent.
 */
public record CallSpec(
    String callId,
    Policy policy,
    List<PartySpec> parties,
    List<StreamSpec> streams,
    String webhook,
    SipSession sip)
    implements CborSerializable {

  private static final String CALL_ID_CHARS = "A-Za-z0-9._:@-";

  /** Call ids appear in URLs and SIP Call-IDs: letters, digits and {@code . _ - : @}. */
  public static final Pattern CALL_ID = Pattern.compile("[" + CALL_ID_CHARS + "]{1,128}");

  /** {@code text} with every character a call id may not hold replaced by {@code _}. */
  public static String callIdChars(String text) {
    return text.replaceAll("[^" + CALL_ID_CHARS + "]", "_");
  }

  /**
   * What is wrong with {@code callId} as a call id, naming it as {@code field}; null when nothing
   * is. The one wording of the rule, wherever a call id comes from.
   */
  public static String callIdProblem(String field, String callId) {
    if (callId != null && CALL_ID.matcher(callId).matches()) return null;
    return field + " must be 1 to 128 letters, digits or . _ - : @, was '" + callId + "'";
  }

  public CallSpec {
    parties = List.copyOf(parties);
    streams = List.copyOf(streams);
  }

  /** A call without a webhook of its own. */
  public CallSpec(String callId, Policy policy, List<PartySpec> parties, List<StreamSpec> streams) {
    this(callId, policy, parties, streams, null, null);
  }

  /** A call created through the API, not SIPREC. */
  public CallSpec(
      String callId,
      Policy policy,
      List<PartySpec> parties,
      List<StreamSpec> streams,
      String webhook) {
    this(callId, policy, parties, streams, webhook, null);
  }

  /**
   * A party as declared at creation, with the consent already known then (e.g. from an IVR), and
   * its display name and address of record when known (null otherwise).
   */
  public record PartySpec(
      String id, Party.Role role, Party.Consent consent, String name, String aor)
      implements CborSerializable {
    public PartySpec(String id, Party.Role role, Party.Consent consent) {
      this(id, role, consent, null, null);
    }

    /** The party with its name and address of record sealed (or opened) by {@code how}. */
    public PartySpec with(java.util.function.BinaryOperator<String> how) {
      return new PartySpec(id, role, consent, how.apply("name", name), how.apply("aor", aor));
    }
  }

  /** The spec with every party's name and address of record sealed by {@code cipher}. */
  public CallSpec sealed(org.callvault.core.PersonalData.Cipher cipher) {
    return new CallSpec(
        callId,
        policy,
        parties.stream().map(p -> p.with(cipher::seal)).toList(),
        streams,
        webhook,
        sip);
  }

  /** What is wrong with this spec, naming each field; empty when the call can be created. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    String badId = callIdProblem("callId", callId);
    if (badId != null) problems.add(badId);
    if (webhook != null && !webhook.matches("https?://[^\\s]+"))
      problems.add("webhook must be an http:// or https:// URL, was '" + webhook + "'");
    if (policy == null) problems.add("policy is required");
    else problems.addAll(policy.problems());
    if (parties.isEmpty()) problems.add("parties must name at least one party");
    Set<String> partyIds = new HashSet<>();
    for (int i = 0; i < parties.size(); i++) {
      PartySpec party = parties.get(i);
      if (party.id() == null || !StreamSpec.LABEL.matcher(party.id()).matches())
        problems.add(
            "parties["
                + i
                + "].id must be "
                + StreamSpec.LABEL_RULE
                + ", was '"
                + party.id()
                + "'");
      else if (!partyIds.add(party.id()))
        problems.add("parties[" + i + "].id '" + party.id() + "' is a duplicate");
      if (party.role() == null) problems.add("parties[" + i + "].role is required");
      if (party.consent() == Party.Consent.WITHDRAWN)
        problems.add(
            "parties[" + i + "].consent cannot start as WITHDRAWN (nothing was granted yet)");
    }
    Set<String> labels = new HashSet<>();
    for (int i = 0; i < streams.size(); i++) {
      StreamSpec stream = streams.get(i);
      if (stream.label() == null || !StreamSpec.LABEL.matcher(stream.label()).matches())
        problems.add(
            "streams["
                + i
                + "].label must be "
                + StreamSpec.LABEL_RULE
                + ", was '"
                + stream.label()
                + "'");
      else if (!labels.add(stream.label()))
        problems.add("streams[" + i + "].label '" + stream.label() + "' is a duplicate");
      if (stream.party() == null) problems.add("streams[" + i + "].party is required");
      else if (!partyIds.contains(stream.party()))
        problems.add("streams[" + i + "].party '" + stream.party() + "' is not one of the parties");
      if (stream.codec() == null) problems.add("streams[" + i + "].codec is required");
      problems.addAll(stream.problems("streams[" + i + "]"));
    }
    return problems;
  }
}
