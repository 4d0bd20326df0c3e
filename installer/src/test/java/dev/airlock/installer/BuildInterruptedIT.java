package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A build killed with SIGKILL midway leaves no file under the target name, and the re-run finishes it. */
@Tag("slow")
class BuildInterruptedIT {

  @Test
  void build_killedDuringDownloadAndDuringWrite_leavesNoOutput_andRerunSucceeds(@TempDir Path dir) throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed");
    try (RegistryServer registry = RegistryServer.startPlain()) {
      ExampleImages.seed(registry, dir.resolve("images"));
      new TestImages(registry, dir.resolve("images")).push("hub/library/big:1",
          List.of(ExampleImages.BASE, new TestImages.Layer(42, 256 * 1024 * 1024)), "linux/amd64");
      Path spec = copyExampleWithBigImage(dir);
      assertThat(Cli.run(dir, "keys", "create-root", "--out", "root").exit()).isZero();
      assertThat(Cli.run(dir, "keys", "create-signing", "--root-key", "root.key", "--out", "signing").exit()).isZero();
      String[] build = {"bundle", "build", "-f", spec.toString(), "-o", "platform.airlock", "--key", "signing.key",
          "--cert", "signing.cert", "--mirror", "docker.io=" + registry.host() + "/hub", "--insecure-registry",
          registry.host(), "--parallel", "1"};
      Path target = dir.resolve("platform.airlock");

      // 1. Killed while the big layer is downloading into the cache.
      Process p = Cli.start(dir, Map.of(), build);
      Optional<Path> downloading = await(p, dir.resolve(".cache/tmp"), f -> f.getFileName().toString()
          .matches("[0-9a-f]{64}\\..+") && size(f) > 1024 * 1024);
      assertThat(downloading).as("a download in progress").isPresent();
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      assertThat(target).doesNotExist();

      // 2. Killed while the bundle is being written: only a .partial file may remain.
      boolean caughtWriting = false;
      for (int attempt = 0; attempt < 5 && !caughtWriting; attempt++) {
        Files.deleteIfExists(target);
        p = Cli.start(dir, Map.of(), build);
        Optional<Path> partial = await(p, dir, f -> f.getFileName().toString().endsWith(".partial"));
        if (partial.isPresent() && p.isAlive()) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          caughtWriting = !Files.exists(target);
        } else {
          p.waitFor(2, TimeUnit.MINUTES);
        }
      }
      assertThat(caughtWriting).as("killed during the write phase").isTrue();
      assertThat(target).doesNotExist();

      // 3. The re-run converges: cached blobs reused, stale partial removed, a verifiable bundle.
      Cli.Run rerun = Cli.run(dir, build);
      assertThat(rerun.exit()).as(rerun.toString()).isZero();
      assertThat(rerun.err()).contains("from cache");
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".partial"));
      }
      Cli.Run verify = Cli.run(dir, "bundle", "verify", "platform.airlock", "--trust-root", "root.pub");
      assertThat(verify.exit()).as(verify.toString()).isZero();
    }
  }

  private static Path copyExampleWithBigImage(Path dir) throws IOException {
    Path src = Cli.REPO.resolve("examples/platform");
    Path dst = dir.resolve("platform");
    try (Stream<Path> walk = Files.walk(src)) {
      for (Path p : walk.toList()) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Path spec = dst.resolve("bundle.yaml");
    Files.writeString(spec, Files.readString(spec) + "  - docker.io/library/big:1\n");
    return spec;
  }

  private static Optional<Path> await(Process p, Path where, Predicate<Path> match) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(deadline) && p.isAlive()) {
      if (Files.isDirectory(where)) {
        try (Stream<Path> files = Files.list(where)) {
          Optional<Path> hit = files.filter(match).findFirst();
          if (hit.isPresent()) {
            return hit;
          }
        } catch (IOException e) {
          // a file vanished while listing; look again
        }
      }
      Thread.sleep(1);
    }
    return Optional.empty();
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      return 0;
    }
  }
}
