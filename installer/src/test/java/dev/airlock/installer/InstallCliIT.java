package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import java.io.IOException;
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
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code airlock install | preflight | status | history | plan show | uninstall} end to end through ./airlock,
 * against the test cluster ({@link TestCluster}: the local control plane, or a real cluster with
 * AIRLOCK_E2E_KUBECONFIG) and the company registry (htpasswd over TLS) on loopback.
 */
@KubeTest
class InstallCliIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static RegistryServer company;
  final TestCluster cluster;
  String namespace;

  InstallCliIT(TestCluster cluster) {
    this.cluster = cluster;
  }

  @BeforeAll
  static void bundleLicenseRegistry() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    Platform.keysAndLicense(dir);
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      Platform.build(dir, Platform.example(), "platform.airlock", mirror);
    }
    company = RegistryServer.startSecure("admin", "corp-pass");
  }

  @AfterAll
  static void stopRegistry() {
    if (company != null) {
      company.close();
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

  List<String> install(String... extra) {
    List<String> args = new ArrayList<>(List.of("install", "--bundle", "platform.airlock", "--license",
        "acme.license", "--trust-root", "root.pub", "--registry", company.host() + "/platform",
        "--registry-username", "admin", "--registry-password-stdin", "--registry-ca", company.caFile().toString(),
        "--kubeconfig", cluster.kubeconfig().toString(), "--namespace", namespace));
    args.addAll(List.of(extra));
    return args;
  }

  Cli.Run airlock(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString(), "--namespace", namespace));
    return Cli.run(dir, all.toArray(String[]::new));
  }

  static JsonNode result(Cli.Run run) throws IOException {
    List<String> lines = run.outLines();
    return JSON.readTree(lines.get(lines.size() - 1));
  }

  @Test
  void install_status_history_rerun_uninstall() throws IOException {
    Cli.Run first = Cli.run(dir, "corp-pass\n", Map.of(), install("--yes").toArray(String[]::new));
    assertThat(first.exit()).as(first.toString()).isZero();
    assertThat(first.out()).contains("installed platform 1.4.0 in " + namespace + ": 4 releases");
    assertThat(first.err()).contains("[pass]", "registry", "default-storage-class");

    Cli.Run status = airlock("status", "--output", "json");
    assertThat(status.exit()).as(status.toString()).isZero();
    JsonNode s = result(status);
    assertThat(s.path("healthy").asBoolean()).isTrue();
    assertThat(s.path("license").path("state").asText()).isEqualTo("valid");
    assertThat(s.path("license").path("customer").asText()).isEqualTo("Acme Corp");
    assertThat(s.path("components")).hasSize(4);
    assertThat(s.path("installation").path("images").path("docker.io/library/alpine:3.20").asText())
        .startsWith(company.host() + "/platform/library/alpine:3.20@sha256:");

    Cli.Run again = Cli.run(dir, "corp-pass\n", Map.of(), install("--output", "json").toArray(String[]::new));
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(result(again).path("changed").asBoolean()).isFalse();
    assertThat(again.out()).doesNotContain("\"phase\":\"push\"");

    Cli.Run history = airlock("history");
    assertThat(history.exit()).as(history.toString()).isZero();
    assertThat(history.out().lines().filter(l -> l.startsWith("install-")).toList()).hasSize(1)
        .allSatisfy(l -> assertThat(l).contains("- → 1.4.0", "succeeded"));

    Cli.Run plan = airlock("plan", "show");
    assertThat(plan.out()).contains("done     push", "done     release/ui", "done     record");

    Cli.Run uninstall = airlock("uninstall", "--yes");
    assertThat(uninstall.exit()).as(uninstall.toString()).isZero();
    assertThat(uninstall.out()).contains("uninstalled platform 1.4.0 from " + namespace + ": 4 releases; PVCs kept");
    Cli.Run gone = airlock("status");
    assertThat(gone.exit()).isEqualTo(2);
    assertThat(gone.err()).contains("nothing is installed in namespace " + namespace);
  }

  @Test
  void withoutTerminalOrYes_nothingIsAsked_andNothingChanges() {
    Cli.Run r = Cli.run(dir, "corp-pass\n", Map.of(), install().toArray(String[]::new));
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("no terminal to confirm", "--yes");
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  @Test
  void wrongRegistryPassword_exits3_andChangesNothing() {
    Cli.Run r = Cli.run(dir, "wrong\n", Map.of(), install("--yes").toArray(String[]::new));
    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    assertThat(r.err()).contains("[fail]", "registry", "fix:", "--registry-username");
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  @Test
  void preflight_runsTheChecksAlone() throws IOException {
    List<String> args = install("--output", "json");
    args.set(0, "preflight");
    Cli.Run r = Cli.run(dir, "corp-pass\n", Map.of(), args.toArray(String[]::new));
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode json = result(r);
    assertThat(json.path("checks")).hasSizeGreaterThanOrEqualTo(6);
    assertThat(json.path("plan").toString()).contains("release/controller");
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  @Test
  void installFromTheFirstPart_andPreflightFromTheirDirectory_readTheParts() throws IOException {
    Path parts = Files.createTempDirectory(dir, "parts");
    Cli.Run split = Cli.run(dir, "bundle", "split", "platform.airlock", "--part-size", "256KiB", "-o",
        parts.toString(), "--key", "signing.key", "--cert", "signing.cert");
    assertThat(split.exit()).as(split.toString()).isZero();
    Path first;
    try (var s = Files.list(parts)) {
      first = s.filter(p -> p.getFileName().toString().startsWith("platform.airlock.part-001-of-")).findFirst()
          .orElseThrow();
    }
    List<String> preflight = install("--output", "json");
    preflight.set(0, "preflight");
    preflight.set(preflight.indexOf("platform.airlock"), parts.toString());
    Cli.Run pre = Cli.run(dir, "corp-pass\n", Map.of(), preflight.toArray(String[]::new));
    assertThat(pre.exit()).as(pre.toString()).isZero();

    List<String> args = install("--yes");
    args.set(args.indexOf("platform.airlock"), first.toString());
    Cli.Run r = Cli.run(dir, "corp-pass\n", Map.of(), args.toArray(String[]::new));
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("installed platform 1.4.0 in " + namespace + ": 4 releases");
    JsonNode status = result(airlock("status", "--output", "json"));
    assertThat(status.path("healthy").asBoolean()).isTrue();
    assertThat(status.path("installation").path("images").path("docker.io/library/nginx:1.27-alpine").asText())
        .startsWith(company.host() + "/platform/library/nginx:1.27-alpine@sha256:");
  }

  /** Kills airlock (SIGKILL) when it reports an event, then runs the same install again: it must converge. */
  @ParameterizedTest(name = "killed at {0} {1}")
  @CsvSource({"phase-finished, push", "phase-started, release/buildkit", "phase-finished, release/controller"})
  void killedMidway_rerunResumesAndConverges(String type, String phase) throws Exception {
    Path work = Files.createTempDirectory(dir, "kill");
    for (String f : List.of("platform.airlock", "acme.license", "root.pub")) {
      Files.createSymbolicLink(work.resolve(f), dir.resolve(f));
    }
    Process p = Cli.start(work, Map.of(), install("--yes", "--output", "json").toArray(String[]::new));
    p.getOutputStream().write("corp-pass\n".getBytes());
    p.getOutputStream().close();
    String marker = "\"type\":\"" + type + "\",\"phase\":\"" + phase + "\"";
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.readString(work.resolve(".out")).contains(marker)) {
      assertThat(p.isAlive()).as("airlock ended before " + marker + ":\n" + Files.readString(work.resolve(".out"))
          + Files.readString(work.resolve(".err"))).isTrue();
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(10);
    }
    p.destroyForcibly().waitFor();

    Cli.Run unfinished = airlock("status");
    assertThat(unfinished.exit()).isNotZero();
    assertThat(unfinished.out()).contains("unfinished install");

    Cli.Run resumed = Cli.run(work, "corp-pass\n", Map.of(), install("--yes", "--output", "json")
        .toArray(String[]::new));
    assertThat(resumed.exit()).as(resumed.toString()).isZero();
    assertThat(resumed.out()).contains("resuming the install");
    if (type.equals("phase-finished")) {
      assertThat(resumed.out()).doesNotContain("\"type\":\"phase-started\",\"phase\":\"" + phase + "\"");
    }
    Cli.Run status = airlock("status", "--output", "json");
    assertThat(status.exit()).as(status.toString()).isZero();
    assertThat(result(status).path("components")).hasSize(4);
    Cli.Run history = airlock("history");
    assertThat(history.out().lines().filter(l -> l.startsWith("install-")).toList()).hasSize(1);
  }
}
