package org.callvault.core;

/** The audio codecs a stream may carry, with their static RTP payload types (RFC 3551 §6). */
public enum Codec {
  PCMU(0),
  PCMA(8),
  G722(9);

  /** The static RTP payload type of RFC 3551. */
  public final int payloadType;

  Codec(int payloadType) {
    this.payloadType = payloadType;
  }
}
