package org.callvault.it;

/**
 * The machine the integration tests share, as a JUnit resource lock. Tests that run clusters, loads
 * or failovers on a clock hold it alone ({@code @ResourceLock(Machine.LOCK)}); the light ones share
 * it among themselves ({@code mode = READ}), never beside a test that holds it alone. {@link
 * CassandraOutageIT}, mostly waiting on its own Cassandra, holds no part of it and runs beside
 * either.
 */
final class Machine {

  static final String LOCK = "org.callvault.it.Machine";

  private Machine() {}
}
