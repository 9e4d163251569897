package org.callvault.call;

import java.time.Instant;
import org.callvault.core.CborSerializable;

/**
 * A party of a call and the current state of its consent, with who changed it last and when.
 *
 * @param consentBy who recorded the current consent state; null while it was never changed
 * @param consentAt when the current consent state was recorded; null while it was never changed
 * @param name the party's display name, when known (SIPREC metadata); null otherwise
 * @param aor the party's address of record, e.g. sip:alice@example.com; null otherwise
 */
public record Party(
    String id,
    Role role,
    Consent consent,
    String consentBy,
    Instant consentAt,
    String name,
    String aor)
    implements CborSerializable {

  public Party(String id, Role role, Consent consent, String consentBy, Instant consentAt) {
    this(id, role, consent, consentBy, consentAt, null, null);
  }

  public enum Role {
    AGENT,
    CUSTOMER,
    OTHER
  }

  public enum Consent {
    UNKNOWN,
    GRANTED,
    DECLINED,
    WITHDRAWN;

    /** A party that declined or withdrew must not be recorded. */
    public boolean refused() {
      return this == DECLINED || this == WITHDRAWN;
    }
  }

  Party withConsent(Consent decision, String by, Instant at) {
    return new Party(id, role, decision, by, at, name, aor);
  }

  Party renamed(String name, String aor) {
    return new Party(id, role, consent, consentBy, consentAt, name, aor);
  }
}
