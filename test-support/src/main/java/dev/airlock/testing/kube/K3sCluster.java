package dev.airlock.testing.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/** k3s in a Docker container through Testcontainers: the tier for laptops with Docker and without the binaries. */
final class K3sCluster extends ExternalCluster {

  static final String IMAGE = "rancher/k3s:v1.32.13-k3s1";
  private final K3sContainer container;

  private K3sCluster(Path kubeconfig, K3sContainer container) {
    super(kubeconfig, "k3s in Docker (" + IMAGE + ")");
    this.container = container;
  }

  static Optional<TestCluster> startIfDocker(StringBuilder why) {
    boolean docker;
    try {
      docker = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      docker = false;
    }
    if (!docker) {
      why.append("no Docker engine for k3s");
      return Optional.empty();
    }
    K3sContainer k3s = new K3sContainer(DockerImageName.parse(IMAGE));
    k3s.start();
    try {
      Path file = Files.createTempFile("airlock-k3s", ".kubeconfig");
      Files.writeString(file, k3s.getKubeConfigYaml());
      return Optional.of(new K3sCluster(file, k3s));
    } catch (IOException e) {
      k3s.stop();
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    super.close();
    container.stop();
  }
}
