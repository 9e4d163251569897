package org.callvault.export.pcm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 44-byte header of a canonical PCM WAV file (RIFF, "fmt " chunk of 16 bytes, "data").
 *
 * <pre>
 *  0 "RIFF" | 4 file size - 8 | 8 "WAVE" | 12 "fmt " | 16 16 | 20 format 1 (PCM) | 22 channels
 * 24 sample rate | 28 byte rate | 32 block align | 34 bits per sample | 36 "data" | 40 data size
 * </pre>
 */
public final class Wav {

  public static final int HEADER_BYTES = 44;

  private Wav() {}

  /** The header of a 16-bit PCM file of {@code frames} frames; refuses lengths WAV cannot hold. */
  public static byte[] header(int channels, int sampleRate, long frames) {
    long dataBytes = frames * channels * 2;
    if (dataBytes > 0xFFFF_FFFFL - 36)
      throw new IllegalArgumentException(
          "a WAV file holds at most 4 GiB of audio; this export needs " + dataBytes + " bytes");
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {'R', 'I', 'F', 'F'})
        .putInt((int) (36 + dataBytes))
        .put(new byte[] {'W', 'A', 'V', 'E'});
    b.put(new byte[] {'f', 'm', 't', ' '})
        .putInt(16)
        .putShort((short) 1)
        .putShort((short) channels);
    b.putInt(sampleRate)
        .putInt(sampleRate * channels * 2)
        .putShort((short) (channels * 2))
        .putShort((short) 16);
    b.put(new byte[] {'d', 'a', 't', 'a'}).putInt((int) dataBytes);
    return b.array();
  }
}
