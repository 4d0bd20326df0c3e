package dev.airlock.bundle.helm;

import com.marcnuri.helm.jni.HelmLib;
import com.marcnuri.helm.jni.NativeLibrary;
import com.sun.jna.Native;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.zip.CRC32C;

/**
 * helm-java's native library, unpacked once per version into the cache ({@code $XDG_CACHE_HOME/airlock/helm}, else
 * {@code ~/.cache/airlock/helm}) and loaded from there. The cache folder is keyed by the library's size and CRC-32 in
 * the jar's index (known without unpacking); the unpacked file's CRC-32C, recorded when it was written, is checked
 * before every load, and a file that does not match (a torn write, a corrupted disk) is unpacked again. Before this,
 * every run copied ~100 MB into the temp directory (about 0.5 s and 100 MB of disk per run).
 */
public final class CachedHelmLibrary implements NativeLibrary {

  static final String BINARY = "helm-linux-amd64.so";

  @Override
  public String getBinaryName() {
    return BINARY;
  }

  @Override
  public HelmLib load() {
    Path file = cached();
    HelmLib lib = Native.load(file.toAbsolutePath().toString(), HelmLib.class);
    return lib;
  }

  /** The cache directory root. */
  static Path cacheRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("airlock").resolve("helm");
  }

  private Path cached() {
    URL url = CachedHelmLibrary.class.getResource("/" + BINARY);
    if (url == null) {
      throw new AirlockException(Kind.IO, "Helm's native library " + BINARY + " is not on the class path",
          "airlock needs the com.marcnuri.helm-java:linux-amd64 jar (Linux x86-64 only)");
    }
    try {
      URLConnection c = url.openConnection();
      long size = -1;
      long crc = 0;
      if (c instanceof JarURLConnection jar && jar.getJarEntry() != null) {
        size = jar.getJarEntry().getSize();
        crc = jar.getJarEntry().getCrc();
      }
      Path dir = cacheRoot().resolve(size < 0 ? "unversioned" : size + "-" + Long.toHexString(crc));
      Path lib = dir.resolve(BINARY);
      Path sum = dir.resolve(BINARY + ".crc32c");
      if (Files.isRegularFile(lib) && Files.isRegularFile(sum) && (size < 0 || Files.size(lib) == size)
          && Files.readString(sum, StandardCharsets.US_ASCII).strip().equals(crc32c(lib))) {
        return lib;
      }
      Files.createDirectories(dir);
      try {
        Files.setPosixFilePermissions(cacheRoot(), PosixFilePermissions.fromString("rwx------"));
      } catch (UnsupportedOperationException | IOException ignored) {
        // not a POSIX file system: its own permissions apply
      }
      Path tmp = Files.createTempFile(dir, BINARY, ".partial");
      CRC32C written = new CRC32C();
      try (InputStream in = c.getInputStream(); OutputStream out = Files.newOutputStream(tmp)) {
        byte[] buf = new byte[1 << 20];
        for (int n; (n = in.read(buf)) > 0; ) {
          out.write(buf, 0, n);
          written.update(buf, 0, n);
        }
      }
      try {
        Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.writeString(sum, Long.toHexString(written.getValue()) + "\n", StandardCharsets.US_ASCII);
      return lib;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot unpack Helm's native library into " + cacheRoot() + ": "
          + e.getMessage(), "set XDG_CACHE_HOME to a writable directory on a file system that allows executing "
          + "libraries", e);
    }
  }

  static String crc32c(Path file) throws IOException {
    CRC32C crc = new CRC32C();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        crc.update(buf, 0, n);
      }
    }
    return Long.toHexString(crc.getValue());
  }
}
