package org.callvault.call;

/** Where a call is in its life; the entity's command handlers are per phase. */
public enum Phase {
  /** ALL_PARTY: gates are closed until every party that has not refused has granted consent. */
  AWAITING_CONSENT,
  RECORDING,
  PAUSED,
  /**
   * onDecline STOP: a party declined or withdrew, so nothing is stored for the rest of the call.
   */
  CONSENT_REFUSED,
  STOPPED
}
