package dev.airlock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.event.Event;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.LeaseLock;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.StandInKubelet;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
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
 * Install scenarios through the library on a real Kubernetes control plane ({@link KubeTest}) and the company
 * registry on loopback. Each scenario installs into a namespace of its own.
 */
@KubeTest
class InstallerTest {

  @TempDir static Path dir;
  static Fixture fx;
  static Path bundlePath;
  final TestCluster cluster;
  String namespace;
  final List<Event> events = new ArrayList<>();

  InstallerTest(TestCluster cluster) {
    this.cluster = cluster;
  }

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
  void namespace() {
    namespace = TestCluster.uniqueName("install");
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(namespace);
  }

  KubeTarget kube() {
    return kube(cluster.kubeconfig());
  }

  static KubeTarget kube(Path kubeconfig) {
    return KubeTarget.connect(Optional.of(kubeconfig), Optional.empty());
  }

  OperationResult install(Path bundle, Consumer<DeployRequest.Builder> tweak) {
    return install(cluster.kubeconfig(), bundle, tweak);
  }

  OperationResult install(Path kubeconfig, Path bundle, Consumer<DeployRequest.Builder> tweak) {
    DeployRequest.Builder b = DeployRequest.install(bundle, fx.roots).license(fx.license)
        .registry(fx.target(), fx.registryOptions(Fixture.PASSWORD)).timeoutSeconds(60);
    tweak.accept(b);
    try (KubeTarget kube = kube(kubeconfig)) {
      return new Deployer(kube, namespace).addEventHandler(events::add).run(b.build());
    }
  }

  @Test
  void install_pushesRewritesInstallsAndRecords_thenRerunChangesNothing() {
    OperationResult first = install(bundlePath, b -> { });
    assertThat(first.changed()).isTrue();
    assertThat(first.installation().components()).extracting(State.Component::release)
        .containsExactly("platform-registry", "platform-buildkit", "platform-controller", "platform-ui");
    assertThat(first.plan().steps()).extracting(Plan -> Plan.name()).containsExactly("push", "pull-secrets",
        "release/registry", "release/buildkit", "release/controller", "release/ui", "record");

    // What the user would check: the live objects.
    Deployment controller = cluster.client().apps().deployments().inNamespace(namespace)
        .withName("platform-controller").get();
    var pod = controller.getSpec().getTemplate().getSpec();
    String prefix = fx.company.host() + "/platform/";
    assertThat(pod.getContainers().get(0).getImage()).startsWith(prefix + "library/alpine:3.20@sha256:");
    assertThat(pod.getInitContainers().get(0).getImage()).startsWith(prefix + "library/busybox:1.36@sha256:");
    assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).contains(ChartRenderer.PULL_SECRET);
    assertThat(controller.getStatus().getReadyReplicas()).as("waited for readiness").isEqualTo(1);
    assertThat(cluster.client().apps().statefulSets().inNamespace(namespace).withName("platform-registry").get()
        .getStatus().getReadyReplicas()).as("the registry's volume was bound and its pod is ready").isEqualTo(1);
    assertThat(cluster.client().secrets().inNamespace(namespace).withName(ChartRenderer.PULL_SECRET).get()
        .getType()).isEqualTo("kubernetes.io/dockerconfigjson");

    try (KubeTarget kube = kube()) {
      State state = new StateStore(kube, namespace).load().orElseThrow();
      assertThat(state.installation().status()).isEqualTo("installed");
      assertThat(state.installation().registryCa()).contains("BEGIN CERTIFICATE");
      assertThat(state.installation().images()).containsKey("docker.io/library/busybox:1.36");
      assertThat(state.history()).extracting(State.Operation::result).containsExactly("succeeded");
      assertThat(state.operation().phases()).extracting(State.Phase::status).containsOnly(State.DONE);

      OperationResult second = install(bundlePath, b -> { });
      assertThat(second.changed()).isFalse();
      assertThat(second.summary()).contains("nothing to do");
      State after = new StateStore(kube, namespace).load().orElseThrow();
      assertThat(after.installation().components()).isEqualTo(state.installation().components());
      assertThat(after.history()).hasSize(1);
    }
  }

  @Test
  void wrongRegistryPassword_failsPreflight_andChangesNothing() {
    assertThatThrownBy(() -> install(bundlePath, b -> b.registryOptions(fx.registryOptions("wrong"))))
        .isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
          assertThat(e.getMessage()).contains("registry");
          assertThat(e.get(AirlockException.CHECK)).contains(Preflight.REGISTRY);
          assertThat(e.fix()).get().asString().contains("--registry-username");
        });
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  /**
   * A cluster that does not fit: too old for the bundle, too small, no default StorageClass while the registry
   * claims storage, and a kubeconfig user the API server denies a permission — each check fails, nothing changes.
   */
  @Test
  void clusterThatDoesNotFit_failsEachCheck_asARealLimitedUser() {
    assumeTrue(cluster.standInKubelet(), "needs the stand-in kubelet's StorageClass");
    Path unfit = fx.bundle(ExampleVariants.unfit(Fixture.EXAMPLE, dir.resolve("unfit-" + namespace)),
        "unfit-" + namespace + ".airlock");
    cluster.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
        .endMetadata().build()).create();
    String user = "deployer-" + namespace;
    grantAllBut(user, "deployments");
    Path limited = cluster.kubeconfigFor(user, List.of("deployers"));
    StandInKubelet kubelet = ((dev.airlock.testing.kube.LocalControlPlane) cluster).kubelet();
    kubelet.defaultStorageClass(false);
    try {
      assertThatThrownBy(() -> install(limited, unfit, b -> { }))
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.KUBERNETES, "v1.32", "outside the range",
                Preflight.RESOURCES, "needs 1000 CPU", Preflight.STORAGE, "StatefulSet platform-registry",
                Preflight.PERMISSIONS, "create apps/deployments in " + namespace);
          });
    } finally {
      kubelet.defaultStorageClass(true);
    }
    List<String> failed = events.stream().filter(e -> e instanceof Event.Checked c && c.status().equals("fail"))
        .map(e -> ((Event.Checked) e).id()).toList();
    assertThat(failed).containsExactlyInAnyOrder(Preflight.KUBERNETES, Preflight.RESOURCES, Preflight.STORAGE,
        Preflight.PERMISSIONS);
    assertThat(cluster.client().configMaps().inNamespace(namespace).withName(StateStore.NAME).get()).isNull();
  }

  /** Rights to read the cluster and to do everything in the namespace except on one resource. */
  private void grantAllBut(String user, String resource) {
    var client = cluster.client();
    client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(user).endMetadata()
        .addNewRule().withApiGroups("", "storage.k8s.io").withResources("nodes", "namespaces", "storageclasses")
        .withVerbs("get", "list", "watch", "create", "patch").endRule().build()).create();
    client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(user)
        .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", user).addNewSubject()
        .withKind("User").withName(user).withApiGroup("rbac.authorization.k8s.io").endSubject().build()).create();
    client.rbac().roles().inNamespace(namespace).resource(new RoleBuilder().withNewMetadata().withName(user)
        .endMetadata().addNewRule().withApiGroups("", "apps", "coordination.k8s.io")
        .withResources("secrets", "configmaps", "leases", "services", "serviceaccounts", "statefulsets")
        .withVerbs("*").endRule().addNewRule().withApiGroups("apps").withResources(resource)
        .withVerbs("get", "list").endRule().build()).create();
    client.rbac().roleBindings().inNamespace(namespace).resource(new RoleBindingBuilder().withNewMetadata()
        .withName(user).endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", user).addNewSubject()
        .withKind("User").withName(user).withApiGroup("rbac.authorization.k8s.io").endSubject().build()).create();
  }

  @Test
  void noDefaultStorageClass_passesWhenNoChartClaimsStorageWithoutAClass() {
    assumeTrue(cluster.standInKubelet(), "needs the stand-in kubelet's StorageClass");
    Path named = fx.bundle(ExampleVariants.namedStorageClass(Fixture.EXAMPLE, dir.resolve("sc-" + namespace),
        StandInKubelet.STORAGE_CLASS), "sc-" + namespace + ".airlock");
    StandInKubelet kubelet = ((dev.airlock.testing.kube.LocalControlPlane) cluster).kubelet();
    kubelet.defaultStorageClass(false);
    try {
      OperationResult r = install(named, b -> b.dryRun(true));
      assertThat(r.checks()).filteredOn(c -> c.id().equals(Preflight.STORAGE)).singleElement().satisfies(c -> {
        assertThat(c.status()).isEqualTo(Check.Status.PASS);
        assertThat(c.message()).contains("none is needed");
      });
    } finally {
      kubelet.defaultStorageClass(true);
    }
  }

  /**
   * A default StorageClass whose provisioner never answers leaves the charts' claims Pending and the install waiting
   * until its timeout: preflight warns beforehand, naming the class and a claim stuck on it.
   */
  @Test
  void aDefaultStorageClassWithoutAWorkingProvisioner_warnsInPreflight() {
    assumeTrue(cluster.standInKubelet(), "needs the stand-in kubelet's StorageClass to turn off");
    StandInKubelet kubelet = ((dev.airlock.testing.kube.LocalControlPlane) cluster).kubelet();
    String cls = "dead-" + namespace;
    var client = cluster.client();
    kubelet.defaultStorageClass(false);
    client.storage().v1().storageClasses().resource(new io.fabric8.kubernetes.api.model.storage.StorageClassBuilder()
        .withNewMetadata().withName(cls).addToAnnotations("storageclass.kubernetes.io/is-default-class", "true")
        .endMetadata().withProvisioner("kubernetes.io/no-provisioner").build()).create();
    java.time.Duration stuck = Preflight.stuckClaim;
    try {
      OperationResult r = install(bundlePath, b -> b.dryRun(true));
      assertThat(r.checks()).filteredOn(c -> c.id().equals(Preflight.STORAGE)).singleElement().satisfies(c -> {
        assertThat(c.status()).isEqualTo(Check.Status.WARN);
        assertThat(c.message()).contains("'" + cls + "' has no provisioner", "StatefulSet platform-registry");
      });

      client.storage().v1().storageClasses().withName(cls).withGracePeriod(0).delete();
      client.storage().v1().storageClasses().withName(cls).waitUntilCondition(java.util.Objects::isNull, 10,
          java.util.concurrent.TimeUnit.SECONDS);
      client.storage().v1().storageClasses().resource(new io.fabric8.kubernetes.api.model.storage
          .StorageClassBuilder().withNewMetadata().withName(cls).addToAnnotations(
          "storageclass.kubernetes.io/is-default-class", "true").endMetadata().withProvisioner(
          "example.com/not-running").build()).create();
      client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
          .build()).create();
      client.persistentVolumeClaims().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model
          .PersistentVolumeClaimBuilder().withNewMetadata().withName("stuck").endMetadata().withNewSpec()
          .withStorageClassName(cls).withAccessModes("ReadWriteOnce").withNewResources().addToRequests("storage",
          new io.fabric8.kubernetes.api.model.Quantity("1Mi")).endResources().endSpec().build()).create();
      Preflight.stuckClaim = java.time.Duration.ZERO;
      OperationResult again = install(bundlePath, b -> b.dryRun(true));
      assertThat(again.checks()).filteredOn(c -> c.id().equals(Preflight.STORAGE)).singleElement().satisfies(c -> {
        assertThat(c.status()).isEqualTo(Check.Status.WARN);
        assertThat(c.message()).contains("has not provisioned claim " + namespace + "/stuck", "example.com/"
            + "not-running");
      });
    } finally {
      Preflight.stuckClaim = stuck;
      client.storage().v1().storageClasses().withName(cls).delete();
      kubelet.defaultStorageClass(true);
    }
  }

  @Test
  void namespaceOfAnotherInstallation_andAForeignHelmRelease_failPreflight() {
    cluster.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
        .addToLabels(StateStore.LABEL_INSTALLATION, "other-product").endMetadata().build()).create();
    try (KubeTarget kube = kube()) {
      new com.marcnuri.helm.Helm(Fixture.EXAMPLE.resolve("charts/ui")).install().withName("platform-ui")
          .withNamespace(namespace).withKubeConfig(kube.helmKubeconfig()).call();
      assertThatThrownBy(() -> install(bundlePath, b -> { }))
          .isInstanceOfSatisfying(AirlockException.class, e -> {
            assertThat(e.kind()).isEqualTo(AirlockException.Kind.PREFLIGHT);
            assertThat(e.getMessage()).contains(Preflight.NAMESPACE, "belongs to installation 'other-product'",
                "Helm release " + namespace + "/platform-ui exists and was not installed by airlock");
          });
      assertThat(new StateStore(kube, namespace).load()).isEmpty();
    }
  }

  @Test
  void imageNotInTheBundle_isRefusedBeforeAnyChange() {
    assertThatThrownBy(() -> install(bundlePath, b -> b.overrides(Map.of("ui", Map.of("image",
        Map.of("tag", "9.9-not-bundled")))))).isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
          assertThat(e.getMessage()).contains("not in the bundle", "ui: ", "9.9-not-bundled");
        });
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
  }

  @Test
  void skipCheck_skipsOneNamedCheck_andUnknownIdsAreRefused() {
    OperationResult r = install(bundlePath, b -> b.skipChecks(Set.of(Preflight.RESOURCES)).dryRun(true));
    assertThat(r.checks()).filteredOn(c -> c.id().equals(Preflight.RESOURCES)).extracting(Check::status)
        .containsExactly(Check.Status.SKIPPED);
    assertThat(r.dryRun()).isTrue();
    assertThat(r.plan().text()).contains("push", "release/controller", "install release " + namespace
        + "/platform-controller", "record");
    assertThat(cluster.client().namespaces().withName(namespace).get()).isNull();
    assertThatThrownBy(() -> install(bundlePath, b -> b.skipChecks(Set.of("all"))))
        .hasMessageContaining("no such check");
  }

  @Test
  void anotherLiveAirlock_holdsTheInstallation_aDeadOneIsTakenOver() {
    cluster.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
        .endMetadata().build()).create();
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    cluster.client().leases().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.coordination.v1
        .LeaseBuilder().withNewMetadata().withName(LeaseLock.NAME).endMetadata().withNewSpec()
        .withHolderIdentity("ops@other-host/4242").withLeaseDurationSeconds(30).withRenewTime(now).endSpec().build())
        .create();
    assertThatThrownBy(() -> install(bundlePath, b -> { })).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.getMessage()).contains("another airlock (ops@other-host/4242)");
      assertThat(e.fix()).get().asString().contains("if it died");
    });
    try (KubeTarget kube = kube()) {
      assertThat(new StateStore(kube, namespace).load()).isEmpty();
    }
    cluster.client().leases().inNamespace(namespace).withName(LeaseLock.NAME).edit(l -> {
      l.getSpec().setRenewTime(now.minusMinutes(2));
      return l;
    });
    assertThat(install(bundlePath, b -> { }).changed()).isTrue();
    assertThat(cluster.client().leases().inNamespace(namespace).withName(LeaseLock.NAME).get()).isNull();
  }

  @Test
  void uninstall_removesReleasesAndRecord_asAPlan() {
    install(bundlePath, b -> { });
    try (KubeTarget kube = kube()) {
      OperationResult dry = new Uninstaller(kube, namespace).run(true, true);
      assertThat(dry.plan().steps()).extracting(s -> s.name()).containsExactly("uninstall/ui", "pvcs/ui",
          "uninstall/controller", "pvcs/controller", "uninstall/buildkit", "pvcs/buildkit", "uninstall/registry",
          "pvcs/registry", "secrets", "record");
      assertThat(new StateStore(kube, namespace).load()).isPresent();
      OperationResult r = new Uninstaller(kube, namespace).events(events::add).run(true, false);
      assertThat(r.operation().phases()).extracting(State.Phase::status).containsOnly(State.DONE);
      assertThat(r.operation().phase("pvcs/registry").orElseThrow().detail()).contains("1 PVCs deleted");
      assertThat(cluster.client().apps().deployments().inNamespace(namespace).list().getItems()).isEmpty();
      assertThat(new StateStore(kube, namespace).load()).isEmpty();
      assertThat(new Releases(kube).history("platform-ui", namespace)).isEmpty();
      assertThat(cluster.client().secrets().inNamespace(namespace).withName(Deployer.LICENSE_SECRET).get()).isNull();
      assertThat(cluster.client().namespaces().withName(namespace).get().getMetadata().getLabels())
          .doesNotContainKey(StateStore.LABEL_INSTALLATION);
    }
  }
}
