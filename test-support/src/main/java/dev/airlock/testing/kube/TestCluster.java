package dev.airlock.testing.kube;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The Kubernetes cluster a test runs against, chosen by {@link KubeClusterExtension}: an existing cluster
 * ({@code AIRLOCK_E2E_KUBECONFIG}), the {@link LocalControlPlane} ({@code AIRLOCK_K8S_BIN}), or k3s in Docker. One
 * cluster serves a whole test JVM; scenarios keep apart by using namespaces of their own ({@link #uniqueName}).
 */
public interface TestCluster extends AutoCloseable {

  /** A cluster-admin kubeconfig. */
  Path kubeconfig();

  /** A cluster-admin client for set-up and assertions. */
  KubernetesClient client();

  /** A kubeconfig that authenticates as {@code user} in {@code groups} (client certificate), with no rights of its own. */
  Path kubeconfigFor(String user, List<String> groups);

  /** Which tier this is, for messages. */
  String tier();

  /** Whether pods follow the {@link StandInKubelet} conventions ({@code FAKE_READY}, {@code FAKE_EXIT}). */
  boolean standInKubelet();

  /** A name no other scenario of this run uses: {@code prefix-xxxxx}. */
  static String uniqueName(String prefix) {
    String chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder sb = new StringBuilder(prefix).append('-');
    for (int i = 0; i < 5; i++) {
      sb.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
    }
    return sb.toString();
  }

  /** Creates a namespace with a unique name and returns the name. */
  default String createNamespace(String prefix) {
    String name = uniqueName(prefix);
    client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    return name;
  }

  /** Deletes namespaces without waiting for them to go. */
  default void deleteNamespaces(String... names) {
    for (String n : names) {
      try {
        client().namespaces().withName(n).delete();
      } catch (RuntimeException ignored) {
        // best effort: the cluster is thrown away at the end
      }
    }
  }

  @Override
  void close();
}
