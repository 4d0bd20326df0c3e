package dev.airlock.testing.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Kubernetes binaries of the local control plane: taken from a folder ({@value #ENV}), as plain executables or
 * as {@code NAME.xz} files (as in {@code ../shared/k8s}), which are unpacked once into a cache, checked against the
 * folder's {@code SHA256SUMS}, and reused by later runs. etcd comes from {@value #ETCD_ENV} or {@code /usr/bin/etcd}.
 */
public final class KubeBinaries {

  public static final String ENV = "AIRLOCK_K8S_BIN";
  public static final String ETCD_ENV = "AIRLOCK_ETCD";
  static final List<String> NAMES = List.of("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl");

  private final Map<String, Path> paths;
  private final Path etcd;

  private KubeBinaries(Map<String, Path> paths, Path etcd) {
    this.paths = Map.copyOf(paths);
    this.etcd = etcd;
  }

  /** Where the binaries come from, or empty with the reason in {@code why}. */
  public static Optional<KubeBinaries> fromEnvironment(StringBuilder why) {
    String dir = System.getenv(ENV);
    if (dir == null || dir.isBlank()) {
      dir = System.getProperty("airlock.k8s.bin");
    }
    if (dir == null || dir.isBlank()) {
      // The workplace keeps the binaries beside the repository: ../shared/k8s.
      String root = System.getProperty("airlock.repo.root");
      Path beside = root == null ? null : Path.of(root).toAbsolutePath().normalize().resolveSibling("shared")
          .resolve("k8s");
      if (beside != null && Files.isRegularFile(beside.resolve("kube-apiserver.xz"))) {
        dir = beside.toString();
      }
    }
    if (dir == null || dir.isBlank()) {
      why.append(ENV + " is not set (point it at a folder with kube-apiserver, kube-controller-manager, "
          + "kube-scheduler and kubectl, plain or .xz, e.g. ../shared/k8s)");
      return Optional.empty();
    }
    Path etcd = Path.of(Optional.ofNullable(System.getenv(ETCD_ENV)).orElse("/usr/bin/etcd"));
    if (!Files.isExecutable(etcd)) {
      why.append("etcd is not installed at " + etcd + " (apt-get install etcd-server, or set " + ETCD_ENV + ")");
      return Optional.empty();
    }
    try {
      return Optional.of(unpack(Path.of(dir), etcd));
    } catch (RuntimeException e) {
      why.append(e.getMessage());
      return Optional.empty();
    }
  }

  static KubeBinaries unpack(Path dir, Path etcd) {
    Map<String, String> sums = sums(dir.resolve("SHA256SUMS"));
    Map<String, Path> out = new HashMap<>();
    for (String name : NAMES) {
      Path plain = dir.resolve(name);
      Path xz = dir.resolve(name + ".xz");
      if (Files.isExecutable(plain) && !Files.isDirectory(plain)) {
        out.put(name, plain);
      } else if (Files.isRegularFile(xz)) {
        out.put(name, cached(xz, name, sums.get(name)));
      } else {
        throw new IllegalStateException(ENV + "=" + dir + " has neither " + name + " nor " + name + ".xz");
      }
    }
    return new KubeBinaries(out, etcd);
  }

  private static Map<String, String> sums(Path file) {
    Map<String, String> sums = new HashMap<>();
    if (!Files.isRegularFile(file)) {
      return sums;
    }
    try {
      for (String line : Files.readAllLines(file)) {
        String[] parts = line.strip().split("\\s+");
        if (parts.length == 2) {
          sums.put(parts[1].replaceFirst("^\\*", ""), parts[0]);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sums;
  }

  /** {@code NAME.xz} unpacked into the cache (once; a marker records the verified hash). */
  private static Path cached(Path xz, String name, String expectedSha) {
    try {
      String key = expectedSha != null ? expectedSha.substring(0, 16)
          : Files.size(xz) + "-" + Files.getLastModifiedTime(xz).toMillis();
      Path dir = cacheRoot().resolve(key);
      Path bin = dir.resolve(name);
      Path ok = dir.resolve(name + ".ok");
      if (Files.isExecutable(bin) && Files.isRegularFile(ok)) {
        return bin;
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, name, ".partial");
      Process p = new ProcessBuilder("xz", "-dc", xz.toString()).redirectOutput(tmp.toFile())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
        Files.deleteIfExists(tmp);
        throw new IllegalStateException("cannot unpack " + xz + " with xz (apt-get install xz-utils)");
      }
      String actual = sha256(tmp);
      if (expectedSha != null && !expectedSha.equals(actual)) {
        Files.deleteIfExists(tmp);
        throw new IllegalStateException(xz + " unpacks to sha256:" + actual + ", but SHA256SUMS says "
            + expectedSha);
      }
      tmp.toFile().setExecutable(true, false);
      try {
        Files.move(tmp, bin, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, bin, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.writeString(ok, actual + "\n");
      return bin;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack " + xz + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Path cacheRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("airlock").resolve("test-k8s");
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public Path path(String name) {
    Path p = paths.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no binary " + name);
    }
    return p;
  }

  public Path kubectl() {
    return path("kubectl");
  }

  public Path etcd() {
    return etcd;
  }
}
