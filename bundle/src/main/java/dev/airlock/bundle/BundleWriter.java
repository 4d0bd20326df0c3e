package dev.airlock.bundle;

import dev.airlock.bundle.format.TarHeader;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a bundle tar whose layout is fixed before any blob is fetched: every entry's offset is computed from the
 * known sizes, the small parts are written at once, and blobs are then written straight into their place by
 * parallel downloads (one write per byte, no staging copy). A journal beside the {@code .partial} file lists the
 * blobs that are complete, so a killed build resumes; the output appears under its name only when whole. The
 * caller holds the per-target build lock.
 */
final class BundleWriter implements AutoCloseable {

  /** One tar member: a name, a size, and where its bytes come from. */
  record Item(String name, long size, byte[] bytes, Path file, Digest blob) {
    static Item bytes(String name, byte[] content) {
      return new Item(name, content.length, content, null, null);
    }

    static Item file(String name, Path file, long size) {
      return new Item(name, size, null, file, null);
    }

    static Item blob(String name, Digest digest, long size) {
      return new Item(name, size, null, null, digest);
    }
  }

  private static final String JOURNAL_HEADER = "airlock-partial-v1 ";

  private final Path target;
  private final Path partial;
  private final Path journal;
  private final List<Item> items;
  private final Map<Digest, Long> blobOffsets = new LinkedHashMap<>();
  private final Map<Digest, Long> blobSizes = new LinkedHashMap<>();
  /** Where the content of each in-memory item starts, by name, for {@link #finish}. */
  private final Map<String, Long> byteItemOffsets = new LinkedHashMap<>();
  /** Each item's header blocks (ustar, preceded by a PAX header when the name needs one), in item order. */
  private final List<byte[]> headers = new java.util.ArrayList<>();
  private final long totalSize;
  private final String planKey;
  private final long mtime;
  private FileChannel channel;
  private java.io.Writer journalOut;
  /** Blobs an interrupted run had partly written: how many of their first bytes the journal vouches for. */
  private final Map<Digest, Long> partlyWritten = new java.util.concurrent.ConcurrentHashMap<>();
  private static final String PARTIAL = "partial ";

  /**
   * @param items the entries in archive order
   * @param mtime modification time of every entry, epoch seconds
   */
  BundleWriter(Path target, List<Item> items, long mtime) {
    this.mtime = mtime;
    this.target = target;
    this.partial = target.resolveSibling("." + target.getFileName() + ".partial");
    this.journal = target.resolveSibling("." + target.getFileName() + ".partial.journal");
    this.items = List.copyOf(items);
    long pos = 0;
    MessageDigest key = Digest.sha256();
    for (Item i : items) {
      byte[] header = TarHeader.header(i.name(), i.size(), mtime);
      headers.add(header);
      if (i.bytes() != null) {
        byteItemOffsets.put(i.name(), pos + header.length);
      }
      if (i.blob() != null) {
        blobOffsets.put(i.blob(), pos + header.length);
        blobSizes.put(i.blob(), i.size());
        key.update((i.blob() + " " + i.size() + " " + (pos + header.length) + "\n").getBytes(StandardCharsets.UTF_8));
      }
      pos += header.length + (i.size() + 511) / 512 * 512;
    }
    this.totalSize = pos + 1024;
    key.update(Long.toString(totalSize).getBytes(StandardCharsets.UTF_8));
    // The journal vouches only for blobs at their offsets, so that is all a resumable plan must share.
    this.planKey = Digest.of(key).hex();
  }

  /**
   * Opens the partial file: resumes it when the journal is for the same plan, else starts afresh. Returns the
   * blobs already complete (not yet re-checked).
   */
  Set<Digest> open() {
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      Set<Digest> done = new HashSet<>();
      boolean resume = false;
      // A run killed after it appended the SBOMs left a longer file; its blobs are as good.
      if (Files.isRegularFile(journal) && Files.isRegularFile(partial) && Files.size(partial) >= totalSize) {
        List<String> lines = Files.readAllLines(journal, StandardCharsets.UTF_8);
        if (!lines.isEmpty() && lines.get(0).equals(JOURNAL_HEADER + planKey)) {
          resume = true;
          for (String l : lines.subList(1, lines.size())) {
            if (Digest.isDigest(l) && blobOffsets.containsKey(Digest.parse(l))) {
              done.add(Digest.parse(l));
            } else if (l.startsWith(PARTIAL)) {
              String[] parts = l.split(" ");
              if (parts.length == 3 && Digest.isDigest(parts[1]) && blobOffsets.containsKey(Digest.parse(parts[1]))) {
                try {
                  partlyWritten.merge(Digest.parse(parts[1]), Long.parseLong(parts[2]), Math::max);
                } catch (NumberFormatException ignored) {
                  // a torn last line: that progress is simply not reused
                }
              }
            }
          }
          done.forEach(partlyWritten::remove);
        }
      }
      channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      if (resume) {
        channel.truncate(totalSize);
      } else {
        channel.truncate(0);
        done.clear();
        partlyWritten.clear();
      }
      writeFixedParts();
      Path tmp = journal.resolveSibling(journal.getFileName() + ".tmp");
      StringBuilder sb = new StringBuilder(JOURNAL_HEADER + planKey + "\n");
      done.forEach(d -> sb.append(d).append('\n'));
      partlyWritten.forEach((d, n) -> sb.append(PARTIAL).append(d).append(' ').append(n).append('\n'));
      Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
      Files.move(tmp, journal, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      journalOut = Files.newBufferedWriter(journal, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
      return done;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write " + partial + ": " + e.getMessage(),
          "check free disk space and permissions in " + target.toAbsolutePath().getParent(), e);
    }
  }

  private void writeFixedParts() throws IOException {
    long pos = 0;
    for (int n = 0; n < items.size(); n++) {
      Item i = items.get(n);
      byte[] header = headers.get(n);
      writeFully(ByteBuffer.wrap(header), pos);
      long data = pos + header.length;
      if (i.bytes() != null) {
        writeFully(ByteBuffer.wrap(i.bytes()), data);
      } else if (i.file() != null) {
        try (FileChannel in = FileChannel.open(i.file(), StandardOpenOption.READ)) {
          long done = 0;
          while (done < i.size()) {
            done += in.transferTo(done, i.size() - done, channel.position(data + done));
          }
        }
      }
      long padded = (i.size() + 511) / 512 * 512;
      if (padded > i.size()) {
        writeFully(ByteBuffer.allocate((int) (padded - i.size())), data + i.size());
      }
      pos = data + padded;
    }
    writeFully(ByteBuffer.allocate(1024), pos);
  }

  private void writeFully(ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      pos += channel.write(b, pos);
    }
  }

  FileChannel channel() {
    return channel;
  }

  long offset(Digest blob) {
    return blobOffsets.get(blob);
  }

  long totalSize() {
    return totalSize;
  }

  /** True when the file holds this blob (a delta leaves some out). */
  boolean hasBlob(Digest blob) {
    return blobOffsets.containsKey(blob);
  }

  /** Reads a blob back out of its place (after it is written). */
  InputStream openBlob(Digest blob) {
    return new RegionStream(channel, offset(blob), blobSizes.get(blob));
  }

  /**
   * Appends entries made from the written blobs after the planned ones, and rewrites in-memory entries of the
   * head in place with new content of exactly the same length (the checksum list and signature, whose lengths do
   * not depend on the digests they hold).
   */
  void finish(List<Item> appended, Map<String, byte[]> rewrites) {
    try {
      for (Map.Entry<String, byte[]> r : rewrites.entrySet()) {
        Item old = items.stream().filter(i -> i.name().equals(r.getKey())).findFirst().orElseThrow();
        if (old.bytes() == null || old.size() != r.getValue().length) {
          throw new IllegalStateException(r.getKey() + " changed length from " + old.size() + " to "
              + r.getValue().length + " bytes; the head cannot be rewritten in place");
        }
        writeFully(ByteBuffer.wrap(r.getValue()), byteItemOffsets.get(r.getKey()));
      }
      long pos = totalSize - 1024;
      for (Item i : appended) {
        byte[] header = TarHeader.header(i.name(), i.size(), mtime);
        writeFully(ByteBuffer.wrap(header), pos);
        writeFully(ByteBuffer.wrap(i.bytes()), pos + header.length);
        long padded = (i.size() + 511) / 512 * 512;
        writeFully(ByteBuffer.allocate((int) (padded - i.size())), pos + header.length + i.size());
        pos += header.length + padded;
      }
      writeFully(ByteBuffer.allocate(1024), pos);
      channel.truncate(pos + 1024);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write " + partial + ": " + e.getMessage(),
          "check free disk space in " + target.toAbsolutePath().getParent(), e);
    }
  }

  /** Hashes a blob's region: true if it holds exactly that blob. */
  boolean holds(Digest blob, long size) {
    MessageDigest sha = Digest.sha256();
    try (InputStream in = new RegionStream(channel, offset(blob), size)) {
      byte[] buf = new byte[1 << 20];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    } catch (IOException e) {
      return false;
    }
    return Digest.of(sha).equals(blob);
  }

  /** Copies a cached blob file into its place. */
  void copyFrom(Path cached, Digest blob, long size) throws IOException {
    try (FileChannel in = FileChannel.open(cached, StandardOpenOption.READ)) {
      long done = 0;
      long base = offset(blob);
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      while (done < size) {
        buf.clear();
        int n = in.read(buf, done);
        if (n < 0) {
          throw new IOException(cached + " is shorter than " + size + " bytes");
        }
        buf.flip();
        writeFully(buf, base + done);
        done += n;
      }
    }
  }

  /** Copies a finished blob out of the bundle into a cache file (written aside, then renamed). */
  void copyTo(Path cached, Digest blob, long size) throws IOException {
    Path tmp = cached.resolveSibling(cached.getFileName() + "." + Thread.currentThread().getId() + ".tmp");
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      long done = 0;
      while (done < size) {
        done += channel.transferTo(offset(blob) + done, size - done, out);
      }
    }
    Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** How many first bytes of {@code blob} an interrupted run wrote (0 if none). */
  long partialBytes(Digest blob) {
    return partlyWritten.getOrDefault(blob, 0L);
  }

  /** Records that the first {@code bytes} of {@code blob} are in place (they are written before this is called). */
  synchronized void markProgress(Digest blob, long bytes) {
    try {
      journalOut.write(PARTIAL + blob + " " + bytes + "\n");
      journalOut.flush();
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot update " + journal + ": " + e.getMessage(), null, e);
    }
  }

  synchronized void markDone(Digest blob) {
    try {
      journalOut.write(blob + "\n");
      journalOut.flush();
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot update " + journal + ": " + e.getMessage(), null, e);
    }
  }

  /** Flushes to disk and renames the partial file to the target. */
  void commit() {
    try {
      channel.force(true);
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      close();
      Files.deleteIfExists(journal);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot finish " + target + ": " + e.getMessage(),
          "check free disk space in " + target.toAbsolutePath().getParent(), e);
    }
  }

  @Override
  public void close() {
    try {
      if (journalOut != null) {
        journalOut.close();
        journalOut = null;
      }
      if (channel != null) {
        channel.close();
      }
    } catch (IOException ignored) {
      // closing after a failure: the partial file stays for the next run to resume
    }
  }

  Path partial() {
    return partial;
  }

  /** An input stream over a file region, with positional reads. */
  private static final class RegionStream extends InputStream {
    private final FileChannel ch;
    private long pos;
    private final long end;

    RegionStream(FileChannel ch, long start, long length) {
      this.ch = ch;
      this.pos = start;
      this.end = start + length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (pos >= end) {
        return -1;
      }
      int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - pos)), pos);
      if (n < 0) {
        return -1;
      }
      pos += n;
      return n;
    }
  }
}
