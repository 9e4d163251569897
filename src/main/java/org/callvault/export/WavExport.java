package org.callvault.export;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.StreamSpec;
import org.callvault.export.pcm.G711;
import org.callvault.export.pcm.Wav;
import org.callvault.store.ChunkPackets;
import org.callvault.store.ChunkStore;

/**
 * Renders a call's stored audio as 8 kHz 16-bit PCM WAV, streamed from storage a chunk at a time:
 * memory stays at a few seconds of audio whatever the length of the call.
 */
public final class WavExport {

  /** How streams become channels. */
  public enum Layout {
    /** Every stream mixed into one channel. */
    MONO,
    /** The first two streams on the left and right channels. */
    STEREO,
    /** One stream, named by its label. */
    STREAM
  }

  /** Why an export cannot be made; {@code status} is the HTTP status that says so. */
  public static final class Refused extends Exception {
    public final int status;

    public Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** What will be rendered: the streams feeding each channel and the exact length. */
  public record Plan(
      Timeline timeline, int channels, List<String> labels, List<Integer> channelOf, long frames) {
    public long bytes() {
      return Wav.HEADER_BYTES + frames * channels * 2;
    }
  }

  /** Frames rendered at a time. */
  static final int WINDOW = Timeline.RATE;

  private WavExport() {}

  public static Plan plan(Timeline timeline, Layout layout, String label) throws Refused {
    List<StreamSpec> streams = timeline.streams();
    List<String> labels = new ArrayList<>();
    List<Integer> channelOf = new ArrayList<>();
    if (timeline.erasedAt() != null)
      throw new Refused(
          410,
          "call '"
              + timeline.callId()
              + "' was erased at "
              + timeline.erasedAt()
              + ": its audio can no longer be read (its ledger keeps the facts)");
    int channels;
    switch (layout) {
      case STREAM -> {
        if (label == null)
          throw new Refused(400, "layout=stream needs label=… (one of " + labelsOf(streams) + ")");
        if (streams.stream().noneMatch(s -> s.label().equals(label)))
          throw new Refused(
              404,
              "call '"
                  + timeline.callId()
                  + "' has no stream '"
                  + label
                  + "' (streams: "
                  + labelsOf(streams)
                  + ")");
        labels.add(label);
        channelOf.add(0);
        channels = 1;
      }
      case STEREO -> {
        if (streams.size() < 2)
          throw new Refused(
              400,
              "layout=stereo needs two streams; call '"
                  + timeline.callId()
                  + "' has "
                  + streams.size()
                  + " (use layout=mono or layout=stream)");
        labels.add(streams.get(0).label());
        labels.add(streams.get(1).label());
        channelOf.add(0);
        channelOf.add(1);
        channels = 2;
      }
      default -> {
        for (StreamSpec s : streams) {
          labels.add(s.label());
          channelOf.add(0);
        }
        channels = 1;
      }
    }
    for (String l : labels) {
      StreamSpec spec = streams.stream().filter(s -> s.label().equals(l)).findFirst().orElseThrow();
      if (spec.codec() == Codec.G722 && !timeline.chunks(l).isEmpty())
        throw new Refused(
            415,
            "stream '"
                + l
                + "' is G.722, which this version cannot decode to WAV yet; its chunks are stored"
                + " and kept");
    }
    return new Plan(timeline, channels, labels, channelOf, timeline.samples());
  }

  private static String labelsOf(List<StreamSpec> streams) {
    return String.join(", ", streams.stream().map(StreamSpec::label).toList());
  }

  /**
   * The G.711 law of a stream's codec.
   *
   * @throws IllegalArgumentException for {@link Codec#G722}, which is not G.711 and needs a decoder
   *     with state across packets ({@link #plan} refuses it first)
   */
  static G711.Law lawOf(Codec codec) {
    return switch (codec) {
      case PCMU -> G711.Law.ULAW;
      case PCMA -> G711.Law.ALAW;
      case G722 -> throw new IllegalArgumentException("not a G.711 codec: " + codec);
    };
  }

  /** Decoded samples of one packet and where they go. */
  private record Placement(long position, int channel, short[] samples) {}

  /** The header and the audio, exactly {@link Plan#bytes()} long. */
  public static Source<ByteString, NotUsed> render(Plan plan, ChunkStore store) {
    Timeline timeline = plan.timeline();
    Source<Placement, NotUsed> placements = null;
    for (int i = 0; i < plan.labels().size(); i++) {
      int channel = plan.channelOf().get(i);
      Source<Placement, NotUsed> stream =
          Source.from(timeline.chunks(plan.labels().get(i)))
              .mapAsync(2, info -> store.read(timeline.callId(), info))
              .mapConcat(chunk -> decode(timeline, chunk.info(), chunk.packets(), channel));
      placements =
          placements == null
              ? stream
              : placements.mergeSorted(stream, Comparator.comparingLong(Placement::position));
    }
    if (placements == null) placements = Source.empty();
    Placement end = new Placement(Long.MAX_VALUE, -1, null);
    Source<ByteString, NotUsed> audio =
        placements
            .concat(Source.single(end))
            .statefulMapConcat(
                () ->
                    new Renderer(
                            plan.channels(), plan.frames(), plan.labels().size() > plan.channels())
                        ::accept);
    return Source.single(
            ByteString.fromArray(Wav.header(plan.channels(), Timeline.RATE, plan.frames())))
        .concat(audio);
  }

  private static List<Placement> decode(
      Timeline timeline, ChunkInfo info, byte[] packets, int channel) {
    List<Placement> out = new ArrayList<>(info.packets());
    ChunkPackets.read(
        packets,
        (seq, ts, data, offset, length) -> {
          long position = timeline.position(info, ts);
          if (position < 0) return;
          short[] samples = new short[length];
          G711.decode(lawOf(info.codec()), data, offset, length, samples, 0);
          out.add(new Placement(position, channel, samples));
        });
    return out;
  }

  /**
   * Fills windows of frames and hands each on once no later placement can reach it. Placements
   * arrive in order of position; a packet may reach into the next window, so two are kept.
   */
  private static final class Renderer {
    private final int channels;
    private final long frames;
    private final boolean mix;
    private long windowStart;
    private int[] current;
    private int[] next;

    Renderer(int channels, long frames, boolean mix) {
      this.channels = channels;
      this.frames = frames;
      this.mix = mix;
      this.current = new int[WINDOW * channels];
      this.next = new int[WINDOW * channels];
    }

    List<ByteString> accept(Placement p) {
      List<ByteString> out = new ArrayList<>(1);
      long until = p.samples() == null ? frames : p.position();
      while (windowStart < frames && until >= windowStart + WINDOW) out.add(emit());
      if (p.samples() == null) {
        if (windowStart < frames) out.add(emit());
        return out;
      }
      for (int i = 0; i < p.samples().length; i++) {
        long frame = p.position() + i;
        if (frame < windowStart || frame >= frames) continue;
        long offset = frame - windowStart;
        if (offset >= 2L * WINDOW) continue; // never: a packet is far shorter than a window
        int[] target = offset < WINDOW ? current : next;
        int index = (int) (offset % WINDOW) * channels + p.channel();
        target[index] = mix ? target[index] + p.samples()[i] : p.samples()[i];
      }
      return out;
    }

    private ByteString emit() {
      int count = (int) Math.min(WINDOW, frames - windowStart);
      byte[] bytes = new byte[count * channels * 2];
      for (int i = 0; i < count * channels; i++) {
        int v = Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, current[i]));
        bytes[2 * i] = (byte) v;
        bytes[2 * i + 1] = (byte) (v >> 8);
      }
      int[] done = current;
      java.util.Arrays.fill(done, 0);
      current = next;
      next = done;
      windowStart += WINDOW;
      return ByteString.fromArrayUnsafe(bytes);
    }
  }
}
