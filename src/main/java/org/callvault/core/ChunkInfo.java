package org.callvault.core;

/**
 * Where a stored audio chunk sits in its stream's timeline: about a second of one stream, keyed
 * deterministically by {@code (callId, label, epoch, n)}.
 *
 * <p>RTP sequence numbers and timestamps are extended (unwrapped) within the segment. The wall
 * clock of any sample follows from the anchor: {@code anchorWallMicros + (ts - anchorTs) * 1e6 /
 * 8000}.
 *
 * @param epoch the seq of the ledger event that recorded the endpoints the audio came in on
 * @param n the chunk's number within its stream and epoch, from 0
 * @param segment counts SSRC changes within the stream and epoch, from 0
 * @param endTs the timestamp just after the last sample of the last packet
 * @param startWallMicros the wall clock of the first sample
 * @param endWallMicros the wall clock just after the last sample
 * @param gatedFromTs on the first chunk stored after the stream's gate reopened, the timestamp of
 *     the first packet the closed gate dropped, in this chunk's segment: the stream's paused span
 *     runs from there to this chunk's {@code firstTs} by its own RTP clock; null otherwise
 */
public record ChunkInfo(
    String label,
    long epoch,
    long n,
    int segment,
    long ssrc,
    Codec codec,
    long firstSeq,
    long lastSeq,
    long firstTs,
    long endTs,
    int packets,
    long anchorTs,
    long anchorWallMicros,
    long startWallMicros,
    long endWallMicros,
    Long gatedFromTs)
    implements CborSerializable {}
