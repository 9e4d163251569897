package org.callvault.core;

/** Where a stream's RTP must be sent; its RTCP goes to {@code port + 1}. */
public record Endpoint(String host, int port) implements CborSerializable {}
