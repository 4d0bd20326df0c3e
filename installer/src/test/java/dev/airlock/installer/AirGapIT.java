package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.testing.AirGapScenario;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeBinaries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Air-gap truth: install, upgrade and a failing upgrade's rollback run in a network namespace that has only loopback
 * ({@code unshare --net}, as root), with the company registry and a real Kubernetes control plane started inside it
 * ({@link AirGapScenario}).
 */
@Tag("kube")
class AirGapIT {

  @TempDir Path dir;

  @Test
  void installUpgradeAndRollback_succeedWithOnlyLoopback() throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    StringBuilder why = new StringBuilder();
    assumeTrue(KubeBinaries.fromEnvironment(why).isPresent(), why.toString());
    Process probe = new ProcessBuilder("unshare", "--net", "true").start();
    assumeTrue(probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0,
        "unshare --net needs root (CAP_SYS_ADMIN); run the suite as root to check air-gap truth");

    Platform.keysAndLicense(dir);
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      ExampleImages.seedNext(mirror, dir.resolve("images-next"));
      Platform.build(dir, Platform.example(), "v1.airlock", mirror);
      Platform.build(dir, ExampleVariants.v2(Platform.example().getParent(), dir.resolve("specs")), "v2.airlock",
          mirror);
      Platform.build(dir, ExampleVariants.v3Broken(Platform.example().getParent(), dir.resolve("specs")),
          "v3.airlock", mirror);
    }

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script = "ip link set lo up && exec \"$0\" -Dairlock.repo.root=\"$4\" -cp \"$1\" "
        + AirGapScenario.class.getName() + " \"$2\" \"$3\"";
    Process p = new ProcessBuilder(List.of("unshare", "--net", "--", "sh", "-c", script, java,
        System.getProperty("java.class.path"), Cli.LAUNCHER.toString(), dir.toString(), Cli.REPO.toString()))
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("no route out", "installed platform 1.4.0 in airlock-system: 4 releases",
        "upgraded platform 1.4.0 → 1.5.0", "failed and was rolled back", "platform 1.5.0 — rolled-back");
  }
}
