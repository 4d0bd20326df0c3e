package dev.airlock.bundle.format;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Random access to a bundle file: the metadata head alone (cheap), or the full index of entries, and streams over
 * any entry's bytes straight from the file. Thread-safe for reads (positional reads on one channel). A bundle split
 * into parts is read the same way, across the parts, with no joined copy ({@link BundleParts}).
 */
public final class BundleFile implements AutoCloseable {

  private static final int MAX_METADATA = 64 * 1024 * 1024;

  private final Path path;
  private final BundleBytes channel;
  private final BundleParts parts;
  private volatile TarIndex index;

  private BundleFile(Path path, BundleBytes channel, BundleParts parts) {
    this.path = path;
    this.channel = channel;
    this.parts = parts;
  }

  /**
   * Opens a bundle: a single file, or a split bundle by its first (or any) part, its part list, the directory
   * holding them, or its name when only the parts exist. A part set is checked against its list first, then the
   * list against the bundle's head in part 1, so parts of another build are refused before anything is read.
   */
  public static BundleFile open(Path path) {
    java.util.Optional<Path> list = BundleParts.locate(path);
    if (list.isPresent()) {
      BundleParts parts = BundleParts.open(list.get());
      BundleFile file = new BundleFile(path, parts, parts);
      try {
        file.checkPartList();
      } catch (RuntimeException e) {
        file.close();
        throw e;
      }
      return file;
    }
    try {
      return new BundleFile(path, BundleBytes.of(FileChannel.open(path, StandardOpenOption.READ)), null);
    } catch (NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, "bundle " + path + " does not exist", "check the path", e);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot open bundle " + path + ": " + e.getMessage(), null, e);
    }
  }

  /** The list must name this build: the digests of the manifest and checksum list at the head of part 1. */
  private void checkPartList() {
    Head head = readHead();
    PartList l = parts.list();
    String manifest = dev.airlock.oci.Digest.of(head.manifestBytes()).toString();
    String checksums = dev.airlock.oci.Digest.of(head.checksumsBytes()).toString();
    if (!manifest.equals(l.manifest()) || !checksums.equals(l.checksums())) {
      throw new AirlockException(Kind.VERIFICATION, "the part list " + parts.listFile().getFileName()
          + " belongs to another build than its parts: it names the manifest " + l.manifest() + ", part 1 ("
          + l.part(1).name() + ") holds " + manifest, "keep each build's parts with their own "
          + PartList.SUFFIX + " file; copy the set again from the original");
    }
  }

  /** The parts this bundle is read from, when it is split. */
  public java.util.Optional<BundleParts> parts() {
    return java.util.Optional.ofNullable(parts);
  }

  /** Where a region of the file lies, for messages about split bundles: " (in part 3 of 7 (...))"; else "". */
  public String whereIs(TarIndex.Entry entry) {
    return parts == null ? "" : " (in " + parts.describeRegion(entry.offset(), entry.size()) + "; check it with "
        + "'airlock bundle verify --part N')";
  }

  /** True if {@code file} starts like a bundle (its first entry is the manifest), or names a split bundle. */
  public static boolean isBundle(Path file) {
    try {
      if (BundleParts.locate(file).isPresent()) {
        return true;
      }
    } catch (AirlockException e) {
      return false;
    }
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      byte[] head = in.readNBytes(BundleLayout.MANIFEST.length());
      return new String(head, java.nio.charset.StandardCharsets.US_ASCII).equals(BundleLayout.MANIFEST);
    } catch (IOException e) {
      return false;
    }
  }

  public Path path() {
    return path;
  }

  /** The bytes as one: the file, or its parts. */
  public BundleBytes bytes() {
    return channel;
  }

  public long size() {
    try {
      return channel.size();
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + path + ": " + e.getMessage(), null, e);
    }
  }

  /** The metadata that leads the file. Reads only the first three entries. */
  public record Head(BundleManifest manifest, byte[] manifestBytes, byte[] checksumsBytes, byte[] signatureBytes) {}

  public Head readHead() {
    List<TarIndex.Entry> head = TarIndex.readHead(path, channel, BundleLayout.HEAD.size());
    for (int i = 0; i < BundleLayout.HEAD.size(); i++) {
      if (head.size() <= i || !head.get(i).name().equals(BundleLayout.HEAD.get(i))) {
        throw TarIndex.corrupt(path, "it must start with " + String.join(", ", BundleLayout.HEAD) + " but entry "
            + (i + 1) + " is " + (head.size() <= i ? "missing" : head.get(i).name()) + " (is this an airlock bundle?)");
      }
    }
    byte[] manifest = readAll(head.get(0));
    byte[] checksums = readAll(head.get(1));
    byte[] signature = readAll(head.get(2));
    return new Head(BundleManifest.parse(manifest, path + ":" + BundleLayout.MANIFEST), manifest, checksums,
        signature);
  }

  /**
   * The revocation list the bundle ships, parsed but not yet verified (its root signature is checked by
   * {@link dev.airlock.keys.RevocationList#verifiedIds}); empty if it ships none.
   */
  public java.util.Optional<dev.airlock.keys.RevocationList> revocations(BundleManifest manifest) {
    if (manifest.revocations() == null) {
      return java.util.Optional.empty();
    }
    TarIndex.Entry e = index().get(manifest.revocations());
    if (e == null) {
      throw TarIndex.corrupt(path, "its manifest names " + manifest.revocations() + ", which is missing");
    }
    return java.util.Optional.of(dev.airlock.keys.RevocationList.parse(readAll(e), path + ":" + e.name()));
  }

  /** Indexes every entry (one header read per entry), once. */
  public TarIndex index() {
    TarIndex i = index;
    if (i == null) {
      synchronized (this) {
        if (index == null) {
          index = TarIndex.read(path, channel);
        }
        i = index;
      }
    }
    return i;
  }

  public byte[] readAll(TarIndex.Entry entry) {
    if (entry.size() > MAX_METADATA) {
      throw TarIndex.corrupt(path, "entry " + entry.name() + " is " + entry.size() + " bytes, too large for metadata");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) entry.size());
    try {
      TarIndex.readFully(channel, buf, entry.offset());
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + entry.name() + " from " + path + ": " + e.getMessage(),
          null, e);
    }
    return buf.array();
  }

  /** A stream over {@code length} bytes of an entry starting at {@code from}. */
  public InputStream open(TarIndex.Entry entry, long from, long length) {
    if (from < 0 || length < 0 || from + length > entry.size()) {
      throw new IllegalArgumentException("range outside entry " + entry.name());
    }
    long start = entry.offset() + from;
    return Channels.newInputStream(new RegionChannel(channel, start, length));
  }

  public InputStream open(TarIndex.Entry entry) {
    return open(entry, 0, entry.size());
  }

  /** Copies a region of the file to {@code target} with the kernel's help where possible. */
  public void transferTo(TarIndex.Entry entry, long from, long length, java.nio.channels.WritableByteChannel target)
      throws IOException {
    long pos = entry.offset() + from;
    long end = pos + length;
    while (pos < end) {
      long n = channel.transferTo(pos, end - pos, target);
      if (n <= 0) {
        throw new IOException("short transfer from " + path);
      }
      pos += n;
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // read-only channel: nothing to lose
    }
  }

  /** A read-only window on a shared channel using positional reads. */
  private static final class RegionChannel implements java.nio.channels.ReadableByteChannel {
    private final BundleBytes ch;
    private long pos;
    private final long end;
    private boolean open = true;

    RegionChannel(BundleBytes ch, long start, long length) {
      this.ch = ch;
      this.pos = start;
      this.end = start + length;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (pos >= end) {
        return -1;
      }
      int max = (int) Math.min(dst.remaining(), end - pos);
      ByteBuffer slice = dst.slice();
      slice.limit(max);
      int n = ch.read(slice, pos);
      if (n < 0) {
        throw new IOException("unexpected end of bundle file");
      }
      dst.position(dst.position() + n);
      pos += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      open = false;
    }
  }
}
