package org.callvault.api.access;

import java.util.Set;

/**
 * Who made a request, as its credential proved: {@code key:<id>} for an API key, {@code
 * user:<subject>} for a person's bearer token; and the roles the credential carries.
 */
public record Principal(String name, Set<Role> roles) {

  public Principal {
    roles = Set.copyOf(roles);
  }

  /** Whether this principal may use a route open to {@code allowed}. */
  public boolean mayUse(Set<Role> allowed) {
    return roles.stream().anyMatch(allowed::contains);
  }
}
