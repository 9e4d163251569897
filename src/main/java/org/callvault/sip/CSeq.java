package org.callvault.sip;

/**
 * The CSeq header field: a sequence number and the request method, <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-20.16">RFC 3261 §20.16</a>.
 *
 * <pre>
 * CSeq  =  "CSeq" HCOLON 1*DIGIT LWS Method
 *
 * CSeq: 4711 INVITE
 * </pre>
 *
 * <p>The number orders requests within a dialog (§12.2.2) and, with the Call-ID, ties an ACK to the
 * INVITE it acknowledges (§13.3.1.4). §8.1.1.5 limits it to less than 2<sup>31</sup>.
 *
 * @param number 0 .. 2<sup>31</sup>-1
 * @param method the method as received (methods are case-sensitive, §7.1)
 */
public record CSeq(long number, String method) {

  /**
   * §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer and MUST
   * be less than 2**31."
   */
  public static final long MAX_NUMBER = 0x7FFF_FFFFL;

  public CSeq {
    if (number < 0 || number > MAX_NUMBER)
      throw new IllegalArgumentException("CSeq number out of range: " + number);
    if (!SipText.isToken(method)) throw new IllegalArgumentException("not a method: " + method);
  }

  /**
   * Parses {@code 1*DIGIT LWS Method}.
   *
   * @throws SipParseException 400 with the reason
   */
  public static CSeq parse(String value) throws SipParseException {
    String[] parts = value.trim().split("[ \t]+");
    if (parts.length != 2) {
      throw SipParseException.badRequest("malformed CSeq \"" + SipText.printable(value, 60) + "\"");
    }
    if (!SipText.isDigits(parts[0])
        || parts[0].length() > 10
        || Long.parseLong(parts[0]) > MAX_NUMBER) {
      throw SipParseException.badRequest(
          "CSeq number \"" + SipText.printable(parts[0], 20) + "\" is not a number below 2^31");
    }
    if (!SipText.isToken(parts[1])) {
      throw SipParseException.badRequest(
          "malformed CSeq method \"" + SipText.printable(parts[1], 20) + "\"");
    }
    return new CSeq(Long.parseLong(parts[0]), parts[1]);
  }

  @Override
  public String toString() {
    return number + " " + method;
  }
}
