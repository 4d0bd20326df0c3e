package dev.airlock.bundle.format;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the headers of a bundle tar by seeking from header to header, without reading the content, so indexing a
 * multi-GB file costs one small read per entry. Strict: only regular files with safe relative names, each once;
 * symlinks, hardlinks, devices, directories, traversal, oversized extended headers and truncation are refused
 * with the entry's name.
 */
public final class TarIndex {

  /** One regular file in the archive: where its content starts and how long it is. */
  public record Entry(String name, long offset, long size) {}

  /** Largest extended (PAX or GNU long-name) header accepted. */
  static final int MAX_EXTENDED_HEADER = 64 * 1024;
  private static final int BLOCK = TarHeader.BLOCK;

  private final Path file;
  private final List<Entry> entries;
  private final Map<String, Entry> byName;

  private TarIndex(Path file, List<Entry> entries) {
    this.file = file;
    this.entries = List.copyOf(entries);
    Map<String, Entry> map = new LinkedHashMap<>();
    entries.forEach(e -> map.put(e.name(), e));
    this.byName = map;
  }

  public List<Entry> entries() {
    return entries;
  }

  public Entry get(String name) {
    return byName.get(name);
  }

  public Path file() {
    return file;
  }

  /** Indexes the whole archive. */
  public static TarIndex read(Path file, BundleBytes ch) {
    return new TarIndex(file, scan(file, ch, Integer.MAX_VALUE));
  }

  /** Indexes only the first {@code count} entries (the metadata head). */
  public static List<Entry> readHead(Path file, BundleBytes ch, int count) {
    return scan(file, ch, count);
  }

  private static List<Entry> scan(Path file, BundleBytes ch, int limit) {
    List<Entry> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    try {
      long length = ch.size();
      long pos = 0;
      String longName = null;
      Long paxSize = null;
      ByteBuffer block = ByteBuffer.allocate(BLOCK);
      while (out.size() < limit) {
        if (pos + BLOCK > length) {
          throw corrupt(file, "the file is truncated: it ends at byte " + length + " before the end-of-archive marker"
              + (out.isEmpty() ? "" : " (last complete entry: " + out.get(out.size() - 1).name() + ")"));
        }
        readFully(ch, block, pos);
        byte[] h = block.array();
        if (isZero(h)) {
          break;
        }
        checkChecksum(file, h, pos);
        String name = longName != null ? longName : headerName(h);
        long size = paxSize != null ? paxSize : parseSize(file, h, name);
        longName = null;
        paxSize = null;
        byte type = h[156];
        long dataStart = pos + BLOCK;
        long next = dataStart + ((size + BLOCK - 1) / BLOCK) * BLOCK;
        if (size < 0 || dataStart + size > length) {
          throw corrupt(file, "the file is truncated: entry " + name + " needs " + size + " bytes from offset "
              + dataStart + ", but the file ends at " + length);
        }
        switch (type) {
          case '0', 0, '7' -> {
            checkName(file, name);
            if (!seen.add(name)) {
              throw corrupt(file, "entry " + name + " appears twice");
            }
            out.add(new Entry(name, dataStart, size));
          }
          case 'x', 'L' -> {
            if (size > MAX_EXTENDED_HEADER) {
              throw corrupt(file, "an extended header at offset " + pos + " has " + size + " bytes; at most "
                  + MAX_EXTENDED_HEADER + " are accepted (oversized header)");
            }
            ByteBuffer ext = ByteBuffer.allocate((int) size);
            readFully(ch, ext, dataStart);
            if (type == 'L') {
              longName = cString(ext.array(), 0, (int) size);
            } else {
              Map<String, String> pax = parsePax(file, ext.array(), pos);
              longName = pax.get("path");
              if (pax.containsKey("size")) {
                try {
                  paxSize = Long.parseLong(pax.get("size"));
                } catch (NumberFormatException e) {
                  throw corrupt(file, "the extended header at offset " + pos + " has an invalid size");
                }
              }
            }
          }
          case '1' -> throw corrupt(file, "entry " + name + " is a hard link; bundles hold only regular files");
          case '2' -> throw corrupt(file, "entry " + name + " is a symbolic link; bundles hold only regular files");
          case '3', '4' -> throw corrupt(file, "entry " + name + " is a device; bundles hold only regular files");
          case '5' -> throw corrupt(file, "entry " + name + " is a directory; bundles hold only regular files");
          case '6' -> throw corrupt(file, "entry " + name + " is a FIFO; bundles hold only regular files");
          case 'g' -> throw corrupt(file, "a global extended header at offset " + pos + " is not allowed in a bundle");
          default -> throw corrupt(file, "entry " + name + " has the unsupported tar type '" + (char) type + "'");
        }
        pos = next;
      }
      return out;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + file + ": " + e.getMessage(), null, e);
    }
  }

  static void checkName(Path file, String name) {
    if (name.isEmpty()) {
      throw corrupt(file, "an entry has an empty name");
    }
    if (name.startsWith("/")) {
      throw corrupt(file, "entry " + name + " has an absolute path");
    }
    if (name.contains("\\") || name.contains("\0")) {
      throw corrupt(file, "entry " + name + " has a backslash or NUL in its name");
    }
    for (String part : name.split("/", -1)) {
      if (part.equals("..")) {
        throw corrupt(file, "entry " + name + " climbs out of the bundle with '..'");
      }
      if (part.isEmpty() || part.equals(".")) {
        throw corrupt(file, "entry " + name + " has an empty or '.' path component");
      }
    }
  }

  private static Map<String, String> parsePax(Path file, byte[] data, long pos) {
    Map<String, String> out = new LinkedHashMap<>();
    int i = 0;
    while (i < data.length) {
      int space = i;
      while (space < data.length && data[space] != ' ') {
        space++;
      }
      int len;
      try {
        len = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
      } catch (NumberFormatException e) {
        throw corrupt(file, "the extended header at offset " + pos + " is malformed");
      }
      if (len <= 0 || i + len > data.length || space >= i + len) {
        throw corrupt(file, "the extended header at offset " + pos + " is malformed");
      }
      String record = new String(data, space + 1, i + len - space - 2, StandardCharsets.UTF_8);
      int eq = record.indexOf('=');
      if (eq > 0) {
        out.put(record.substring(0, eq), record.substring(eq + 1));
      }
      i += len;
    }
    return out;
  }

  private static String headerName(byte[] h) {
    String name = cString(h, 0, 100);
    if (h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r') {
      String prefix = cString(h, 345, 155);
      if (!prefix.isEmpty()) {
        name = prefix + "/" + name;
      }
    }
    return name;
  }

  private static long parseSize(Path file, byte[] h, String name) {
    if ((h[124] & 0x80) != 0) {
      long v = 0;
      for (int i = 125; i < 136; i++) {
        v = (v << 8) | (h[i] & 0xff);
      }
      return v;
    }
    String s = cString(h, 124, 12).strip();
    try {
      return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    } catch (NumberFormatException e) {
      throw corrupt(file, "entry " + name + " has an invalid size field");
    }
  }

  private static void checkChecksum(Path file, byte[] h, long pos) {
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
    }
    String s = cString(h, 148, 8).strip();
    long stored;
    try {
      stored = Long.parseLong(s, 8);
    } catch (NumberFormatException e) {
      throw corrupt(file, "the tar header at offset " + pos + " is damaged (no checksum): this is not a bundle or it "
          + "is corrupted");
    }
    if (stored != sum) {
      throw corrupt(file, "the tar header at offset " + pos + " is damaged (checksum mismatch)");
    }
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  static void readFully(BundleBytes ch, ByteBuffer buf, long pos) throws IOException {
    buf.clear();
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + (pos + buf.position()));
      }
    }
    buf.flip();
  }

  static AirlockException corrupt(Path file, String what) {
    return new AirlockException(Kind.VERIFICATION, "bundle " + file + " is not valid: " + what,
        "do not use this file; copy the bundle again from the vendor's original");
  }
}
