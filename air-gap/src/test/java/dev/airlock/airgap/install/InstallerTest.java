package dev.airlock.airgap.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.bundle.event.Event;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.error.AirlockException;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.MockKubeApi;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Install scenarios through the library against a cluster ({@link TestCluster}: the mock API server, or a real
 * cluster with AIRLOCK_E2E_KUBECONFIG) and the company registry on loopback.
 */
class InstallerTest {

  @TempDir static Path dir;
  static Fixture fx;
  static Path bundlePath;
  TestCluster cluster;
  String namespace;
  final List<Event> events = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    fx = new Fixture(dir);
    bundlePath = fx.bundle(Fixture.EXAMPLE.resolve("bundle.yaml"), "platform.airlock");
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
    namespace = "airlock-system";
  }

  @AfterEach
  void closeCluster() {
    if (cluster != null) {
      if (!cluster.isMock()) {
        try (KubeTarget kube = kube(); BundleFile b = BundleFile.open(bundlePath)) {
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

  Installer installer(BundleFile bundle, KubeTarget kube, String password) {
    return new Installer(bundle, fx.roots, kube, namespace).license(fx.license)
        .registry(fx.target(), fx.registryOptions(password)).addEventHandler(events::add);
  }

  @Test
  void install_pushesRewritesInstallsAndRecords_thenRerunChangesNothing() {
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      Installer.Result first = installer(bundle, kube, Fixture.PASSWORD).install();
      assertThat(first.changed()).isTrue();
      assertThat(first.installation().components()).extracting(State.Component::release)
          .containsExactly("platform-registry", "platform-buildkit", "platform-controller", "platform-ui");

      Deployment controller = cluster.client().apps().deployments().inNamespace("airlock-system")
          .withName("platform-controller").get();
      var pod = controller.getSpec().getTemplate().getSpec();
      String prefix = fx.company.host() + "/platform/";
      assertThat(pod.getContainers().get(0).getImage()).startsWith(prefix + "library/alpine:3.20@sha256:");
      assertThat(pod.getInitContainers().get(0).getImage()).startsWith(prefix + "library/busybox:1.36@sha256:");
      assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).contains(ChartRenderer.PULL_SECRET);
      assertThat(cluster.client().secrets().inNamespace("airlock-system").withName(ChartRenderer.PULL_SECRET).get()
          .getType()).isEqualTo("kubernetes.io/dockerconfigjson");

      State state = new StateStore(kube, namespace).load().orElseThrow();
      assertThat(state.installation().status()).isEqualTo("installed");
      assertThat(state.installation().bundleDigest()).startsWith("sha256:");
      assertThat(state.installation().images()).containsKey("docker.io/library/busybox:1.36");
      assertThat(state.history()).extracting(State.Operation::result).containsExactly("succeeded");

      Installer.Result second = installer(bundle, kube, Fixture.PASSWORD).install();
      assertThat(second.changed()).isFalse();
      assertThat(second.summary()).contains("nothing to do");
      State after = new StateStore(kube, namespace).load().orElseThrow();
      assertThat(after.installation().components()).isEqualTo(state.installation().components());
      assertThat(after.history()).hasSize(1);
    }
  }

  @Test
  void wrongRegistryPassword_failsPreflight_andChangesNothing() {
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      assertThatThrownBy(() -> installer(bundle, kube, "wrong").install())
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains("registry");
            assertThat(e.fix()).get().asString().contains("--registry-username");
          });
      assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
    }
  }

  @Test
  void missingStorageClass_andDeniedPermission_andOldKubernetes_failPreflight() {
    assumeTrue(cluster.isMock(), "reshapes the cluster: mock only");
    MockKubeApi mock = (MockKubeApi) cluster;
    cluster.client().storage().v1().storageClasses().withName("standard").delete();
    mock.deny("create", "deployments");
    mock.kubernetesVersion("v1.26.3");
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      assertThatThrownBy(() -> installer(bundle, kube, Fixture.PASSWORD).install())
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.STORAGE, Preflight.PERMISSIONS, "create apps/deployments",
                Preflight.KUBERNETES, "v1.26.3");
          });
      assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
      List<String> failed = events.stream().filter(e -> e instanceof Event.Checked c && c.status().equals("fail"))
          .map(e -> ((Event.Checked) e).id()).toList();
      assertThat(failed).containsExactlyInAnyOrder(Preflight.STORAGE, Preflight.PERMISSIONS, Preflight.KUBERNETES);
    }
  }

  @Test
  void tooFewNodeResources_failPreflight() {
    assumeTrue(cluster.isMock(), "reshapes the cluster: mock only");
    cluster.client().nodes().withName("node-1").edit(n -> {
      n.getStatus().getAllocatable().put("cpu", new io.fabric8.kubernetes.api.model.Quantity("2"));
      return n;
    });
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      assertThatThrownBy(() -> installer(bundle, kube, Fixture.PASSWORD).install())
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.RESOURCES, "2 CPU", "needs 4 CPU");
            assertThat(e.fix()).get().asString().contains("add nodes");
          });
    }
  }

  @Test
  void namespaceOfAnotherInstallation_andAForeignHelmRelease_failPreflight() throws Exception {
    cluster.client().namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(namespace).addToLabels(StateStore.LABEL_INSTALLATION, "other-product").endMetadata().build())
        .create();
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      new com.marcnuri.helm.Helm(Fixture.EXAMPLE.resolve("charts/ui")).install().withName("platform-ui")
          .withNamespace(namespace).withKubeConfig(kube.helmKubeconfig()).call();
      assertThatThrownBy(() -> installer(bundle, kube, Fixture.PASSWORD).install())
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.NAMESPACE, "belongs to installation 'other-product'",
                "Helm release airlock-system/platform-ui exists and was not installed by airlock");
          });
      assertThat(new StateStore(kube, namespace).load()).isEmpty();
      if (!cluster.isMock()) {
        new Releases(kube).uninstall("platform-ui", namespace);
        cluster.client().namespaces().withName(namespace).delete();
      }
    }
  }

  @Test
  void imageNotInTheBundle_isRefusedBeforeAnyChange() {
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      assertThatThrownBy(() -> installer(bundle, kube, Fixture.PASSWORD)
          .overrides(Map.of("ui", Map.of("image", Map.of("tag", "9.9-not-bundled")))).install())
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
            assertThat(e.getMessage()).contains("not in the bundle", "ui: ", "9.9-not-bundled");
          });
      assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
    }
  }

  @Test
  void skipCheck_skipsOneNamedCheck_andUnknownIdsAreRefused() {
    assumeTrue(cluster.isMock(), "reshapes the cluster: mock only");
    cluster.client().storage().v1().storageClasses().withName("standard").delete();
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      Installer.Result r = installer(bundle, kube, Fixture.PASSWORD).skipChecks(Set.of(Preflight.STORAGE))
          .dryRun(true).install();
      assertThat(r.checks()).filteredOn(c -> c.id().equals(Preflight.STORAGE)).extracting(Check::status)
          .containsExactly(Check.Status.SKIPPED);
      assertThat(r.plan()).contains("push", "release/controller", "record");
      assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
      assertThatThrownBy(() -> installer(bundle, kube, Fixture.PASSWORD).skipChecks(Set.of("all")).install())
          .hasMessageContaining("no such check");
    }
  }

  @Test
  void anotherLiveAirlock_holdsTheInstallation_aDeadOneIsTakenOver() {
    cluster.client().namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName(namespace).endMetadata().build()).create();
    java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
    cluster.client().leases().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.coordination.v1
        .LeaseBuilder().withNewMetadata().withName(OperationLock.NAME).endMetadata().withNewSpec()
        .withHolderIdentity("ops@other-host/4242").withLeaseDurationSeconds(30).withRenewTime(now).endSpec().build())
        .create();
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      assertThatThrownBy(() -> installer(bundle, kube, Fixture.PASSWORD).install())
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.getMessage()).contains("another airlock (ops@other-host/4242)");
            assertThat(e.fix()).get().asString().contains("if it died");
          });
      assertThat(new StateStore(kube, namespace).load()).isEmpty();
      cluster.client().leases().inNamespace(namespace).withName(OperationLock.NAME).edit(l -> {
        l.getSpec().setRenewTime(now.minusMinutes(2));
        return l;
      });
      assertThat(installer(bundle, kube, Fixture.PASSWORD).install().changed()).isTrue();
      assertThat(cluster.client().leases().inNamespace(namespace).withName(OperationLock.NAME).get()).isNull();
    }
  }

  @Test
  void uninstall_removesReleasesAndRecord() {
    try (KubeTarget kube = kube(); BundleFile bundle = BundleFile.open(bundlePath)) {
      installer(bundle, kube, Fixture.PASSWORD).install();
      Uninstaller.Result r = Uninstaller.uninstall(kube, namespace, false, events::add);
      assertThat(r.releases()).hasSize(4);
      assertThat(cluster.client().apps().deployments().inNamespace("airlock-system").list().getItems()).isEmpty();
      assertThat(new StateStore(kube, namespace).load()).isEmpty();
      assertThat(new Releases(kube).history("platform-ui", "airlock-system")).isEmpty();
      assertThat(cluster.client().namespaces().withName(namespace).get().getMetadata().getLabels())
          .doesNotContainKey(StateStore.LABEL_INSTALLATION);
    }
  }
}
