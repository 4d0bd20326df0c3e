package dev.airlock.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/** Reads files out of a packaged chart ({@code .tgz}) without unpacking it. */
public final class ChartArchive {

  /** Largest file read out of a chart archive. */
  public static final int MAX_FILE = 8 << 20;

  private ChartArchive() {}

  /**
   * The regular files whose names (as stored, e.g. {@code mychart/crds/a.yaml}) {@code wanted} accepts, in archive
   * order.
   *
   * @throws IOException when the archive is malformed or a wanted file is larger than {@link #MAX_FILE}
   */
  public static Map<String, byte[]> read(Path tgz, Predicate<String> wanted) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz))) {
      byte[] header = new byte[512];
      while (in.readNBytes(header, 0, 512) == 512) {
        String name = new String(header, 0, 100, StandardCharsets.UTF_8).replace("\0", "");
        String prefix = new String(header, 345, 155, StandardCharsets.UTF_8).replace("\0", "");
        if (!prefix.isEmpty()) {
          name = prefix + "/" + name;
        }
        if (name.isEmpty()) {
          break;
        }
        String sizeField = new String(header, 124, 12, StandardCharsets.US_ASCII).replace("\0", "").strip();
        long size = sizeField.isEmpty() ? 0 : Long.parseLong(sizeField, 8);
        long padded = (size + 511) / 512 * 512;
        char type = (char) header[156];
        if ((type == '0' || type == 0) && wanted.test(name)) {
          if (size > MAX_FILE) {
            throw new IOException(name + " is larger than " + MAX_FILE + " bytes");
          }
          out.put(name, in.readNBytes((int) size));
          in.skipNBytes(padded - size);
        } else {
          in.skipNBytes(padded);
        }
      }
    } catch (NumberFormatException e) {
      throw new IOException("malformed tar header: " + e.getMessage(), e);
    }
    return out;
  }
}
