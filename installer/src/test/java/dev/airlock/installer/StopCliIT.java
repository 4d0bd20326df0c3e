package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.ThrottledProxy;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C and SIGTERM stop push, install and upgrade within about two seconds, with 130/143 and a resume hint, and
 * what a re-run needs is kept: the registry's blobs, the plan in the cluster. The registry answers through a slow
 * proxy so the stop lands mid-push; the upgrade is stopped while Helm waits for a workload that never becomes ready
 * (a native call that cannot be interrupted).
 */
@KubeTest
class StopCliIT {

  @TempDir static Path dir;
  static RegistryServer company;
  final TestCluster cluster;
  String namespace;

  StopCliIT(TestCluster cluster) {
    this.cluster = cluster;
  }

  @BeforeAll
  static void bundles() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    Platform.keysAndLicense(dir);
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      ExampleImages.seedNext(mirror, dir.resolve("images-next"));
      Platform.build(dir, Platform.example(), "v1.airlock", mirror);
      Platform.build(dir, ExampleVariants.v2(Platform.example().getParent(), dir.resolve("specs")), "v2.airlock",
          mirror);
      Platform.build(dir, ExampleVariants.v3NeverReady(Platform.example().getParent(), dir.resolve("specs")),
          "v3.airlock", mirror);
    }
    company = RegistryServer.startPlain();
  }

  @AfterAll
  static void stop() {
    if (company != null) {
      company.close();
    }
  }

  @BeforeEach
  void namespace() {
    namespace = TestCluster.uniqueName("stop");
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(namespace);
  }

  List<String> withCluster(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString(), "--namespace", namespace));
    return all;
  }

  /** Runs a command, sends {@code signal} once {@code when} holds, and checks the stop. */
  static void stopWith(Path cwd, List<String> args, String signal, int code, BooleanSupplier when, String resume)
      throws Exception {
    Process p = Cli.start(cwd, Map.of(), args.toArray(String[]::new));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!when.getAsBoolean()) {
      assertThat(p.isAlive()).as("ended before it could be stopped: " + Files.readString(cwd.resolve(".err"))
          + Files.readString(cwd.resolve(".out")))
          .isTrue();
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
    long t0 = System.nanoTime();
    new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat((System.nanoTime() - t0) / 1e9).as("seconds from SIG" + signal + " to exit").isLessThan(2.5);
    String err = Files.readString(cwd.resolve(".err"));
    assertThat(p.exitValue()).as(err).isEqualTo(code);
    assertThat(err).contains("stopped by SIG" + signal, resume).doesNotContain("Exception");
  }

  static BooleanSupplier outContains(Path cwd, String text) {
    return () -> {
      try {
        return Files.readString(cwd.resolve(".out")).contains(text);
      } catch (java.io.IOException e) {
        return false;
      }
    };
  }

  @Test
  void push_stoppedByCtrlC_thenTheSameCommandFinishes(@TempDir Path tmp) throws Exception {
    try (RegistryServer target = RegistryServer.startPlain();
        ThrottledProxy slow = ThrottledProxy.start(target.port(), 128 * 1024)) {
      List<String> push = List.of("bundle", "push", dir.resolve("v1.airlock").toString(), "--registry",
          slow.host() + "/p", "--insecure-registry", slow.host(), "--trust-root", dir.resolve("root.pub").toString(),
          "--output", "json");
      stopWith(tmp, push, "INT", 130, outContains(tmp, "\"type\":\"progress\""), "run the same command again");
      List<String> fast = new ArrayList<>(push);
      fast.set(fast.indexOf(slow.host() + "/p"), target.host() + "/p");
      fast.set(fast.indexOf(slow.host()), target.host());
      Cli.Run again = Cli.run(tmp, fast.toArray(String[]::new));
      assertThat(again.exit()).as(again.toString()).isZero();
    }
  }

  @Test
  void install_stoppedByTermDuringPush_recordsWhereItStopped_andResumes(@TempDir Path tmp) throws Exception {
    // A registry of its own: one that holds the images already would make the push too quick to stop.
    try (RegistryServer empty = RegistryServer.startPlain();
        ThrottledProxy slow = ThrottledProxy.start(empty.port(), 128 * 1024)) {
      List<String> install = withCluster("install", "--bundle", dir.resolve("v1.airlock").toString(), "--license",
          dir.resolve("acme.license").toString(), "--trust-root", dir.resolve("root.pub").toString(), "--registry",
          slow.host() + "/platform", "--insecure-registry", slow.host(), "--yes", "--output", "json");
      stopWith(tmp, install, "TERM", 143, outContains(tmp, "\"type\":\"progress\""), "'airlock plan show'");
      Cli.Run plan = Cli.run(tmp, withCluster("plan", "show").toArray(String[]::new));
      assertThat(plan.out()).contains("install", "running", "push");
      Cli.Run status = Cli.run(tmp, withCluster("status").toArray(String[]::new));
      assertThat(status.exit()).isEqualTo(11);
      assertThat(status.out()).contains("unfinished install");
      Cli.Run resumed = Cli.run(tmp, install.toArray(String[]::new));
      assertThat(resumed.exit()).as(resumed.toString()).isZero();
      assertThat(resumed.out()).contains("resuming the install");
    }
  }

  @Test
  void upgrade_stoppedByCtrlCWhileHelmWaits_isUndoneByRollback(@TempDir Path tmp) throws Exception {
    assumeTrue(cluster.standInKubelet(), "FAKE_READY is the stand-in kubelet's convention");
    Cli.Run v1 = Cli.run(tmp, withCluster("install", "--bundle", dir.resolve("v1.airlock").toString(), "--license",
        dir.resolve("acme.license").toString(), "--trust-root", dir.resolve("root.pub").toString(), "--registry",
        company.host() + "/platform", "--insecure-registry", company.host(), "--yes", "--no-wait")
        .toArray(String[]::new));
    assertThat(v1.exit()).as(v1.toString()).isZero();
    Cli.Run v2 = Cli.run(tmp, withCluster("upgrade", "--bundle", dir.resolve("v2.airlock").toString(),
        "--trust-root", dir.resolve("root.pub").toString(), "--yes").toArray(String[]::new));
    assertThat(v2.exit()).as(v2.toString()).isZero();
    List<String> upgrade = withCluster("upgrade", "--bundle", dir.resolve("v3.airlock").toString(), "--trust-root",
        dir.resolve("root.pub").toString(), "--yes", "--timeout", "120", "--output", "json");
    // Stopped a moment after Helm started waiting for the controller, inside the native call.
    BooleanSupplier waiting = outContains(tmp, "\"type\":\"phase-started\",\"phase\":\"release/controller\"");
    stopWith(tmp, upgrade, "INT", 130, () -> {
      if (!waiting.getAsBoolean()) {
        return false;
      }
      try {
        Thread.sleep(1500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return true;
    }, "'airlock rollback' to undo it");
    Cli.Run plan = Cli.run(tmp, withCluster("plan", "show").toArray(String[]::new));
    assertThat(plan.out()).contains("running  release/controller");
    Cli.Run back = Cli.run(tmp, withCluster("rollback", "--yes", "--timeout", "60").toArray(String[]::new));
    assertThat(back.exit()).as(back.toString()).isZero();
    assertThat(back.out()).contains("platform is at 1.5.0");
    var d = cluster.client().apps().deployments().inNamespace(namespace).withName("platform-controller").get();
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .extracting(e -> e.getName()).doesNotContain("FAKE_READY");
  }
}
