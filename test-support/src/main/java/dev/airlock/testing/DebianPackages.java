package dev.airlock.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real Debian packages unpacked into a directory that can become an image layer, with a real
 * {@code var/lib/dpkg/status} listing them: the {@code .deb} comes from the apt cache, else {@code apt-get
 * download}; the files are unpacked with {@code dpkg-deb -x} and the status stanza is the package's control file
 * ({@code dpkg-deb -f}) marked installed. Where neither can be had, the package must be installed here: its stanza
 * comes from {@code dpkg-query -s} and its files from {@code dpkg-query -L}.
 */
public final class DebianPackages {

  /** A package as its control file states it. */
  public record Package(String name, String version, String architecture) {}

  /** The unpacked root and what it holds. */
  public record Root(Path dir, List<Package> packages) {}

  private static final Path APT_CACHE = Path.of("/var/cache/apt/archives");

  private DebianPackages() {}

  /** Unpacks {@code names} into {@code work/root} with a dpkg status naming exactly them. */
  public static Root unpack(List<String> names, Path work) {
    try {
      Path root = work.resolve("root");
      Files.createDirectories(root.resolve("var/lib/dpkg"));
      StringBuilder status = new StringBuilder();
      List<Package> packages = new ArrayList<>();
      for (String name : names) {
        Path deb = deb(name, work.resolve("debs"));
        String control;
        if (deb != null) {
          control = run(List.of("dpkg-deb", "-f", deb.toString()), work);
          run(List.of("dpkg-deb", "-x", deb.toString(), root.toString()), work);
        } else {
          control = run(List.of("dpkg-query", "-s", name), work);
          for (String f : run(List.of("dpkg-query", "-L", name), work).split("\n")) {
            Path src = Path.of(f.trim());
            if (!f.isBlank() && Files.isRegularFile(src, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
              Path to = root.resolve(f.trim().substring(1));
              Files.createDirectories(to.getParent());
              Files.copy(src, to, StandardCopyOption.REPLACE_EXISTING);
            }
          }
        }
        String stanza = control.strip().replaceAll("(?m)^Status:.*\\n?", "");
        stanza = stanza.replaceFirst("(?m)^(Package: .*)$", "$1\nStatus: install ok installed");
        status.append(stanza).append("\n\n");
        packages.add(new Package(field(stanza, "Package"), field(stanza, "Version"), field(stanza, "Architecture")));
      }
      Files.writeString(root.resolve("var/lib/dpkg/status"), status.toString(), StandardCharsets.UTF_8);
      return new Root(root, List.copyOf(packages));
    } catch (IOException e) {
      throw new IllegalStateException("cannot unpack Debian packages " + names + ": " + e.getMessage(), e);
    }
  }

  /** Every regular file under {@code root}, as absolute image path to file (for {@link TestImages#pushFiles}). */
  public static java.util.Map<String, Path> files(Path root) {
    java.util.Map<String, Path> out = new java.util.TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .forEach(p -> out.put("/" + root.relativize(p).toString().replace('\\', '/'), p));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private static Path deb(String name, Path downloads) throws IOException {
    try (Stream<Path> s = Files.isDirectory(APT_CACHE) ? Files.list(APT_CACHE) : Stream.empty()) {
      Path cached = s.filter(p -> p.getFileName().toString().startsWith(name + "_")
          && p.getFileName().toString().endsWith(".deb")).sorted().findFirst().orElse(null);
      if (cached != null) {
        return cached;
      }
    }
    Files.createDirectories(downloads);
    try {
      run(List.of("apt-get", "download", name), downloads);
    } catch (IllegalStateException e) {
      return null;
    }
    try (Stream<Path> s = Files.list(downloads)) {
      return s.filter(p -> p.getFileName().toString().startsWith(name + "_")).findFirst().orElse(null);
    }
  }

  private static String field(String stanza, String name) {
    for (String line : stanza.split("\n")) {
      if (line.startsWith(name + ": ")) {
        return line.substring(name.length() + 2).trim();
      }
    }
    throw new IllegalStateException("control file has no " + name + ": " + stanza);
  }

  private static String run(List<String> cmd, Path dir) {
    try {
      Files.createDirectories(dir);
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(false).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed: " + err);
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
