package dev.airlock.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

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
   * order. The archive is read with Commons Compress, so PAX and GNU long names (Helm writes PAX for long paths) are
   * read in full; on top of it, only directories and regular files are accepted, names must be relative without
   * {@code ..}, each name once, and a file at most {@link #MAX_FILE} bytes.
   *
   * @throws IOException when the archive is malformed or breaks one of those rules
   */
  public static Map<String, byte[]> read(Path tgz, Predicate<String> wanted) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    // The JDK's gunzip, not Commons Compress's: Helm writes a gzip "extra" field that is not made of RFC 1952
    // subfields, which Commons Compress 1.28 refuses.
    try (InputStream raw = Files.newInputStream(tgz);
        java.util.zip.GZIPInputStream gz = new java.util.zip.GZIPInputStream(raw, 64 * 1024);
        org.apache.commons.compress.archivers.tar.TarArchiveInputStream tar =
            new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(gz)) {
      org.apache.commons.compress.archivers.tar.TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        String name = e.getName();
        if (e.isDirectory()) {
          continue;
        }
        // Commons Compress's isFile() is true for anything that is not a directory; links and devices are not files.
        if (!e.isFile() || e.isSymbolicLink() || e.isLink() || e.isCharacterDevice() || e.isBlockDevice()
            || e.isFIFO()) {
          throw new IOException("chart archive entry " + name + " is not a regular file (links and devices are "
              + "refused)");
        }
        if (name.startsWith("/") || name.contains("\\") || java.util.Arrays.asList(name.split("/")).contains("..")) {
          throw new IOException("chart archive entry " + name + " has an unsafe name");
        }
        if (!seen.add(name)) {
          throw new IOException("chart archive entry " + name + " appears twice");
        }
        if (!wanted.test(name)) {
          continue;
        }
        if (e.getSize() > MAX_FILE) {
          throw new IOException(name + " is larger than " + MAX_FILE + " bytes");
        }
        out.put(name, tar.readNBytes((int) e.getSize()));
      }
    } catch (IllegalArgumentException e) {
      throw new IOException("malformed chart archive: " + e.getMessage(), e);
    }
    return out;
  }
}
