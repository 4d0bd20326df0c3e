package dev.airlock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.error.AirlockException;
import dev.airlock.event.Event;
import dev.airlock.kube.KubeTarget;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upgrade scenarios through the library on a real control plane: v1 (1.4.0) → v2 (1.5.0) → broken v3s (1.6.0).
 * Upgrades pass no registry settings at all: they must come from what the install recorded.
 */
@KubeTest
class UpgradeTest {

  @TempDir static Path dir;
  static Fixture fx;
  static Path v1;
  static Path v2;
  static Path v2Delta;
  static Path v3Broken;
  static Path v3Hook;
  static Path v3EndlessHook;
  static Path v3NeverReady;
  final TestCluster cluster;
  String namespace;
  final List<Event> events = new ArrayList<>();

  UpgradeTest(TestCluster cluster) {
    this.cluster = cluster;
  }

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
    v3EndlessHook = fx.bundle(ExampleVariants.v3EndlessHook(Fixture.EXAMPLE, specs), "v3-endless-hook.airlock");
    v3NeverReady = fx.bundle(ExampleVariants.v3NeverReady(Fixture.EXAMPLE, specs), "v3-never-ready.airlock");
  }

  @AfterAll
  static void tearDown() {
    if (fx != null) {
      fx.close();
    }
  }

  @BeforeEach
  void namespace() {
    namespace = TestCluster.uniqueName("upgrade");
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(namespace);
  }

  KubeTarget kube() {
    return KubeTarget.connect(Optional.of(cluster.kubeconfig()), Optional.empty());
  }

  OperationResult install(Path bundle) {
    return run(DeployRequest.install(bundle, fx.roots).license(fx.license)
        .registry(fx.target(), fx.registryOptions(Fixture.PASSWORD)).waitReady(false), b -> { });
  }

  /** An upgrade as a CI job runs it: the bundle and the root key, nothing else. */
  OperationResult upgrade(Path bundle, Consumer<DeployRequest.Builder> tweak) {
    return run(DeployRequest.upgrade(bundle, fx.roots).timeoutSeconds(30), tweak);
  }

  OperationResult run(DeployRequest.Builder b, Consumer<DeployRequest.Builder> tweak) {
    tweak.accept(b);
    try (KubeTarget kube = kube()) {
      return new Deployer(kube, namespace).addEventHandler(events::add).run(b.build());
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
      run(DeployRequest.install(v1, fx.roots).license(fx.license).waitReady(false).registry(
          RegistryTarget.parse(fresh.host() + "/platform"), RegistryOptions.defaults().withCaFiles(
              List.of(fresh.caFile())).withCredentials(CredentialStore.of(Map.of(fresh.host(), new Credentials(
              "admin", Fixture.PASSWORD))))), b -> { });
      OperationResult dry = upgrade(v2, b -> b.dryRun(true));
      assertThat(dry.summary()).contains("upgrade 1.4.0 → platform 1.5.0", "push 2 blobs", "of 1 images",
          "releases: controller");
      assertThat(dry.plan().steps()).filteredOn(s -> s.name().equals("release/controller")).singleElement()
          .satisfies(s -> {
            assertThat(s.does()).contains("upgrade release " + namespace + "/platform-controller from revision 1");
            assertThat(s.undoes()).contains("restore", "to revision 1");
          });
      events.clear();
      OperationResult r = upgrade(v2, b -> { });
      assertThat(r.summary()).contains("upgraded platform 1.4.0 → 1.5.0");
      assertThat(r.plan().steps()).extracting(s -> s.name()).containsExactly("push", "pull-secrets",
          "release/controller", "record");
      String push = events.stream().filter(e -> e instanceof Event.PhaseFinished f && f.phase().equals("push"))
          .map(e -> ((Event.PhaseFinished) e).summary()).findFirst().orElseThrow();
      // the new alpine layer, its config and its manifest; every other blob is present
      assertThat(push).startsWith("2 blobs uploaded");
      Deployment d = controller();
      assertThat(d.getSpec().getReplicas()).isEqualTo(2);
      assertThat(d.getStatus().getReadyReplicas()).as("upgrades wait for readiness").isEqualTo(2);
      assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
          .startsWith(fresh.host() + "/platform/library/alpine:3.21@sha256:");
      State s = state();
      assertThat(s.installation().version()).isEqualTo("1.5.0");
      assertThat(s.installation().component("controller").orElseThrow().revision()).isEqualTo(2);
      assertThat(s.installation().component("ui").orElseThrow().revision()).isEqualTo(1);
      assertThat(s.history()).extracting(o -> o.kind() + " " + o.from() + "→" + o.to() + " " + o.result())
          .containsExactly("install null→1.4.0 succeeded", "upgrade 1.4.0→1.5.0 succeeded");
      assertThat(s.previous()).extracting(State.Installation::version).containsExactly("1.4.0");
    }
  }

  Deployment deployment(String name) {
    return cluster.client().apps().deployments().inNamespace(namespace).withName(name).get();
  }

  /**
   * The values given at install are the admin's: an upgrade without --values keeps them (before, an unattended
   * upgrade rendered the bundle's defaults and lost them), --values merges over them, --reset-values drops them.
   */
  @Test
  void valuesGivenAtInstall_areReusedByUpgrade_mergedWithNewOnes_andDroppedByResetValues() {
    run(DeployRequest.install(v1, fx.roots).license(fx.license).registry(fx.target(), fx.registryOptions(
        Fixture.PASSWORD)).waitReady(false).overrides(Map.of("ui", Map.of("replicas", 3), "controller",
        Map.of("resources", Map.of("requests", Map.of("cpu", "200m"))))), b -> { });
    assertThat(deployment("platform-ui").getSpec().getReplicas()).isEqualTo(3);

    OperationResult r = upgrade(v2, b -> b.waitReady(false));
    assertThat(r.summary()).contains("upgraded platform 1.4.0 → 1.5.0");
    assertThat(r.plan().steps()).extracting(s -> s.name()).containsExactly("push", "pull-secrets",
        "release/controller", "record");
    assertThat(deployment("platform-ui").getSpec().getReplicas()).as("the install's ui values kept").isEqualTo(3);
    assertThat(controller().getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getRequests()
        .get("cpu").toString()).as("the install's controller values kept").isEqualTo("200m");
    assertThat(upgrade(v2, b -> b.waitReady(false)).summary()).as("same bundle, same values").contains(
        "nothing to do");

    events.clear();
    OperationResult merged = upgrade(v2, b -> b.waitReady(false).overrides(Map.of("ui", Map.of("replicas", 1))));
    assertThat(merged.plan().steps()).filteredOn(s -> s.name().equals("release/ui")).singleElement()
        .satisfies(s -> assertThat(s.does()).contains("values: replicas: 3 → 1"));
    assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Event.Log.class,
        l -> assertThat(l.message()).isEqualTo("values of ui: replicas: 3 → 1")));
    assertThat(deployment("platform-ui").getSpec().getReplicas()).isEqualTo(1);
    assertThat(controller().getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getRequests()
        .get("cpu").toString()).as("merged over, not replaced").isEqualTo("200m");

    OperationResult reset = upgrade(v2, b -> b.waitReady(false).resetValues(true));
    assertThat(reset.plan().steps()).extracting(s -> s.name()).contains("release/ui", "release/controller");
    assertThat(deployment("platform-ui").getSpec().getReplicas()).as("the chart's default").isEqualTo(2);
    assertThat(controller().getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getRequests()
        .get("cpu").toString()).isEqualTo("100m");

    rollbackTo("1.4.0");
    assertThat(deployment("platform-ui").getSpec().getReplicas()).isEqualTo(3);
    assertThat(upgrade(v2, b -> b.waitReady(false)).plan().steps()).as("after a rollback the restored version's "
        + "values are reused").filteredOn(s -> s.name().equals("release/ui")).isEmpty();
    assertThat(deployment("platform-ui").getSpec().getReplicas()).isEqualTo(3);
  }

  @Test
  void rollback_withNoEarlierVersion_saysThereIsNone() {
    install(v1);
    try (KubeTarget kube = kube()) {
      assertThatThrownBy(() -> new Rollback(kube, namespace).run(Optional.empty(), true, 30, false))
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.getMessage()).isEqualTo("there is no earlier version to roll back to: platform 1.4.0 is the "
                + "only version installed in " + namespace);
            assertThat(e.fix()).hasValueSatisfying(f -> assertThat(f).doesNotContain("kept: "));
          });
    }
  }

  void rollbackTo(String version) {
    try (KubeTarget kube = kube()) {
      new Rollback(kube, namespace).run(Optional.of(version), false, 30, false);
    }
  }

  /** The objects a user would compare: what the controller release put in the cluster. */
  record Live(DeploymentSpec controller, Map<String, String> config, ServiceSpec service, boolean extra) {}

  Live live() {
    Deployment d = controller();
    ConfigMap cm = cluster.client().configMaps().inNamespace(namespace).withName("platform-controller-config").get();
    Service svc = cluster.client().services().inNamespace(namespace).withName("platform-controller").get();
    ServiceSpec spec = svc == null ? null : svc.getSpec();
    if (spec != null) {
      // Allocated by the API server when the Service is (re)created, not part of what the chart asked for.
      spec.setClusterIP(null);
      spec.setClusterIPs(null);
    }
    return new Live(d.getSpec(), cm == null ? null : cm.getData(), spec, cluster.client().apps().deployments()
        .inNamespace(namespace).withName("platform-controller-extra").get() != null);
  }

  /**
   * The failure the mock could never show: an upgrade that changes an env var, replicas and a ConfigMap, adds a
   * Deployment and removes a Service, and then times out waiting for readiness. After the automatic rollback every
   * live object is exactly as before, not only the release revision.
   */
  @Test
  void readinessTimeout_rollsBack_andEveryLiveObjectIsAsBefore() {
    assumeTrue(cluster.standInKubelet(), "FAKE_READY=false is the stand-in kubelet's convention");
    install(v1);
    upgrade(v2, b -> { });
    Live before = live();
    assertThat(before.config()).containsEntry("mode", "v2");
    assertThat(before.service()).isNotNull();
    assertThatThrownBy(() -> upgrade(v3NeverReady, b -> b.timeoutSeconds(15)))
        .isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.ROLLED_BACK);
          assertThat(e.getMessage()).contains("release/controller failed");
          assertThat(e.getMessage()).as("names the workload and why, not only Helm's 'context deadline exceeded'")
              .contains("did not become ready within 15 s: Deployment " + namespace + "/platform-controller 0/3 "
              + "ready", "runs but is not ready (its readiness probe fails)");
          assertThat(e.get(AirlockException.STEP)).contains("release/controller");
        });
    Live after = live();
    assertThat(after.controller().getTemplate().getSpec().getContainers().get(0).getEnv())
        .extracting(v -> v.getName() + "=" + v.getValue()).containsExactly("LOG_LEVEL=info");
    assertThat(after.controller().getReplicas()).isEqualTo(2);
    assertThat(after.config()).containsEntry("mode", "v2");
    assertThat(after.extra()).as("the Deployment v3 added is gone").isFalse();
    assertThat(after.service()).as("the Service v3 removed is back").isNotNull();
    assertThat(after).isEqualTo(before);
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.5.0");
    assertThat(s.installation().status()).isEqualTo("rolled-back");
    assertThat(s.history().get(s.history().size() - 1).result()).isEqualTo("rolled-back");
    assertThat(s.operation().phases()).extracting(p -> p.name() + " " + p.status())
        .contains("release/controller failed", "undo/release/controller done");
    try (KubeTarget kube = kube()) {
      Releases.Revision latest = new Releases(kube).latest("platform-controller", namespace).orElseThrow();
      assertThat(latest.status()).isEqualTo(Releases.DEPLOYED);
      assertThat(latest.release().path("manifest").asText()).contains("mode: v2").doesNotContain("FAKE_READY");
    }
    cluster.client().apps().deployments().inNamespace(namespace).withName("platform-controller")
        .waitUntilCondition(d -> d.getStatus() != null && Integer.valueOf(2).equals(d.getStatus().getReadyReplicas())
            && (d.getStatus().getUnavailableReplicas() == null || d.getStatus().getUnavailableReplicas() == 0),
            30, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void v2ToBrokenV3_rollsEveryUpgradedComponentBackToV2() {
    install(v1);
    upgrade(v2, b -> { });
    Live before = live();
    assertThatThrownBy(() -> upgrade(v3Broken, b -> { })).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.ROLLED_BACK);
      assertThat(e.getMessage()).contains("release/ui failed", "NoSuchKind");
    });
    assertThat(live()).isEqualTo(before);
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.5.0");
    assertThat(s.installation().status()).isEqualTo("rolled-back");
    assertThat(s.installation().reason()).contains("release/ui failed");
    assertThat(s.operation().phases()).extracting(p -> p.name() + " " + p.status())
        .containsSubsequence("release/controller done", "release/ui failed", "undo/release/controller done");
    try (KubeTarget kube = kube()) {
      Releases helm = new Releases(kube);
      for (State.Component c : s.installation().components()) {
        Releases.Revision latest = helm.latest(c.release(), c.namespace()).orElseThrow();
        assertThat(latest.status()).isEqualTo(Releases.DEPLOYED);
        assertThat(latest.revision()).isEqualTo(c.revision());
      }
      assertThat(helm.latest("platform-ui", namespace).orElseThrow().release().path("manifest").asText())
          .doesNotContain("NoSuchKind");
    }
  }

  @Test
  void hookJobThatFailsFast_rollsBack() {
    assumeTrue(cluster.standInKubelet(), "FAKE_EXIT is the stand-in kubelet's convention");
    install(v1);
    upgrade(v2, b -> { });
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> upgrade(v3Hook, b -> b.timeoutSeconds(60)))
        .isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.ROLLED_BACK);
          assertThat(e.getMessage()).contains("release/ui failed");
        });
    assertThat((System.nanoTime() - t0) / 1e9).as("a failed Job fails the release long before the timeout")
        .isLessThan(45);
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
    assertThat(state().installation().version()).isEqualTo("1.5.0");
  }

  @Test
  void hookJobThatNeverFinishes_timesOutAndRollsBack() {
    assumeTrue(cluster.standInKubelet(), "FAKE_RUN_SECONDS is the stand-in kubelet's convention");
    install(v1);
    upgrade(v2, b -> { });
    assertThatThrownBy(() -> upgrade(v3EndlessHook, b -> b.timeoutSeconds(8)))
        .isInstanceOfSatisfying(AirlockException.class, e -> assertThat(e.kind())
            .isEqualTo(AirlockException.Kind.ROLLED_BACK));
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
    assertThat(state().installation().version()).isEqualTo("1.5.0");
  }

  @Test
  void optionalComponentLeftOut_staysOutOnUpgrade_andRequiredOnesCannotBe() {
    assertThatThrownBy(() -> run(DeployRequest.install(v1, fx.roots).license(fx.license).registry(fx.target(),
        fx.registryOptions(Fixture.PASSWORD)), b -> b.without(Set.of("controller"))))
        .hasMessageContaining("component controller is required");
    OperationResult r = run(DeployRequest.install(v1, fx.roots).license(fx.license).waitReady(false)
        .registry(fx.target(), fx.registryOptions(Fixture.PASSWORD)), b -> b.without(Set.of("ui")));
    assertThat(r.installation().components()).extracting(State.Component::name)
        .containsExactly("registry", "buildkit", "controller");
    assertThat(r.installation().without()).containsExactly("ui");
    OperationResult up = upgrade(v2, b -> { });
    assertThat(up.installation().components()).extracting(State.Component::name).doesNotContain("ui");
    assertThat(cluster.client().apps().deployments().inNamespace(namespace).withName("platform-ui").get()).isNull();
  }

  @Test
  void deltaBundle_upgradesLikeAFullOne() {
    install(v1);
    OperationResult r = upgrade(v2Delta, b -> { });
    assertThat(r.installation().version()).isEqualTo("1.5.0");
    assertThat(controller().getSpec().getReplicas()).isEqualTo(2);
  }

  @Test
  void deltaBundle_intoARegistryWithoutItsBase_isRefusedBeforeAnyChange() {
    try (RegistryServer empty = RegistryServer.startSecure("admin", Fixture.PASSWORD)) {
      assertThatThrownBy(() -> run(DeployRequest.install(v2Delta, fx.roots).license(fx.license).registry(
          RegistryTarget.parse(empty.host() + "/platform"), RegistryOptions.defaults().withCaFiles(
              List.of(empty.caFile())).withCredentials(CredentialStore.of(Map.of(empty.host(),
              new Credentials("admin", Fixture.PASSWORD))))), b -> { }))
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.DELTA, "lacks", "sha256:");
          });
    }
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  @Test
  void upgradesFrom_updatesUntil_andDowngrade_areRefusedBeforeAnyChange() throws Exception {
    install(v1);
    assertThatThrownBy(() -> upgrade(v3Broken, b -> { })).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).contains("upgrades only from >=1.5.0 <1.6.0", "1.4.0 is installed");
    });
    Path early = fx.license("Acme Corp", LocalDate.now().minusDays(1), 2, "early.license");
    assertThatThrownBy(() -> upgrade(v2, b -> b.license(early))).isInstanceOfSatisfying(AirlockException.class,
        e -> assertThat(e.kind()).isEqualTo(AirlockException.Kind.LICENSE));
    Path other = fx.license("Globex", LocalDate.now().plusDays(365), 3, "globex.license");
    assertThatThrownBy(() -> upgrade(v2, b -> b.license(other))).isInstanceOfSatisfying(AirlockException.class,
        e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.LICENSE);
          assertThat(e.getMessage()).contains("is for 'Globex'", "installed license is for 'Acme Corp'");
        });
    upgrade(v2, b -> b.waitReady(false));
    assertThatThrownBy(() -> upgrade(v1, b -> { })).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).contains("downgrade");
    });
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.5.0");
    assertThat(s.history()).hasSize(2);
  }

  @Test
  void rollbackByHand_returnsToThePreviousVersion_liveObjectsIncluded() {
    install(v1);
    Live v1Live = live();
    upgrade(v2, b -> b.waitReady(false));
    try (KubeTarget kube = kube()) {
      OperationResult dry = new Rollback(kube, namespace).run(Optional.empty(), true, 30, false);
      assertThat(dry.plan().steps()).extracting(s -> s.name()).containsExactly("restore/ui", "restore/controller",
          "restore/buildkit", "restore/registry");
      OperationResult r = new Rollback(kube, namespace).events(events::add).run(Optional.empty(), false, 30, true);
      assertThat(r.installation().version()).isEqualTo("1.4.0");
      assertThat(r.summary()).contains("is at 1.4.0", "was 1.5.0");
    }
    Live after = live();
    assertThat(after.controller()).isEqualTo(v1Live.controller());
    assertThat(after.config()).as("the ConfigMap 1.5.0 added is gone").isNull();
    assertThat(after.service()).as("the Service 1.5.0 added is gone").isNull();
    State s = state();
    assertThat(s.installation().version()).isEqualTo("1.4.0");
    assertThat(s.history()).extracting(State.Operation::kind).containsExactly("install", "upgrade", "rollback");
    assertThat(s.previous()).isEmpty();
  }
}
