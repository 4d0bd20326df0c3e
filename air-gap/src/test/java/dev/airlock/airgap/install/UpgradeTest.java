package dev.airlock.airgap.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.bundle.event.Event;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.error.AirlockException;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Upgrade scenarios through the library: v1 (1.4.0) → v2 (1.5.0) → a broken v3 (1.6.0). */
class UpgradeTest {

  @TempDir static Path dir;
  static Fixture fx;
  static Path v1;
  static Path v2;
  static Path v2Delta;
  static Path v3Broken;
  static Path v3Hook;
  TestCluster cluster;
  final String namespace = "airlock-system";
  final List<Event> events = new ArrayList<>();

  @BeforeAll
  static void bundles() throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    fx = new Fixture(dir);
    v1 = fx.bundle(Fixture.EXAMPLE.resolve("bundle.yaml"), "v1.airlock");
    Path specs = dir.resolve("specs");
    v2 = fx.bundle(ExampleVariants.v2(Fixture.EXAMPLE, specs), "v2.airlock");
    v2Delta = fx.bundle(ExampleVariants.v2(Fixture.EXAMPLE, specs.resolve("d")), "v2-delta.airlock", v1);
    v3Broken = fx.bundle(ExampleVariants.v3Broken(Fixture.EXAMPLE, specs), "v3-broken.airlock");
    v3Hook = fx.bundle(ExampleVariants.v3FailingHook(Fixture.EXAMPLE, specs), "v3-hook.airlock");
  }

  @AfterAll
  static void tearDown() {
    if (fx != null) {
      fx.close();
    }
  }

  @BeforeEach
  void cluster() {
    cluster = TestCluster.start();
  }

  @AfterEach
  void close() {
    if (cluster != null) {
      if (!cluster.isMock()) {
        try (KubeTarget kube = kube()) {
          Uninstaller.uninstall(kube, namespace, true, e -> { });
        } catch (RuntimeException ignored) {
          // best effort on a real cluster
        }
      }
      cluster.close();
    }
  }

  KubeTarget kube() {
    return KubeTarget.connect(Optional.of(cluster.kubeconfig()), Optional.empty());
  }

  Installer.Result run(Path bundlePath, boolean upgrade, Consumer<Installer> tweak) {
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      Installer i = new Installer(bundle, fx.roots, kube, namespace).license(fx.license)
          .registry(fx.target(), fx.registryOptions(Fixture.PASSWORD)).timeoutSeconds(20)
          .addEventHandler(events::add);
      tweak.accept(i);
      return upgrade ? i.upgrade() : i.install();
    }
  }

  Deployment controller() {
    return cluster.client().apps().deployments().inNamespace(namespace).withName("platform-controller").get();
  }

  State state() {
    try (KubeTarget kube = kube()) {
      return new StateStore(kube, namespace).load().orElseThrow();
    }
  }

  @Test
  void v1ToV2_pushesOnlyChangedBlobs_upgradesChangedReleases_andRecordsHistory() {
    try (RegistryServer fresh = RegistryServer.startSecure("admin", Fixture.PASSWORD)) {
      Consumer<Installer> to = i -> i.registry(dev.airlock.airgap.push.RegistryTarget.parse(fresh.host()
          + "/platform"), dev.airlock.oci.RegistryOptions.defaults().withCaFiles(List.of(fresh.caFile()))
          .withCredentials(dev.airlock.oci.CredentialStore.of(Map.of(fresh.host(),
              new dev.airlock.oci.Credentials("admin", Fixture.PASSWORD)))));
      run(v1, false, to);
      Installer.Result dry = run(v2, true, to.andThen(i -> i.dryRun(true)));
      assertThat(dry.summary()).contains("upgrade 1.4.0 → platform 1.5.0: push 2 blobs", "of 1 images",
          "releases: controller (chart");
      events.clear();
      upgradedToV2(run(v2, true, to), fresh.host());
    }
  }

  private void upgradedToV2(Installer.Result r, String registryHost) {
    assertThat(r.summary()).contains("upgraded platform 1.4.0 → 1.5.0");
    assertThat(r.plan()).containsExactly("push", "pull-secrets", "release/controller", "record");
    String push = events.stream().filter(e -> e instanceof Event.PhaseFinished f && f.phase().equals("push"))
        .map(e -> ((Event.PhaseFinished) e).summary()).findFirst().orElseThrow();
    // the new alpine layer, its config and its manifest; every other blob is present
    assertThat(push).startsWith("2 blobs uploaded");
    Deployment d = controller();
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .startsWith(registryHost + "/platform/library/alpine:3.21@sha256:");
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.5.0");
    assertThat(s.installation().components()).filteredOn(c -> c.name().equals("controller"))
        .extracting(State.Component::revision).containsExactly(2);
    assertThat(s.installation().components()).filteredOn(c -> c.name().equals("ui"))
        .extracting(State.Component::revision).containsExactly(1);
    assertThat(s.history()).extracting(o -> o.kind() + " " + o.from() + "→" + o.to() + " " + o.result())
        .containsExactly("install null→1.4.0 succeeded", "upgrade 1.4.0→1.5.0 succeeded");
    assertThat(s.previous()).extracting(State.Installation::version).containsExactly("1.4.0");
  }

  @Test
  void v2ToBrokenV3_rollsEveryUpgradedComponentBackToV2() {
    run(v1, false, i -> { });
    run(v2, true, i -> { });
    assertThatThrownBy(() -> run(v3Broken, true, i -> { }))
        .isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.ROLLED_BACK);
          assertThat(e.getMessage()).contains("release/ui failed", "NoSuchKind");
        });
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.5.0");
    assertThat(s.installation().status()).isEqualTo("rolled-back");
    assertThat(s.installation().reason()).contains("release/ui failed");
    assertThat(s.history().get(s.history().size() - 1).result()).isEqualTo("rolled-back");
    try (KubeTarget kube = kube()) {
      Releases helm = new Releases(kube);
      for (State.Component c : s.installation().components()) {
        assertThat(helm.latest(c.release(), c.namespace()).orElseThrow().status()).isEqualTo("deployed");
      }
      assertThat(helm.latest("platform-ui", namespace).orElseThrow().release().path("manifest").asText())
          .doesNotContain("NoSuchKind");
    }
  }

  @Test
  void failingHookJob_rollsBack() {
    run(v1, false, i -> { });
    run(v2, true, i -> { });
    assertThatThrownBy(() -> run(v3Hook, true, i -> i.timeoutSeconds(5)))
        .isInstanceOfSatisfying(AirlockException.class, e -> assertThat(e.kind())
            .isEqualTo(AirlockException.Kind.ROLLED_BACK));
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
    assertThat(state().installation().version()).isEqualTo("1.5.0");
  }

  /** Readiness needs pods: a real cluster only (AIRLOCK_E2E_KUBECONFIG); the mock runs no workloads (ADR 7). */
  @Test
  void readinessTimeout_rollsBack_onARealCluster() {
    assumeTrue(!cluster.isMock(), "readiness needs a real cluster: set AIRLOCK_E2E_KUBECONFIG");
    Path neverReady = fx.bundle(ExampleVariants.v3NeverReady(Fixture.EXAMPLE, dir.resolve("specs-ready")),
        "v3-never-ready.airlock");
    run(v1, false, i -> { });
    run(v2, true, i -> { });
    assertThatThrownBy(() -> run(neverReady, true, i -> i.waitReady(true).timeoutSeconds(60)))
        .isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.ROLLED_BACK);
          assertThat(e.getMessage()).contains("release/controller failed");
        });
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
    assertThat(state().installation().version()).isEqualTo("1.5.0");
  }

  @Test
  void optionalComponentLeftOut_staysOutOnUpgrade_andRequiredOnesCannotBe() {
    assertThatThrownBy(() -> run(v1, false, i -> i.without(java.util.Set.of("controller"))))
        .hasMessageContaining("component controller is required");
    Installer.Result r = run(v1, false, i -> i.without(java.util.Set.of("ui")));
    assertThat(r.installation().components()).extracting(State.Component::name)
        .containsExactly("registry", "buildkit", "controller");
    assertThat(r.installation().without()).containsExactly("ui");
    Installer.Result up = run(v2, true, i -> { });
    assertThat(up.installation().components()).extracting(State.Component::name).doesNotContain("ui");
    assertThat(cluster.client().apps().deployments().inNamespace(namespace).withName("platform-ui").get()).isNull();
  }

  @Test
  void deltaBundle_upgradesLikeAFullOne() {
    run(v1, false, i -> { });
    Installer.Result r = run(v2Delta, true, i -> { });
    assertThat(r.installation().version()).isEqualTo("1.5.0");
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
  }

  @Test
  void deltaBundle_intoARegistryWithoutItsBase_isRefusedBeforeAnyChange() {
    try (RegistryServer empty = RegistryServer.startSecure("admin", Fixture.PASSWORD)) {
      assertThatThrownBy(() -> run(v2Delta, false, i -> i.registry(
          dev.airlock.airgap.push.RegistryTarget.parse(empty.host() + "/platform"),
          dev.airlock.oci.RegistryOptions.defaults().withCaFiles(List.of(empty.caFile())).withCredentials(
              dev.airlock.oci.CredentialStore.of(Map.of(empty.host(), new dev.airlock.oci.Credentials("admin",
                  Fixture.PASSWORD)))))))
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.DELTA, "lacks", "sha256:");
          });
    }
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  @Test
  void upgradesFrom_updatesUntil_andDowngrade_areRefusedBeforeAnyChange() throws Exception {
    run(v1, false, i -> { });
    assertThatThrownBy(() -> run(v3Broken, true, i -> { })).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).contains("upgrades only from >=1.5.0 <1.6.0", "1.4.0 is installed");
    });
    Path early = fx.license("Acme Corp", LocalDate.now().minusDays(1), 2, "early.license");
    assertThatThrownBy(() -> run(v2, true, i -> i.license(early))).isInstanceOfSatisfying(AirlockException.class,
        e -> assertThat(e.kind()).isEqualTo(AirlockException.Kind.LICENSE));
    Path other = fx.license("Globex", LocalDate.now().plusDays(365), 3, "globex.license");
    assertThatThrownBy(() -> run(v2, true, i -> i.license(other))).isInstanceOfSatisfying(AirlockException.class,
        e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.LICENSE);
          assertThat(e.getMessage()).contains("is for 'Globex'", "installed license is for 'Acme Corp'");
        });
    run(v2, true, i -> { });
    assertThatThrownBy(() -> run(v1, true, i -> { })).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).contains("downgrade");
    });
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.5.0");
    assertThat(s.history()).hasSize(2);
  }

  @Test
  void rollbackByHand_returnsToThePreviousVersion() {
    run(v1, false, i -> { });
    run(v2, true, i -> { });
    try (KubeTarget kube = kube()) {
      Rollback.Result r = Rollback.rollback(kube, namespace, Optional.empty(), 20, java.time.Clock.systemUTC(),
          events::add);
      assertThat(r.to()).isEqualTo("1.4.0");
    }
    assertThat(controller().getSpec().getReplicas()).isEqualTo(1);
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.4.0");
    assertThat(s.history()).extracting(State.Operation::kind).containsExactly("install", "upgrade", "rollback");
  }
}
