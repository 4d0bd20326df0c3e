package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import dev.airlock.testing.ThrottledProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build stopped midway — Ctrl-C (SIGINT), SIGTERM, kill -9 — stops at once, leaves no file under the target name,
 * keeps the partial file and its journal, and the re-run resumes, a large blob from where it stopped. The source
 * registry answers through a throttled proxy (64 MiB/s) so each stop lands inside the 256 MiB layer.
 */
@Tag("slow")
class BuildInterruptedIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final int BIG = 256 * 1024 * 1024;

  @Test
  void build_stoppedByIntTermAndKill_leavesNoOutput_keepsItsWork_andRerunResumesMidBlob(@TempDir Path dir)
      throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed");
    try (RegistryServer registry = RegistryServer.startPlain();
        ThrottledProxy slow = ThrottledProxy.start(registry.port(), 64L << 20)) {
      ExampleImages.seed(registry, dir.resolve("images"));
      new TestImages(registry, dir.resolve("images")).push("hub/library/big:1",
          List.of(ExampleImages.BASE, new TestImages.Layer(42, BIG)), "linux/amd64");
      Path spec = copyExampleWithBigImage(dir);
      assertThat(Cli.run(dir, "keys", "create-root", "--out", "root").exit()).isZero();
      assertThat(Cli.run(dir, "keys", "create-signing", "--root-key", "root.key", "--out", "signing").exit()).isZero();
      String[] build = {"bundle", "build", "-f", spec.toString(), "-o", "platform.airlock", "--key", "signing.key",
          "--cert", "signing.cert", "--mirror", "docker.io=" + slow.host() + "/hub", "--insecure-registry",
          slow.host(), "--parallel", "1", "--output", "json"};
      Path target = dir.resolve("platform.airlock");
      Path partial = dir.resolve(".platform.airlock.partial");
      Path journal = dir.resolve(".platform.airlock.partial.journal");

      // 1. Ctrl-C while the big layer streams in: exit 130 at once, saying how to resume; work kept.
      stop(dir, build, "INT", 130, () -> journaled(journal) >= 32L << 20);
      assertThat(target).doesNotExist();
      assertThat(partial).exists();
      assertThat(journal).exists();
      long afterInt = journaled(journal);

      // 2. SIGTERM after the re-run got further: exit 143; it continued where the first run stopped.
      stop(dir, build, "TERM", 143, () -> journaled(journal) >= afterInt + (32L << 20));
      assertThat(target).doesNotExist();

      // 3. kill -9 after more progress: nothing under the target name either.
      long afterTerm = journaled(journal);
      Process p = Cli.start(dir, Map.of(), build);
      assertThat(await(p, () -> journaled(journal) >= afterTerm + (32L << 20))).as("progress after SIGTERM")
          .isTrue();
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      assertThat(target).doesNotExist();

      // 4. The re-run resumes mid-blob: it downloads what was missing, not what was there (< 10% of the bundle
      //    more than the remainder).
      long kept = journaled(journal);
      Cli.Run rerun = Cli.run(dir, build);
      assertThat(rerun.exit()).as(rerun.toString()).isZero();
      JsonNode result = JSON.readTree(rerun.outLines().get(rerun.outLines().size() - 1));
      long size = result.path("size").asLong();
      long downloaded = result.path("bytesDownloaded").asLong();
      assertThat(kept).as("the interrupted runs kept most of the big layer").isGreaterThanOrEqualTo(96L << 20);
      assertThat(downloaded).as("bytes downloaded again on the re-run").isLessThan(size - kept + size / 10);
      assertThat(rerun.out()).contains("bytes of partly downloaded blobs kept");
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

  /** Starts the build, sends {@code signal} when {@code when} holds, and checks the stop. */
  private static void stop(Path dir, String[] build, String signal, int code, BooleanSupplier when)
      throws Exception {
    Process p = Cli.start(dir, Map.of(), build);
    assertThat(await(p, when)).as("the build got far enough to be stopped: " + Files.readString(dir.resolve(".err")))
        .isTrue();
    long t0 = System.nanoTime();
    new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
    assertThat(p.waitFor(5, TimeUnit.SECONDS)).as("stopped within 5 s").isTrue();
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(seconds).as("seconds from SIG" + signal + " to exit").isLessThan(2.5);
    assertThat(p.exitValue()).isEqualTo(code);
    String err = Files.readString(dir.resolve(".err"));
    assertThat(err).contains("stopped by SIG" + signal, "run the same command again to resume")
        .doesNotContain("Exception");
    String out = Files.readString(dir.resolve(".out"));
    List<String> lines = out.lines().toList();
    JsonNode last = JSON.readTree(lines.get(lines.size() - 1));
    assertThat(last.path("type").asText()).isEqualTo("error");
    assertThat(last.path("exitCode").asInt()).isEqualTo(code);
    assertThat(last.path("data").path("signal").asText()).isEqualTo(signal);
  }

  /** Bytes the journal vouches for: the largest partial count of each blob still in progress. */
  static long journaled(Path journal) {
    try {
      Map<String, Long> partial = new HashMap<>();
      for (String l : Files.readAllLines(journal)) {
        String[] parts = l.split(" ");
        if (parts.length == 3 && parts[0].equals("partial")) {
          partial.merge(parts[1], Long.parseLong(parts[2]), Math::max);
        }
      }
      return partial.values().stream().mapToLong(Long::longValue).sum();
    } catch (IOException | RuntimeException e) {
      return 0;
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
}
