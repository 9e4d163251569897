package org.callvault.sip;

import java.util.Optional;

/**
 * The SDP and the recording metadata of a SIPREC request, taken from its body, <a
 * href="https://www.rfc-editor.org/rfc/rfc7866#section-6.3">RFC 7866 §6.3</a>.
 *
 * <p>An initial INVITE carries both in a {@code multipart/mixed} body; a re-INVITE or UPDATE may
 * carry only SDP, only metadata, or both. Metadata is recognised under both names in use: {@code
 * application/rs-metadata+xml} (registered by RFC 7865 §13) and {@code application/rs-metadata}
 * (RFC 7866's examples, which SBCs copied). A part of any other type is refused with 415 unless its
 * Content-Disposition says {@code handling=optional} (RFC 3261 §20.11, RFC 5621 §9.1).
 *
 * @param sdp the SDP bytes, if the request has an {@code application/sdp} body or part
 * @param metadata the metadata XML bytes, if the request has a metadata body or part
 */
public record SiprecBody(Optional<byte[]> sdp, Optional<byte[]> metadata) {

  /**
   * Splits the body of a request (or response) into its SDP and metadata.
   *
   * @throws SipParseException 400 for a broken multipart body, 415 for a required part or a body of
   *     a type the recording server does not understand
   */
  public static SiprecBody of(SipMessage message) throws SipParseException {
    if (message.bodyLength() == 0) return new SiprecBody(Optional.empty(), Optional.empty());
    ContentType type = message.contentType().orElseThrow(); // the parser requires it with a body
    if (type.is(ContentType.SDP))
      return new SiprecBody(Optional.of(message.body()), Optional.empty());
    if (isMetadata(type)) return new SiprecBody(Optional.empty(), Optional.of(message.body()));
    if (!type.is(ContentType.MULTIPART_MIXED)) throw unsupported(type);
    byte[] sdp = null;
    byte[] metadata = null;
    for (Multipart.Part part : Multipart.parse(type, message.body()).parts()) {
      ContentType partType = part.contentType();
      if (partType.is(ContentType.SDP)) {
        if (sdp != null) throw SipParseException.badRequest("more than one application/sdp part");
        sdp = part.body();
      } else if (isMetadata(partType)) {
        if (metadata != null)
          throw SipParseException.badRequest("more than one recording metadata part");
        metadata = part.body();
      } else if (!part.contentDisposition().map(ContentDisposition::isOptional).orElse(false)) {
        throw unsupported(partType);
      }
    }
    return new SiprecBody(Optional.ofNullable(sdp), Optional.ofNullable(metadata));
  }

  private static boolean isMetadata(ContentType type) {
    return type.is(ContentType.RS_METADATA) || type.is(ContentType.RS_METADATA_SHORT);
  }

  private static SipParseException unsupported(ContentType type) {
    return new SipParseException(
        415, "body of type " + type.mediaType() + " is not supported by the recording server");
  }
}
