package org.callvault.bench;

import java.net.InetSocketAddress;

/** A stream whose RTP endpoint the server moved, as {@code --follow-moves} noticed it. */
public record Move(
    String callId,
    String label,
    InetSocketAddress from,
    InetSocketAddress to,
    long detectedNanos) {}
