package org.callvault.sip;

import java.util.ArrayList;
import java.util.List;

/**
 * The header fields every SIP message is read for, parsed once when the message is built so that
 * the accessors of {@link SipMessage} never fail. <a
 * href="https://www.rfc-editor.org/rfc/rfc3261#section-8.1.1">RFC 3261 §8.1.1</a> lists the
 * mandatory ones; the others are optional and parsed only when present.
 *
 * @param contentType null when absent
 * @param maxForwards -1 when absent
 */
record MessageHeaders(
    List<Via> vias,
    NameAddr from,
    NameAddr to,
    String callId,
    CSeq cseq,
    List<NameAddr> contacts,
    ContentType contentType,
    int maxForwards,
    List<String> require,
    List<String> supported,
    List<NameAddr> routes,
    List<NameAddr> recordRoutes) {

  /** Headers that may appear at most once (§7.3.1 allows repeats only for list headers). */
  private static final List<String> SINGLE =
      List.of("From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Type", "Content-Length");

  /**
   * Reads and checks the headers of a message.
   *
   * @throws SipParseException 400 naming the first missing, repeated or malformed header
   */
  static MessageHeaders read(Headers h) throws SipParseException {
    for (String name : List.of("Via", "From", "To", "Call-ID", "CSeq")) {
      if (!h.contains(name)) throw SipParseException.badRequest("missing " + name + " header");
    }
    for (String name : SINGLE) {
      if (h.all(name).size() > 1)
        throw SipParseException.badRequest("more than one " + name + " header");
    }
    List<Via> vias = new ArrayList<>();
    for (String v : h.all("Via")) vias.add(Via.parse(v));
    NameAddr from = address(h, "From");
    NameAddr to = address(h, "To");
    String callId = h.first("Call-ID").orElseThrow();
    if (callId.isEmpty() || callId.chars().anyMatch(c -> c <= ' ' || c == 0x7F)) {
      throw SipParseException.badRequest(
          "malformed Call-ID \"" + SipText.printable(callId, 80) + "\"");
    }
    CSeq cseq = CSeq.parse(h.first("CSeq").orElseThrow());
    List<NameAddr> contacts = addresses(h, "Contact");
    ContentType contentType = null;
    if (h.contains("Content-Type"))
      contentType = ContentType.parse(h.first("Content-Type").orElseThrow());
    int maxForwards = -1;
    if (h.contains("Max-Forwards")) {
      String mf = h.first("Max-Forwards").orElseThrow();
      // §20.22: an integer in the range 0-255.
      if (!SipText.isDigits(mf) || mf.length() > 3 || Integer.parseInt(mf) > 255) {
        throw SipParseException.badRequest(
            "Max-Forwards \"" + SipText.printable(mf, 20) + "\" is not 0-255");
      }
      maxForwards = Integer.parseInt(mf);
    }
    return new MessageHeaders(
        List.copyOf(vias),
        from,
        to,
        callId,
        cseq,
        contacts,
        contentType,
        maxForwards,
        optionTags(h, "Require"),
        optionTags(h, "Supported"),
        addresses(h, "Route"),
        addresses(h, "Record-Route"));
  }

  private static NameAddr address(Headers h, String name) throws SipParseException {
    try {
      return NameAddr.parse(h.first(name).orElseThrow());
    } catch (SipParseException e) {
      throw SipParseException.badRequest("malformed " + name + " header: " + e.reason());
    }
  }

  private static List<NameAddr> addresses(Headers h, String name) throws SipParseException {
    List<NameAddr> out = new ArrayList<>();
    for (String value : h.all(name)) {
      try {
        out.add(NameAddr.parse(value));
      } catch (SipParseException e) {
        throw SipParseException.badRequest("malformed " + name + " header: " + e.reason());
      }
    }
    return List.copyOf(out);
  }

  private static List<String> optionTags(Headers h, String name) throws SipParseException {
    List<String> tags = h.all(name);
    for (String tag : tags) {
      if (!SipText.isToken(tag)) {
        throw SipParseException.badRequest(
            "malformed option tag \"" + SipText.printable(tag, 40) + "\" in " + name);
      }
    }
    return tags;
  }
}
