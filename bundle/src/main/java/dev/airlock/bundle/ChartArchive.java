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

  /**
   * What {@link #unpackRevealingHooks} renames {@code helm.sh/hook} annotations to: {@code helm template} through
   * helm-java leaves hook objects out of its output, so they are masked while rendering and restored after.
   */
  public static final String HOOK_MASK = "airlock.dev/masked-hook";
  public static final String HOOK = "helm.sh/hook";

  private ChartArchive() {}

  /**
   * Unpacks a chart archive, and the archives of its subcharts, into {@code dir}, with every {@code helm.sh/hook}
   * annotation key in templates renamed to {@link #HOOK_MASK}, so that rendering keeps hook objects (their images
   * must be bundled and rewritten too). Returns the chart's directory.
   */
  public static Path unpackRevealingHooks(Path tgz, Path dir) throws IOException {
    Map<String, byte[]> files = read(tgz, n -> true);
    Path top = null;
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Path target = dir.resolve(f.getKey()).normalize();
      if (!target.startsWith(dir) || f.getKey().indexOf('/') < 0) {
        throw new IOException("chart archive entry " + f.getKey() + " is outside the chart directory");
      }
      String root = f.getKey().substring(0, f.getKey().indexOf('/'));
      if (top == null) {
        top = dir.resolve(root);
      }
      Files.createDirectories(target.getParent());
      byte[] content = f.getValue();
      String rel = f.getKey().substring(root.length() + 1);
      if (rel.startsWith("charts/") && rel.endsWith(".tgz") && rel.indexOf('/', 7) < 0) {
        unpackRevealingHooks(writeTemp(target, content), target.getParent());
        Files.delete(target);
        continue;
      }
      if (rel.startsWith("templates/")) {
        content = new String(content, StandardCharsets.UTF_8).replace(HOOK, HOOK_MASK)
            .getBytes(StandardCharsets.UTF_8);
      }
      Files.write(target, content);
    }
    if (top == null) {
      throw new IOException("empty chart archive " + tgz);
    }
    return top;
  }

  private static Path writeTemp(Path target, byte[] content) throws IOException {
    Files.write(target, content);
    return target;
  }

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
