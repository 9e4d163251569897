package org.callvault.store;

import org.callvault.core.ChunkInfo;

/**
 * A chunk of one stream's audio as stored: where it sits ({@code info}) and its packets ({@link
 * ChunkPackets}).
 */
public record AudioChunk(String callId, ChunkInfo info, byte[] packets) {}
