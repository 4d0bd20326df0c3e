package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code airlock upgrade | rollback | inventory export} end to end through ./airlock, as a CI job would run them:
 * no terminal, {@code --yes}, exit codes.
 */
@KubeTest
class UpgradeCliIT {

  @TempDir static Path dir;
  static RegistryServer mirror;
  static RegistryServer company;
  final TestCluster cluster;
  String namespace;

  UpgradeCliIT(TestCluster cluster) {
    this.cluster = cluster;
  }

  @BeforeAll
  static void bundles() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    Platform.keysAndLicense(dir);
    mirror = RegistryServer.startPlain();
    ExampleImages.seed(mirror, dir.resolve("images"));
    ExampleImages.seedNext(mirror, dir.resolve("images-next"));
    Platform.build(dir, Platform.example(), "v1.airlock", mirror);
    Platform.build(dir, ExampleVariants.v2(Platform.example().getParent(), dir.resolve("specs")), "v2.airlock",
        mirror);
    Platform.build(dir, ExampleVariants.v3Broken(Platform.example().getParent(), dir.resolve("specs")),
        "v3.airlock", mirror);
    company = RegistryServer.startSecure("admin", "corp-pass");
  }

  @AfterAll
  static void stop() {
    if (company != null) {
      company.close();
    }
    if (mirror != null) {
      mirror.close();
    }
  }

  @BeforeEach
  void namespace() {
    namespace = TestCluster.uniqueName("cli");
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(namespace);
  }

  Cli.Run airlock(String... args) {
    return airlock(dir, null, args);
  }

  Cli.Run airlock(Path cwd, String stdin, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString(), "--namespace", namespace));
    return Cli.run(cwd, stdin, Map.of(), all.toArray(String[]::new));
  }

  void installV1() {
    Cli.Run r = airlock(dir, "corp-pass\n", "install", "--bundle", "v1.airlock", "--license", "acme.license",
        "--trust-root", "root.pub", "--registry", company.host() + "/platform", "--registry-username", "admin",
        "--registry-password-stdin", "--registry-ca", company.caFile().toString(), "--yes");
    assertThat(r.exit()).as(r.toString()).isZero();
  }

  /**
   * The upgrade a CI job runs: the bundle, the root key and a kubeconfig; the license, the registry, its CA and its
   * credentials are those the install recorded. No prompt.
   */
  String[] upgrade(String bundle, String... extra) {
    List<String> args = new ArrayList<>(List.of("upgrade", "--bundle", bundle, "--trust-root", "root.pub", "--yes",
        "--timeout", "30"));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  @Test
  void inventory_deltaBundle_upgrade_thenBrokenUpgradeRollsBack_exit5_thenRollbackByHand() throws Exception {
    installV1();
    Cli.Run inv = airlock("inventory", "export", "-o", "inventory.json");
    assertThat(inv.exit()).as(inv.toString()).isZero();
    assertThat(Files.readString(dir.resolve("inventory.json"))).contains("\"kind\" : \"Inventory\"", "sha256:");
    Platform.build(dir, ExampleVariants.v2(Platform.example().getParent(), dir.resolve("specs-delta")),
        "v2-delta.airlock", mirror, "--delta-from", "inventory.json");
    assertThat(Files.size(dir.resolve("v2-delta.airlock"))).isLessThan(Files.size(dir.resolve("v2.airlock")) / 2);

    Cli.Run up = airlock(upgrade("v2-delta.airlock"));
    assertThat(up.exit()).as(up.toString()).isZero();
    assertThat(up.out()).contains("upgraded platform 1.4.0 → 1.5.0");

    Cli.Run broken = airlock(upgrade("v3.airlock", "--output", "json"));
    assertThat(broken.exit()).as(broken.toString()).isEqualTo(5);
    assertThat(broken.out()).contains("\"phase\":\"undo/release/controller\"", "\"phase\":\"undo/release/ui\"");
    assertThat(broken.out()).contains("\"type\":\"error\"", "\"exitCode\":5");
    assertThat(broken.err()).contains("rolled back");
    Cli.Run status = airlock("status");
    assertThat(status.exit()).as(status.toString()).isZero();
    assertThat(status.out()).contains("platform 1.5.0 — rolled-back", "release/ui failed");

    Cli.Run history = airlock("history");
    assertThat(history.out()).contains("1.4.0 → 1.5.0", "succeeded", "1.5.0 → 1.6.0", "rolled-back");

    Cli.Run back = airlock("rollback", "--yes");
    assertThat(back.exit()).as(back.toString()).isZero();
    assertThat(back.out()).contains("platform is at 1.4.0 in " + namespace + " (was 1.5.0)");
    assertThat(cluster.client().apps().deployments().inNamespace(namespace).withName("platform-controller")
        .get().getSpec().getReplicas()).isEqualTo(1);

    // The CLI's operations are in the installation's audit log, with how each ended.
    Cli.Run audit = airlock("audit", "export", "--output", "json");
    assertThat(audit.exit()).as(audit.toString()).isZero();
    assertThat(audit.out()).contains("\"action\":\"install\"", "\"action\":\"upgrade\"", "\"from\":\"1.4.0\"",
        "\"to\":\"1.5.0\"", "\"result\":\"rolled-back\"", "\"action\":\"rollback\"", "\"result\":\"succeeded\"");
    Cli.Run verify = airlock("audit", "verify");
    assertThat(verify.exit()).as(verify.toString()).isZero();
  }

  @Test
  void downgrade_andUpgradesFromViolation_andResumeWithNothingToResume_exit2() {
    installV1();
    Cli.Run nothing = airlock(upgrade("v2.airlock", "--resume"));
    assertThat(nothing.exit()).as(nothing.toString()).isEqualTo(2);
    assertThat(nothing.err()).contains("no unfinished upgrade");
    Cli.Run skip = airlock(upgrade("v3.airlock"));
    assertThat(skip.exit()).as(skip.toString()).isEqualTo(2);
    assertThat(skip.err()).contains("upgrades only from >=1.5.0 <1.6.0");
    assertThat(airlock(upgrade("v2.airlock")).exit()).isZero();
    Cli.Run down = airlock(upgrade("v1.airlock"));
    assertThat(down.exit()).as(down.toString()).isEqualTo(2);
    assertThat(down.err()).contains("downgrade", "--allow-downgrade");
  }

  /** kill -9 while pushing and while upgrading a release; the same command again finishes the upgrade. */
  @ParameterizedTest(name = "killed at {0}")
  @ValueSource(strings = {"push", "release/controller"})
  void killedUpgrade_resumes(String phase) throws Exception {
    installV1();
    Path work = Files.createTempDirectory(dir, "kill");
    for (String f : List.of("v2.airlock", "root.pub")) {
      Files.createSymbolicLink(work.resolve(f), dir.resolve(f));
    }
    List<String> args = new ArrayList<>(List.of(upgrade("v2.airlock", "--output", "json")));
    args.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString(), "--namespace", namespace));
    Process p = Cli.start(work, Map.of(), args.toArray(String[]::new));
    p.getOutputStream().close();
    String marker = "\"type\":\"phase-started\",\"phase\":\"" + phase + "\"";
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.readString(work.resolve(".out")).contains(marker)) {
      assertThat(p.isAlive()).as(Files.readString(work.resolve(".out")) + Files.readString(work.resolve(".err")))
          .isTrue();
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(5);
    }
    p.destroyForcibly().waitFor();

    Cli.Run plan = airlock("plan", "show");
    assertThat(plan.out()).contains("upgrade", "running");
    Cli.Run resumed = airlock(work, null, upgrade("v2.airlock", "--resume"));
    assertThat(resumed.exit()).as(resumed.toString()).isZero();
    assertThat(resumed.err()).contains("resuming the upgrade");
    Cli.Run status = airlock("status");
    assertThat(status.exit()).as(status.toString()).isZero();
    assertThat(status.out()).contains("platform 1.5.0 — installed");
    assertThat(cluster.client().apps().deployments().inNamespace(namespace).withName("platform-controller")
        .get().getSpec().getReplicas()).isEqualTo(2);
  }
}
