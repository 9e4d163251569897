package org.callvault.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SIPREC calls placed by sipp ({@code load.xml}: INVITE with SDP and metadata, ACK, RTP on label 1
 * for the call's length, BYE) at a fixed rate, and how long each INVITE waited for its 200, from
 * sipp's message trace: what {@code benchmarks/setup} measures of SIPREC.
 */
public final class SiprecSetups {

  private static final Pattern CALL_ID = Pattern.compile("(?mi)^Call-ID:\\s*(\\S+)");
  private static final Pattern CSEQ = Pattern.compile("(?mi)^CSeq:\\s*\\d+\\s+(\\S+)");

  private SiprecSetups() {}

  /**
   * What a burst did.
   *
   * @param inviteTo200Ms for each call answered 200, from its first INVITE sent to the 200, sorted
   * @param seconds from the first INVITE sent to the last 200 received
   */
  public record Burst(long succeeded, long failed, double[] inviteTo200Ms, double seconds) {}

  /**
   * Places {@code calls} calls of {@code callLength} at {@code rate} per second on the recording
   * server at host:port; sipp's files go to {@code target/it-logs/sipp-NAME-*}.
   */
  public static Burst place(
      String host, int port, int calls, double rate, Duration callLength, String name)
      throws IOException, InterruptedException {
    Path audio = new SippAudio(name.hashCode(), 500).writeRaw(Sipp.LOGS.resolve(name + ".ulaw"));
    Sipp run =
        Sipp.client("load", host, port)
            .name(name)
            .callIdPrefix(name)
            .calls(calls)
            .rate(rate)
            .callLength(callLength)
            .rtpAudio(audio, -1)
            .timeout(Duration.ofSeconds((long) (calls / rate) + callLength.toSeconds() + 60));
    Sipp.Result result = run.run();
    Map<String, Long> invited = new HashMap<>();
    Map<String, Long> answered = new HashMap<>();
    for (Sipp.TracedMessage message : result.messages()) {
      String text = message.text();
      Matcher callId = CALL_ID.matcher(text);
      Matcher cseq = CSEQ.matcher(text);
      if (!callId.find() || !cseq.find() || !cseq.group(1).equals("INVITE")) continue;
      if (!message.received() && message.isRequest("INVITE"))
        invited.putIfAbsent(callId.group(1), message.micros());
      else if (message.received() && message.startLine().startsWith("SIP/2.0 200"))
        answered.putIfAbsent(callId.group(1), message.micros());
    }
    List<Double> waits = new ArrayList<>();
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (Map.Entry<String, Long> answer : answered.entrySet()) {
      Long sent = invited.get(answer.getKey());
      if (sent == null) continue;
      waits.add((answer.getValue() - sent) / 1e3);
      first = Math.min(first, sent);
      last = Math.max(last, answer.getValue());
    }
    return new Burst(
        result.successfulCalls(),
        result.failedCalls(),
        waits.stream().mapToDouble(Double::doubleValue).sorted().toArray(),
        waits.isEmpty() ? 0 : (last - first) / 1e6);
  }
}
