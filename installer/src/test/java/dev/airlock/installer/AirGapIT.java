package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.testing.AirGapScenario;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Air-gap truth: the whole install runs in a network namespace that has only loopback ({@code unshare --net}, as
 * root), with the company registry and the mock API server started inside it ({@link AirGapScenario}).
 */
class AirGapIT {

  @TempDir Path dir;

  @Test
  void install_succeedsWithOnlyLoopback() throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    Process probe = new ProcessBuilder("unshare", "--net", "true").start();
    assumeTrue(probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0,
        "unshare --net needs root (CAP_SYS_ADMIN); run the suite as root to check air-gap truth");

    Platform.keysAndLicense(dir);
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      Platform.build(dir, Platform.example(), "platform.airlock", mirror);
    }

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script = "ip link set lo up && exec \"$0\" -cp \"$1\" " + AirGapScenario.class.getName() + " \"$2\" \"$3\"";
    Process p = new ProcessBuilder(List.of("unshare", "--net", "--", "sh", "-c", script, java,
        System.getProperty("java.class.path"), Cli.LAUNCHER.toString(), dir.toString())).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(6, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("no route out", "installed platform 1.4.0 in airlock-system: 4 releases",
        "platform 1.4.0 — installed");
  }
}
