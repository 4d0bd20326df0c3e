package dev.airlock.bundle.format;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.stream.Stream;

/**
 * A split bundle's parts read as one file: one channel per part, a position mapped to a part and an offset in it.
 * {@link #open} checks the set against its part list before anything but the list is read from it: every part
 * present under its name, no part of another build or of an earlier build of the same name beside them, each part
 * of the listed size, and each part's first and last 64 KiB those the list names (so a part from another build, or a
 * second copy of one part under another's name, is named before it is read).
 */
public final class BundleParts implements BundleBytes {

  private final Path listFile;
  private final PartList list;
  private final FileChannel[] channels;
  /** Where each part starts in the whole; one more element: the end. */
  private final long[] starts;

  private BundleParts(Path listFile, PartList list, FileChannel[] channels) {
    this.listFile = listFile;
    this.list = list;
    this.channels = channels;
    this.starts = new long[channels.length + 1];
    for (int i = 0; i < channels.length; i++) {
      starts[i + 1] = starts[i] + list.parts().get(i).size();
    }
  }

  /**
   * The part list that {@code given} stands for, or empty when it is a single bundle file: a directory holding one
   * part list, a part list itself, any part (its list is {@code NAME.parts} beside it), or a bundle name that exists
   * only as parts.
   */
  public static Optional<Path> locate(Path given) {
    if (Files.isDirectory(given)) {
      List<Path> lists;
      List<Path> parts;
      try (Stream<Path> s = Files.list(given)) {
        List<Path> all = s.filter(Files::isRegularFile).sorted().toList();
        lists = all.stream().filter(p -> p.getFileName().toString().endsWith(PartList.SUFFIX)).toList();
        parts = all.stream().filter(p -> PartList.matchPartName(p.getFileName().toString()) != null).toList();
      } catch (IOException e) {
        throw new AirlockException(Kind.IO, "cannot list " + given + ": " + e.getMessage(), null, e);
      }
      if (lists.size() == 1) {
        return Optional.of(lists.get(0));
      }
      if (lists.size() > 1) {
        throw new AirlockException(Kind.BAD_INPUT, given + " holds the part lists of several bundles ("
            + String.join(", ", lists.stream().map(p -> p.getFileName().toString()).toList()) + ")",
            "name one bundle's first part or its part list instead of the directory");
      }
      if (!parts.isEmpty()) {
        String bundle = PartList.matchPartName(parts.get(0).getFileName().toString()).group(1);
        throw missingList(given.resolve(PartList.listName(bundle)));
      }
      throw new AirlockException(Kind.BAD_INPUT, given + " is a directory holding no bundle parts",
          "name the bundle file, its first part, or a directory holding the parts and their " + PartList.SUFFIX
              + " file");
    }
    String name = given.getFileName() == null ? "" : given.getFileName().toString();
    if (name.endsWith(PartList.SUFFIX) && Files.isRegularFile(given)) {
      return Optional.of(given);
    }
    Matcher m = PartList.matchPartName(name);
    if (m != null && !Files.isDirectory(given)) {
      Path listFile = given.resolveSibling(PartList.listName(m.group(1)));
      if (!Files.isRegularFile(listFile)) {
        throw missingList(listFile);
      }
      return Optional.of(listFile);
    }
    if (!Files.exists(given)) {
      Path listFile = given.resolveSibling(PartList.listName(name));
      if (Files.isRegularFile(listFile)) {
        return Optional.of(listFile);
      }
    }
    return Optional.empty();
  }

  private static AirlockException missingList(Path listFile) {
    return new AirlockException(Kind.BAD_INPUT, "the part list " + listFile.getFileName() + " is missing from "
        + dirOf(listFile) + ": parts are read only with the signed list of their names, sizes and digests",
        "copy " + listFile.getFileName() + " from the original set beside the parts");
  }

  /** Opens the parts {@code listFile} names, after checking the set (see the class comment). */
  public static BundleParts open(Path listFile) {
    PartList list;
    try {
      list = PartList.parse(Files.readAllBytes(listFile), listFile.toString());
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + listFile + ": " + e.getMessage(), null, e);
    }
    Path dir = dirOf(listFile);
    checkNames(dir, list);
    int n = list.parts().size();
    FileChannel[] channels = new FileChannel[n];
    try {
      for (int i = 0; i < n; i++) {
        PartList.Part p = list.parts().get(i);
        channels[i] = FileChannel.open(dir.resolve(p.name()), StandardOpenOption.READ);
        long size = channels[i].size();
        if (size != p.size()) {
          throw new AirlockException(Kind.VERIFICATION, describe(list, i) + " has " + bytes(size)
              + ", but the part list says " + bytes(p.size()) + ": it is " + (size < p.size()
              ? "incomplete (a copy that stopped early?)" : "not this build's part") + "",
              "copy " + p.name() + " again from the original set");
        }
      }
      checkProbes(dir, list, channels);
      return new BundleParts(listFile, list, channels);
    } catch (IOException e) {
      closeAll(channels);
      throw new AirlockException(Kind.IO, "cannot read the parts in " + dir + ": " + e.getMessage(), null, e);
    } catch (RuntimeException e) {
      closeAll(channels);
      throw e;
    }
  }

  /** Every listed part present; nothing else named like a part of this bundle beside them. */
  private static void checkNames(Path dir, PartList list) {
    int n = list.parts().size();
    List<String> others = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString()).sorted().forEach(f -> {
        Matcher m = PartList.matchPartName(f);
        if (m != null && m.group(1).equals(list.bundle())
            && list.parts().stream().noneMatch(p -> p.name().equals(f))) {
          others.add(f);
        }
      });
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot list " + dir + ": " + e.getMessage(), null, e);
    }
    for (int i = 0; i < n; i++) {
      PartList.Part p = list.parts().get(i);
      if (!Files.isRegularFile(dir.resolve(p.name()))) {
        String found = renamedCopy(dir, list, i);
        throw new AirlockException(Kind.BAD_INPUT, "part " + (i + 1) + " of " + n + " is missing: expected "
            + p.name() + ", " + bytes(p.size()) + " in " + dir
            + (found != null ? "; " + found + " holds its bytes under another name" : "")
            + (others.isEmpty() ? "" : "; beside it: " + String.join(", ", others)
                + ", not parts of this build"),
            found != null ? "rename " + found + " to " + p.name()
                : "copy " + p.name() + " from the original set into " + dir);
      }
    }
    if (!others.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, dir + " holds " + String.join(", ", others) + " beside the "
          + n + " parts of " + list.bundle() + " that " + PartList.listName(list.bundle())
          + " lists: parts of another (earlier?) build of the same name, which are never mixed in",
          "delete them, or keep each build's parts in a directory of their own");
    }
  }

  /** A regular file in {@code dir} that is not a listed part but holds part {@code i}'s bytes (a renamed part). */
  private static String renamedCopy(Path dir, PartList list, int i) {
    PartList.Part p = list.parts().get(i);
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.sorted().toList()) {
        String name = f.getFileName().toString();
        if (!Files.isRegularFile(f) || Files.size(f) != p.size()
            || list.parts().stream().anyMatch(q -> q.name().equals(name))) {
          continue;
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
          if (probe(ch, p.size()).toString().equals(p.probe())) {
            return name;
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  private static void checkProbes(Path dir, PartList list, FileChannel[] channels) throws IOException {
    int n = channels.length;
    for (int i = 0; i < n; i++) {
      PartList.Part p = list.parts().get(i);
      String actual = probe(channels[i], p.size()).toString();
      if (actual.equals(p.probe())) {
        continue;
      }
      for (int j = 0; j < n; j++) {
        if (j != i && actual.equals(list.parts().get(j).probe())) {
          throw new AirlockException(Kind.VERIFICATION, describe(list, i) + " holds the bytes of part " + (j + 1)
              + " (" + list.parts().get(j).name() + "): two copies of one part",
              "copy " + p.name() + " again from the original set");
        }
      }
      throw new AirlockException(Kind.VERIFICATION, describe(list, i) + " is not the part that "
          + PartList.listName(list.bundle()) + " names (its first and last 64 KiB differ): a part of another build "
          + "with the same name, or a damaged copy", "copy " + p.name() + " again from the original set");
    }
  }

  /** Digest of the first and the last {@link PartList#PROBE} bytes of a part of {@code size} bytes. */
  public static Digest probe(FileChannel ch, long size) throws IOException {
    MessageDigest sha = Digest.sha256();
    int n = (int) Math.min(PartList.PROBE, size);
    ByteBuffer buf = ByteBuffer.allocate(n);
    TarIndex.readFully(BundleBytes.of(ch), buf, 0);
    sha.update(buf);
    TarIndex.readFully(BundleBytes.of(ch), buf, size - n);
    sha.update(buf);
    return Digest.of(sha);
  }

  /** "part 3 of 7 (platform-1.4.0.airlock.part-003-of-007)". */
  public static String describe(PartList list, int index) {
    return "part " + (index + 1) + " of " + list.parts().size() + " (" + list.parts().get(index).name() + ")";
  }

  static String bytes(long n) {
    return String.format(Locale.ROOT, "%,d bytes", n);
  }

  private static Path dirOf(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    return parent == null ? Path.of(".") : parent;
  }

  public PartList list() {
    return list;
  }

  public Path listFile() {
    return listFile;
  }

  public Path dir() {
    return dirOf(listFile);
  }

  public Path partPath(int number) {
    return dir().resolve(list.part(number).name());
  }

  /** Index (0-based) of the part holding byte {@code position}. */
  public int partAt(long position) {
    int i = Arrays.binarySearch(starts, position);
    int idx = i >= 0 ? i : -i - 2;
    return Math.min(idx, channels.length - 1);
  }

  /** Names the parts a region of the whole lies in, for messages: "part 3 of 7 (...)" or "parts 3 to 4 of 7". */
  public String describeRegion(long from, long length) {
    int a = partAt(from);
    int b = partAt(Math.max(from, from + length - 1));
    return a == b ? describe(list, a) : "parts " + (a + 1) + " to " + (b + 1) + " of " + channels.length + " ("
        + list.parts().get(a).name() + " to " + list.parts().get(b).name() + ")";
  }

  /** SHA-256 of the whole of part {@code number} (1-based), read from its file. */
  public Digest hashPart(int number, java.util.function.LongConsumer progress) throws IOException {
    FileChannel ch = channels[number - 1];
    MessageDigest sha = Digest.sha256();
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    long pos = 0;
    long size = list.part(number).size();
    while (pos < size) {
      buf.clear();
      int r = ch.read(buf, pos);
      if (r < 0) {
        throw new IOException("unexpected end of " + list.part(number).name() + " at byte " + pos);
      }
      buf.flip();
      sha.update(buf);
      pos += r;
      progress.accept(r);
    }
    return Digest.of(sha);
  }

  /** Checks part {@code number}'s SHA-256 against the list; throws naming the part. */
  public void verifyPart(int number, java.util.function.LongConsumer progress) {
    if (number < 1 || number > channels.length) {
      throw new AirlockException(Kind.BAD_INPUT, "there is no part " + number + ": " + list.bundle() + " has "
          + channels.length + " parts", "pass --part 1 to --part " + channels.length);
    }
    PartList.Part p = list.part(number);
    Digest actual;
    try {
      actual = hashPart(number, progress);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + p.name() + ": " + e.getMessage(), null, e);
    }
    if (!actual.toString().equals(p.sha256())) {
      throw new AirlockException(Kind.VERIFICATION, describe(list, number - 1) + " has the SHA-256 " + actual
          + ", but the part list says " + p.sha256() + ": the copy is damaged", "copy " + p.name()
          + " again from the original set");
    }
  }

  @Override
  public long size() {
    return starts[channels.length];
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    if (position >= size()) {
      return -1;
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    int i = partAt(position);
    long inPart = position - starts[i];
    long left = starts[i + 1] - position;
    if (dst.remaining() <= left) {
      return readFrom(i, dst, inPart);
    }
    ByteBuffer slice = dst.slice();
    slice.limit((int) left);
    int n = readFrom(i, slice, inPart);
    if (n > 0) {
      dst.position(dst.position() + n);
    }
    return n;
  }

  private int readFrom(int part, ByteBuffer dst, long offset) throws IOException {
    int n = channels[part].read(dst, offset);
    if (n < 0) {
      throw new IOException(list.parts().get(part).name() + " ended at byte " + offset + ", before the "
          + bytes(list.parts().get(part).size()) + " its list names: it changed while in use");
    }
    return n;
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    if (position >= size() || count <= 0) {
      return 0;
    }
    int i = partAt(position);
    long n = Math.min(count, starts[i + 1] - position);
    return channels[i].transferTo(position - starts[i], n, target);
  }

  @Override
  public void close() {
    closeAll(channels);
  }

  private static void closeAll(FileChannel[] channels) {
    for (FileChannel c : channels) {
      if (c != null) {
        try {
          c.close();
        } catch (IOException ignored) {
          // read-only: nothing to lose
        }
      }
    }
  }
}
