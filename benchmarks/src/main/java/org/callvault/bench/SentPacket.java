package org.callvault.bench;

/**
 * One genuine RTP packet as it left the stream's real source.
 *
 * @param index the stream's slot index {@code k}; the payload is {@link Pattern#payload(long,
 *     long)} of it
 * @param ssrc the SSRC in its header (unsigned 32 bits)
 * @param seq its sequence number (0..65535)
 * @param timestamp its RTP timestamp (unsigned 32 bits)
 * @param marker whether the marker bit was set (first packet, after an SSRC change or a sender
 *     pause)
 * @param sendNanos {@link System#nanoTime()} just before it was handed to the socket
 * @param sendWallMicros wall-clock microseconds since the epoch at the same moment
 * @param duplicate the second copy of a packet sent twice
 * @param reordered a packet held back and sent after its successor
 */
public record SentPacket(
    long index,
    long ssrc,
    int seq,
    long timestamp,
    boolean marker,
    long sendNanos,
    long sendWallMicros,
    boolean duplicate,
    boolean reordered) {}
