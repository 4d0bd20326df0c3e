package dev.airlock.testing.kube;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Kubernetes cluster an end-to-end test runs against: a real one when {@code AIRLOCK_E2E_KUBECONFIG} names its
 * kubeconfig, else the fabric8 mock server with {@link ApiServerShim} on a loopback port. Scenarios use only
 * {@link #kubeconfig()} and {@link #client()}, so they run unchanged on both; the few that must reshape the
 * cluster (deny a permission, change the version) ask {@link #isMock()} and are skipped on a real one.
 */
public interface TestCluster extends AutoCloseable {

  String E2E_ENV = "AIRLOCK_E2E_KUBECONFIG";

  static TestCluster start() {
    String real = System.getenv(E2E_ENV);
    if (real != null && !real.isBlank()) {
      return new Real(Path.of(real));
    }
    return MockKubeApi.start();
  }

  /** A kubeconfig file for this cluster. */
  Path kubeconfig();

  /** A client for assertions and set-up. */
  KubernetesClient client();

  boolean isMock();

  @Override
  void close();

  /** A real cluster; nothing is started or stopped. */
  final class Real implements TestCluster {
    private final Path kubeconfig;
    private final KubernetesClient client;

    Real(Path kubeconfig) {
      this.kubeconfig = kubeconfig;
      try {
        this.client = new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public Path kubeconfig() {
      return kubeconfig;
    }

    @Override
    public KubernetesClient client() {
      return client;
    }

    @Override
    public boolean isMock() {
      return false;
    }

    @Override
    public void close() {
      client.close();
    }
  }
}
