package dev.airlock.bundle.sbom;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads one layer as a stream, once, and picks out what an SBOM needs: dpkg and apk databases, os-release, Maven
 * metadata in jars (one level: no jar inside a jar), Python dist-info METADATA, and whiteouts. Nothing but the few
 * small files it parses is held in memory; every read is capped (see {@link CatalogueLimits}); a refused or skipped
 * file becomes a note, never an exception.
 */
public final class LayerScanner {

  static final String DPKG_STATUS = "var/lib/dpkg/status";
  static final String DPKG_STATUS_D = "var/lib/dpkg/status.d/";
  static final String APK_INSTALLED = "lib/apk/db/installed";
  static final Set<String> OS_RELEASE = Set.of("etc/os-release", "usr/lib/os-release");
  private static final String WHITEOUT = ".wh.";
  private static final String OPAQUE = ".wh..wh..opq";
  private static final int MAX_NOTES = 50;

  private final String layer;
  private final CatalogueLimits limits;
  private final Map<String, LayerFindings.FileFinding> files = new LinkedHashMap<>();
  private final Set<String> whiteouts = new LinkedHashSet<>();
  private final Set<String> opaque = new LinkedHashSet<>();
  private final List<String> notes = new ArrayList<>();
  private int droppedNotes;

  private LayerScanner(String layer, CatalogueLimits limits) {
    this.layer = layer;
    this.limits = limits;
  }

  /**
   * Catalogues a layer blob (gzip or plain tar, told apart by its first bytes).
   *
   * @param blob the layer's bytes as stored; not closed
   * @param compressedSize its size, which bounds how far it may expand
   * @param layer the layer's digest, for notes
   */
  public static LayerFindings scan(InputStream blob, long compressedSize, String layer, CatalogueLimits limits) {
    LayerScanner s = new LayerScanner(layer, limits);
    Budget budget = null;
    try {
      BufferedInputStream in = new BufferedInputStream(new NonClosing(blob), 1 << 16);
      in.mark(4);
      byte[] magic = in.readNBytes(4);
      in.reset();
      InputStream tarBytes;
      if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
        tarBytes = new GZIPInputStream(in, 1 << 16);
      } else if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
          && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
        return LayerFindings.unread("layer " + layer + " is zstd-compressed, which this airlock does not "
            + "catalogue; its packages are missing from this SBOM");
      } else {
        tarBytes = in;
      }
      budget = s.new Budget(tarBytes, limits.expansion() * Math.max(compressedSize, 0) + limits.expansionSlack(),
          System.nanoTime() + limits.perLayer().toNanos());
      s.walk(new TarArchiveInputStream(budget));
    } catch (BudgetExceeded e) {
      s.note(e.getMessage() + "; cataloguing of layer " + layer + " stopped there, so this SBOM may miss packages"
          + " of it");
    } catch (IOException | RuntimeException e) {
      s.note("layer " + layer + " is not a readable tar (" + e.getMessage() + "); what was read before is kept");
    }
    return new LayerFindings(s.files, s.whiteouts, s.opaque, s.notes(), budget == null ? 0 : budget.count);
  }

  private List<String> notes() {
    List<String> all = new ArrayList<>(notes);
    if (droppedNotes > 0) {
      all.add("... and " + droppedNotes + " more notes on layer " + layer);
    }
    return all;
  }

  private void note(String text) {
    if (notes.size() < MAX_NOTES) {
      notes.add(text);
    } else {
      droppedNotes++;
    }
  }

  private void walk(TarArchiveInputStream tar) throws IOException {
    TarArchiveEntry e;
    while ((e = tar.getNextEntry()) != null) {
      String path = normalize(e.getName());
      if (path == null) {
        note("refused entry '" + printable(e.getName()) + "' in layer " + layer + ": path traversal");
        continue;
      }
      String base = path.substring(path.lastIndexOf('/') + 1);
      String dir = path.contains("/") ? path.substring(0, path.lastIndexOf('/')) : "";
      if (base.equals(OPAQUE)) {
        opaque.add(dir);
        continue;
      }
      if (base.startsWith(WHITEOUT)) {
        whiteouts.add((dir.isEmpty() ? "" : dir + "/") + base.substring(WHITEOUT.length()));
        continue;
      }
      if (!e.isFile() || e.isLink()) {
        continue;
      }
      if (path.equals(DPKG_STATUS) || path.startsWith(DPKG_STATUS_D) && !path.substring(DPKG_STATUS_D.length())
          .contains("/") && !path.endsWith(".md5sums")) {
        byte[] b = read(tar, e, path, limits.databaseBytes());
        if (b != null) {
          files.put(path, new LayerFindings.FileFinding(Databases.dpkg(text(b), path), null));
        }
      } else if (path.equals(APK_INSTALLED)) {
        byte[] b = read(tar, e, path, limits.databaseBytes());
        if (b != null) {
          files.put(path, new LayerFindings.FileFinding(Databases.apk(text(b), path), null));
        }
      } else if (OS_RELEASE.contains(path)) {
        byte[] b = read(tar, e, path, limits.smallFileBytes());
        if (b != null) {
          files.put(path, new LayerFindings.FileFinding(List.of(), Databases.osReleaseId(text(b))));
        }
      } else if (path.endsWith(".dist-info/METADATA")) {
        byte[] b = read(tar, e, path, limits.smallFileBytes());
        CataloguedPackage p = b == null ? null : Databases.pythonMetadata(text(b), path);
        if (p != null) {
          files.put(path, new LayerFindings.FileFinding(List.of(p), null));
        }
      } else if (base.endsWith(".jar") || base.endsWith(".war") || base.endsWith(".ear")) {
        List<CataloguedPackage> found = jar(tar, path);
        if (!found.isEmpty()) {
          files.put(path, new LayerFindings.FileFinding(found, null));
        }
      }
    }
  }

  private byte[] read(InputStream in, TarArchiveEntry e, String path, long cap) throws IOException {
    if (e.getSize() > cap) {
      note("skipped " + path + " in layer " + layer + ": " + e.getSize() + " bytes is over the " + cap
          + "-byte limit for such a file");
      return null;
    }
    return in.readNBytes((int) e.getSize());
  }

  /** Maven coordinates from {@code META-INF/maven/G/A/pom.properties}; nested archives are not opened. */
  private List<CataloguedPackage> jar(InputStream in, String path) throws BudgetExceeded {
    List<CataloguedPackage> found = new ArrayList<>();
    long inflated = 0;
    byte[] buf = new byte[1 << 14];
    try {
      ZipInputStream zip = new ZipInputStream(new NonClosing(in));
      ZipEntry z;
      while ((z = zip.getNextEntry()) != null) {
        String n = z.getName();
        String[] parts = n.split("/", -1);
        if (parts.length == 5 && n.startsWith("META-INF/maven/") && parts[4].equals("pom.properties")) {
          byte[] b = zip.readNBytes((int) limits.smallFileBytes() + 1);
          inflated += b.length;
          if (b.length > limits.smallFileBytes()) {
            note("skipped " + path + "!/" + n + " in layer " + layer + ": over " + limits.smallFileBytes()
                + " bytes");
          } else {
            Properties p = new Properties();
            p.load(new StringReader(text(b)));
            String g = p.getProperty("groupId", "").trim();
            String a = p.getProperty("artifactId", "").trim();
            String v = p.getProperty("version", "").trim();
            if (!g.isEmpty() && !a.isEmpty() && !v.isEmpty()) {
              found.add(new CataloguedPackage("maven", g, a, v, null, path));
            }
          }
        } else {
          int r;
          while ((r = zip.read(buf)) > 0) {
            inflated += r;
            if (inflated > limits.jarInflatedBytes()) {
              note("left " + path + " in layer " + layer + " after " + limits.jarInflatedBytes()
                  + " inflated bytes (a zip bomb?); Maven metadata after that point is not listed");
              return found;
            }
          }
        }
      }
    } catch (BudgetExceeded e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      note("jar " + path + " in layer " + layer + " is not fully readable (" + e.getMessage() + ")");
    }
    return found;
  }

  /** A layer entry's path relative to the root, or null when it climbs out ({@code ..}). */
  static String normalize(String raw) {
    List<String> out = new ArrayList<>();
    for (String seg : raw.split("/")) {
      if (seg.isEmpty() || seg.equals(".")) {
        continue;
      }
      if (seg.equals("..")) {
        return null;
      }
      out.add(seg);
    }
    return out.isEmpty() ? null : String.join("/", out);
  }

  private static String printable(String s) {
    String t = s.length() > 200 ? s.substring(0, 200) + "..." : s;
    return t.replaceAll("\\p{Cntrl}", "?");
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Thrown when a layer expands beyond its budget or takes too long. */
  static final class BudgetExceeded extends IOException {
    BudgetExceeded(String message) {
      super(message);
    }
  }

  /** Counts uncompressed bytes and checks the layer's byte and time budget on every read. */
  private final class Budget extends FilterInputStream {
    private final long maxBytes;
    private final long deadline;
    long count;

    Budget(InputStream in, long maxBytes, long deadline) {
      super(in);
      this.maxBytes = maxBytes;
      this.deadline = deadline;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (count > maxBytes) {
        throw new BudgetExceeded("layer " + layer + " expands beyond " + maxBytes + " bytes");
      }
      if (System.nanoTime() > deadline) {
        throw new BudgetExceeded("layer " + layer + " took longer than " + limits.perLayer().toSeconds() + " s");
      }
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] sink = new byte[(int) Math.min(n, 1 << 16)];
      int r = read(sink, 0, sink.length);
      return Math.max(r, 0);
    }
  }

  /** Leaves the underlying stream open when a reader over it is closed. */
  private static final class NonClosing extends FilterInputStream {
    NonClosing(InputStream in) {
      super(in);
    }

    @Override
    public void close() {}
  }
}
