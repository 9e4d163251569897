package org.callvault.bench;

/**
 * The kinds of malformed packet the generator sends from a stream's real source, in addition to its
 * genuine packets. Those with an RTP header carry the stream's SSRC and the sequence number and
 * timestamp of the genuine packet sent right after them, and {@link Pattern#POISON} payload.
 */
public enum Malformation {
  /** 1 to 11 bytes: shorter than the fixed RTP header. */
  TRUNCATED_HEADER,
  /** A full-size packet whose version is 0, 1 or 3. */
  WRONG_VERSION,
  /** CSRC count 15 (60 bytes of CSRC list) in a packet too short to hold them. */
  CSRC_BEYOND_PACKET,
  /** The extension bit set and an extension length running past the end of the packet. */
  EXTENSION_BEYOND_PACKET,
  /** The padding bit set and a padding count larger than the payload. */
  PADDING_BEYOND_PAYLOAD,
  /** A valid 12-byte header and no payload at all. */
  EMPTY_PAYLOAD,
  /** 1 to 200 random bytes whose version bits are never 2. */
  RANDOM_BYTES
}
