package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.METADATA_BODY;
import static org.callvault.sip.SipTestMessages.SDP_BODY;
import static org.callvault.sip.SipTestMessages.siprecBody;
import static org.callvault.sip.SipTestMessages.siprecInvite;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutated and truncated versions of valid input: every parser either succeeds or refuses with a
 * {@link SipParseException}, never with another exception (DESIGN invariant 6: bad input is
 * rejected and survived). Seeded, so a failure is reproducible.
 */
class ParserRobustnessTest {

  private static final int ROUNDS = 3_000;
  private static final byte[] INTERESTING =
      "\r\n:;,<>\"\\ =/-@0123456789\t\u0000\u00FF".getBytes(StandardCharsets.ISO_8859_1);

  private interface Parse {
    void run(byte[] input) throws SipParseException;
  }

  /** A copy of {@code valid} with a few bytes changed, inserted, removed, or the end cut off. */
  private static byte[] mutate(byte[] valid, Random random) {
    byte[] b = valid.clone();
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits && b.length > 0; e++) {
      int at = random.nextInt(b.length);
      switch (random.nextInt(5)) {
        case 0 -> b[at] = (byte) random.nextInt(256);
        case 1 -> b[at] = INTERESTING[random.nextInt(INTERESTING.length)];
        case 2 -> {
          byte[] longer = new byte[b.length + 1];
          System.arraycopy(b, 0, longer, 0, at);
          longer[at] = INTERESTING[random.nextInt(INTERESTING.length)];
          System.arraycopy(b, at, longer, at + 1, b.length - at);
          b = longer;
        }
        case 3 -> {
          byte[] shorter = new byte[b.length - 1];
          System.arraycopy(b, 0, shorter, 0, at);
          System.arraycopy(b, at + 1, shorter, at, b.length - at - 1);
          b = shorter;
        }
        default -> b = Arrays.copyOf(b, at);
      }
    }
    return b;
  }

  /** Runs {@code parse} on mutations of {@code valid}; returns how many were refused. */
  private static int survive(String what, byte[] valid, long seed, Parse parse) {
    Random random = new Random(seed);
    int refused = 0;
    for (int i = 0; i < ROUNDS; i++) {
      byte[] input = mutate(valid, random);
      try {
        parse.run(input);
      } catch (SipParseException expected) {
        refused++;
        assertTrue(
            expected.statusCode() >= 400 && expected.statusCode() <= 599, expected.getMessage());
        assertTrue(!expected.reason().isBlank());
      } catch (RuntimeException bug) {
        fail(
            what
                + " threw "
                + bug
                + " for input:\n"
                + new String(input, StandardCharsets.ISO_8859_1),
            bug);
      }
    }
    return refused;
  }

  @Test
  void mutatedDatagramsAreParsedOrRefusedAndNeverCrashTheParser() {
    SipParser parser = new SipParser();
    int refused =
        survive(
            "parseDatagram",
            siprecInvite(),
            1L,
            input -> {
              SipMessage m = parser.parseDatagram(input, 0, input.length);
              // What the parser accepted must also serialise and parse back the same.
              byte[] again = m.toBytes();
              assertArrayEquals(m.body(), parser.parseStreamMessage(again, 0, again.length).body());
            });
    assertTrue(refused > ROUNDS / 10, "mutations are actually refused: " + refused);
  }

  @Test
  void mutatedStreamsAreFramedOrRefusedAndNeverCrashTheFramer() {
    SipParser parser = new SipParser();
    survive(
        "streamMessageLength",
        siprecInvite(),
        2L,
        input -> {
          int length = parser.streamMessageLength(input, 0, input.length);
          if (length > 0) parser.parseStreamMessage(input, 0, length);
        });
  }

  @Test
  void mutatedErrorAnswersNeverCrash() {
    SipParser parser = new SipParser();
    Random random = new Random(3L);
    for (int i = 0; i < ROUNDS; i++) {
      byte[] input = mutate(siprecInvite(), random);
      try {
        parser.parseDatagram(input, 0, input.length);
      } catch (SipParseException e) {
        e.answer("t")
            .ifPresent(
                bytes -> assertEquals("SIP/2.0 ", new String(bytes, 0, 8, StandardCharsets.UTF_8)));
      }
    }
  }

  @Test
  void mutatedMultipartBodiesNeverCrashTheMultipartParser() {
    ContentType type = Multipart.contentType("foobar");
    survive("Multipart.parse", siprecBody(), 4L, input -> Multipart.parse(type, input));
  }

  @Test
  void mutatedSdpNeverCrashesTheSdpParserOrTheAnswer() {
    survive(
        "Sdp.parse",
        SDP_BODY.getBytes(StandardCharsets.UTF_8),
        5L,
        input -> {
          Sdp offer = Sdp.parse(input);
          SdpAnswer.answer(
              offer,
              new SdpOrigin("-", 1, 1),
              "10.0.0.1",
              java.util.Collections.nCopies(offer.media().size(), 40000),
              SdpAnswer.G711);
        });
  }

  @Test
  void mutatedMetadataNeverCrashesTheMetadataParser() {
    survive(
        "RecordingMetadata.parse",
        METADATA_BODY.getBytes(StandardCharsets.UTF_8),
        6L,
        input -> RecordingMetadata.parse(input).sendersByLabel());
  }
}
