package org.callvault.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Audio chunks that Cassandra could not take, kept on this node's disk until it can (DESIGN.md,
 * invariant 7). An append-only log in segment files under one directory; each record is a chunk
 * with its CRC-32C, so a record torn by a crash is found and dropped when the spool is opened
 * again. Appended records reach the disk (fsync) within {@code fsyncInterval}: a process that is
 * killed loses nothing appended, a machine that loses power loses at most that interval. A segment
 * is deleted once every chunk in it has been stored. Bounded by {@code maxBytes} and by keeping
 * {@code minFreeBytes} free on its disk: beyond that a chunk is refused.
 *
 * <p>A chunk's packets are sealed (AES-256-GCM, the header as associated data) under the node's
 * spool key: a keyset kept in the spool directory, wrapped by the {@link MasterKeyset}. So the
 * spool holds no audio in the clear, whether or not the recording's own keys can be had while
 * Cassandra is down; the header (call id, the chunk's place and timing) holds none.
 *
 * <pre>
 * record: magic "CVS2" (32 bits) | body length (32) | CRC-32C of the body (32) | body
 * body:   header length (16) | header, JSON {"callId", "info"} | the chunk's packets, sealed
 * </pre>
 *
 * A record of magic "CVS1" (an earlier version's, packets in the clear) is still read.
 */
public final class Spool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Spool.class);

  private static final int MAGIC = 0x43565332; // "CVS2": packets sealed
  private static final int CLEAR_MAGIC = 0x43565331; // "CVS1": an earlier version's, in the clear
  private static final int RECORD_HEAD = 12;

  /**
   * @param dir where the segments live; one node's alone (the spool locks it)
   * @param maxBytes the most the segments may take on disk
   * @param minFreeBytes what must stay free on the disk after a chunk is appended
   * @param segmentBytes when a segment is full and the next one is started
   * @param fsyncInterval the longest an appended chunk waits to be forced to the disk
   */
  public record Settings(
      Path dir, long maxBytes, long minFreeBytes, long segmentBytes, Duration fsyncInterval) {

    /** From {@code callvault.spool}; an empty {@code dir} is {@code fallbackDir}. */
    public static Settings from(Config spool, Path fallbackDir) {
      String dir = spool.getString("dir");
      return new Settings(
          dir.isBlank() ? fallbackDir : Path.of(dir),
          spool.getBytes("max-bytes"),
          spool.getBytes("min-free-bytes"),
          spool.getBytes("segment-bytes"),
          spool.getDuration("fsync-interval"));
    }
  }

  /** Where a spooled chunk is, to read it back and to say it is stored. */
  public record Entry(long segment, long offset, int length, long id) {}

  /** A chunk the spool cannot take: it is full, or its disk failed. */
  public static final class Refused extends Exception {
    private final boolean full;

    Refused(String message, boolean full) {
      super(message);
      this.full = full;
    }

    /** Full (by its bound or the disk's free space) rather than failed. */
    public boolean full() {
      return full;
    }
  }

  private static final class Segment {
    final long number;
    final Path path;
    final FileChannel channel;
    long size;
    int live;

    Segment(long number, Path path, FileChannel channel, long size) {
      this.number = number;
      this.path = path;
      this.channel = channel;
      this.size = size;
    }
  }

  private final Settings settings;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final TreeMap<Long, Segment> segments = new TreeMap<>();
  private final List<Entry> found = new ArrayList<>();

  /** The spooled chunks not yet stored, by id, with when each was appended (epoch millis). */
  private final ConcurrentSkipListMap<Long, Long> live = new ConcurrentSkipListMap<>();

  private final ScheduledExecutorService fsync;
  private Segment active;
  private long nextId;
  private long bytes;
  private boolean dirty;

  private final Aead key;

  private Spool(Settings settings, FileChannel lockChannel, FileLock lock, Aead key) {
    this.settings = settings;
    this.key = key;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.fsync =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "callvault-spool-fsync");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Opens the spool in {@code settings.dir()}, creating it if needed, and finds the chunks a
   * previous run left in it ({@link #found}). Refuses a directory another process holds.
   */
  public static Spool open(Settings settings, MasterKeyset master) throws IOException {
    Files.createDirectories(settings.dir());
    FileChannel lockChannel =
        FileChannel.open(
            settings.dir().resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException held) {
      lock = null; // held by this process
    }
    if (lock == null) {
      lockChannel.close();
      throw new IOException(
          "the spool directory " + settings.dir() + " is in use by another process");
    }
    Spool spool;
    try {
      spool = new Spool(settings, lockChannel, lock, key(settings.dir(), master));
    } catch (IOException | RuntimeException e) {
      lock.release();
      lockChannel.close();
      throw e;
    }
    spool.scan();
    long interval = Math.max(1, settings.fsyncInterval().toMillis());
    spool.fsync.scheduleWithFixedDelay(spool::force, interval, interval, TimeUnit.MILLISECONDS);
    return spool;
  }

  /**
   * The spool's key: made with the spool, kept beside its segments wrapped by the master keyset;
   * opened by any of its keys and wrapped again by its primary, so a rotation keeps it readable.
   */
  private static Aead key(Path dir, MasterKeyset master) throws IOException {
    Path file = dir.resolve("spool.key");
    byte[] boundTo = "callvault-spool".getBytes(StandardCharsets.UTF_8);
    try {
      KeysetHandle keyset =
          Files.exists(file)
              ? TinkProtoKeysetFormat.parseEncryptedKeyset(
                  Files.readAllBytes(file), master.aead(), boundTo)
              : KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
      // Wrapped (again) under the master keyset's primary key: after a rotation the old master key
      // can be retired without losing the spool.
      Path fresh = dir.resolve("spool.key.new");
      Files.write(
          fresh, TinkProtoKeysetFormat.serializeEncryptedKeyset(keyset, master.aead(), boundTo));
      Files.move(
          fresh,
          file,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return keyset.getPrimitive(RegistryConfiguration.get(), Aead.class);
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "the spool key in "
              + file
              + " does not open under the master keyset (was it made under another?): "
              + e.getMessage(),
          e);
    }
  }

  /** The chunks a previous run spooled and did not store, in the order they were appended. */
  public synchronized List<Entry> found() {
    return List.copyOf(found);
  }

  /** Appends {@code chunk}; refuses it when the spool is full or its disk fails. */
  public synchronized Entry append(AudioChunk chunk) throws Refused {
    ByteBuffer record = encode(chunk);
    int length = record.remaining();
    if (bytes + length > settings.maxBytes())
      throw new Refused(
          "the spool holds " + bytes + " bytes, its limit is " + settings.maxBytes(), true);
    try {
      long free = Files.getFileStore(settings.dir()).getUsableSpace();
      if (free - length < settings.minFreeBytes())
        throw new Refused(
            "the spool's disk has "
                + free
                + " bytes free, "
                + settings.minFreeBytes()
                + " must stay free",
            true);
      if (active == null || active.size >= settings.segmentBytes()) roll();
      long offset = active.size;
      while (record.hasRemaining()) active.channel.write(record, offset + record.position());
      active.size += length;
      active.live++;
      bytes += length;
      dirty = true;
      long id = nextId++;
      live.put(id, System.currentTimeMillis());
      return new Entry(active.number, offset, length, id);
    } catch (IOException e) {
      throw new Refused("the spool could not be written: " + e.getMessage(), false);
    }
  }

  /** Reads a spooled chunk back. */
  public AudioChunk read(Entry entry) throws IOException {
    Segment segment;
    synchronized (this) {
      segment = segments.get(entry.segment());
    }
    if (segment == null) throw new IOException("spool segment " + entry.segment() + " is gone");
    ByteBuffer record = ByteBuffer.allocate(entry.length());
    while (record.hasRemaining()) {
      int n = segment.channel.read(record, entry.offset() + record.position());
      if (n < 0) throw new IOException("spool segment " + entry.segment() + " is cut short");
    }
    record.flip();
    AudioChunk chunk = decode(record);
    if (chunk == null)
      throw new IOException(
          "spooled chunk at " + entry.segment() + ":" + entry.offset() + " fails its checksum");
    return chunk;
  }

  /** The chunk is stored: the spool need not keep it; a segment all stored is deleted. */
  public synchronized void stored(Entry entry) {
    live.remove(entry.id());
    Segment segment = segments.get(entry.segment());
    if (segment == null || --segment.live > 0) return;
    bytes -= segment.size;
    if (segment == active) {
      try {
        segment.channel.truncate(0);
        segment.size = 0;
        return;
      } catch (IOException e) {
        log.warn("could not empty spool segment {}: {}", segment.path, e.getMessage());
      }
      active = null;
    }
    segments.remove(segment.number);
    try {
      segment.channel.close();
      Files.deleteIfExists(segment.path);
    } catch (IOException e) {
      log.warn("could not delete spool segment {}: {}", segment.path, e.getMessage());
    }
  }

  /** The bytes the spool takes on disk now. */
  public synchronized long bytes() {
    return bytes;
  }

  /** The fraction of its {@code maxBytes} the spool takes now (0–1). */
  public synchronized double fullness() {
    return (double) bytes / settings.maxBytes();
  }

  /** The chunks spooled and not yet stored. */
  public int chunks() {
    return live.size();
  }

  /** When the oldest chunk not yet stored was spooled (epoch millis), or 0 with none. */
  public long oldestMillis() {
    Map.Entry<Long, Long> first = live.firstEntry();
    return first == null ? 0 : first.getValue();
  }

  @Override
  public void close() {
    // Not interrupted: an fsync interrupted closes its channel.
    fsync.shutdown();
    try {
      if (!fsync.awaitTermination(30, TimeUnit.SECONDS))
        log.warn("the spool's fsync did not finish within 30 s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    force();
    synchronized (this) {
      closeFiles();
    }
  }

  private void closeFiles() {
    for (Segment segment : segments.values()) {
      try {
        segment.channel.close();
      } catch (IOException e) {
        log.warn("could not close spool segment {}: {}", segment.path, e.getMessage());
      }
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("could not release the spool's lock: {}", e.getMessage());
    }
  }

  /**
   * Forces what was appended to the disk. The fsync runs outside the spool's lock: {@link #append}
   * runs on a media event loop, and an fsync on a busy disk can take a long time. What was appended
   * before the files were taken is covered; what is appended meanwhile marks the spool dirty again.
   */
  private void force() {
    List<Segment> dirtySegments = new ArrayList<>();
    synchronized (this) {
      if (!dirty || active == null) return;
      dirty = false;
      dirtySegments.add(active);
      for (Segment segment : segments.values())
        if (segment != active && segment.live > 0) dirtySegments.add(segment);
    }
    for (Segment segment : dirtySegments) {
      try {
        segment.channel.force(false);
      } catch (java.nio.channels.ClosedChannelException stored) {
        // Every chunk in it was stored meanwhile, and the segment deleted.
      } catch (IOException e) {
        log.error("could not force spool segment {} to disk: {}", segment.path, e.getMessage());
        synchronized (this) {
          dirty = true;
        }
      }
    }
  }

  private void roll() throws IOException {
    long number = segments.isEmpty() ? 1 : segments.lastKey() + 1;
    Path path = settings.dir().resolve(String.format("segment-%012d.spool", number));
    FileChannel channel =
        FileChannel.open(
            path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    active = new Segment(number, path, channel, 0); // the one before is forced with the next
    segments.put(number, active);
  }

  /** Reads every segment a previous run left; a torn record ends its segment there. */
  private void scan() throws IOException {
    List<Path> paths;
    try (Stream<Path> files = Files.list(settings.dir())) {
      paths = files.filter(p -> p.getFileName().toString().endsWith(".spool")).sorted().toList();
    }
    for (Path path : paths) {
      String name = path.getFileName().toString();
      long number = Long.parseLong(name.substring("segment-".length(), name.indexOf('.')));
      FileChannel channel =
          FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      Segment segment = new Segment(number, path, channel, 0);
      long size = channel.size();
      long offset = 0;
      ByteBuffer head = ByteBuffer.allocate(RECORD_HEAD);
      while (offset + RECORD_HEAD <= size) {
        head.clear();
        channel.read(head, offset);
        head.flip();
        int bodyLength = head.getInt(4);
        if ((head.getInt(0) != MAGIC && head.getInt(0) != CLEAR_MAGIC)
            || bodyLength < 2
            || offset + RECORD_HEAD + bodyLength > size) break;
        ByteBuffer record = ByteBuffer.allocate(RECORD_HEAD + bodyLength);
        channel.read(record, offset);
        record.flip();
        if (decode(record) == null) break;
        long id = nextId++;
        found.add(new Entry(number, offset, RECORD_HEAD + bodyLength, id));
        live.put(id, System.currentTimeMillis());
        segment.live++;
        offset += RECORD_HEAD + bodyLength;
      }
      if (offset < size) {
        log.warn(
            "spool segment {}: {} bytes after the last whole record (a write torn by a crash)"
                + " are dropped",
            path,
            size - offset);
        channel.truncate(offset);
      }
      segment.size = offset;
      bytes += offset;
      if (segment.live == 0) {
        channel.close();
        Files.delete(path);
        bytes -= offset;
      } else {
        segments.put(number, segment);
      }
    }
    if (!found.isEmpty())
      log.info(
          "the spool in {} holds {} chunks ({} bytes) not yet stored",
          settings.dir(),
          found.size(),
          bytes);
  }

  private ByteBuffer encode(AudioChunk chunk) {
    ObjectNode header = Json.MAPPER.createObjectNode();
    header.put("callId", chunk.callId());
    header.set("info", Json.MAPPER.valueToTree(chunk.info()));
    byte[] head = header.toString().getBytes(StandardCharsets.UTF_8);
    byte[] sealed;
    try {
      sealed = key.encrypt(chunk.packets(), head);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM failed: " + e, e);
    }
    int bodyLength = 2 + head.length + sealed.length;
    ByteBuffer record = ByteBuffer.allocate(RECORD_HEAD + bodyLength);
    record.putInt(MAGIC).putInt(bodyLength).putInt(0);
    record.putShort((short) head.length).put(head).put(sealed);
    CRC32C crc = new CRC32C();
    crc.update(record.array(), RECORD_HEAD, bodyLength);
    record.putInt(8, (int) crc.getValue());
    record.flip();
    return record;
  }

  /**
   * The chunk in a whole record, or null when the record is not one, fails its checksum or does not
   * open under the spool key.
   */
  private AudioChunk decode(ByteBuffer record) {
    int magic = record.remaining() < RECORD_HEAD + 2 ? 0 : record.getInt(0);
    if (magic != MAGIC && magic != CLEAR_MAGIC) return null;
    int bodyLength = record.getInt(4);
    if (record.remaining() != RECORD_HEAD + bodyLength) return null;
    CRC32C crc = new CRC32C();
    crc.update(record.array(), record.arrayOffset() + RECORD_HEAD, bodyLength);
    if ((int) crc.getValue() != record.getInt(8)) return null;
    int headLength = Short.toUnsignedInt(record.getShort(RECORD_HEAD));
    if (2 + headLength > bodyLength) return null;
    try {
      byte[] head = new byte[headLength];
      System.arraycopy(record.array(), RECORD_HEAD + 2, head, 0, headLength);
      JsonNode header = Json.MAPPER.readTree(new String(head, StandardCharsets.UTF_8));
      ChunkInfo info = Json.MAPPER.treeToValue(header.get("info"), ChunkInfo.class);
      byte[] packets = new byte[bodyLength - 2 - headLength];
      System.arraycopy(record.array(), RECORD_HEAD + 2 + headLength, packets, 0, packets.length);
      if (magic == MAGIC) packets = key.decrypt(packets, head);
      return new AudioChunk(header.get("callId").asText(), info, packets);
    } catch (IOException | RuntimeException | GeneralSecurityException e) {
      return null;
    }
  }
}
