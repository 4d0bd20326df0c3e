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
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A build killed with SIGKILL midway leaves no file under the target name, and the re-run resumes and finishes it. */
@Tag("slow")
class BuildInterruptedIT {

  @Test
  void build_killedTwiceMidway_leavesNoOutput_andRerunResumes(@TempDir Path dir) throws Exception {
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

      Path partial = dir.resolve(".platform.airlock.partial");
      Path journal = dir.resolve(".platform.airlock.partial.journal");

      // 1. Killed while the big layer streams into the partial file: nothing under the target name.
      Process p = Cli.start(dir, Map.of(), build);
      assertThat(await(p, () -> Files.exists(journal))).as("the build got to the download").isTrue();
      Thread.sleep(200);
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      assertThat(target).doesNotExist();

      // 2. Killed again once the big layer is complete (journaled) and the rest is under way.
      p = Cli.start(dir, Map.of(), build);
      assertThat(await(p, () -> lines(journal) >= 2)).as("a blob was journaled").isTrue();
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      assertThat(target).doesNotExist();
      assertThat(partial).exists();

      // 3. The re-run resumes: the journaled layer is re-checked and reused, not downloaded again.
      Cli.Run rerun = Cli.run(dir, build);
      assertThat(rerun.exit()).as(rerun.toString()).isZero();
      Matcher reused = Pattern.compile("(\\d+) blobs reused").matcher(rerun.out());
      assertThat(reused.find()).as(rerun.out()).isTrue();
      assertThat(Integer.parseInt(reused.group(1))).isPositive();
      assertThat(partial).doesNotExist();
      assertThat(journal).doesNotExist();
      try (Stream<Path> files = Files.list(dir)) {
        assertThat(files.map(f -> f.getFileName().toString())).as("no scratch or lock files are left")
            .noneMatch(n -> n.startsWith(".platform.airlock."));
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

  private static boolean await(Process p, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(deadline) && p.isAlive()) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(2);
    }
    return false;
  }

  private static long lines(Path f) {
    try {
      return Files.readAllLines(f).size();
    } catch (IOException e) {
      return 0;
    }
  }
}
