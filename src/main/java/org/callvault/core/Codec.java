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

  /**
   * The codec of a static payload type.
   *
   * @throws IllegalArgumentException when none of them has it: the caller let a payload type
   *     through that it should have refused
   */
  public static Codec ofPayloadType(int payloadType) {
    for (Codec codec : values()) if (codec.payloadType == payloadType) return codec;
    throw new IllegalArgumentException("no codec has static payload type " + payloadType);
  }
}
