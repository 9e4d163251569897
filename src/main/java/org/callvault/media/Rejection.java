package org.callvault.media;

import org.callvault.media.rtp.RtpProblem;

/**
 * Why a stream's receiver refused a datagram: the RTP problems of {@link RtpProblem}, and its own.
 */
enum Rejection {
  /** From an address other than the stream's declared or latched source. */
  FOREIGN_SOURCE,
  /** An RTP payload type that is neither the stream's codec nor its telephone-event type. */
  UNKNOWN_PAYLOAD_TYPE,
  /** More datagrams than a stream can carry: the excess of a flood is refused before parsing. */
  FLOOD,
  /** Larger than any RTP packet of a voice codec. */
  OVERSIZE,
  /** A telephone-event payload that is not one (RFC 4733 §2.3: four bytes at least). */
  BAD_TELEPHONE_EVENT,
  /**
   * A sequence number or timestamp far from the stream's (RFC 3550 A.1: more than 3000 ahead or 100
   * behind, or a timestamp ahead of the time that passed): a corrupt packet, or the first of a
   * sender's restart, which the next packet in sequence confirms.
   */
  SEQUENCE_JUMP,
  /** A packet with a new SSRC that the next packet did not confirm (RFC 3550 A.1 probation). */
  UNCONFIRMED_SSRC,
  /**
   * A relay envelope without this call's relay token, or truncated: never from the node that handed
   * the call off.
   */
  BAD_RELAY;

  /** The counter names of every reason, RTP problems first. */
  static final String[] NAMES;

  static final int COUNT;

  static {
    RtpProblem[] problems = RtpProblem.values();
    Rejection[] own = values();
    NAMES = new String[problems.length - 1 + own.length];
    int i = 0;
    for (RtpProblem p : problems) if (p != RtpProblem.NONE) NAMES[i++] = p.name();
    for (Rejection r : own) NAMES[i++] = r.name();
    COUNT = NAMES.length;
  }

  static int index(RtpProblem problem) {
    return problem.ordinal() - 1; // NONE is first and never counted
  }

  int index() {
    return RtpProblem.values().length - 1 + ordinal();
  }
}
