package org.callvault.cluster;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/** What this node's cluster says of its members now: the one reading of "Up" for every use. */
final class Members {

  private final Cluster cluster;

  Members(ActorSystem<?> system) {
    this.cluster = Cluster.get(system);
  }

  /** This node's address, {@code pekko://callvault@host:port}. */
  String self() {
    return cluster.selfMember().address().toString();
  }

  MemberStatus selfStatus() {
    return cluster.selfMember().status();
  }

  /** How many members are Up, this one included. */
  int up() {
    int up = 0;
    for (Member m : cluster.state().getMembers()) if (m.status() == MemberStatus.up()) up++;
    return up;
  }

  /** Whether a member other than this one is Up: one that could take a call over now. */
  boolean anotherUp() {
    for (Member m : cluster.state().getMembers())
      if (m.status() == MemberStatus.up() && !m.equals(cluster.selfMember())) return true;
    return false;
  }

  /** Whether the member at {@code address} is Up. */
  boolean isUp(String address) {
    for (Member m : cluster.state().getMembers())
      if (m.address().toString().equals(address)) return m.status() == MemberStatus.up();
    return false;
  }
}
