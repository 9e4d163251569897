package org.callvault.api.access;

import java.util.Locale;

/**
 * What a caller may do, as contact centers divide the work. A credential carries one or more; each
 * route of the API names the roles that may use it.
 */
public enum Role {
  /** The integration that creates and controls calls (call-control code, an SBC's adapter). */
  RECORDER,
  /** QA supervisors: list, read and listen to calls. */
  SUPERVISOR,
  /** Compliance officers: verify ledgers, place legal holds, erase, see who accessed what. */
  COMPLIANCE,
  /** Operators: nodes, drain, configuration; no call's content. */
  ADMIN;

  /** The role's name as configuration and tokens spell it: {@code recorder}, {@code admin}… */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role named {@code id} (any case), or null for a name that is not a role. */
  public static Role named(String id) {
    for (Role role : values()) if (role.id().equalsIgnoreCase(id.trim())) return role;
    return null;
  }
}
