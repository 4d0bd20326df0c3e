package dev.airlock.testing.kube;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The fabric8 mock API server in CRUD mode behind {@link ApiServerShim}, on a free loopback port, seeded like a small
 * real cluster: one Ready node (8 CPU, 32 GiB allocatable) and a default StorageClass. Also runs as a process
 * ({@link #main}) for tests that need it inside a network namespace.
 */
public final class MockKubeApi implements TestCluster {

  /** The mock logs every request at INFO; kept quiet (a strong reference keeps the level set). */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  private final KubernetesMockServer server;
  private final ApiServerShim shim;
  private final KubernetesClient client;
  private final Path kubeconfig;

  private MockKubeApi(KubernetesMockServer server, ApiServerShim shim, Path kubeconfig) {
    this.server = server;
    this.shim = shim;
    this.client = server.createClient();
    this.kubeconfig = kubeconfig;
  }

  public static MockKubeApi start() {
    ApiServerShim shim = new ApiServerShim(new KubernetesCrudDispatcher());
    Map<io.fabric8.mockwebserver.ServerRequest, java.util.Queue<io.fabric8.mockwebserver.ServerResponse>> none =
        new HashMap<>();
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), none, shim, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    try {
      Path config = Files.createTempFile("airlock-mock-kubeconfig", ".yaml");
      Files.writeString(config, """
          apiVersion: v1
          kind: Config
          clusters:
          - name: mock
            cluster: {server: "http://127.0.0.1:%d"}
          users:
          - name: admin@mock
            user: {token: mock-token}
          contexts:
          - name: mock
            context: {cluster: mock, user: admin@mock, namespace: default}
          current-context: mock
          """.formatted(server.getPort()));
      MockKubeApi api = new MockKubeApi(server, shim, config);
      api.seed();
      return api;
    } catch (IOException e) {
      server.destroy();
      throw new UncheckedIOException(e);
    }
  }

  private void seed() {
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-1").endMetadata()
        .withNewStatus().addToAllocatable("cpu", new Quantity("8")).addToAllocatable("memory", new Quantity("32Gi"))
        .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
    client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata().withName("standard")
        .addToAnnotations("storageclass.kubernetes.io/is-default-class", "true").endMetadata()
        .withProvisioner("rancher.io/local-path").build()).create();
  }

  public int port() {
    return server.getPort();
  }

  /** What {@code /version} reports, e.g. {@code v1.26.3}. */
  public void kubernetesVersion(String gitVersion) {
    shim.kubernetesVersion(gitVersion);
  }

  /** SelfSubjectAccessReviews for {@code verb} on {@code resource} answer "not allowed" from now on. */
  public void deny(String verb, String resource) {
    shim.deny(verb, resource);
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
    return true;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
    try {
      Files.deleteIfExists(kubeconfig);
    } catch (IOException ignored) {
      // a temp file
    }
  }

  /**
   * Runs the mock API server until standard input closes, after copying its kubeconfig to {@code args[0]} and
   * printing {@code ready}.
   */
  public static void main(String[] args) throws Exception {
    try (MockKubeApi api = start()) {
      Files.copy(api.kubeconfig(), Path.of(args[0]), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      System.out.println("ready");
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the parent to close our stdin
      }
    }
  }
}
