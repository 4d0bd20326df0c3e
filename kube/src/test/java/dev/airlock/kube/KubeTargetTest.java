package dev.airlock.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cluster access against a real API server: errors that name the server, the action and the fix; the lock. */
@KubeTest
class KubeTargetTest {

  final TestCluster cluster;
  @TempDir Path dir;

  KubeTargetTest(TestCluster cluster) {
    this.cluster = cluster;
  }

  @Test
  void aUserWithoutRights_getsAnErrorNamingTheUserTheActionAndTheFix() {
    Path limited = cluster.kubeconfigFor("nobody", List.of());
    try (KubeTarget kube = KubeTarget.connect(Optional.of(limited), Optional.empty())) {
      assertThat(kube.user()).isEqualTo("nobody");
      KubernetesClientException e = org.junit.jupiter.api.Assertions.assertThrows(KubernetesClientException.class,
          () -> kube.client().secrets().inNamespace("default").list());
      AirlockException mapped = kube.failure("listing Secrets in default", e);
      assertThat(mapped.getMessage()).contains("not allowed listing Secrets in default", kube.server());
      assertThat(mapped.fix()).get().asString().contains("grant the kubeconfig user 'nobody'");
      assertThat(mapped.kind()).isEqualTo(AirlockException.Kind.REMOTE);
    }
  }

  @Test
  void anUnreachableServer_saysSoAndWhatToCheck() throws Exception {
    Path bad = dir.resolve("kubeconfig");
    Files.writeString(bad, Files.readString(cluster.kubeconfig()).replaceAll("server: https://[^\\n]+",
        "server: https://127.0.0.1:1"));
    try (KubeTarget kube = KubeTarget.connect(Optional.of(bad), Optional.empty())) {
      KubernetesClientException e = org.junit.jupiter.api.Assertions.assertThrows(KubernetesClientException.class,
          () -> kube.client().namespaces().list());
      AirlockException mapped = kube.failure("reading namespaces", e);
      assertThat(mapped.getMessage()).contains("cannot reach the Kubernetes API at https://127.0.0.1:1");
      assertThat(mapped.fix()).get().asString().contains("--kubeconfig");
    }
  }

  @Test
  void aMissingKubeconfig_orContext_isBadInput() {
    assertThatThrownBy(() -> KubeTarget.connect(Optional.of(dir.resolve("none")), Optional.empty()))
        .isInstanceOfSatisfying(AirlockException.class, e -> {
          assertThat(e.kind()).isEqualTo(AirlockException.Kind.BAD_INPUT);
          assertThat(e.getMessage()).contains("does not exist");
        });
    assertThatThrownBy(() -> KubeTarget.connect(Optional.of(cluster.kubeconfig()), Optional.of("nope")))
        .isInstanceOfSatisfying(AirlockException.class, e -> assertThat(e.getMessage()).contains("nope"));
  }

  @Test
  void theLease_letsOneHolderIn_andIsReleased() {
    String ns = cluster.createNamespace("lock");
    try (KubeTarget kube = KubeTarget.connect(Optional.of(cluster.kubeconfig()), Optional.empty())) {
      try (LeaseLock held = LeaseLock.acquire(kube, ns, "first", Clock.systemUTC())) {
        assertThat(cluster.client().leases().inNamespace(ns).withName(LeaseLock.NAME).get().getSpec()
            .getHolderIdentity()).isEqualTo(LeaseLock.self(kube));
      }
      assertThat(cluster.client().leases().inNamespace(ns).withName(LeaseLock.NAME).get()).isNull();
    } finally {
      cluster.deleteNamespaces(ns);
    }
  }
}
