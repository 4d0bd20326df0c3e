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

  /**
   * A kubeconfig that authenticates as the ServiceAccount {@code namespace/name} with a token from the TokenRequest
   * API (valid {@code lifetime}), written to {@code file}: what a pod running as that ServiceAccount would use.
   */
  default Path kubeconfigForServiceAccount(String namespace, String name, java.time.Duration lifetime, Path file) {
    var request = new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder().withNewSpec()
        .withExpirationSeconds(lifetime.toSeconds()).endSpec().build();
    String token = client().serviceAccounts().inNamespace(namespace).withName(name).tokenRequest(request)
        .getStatus().getToken();
    io.fabric8.kubernetes.client.Config admin = client().getConfiguration();
    String ca = admin.getCaCertData();
    try {
      if (ca == null && admin.getCaCertFile() != null) {
        ca = java.util.Base64.getEncoder().encodeToString(java.nio.file.Files.readAllBytes(
            Path.of(admin.getCaCertFile())));
      }
      String yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
          + admin.getMasterUrl().replaceAll("/$", "") + "\n"
          + (ca == null ? "    insecure-skip-tls-verify: true\n" : "    certificate-authority-data: " + ca + "\n")
          + "users:\n- name: " + name + "\n  user:\n    token: " + token + "\ncontexts:\n- name: c\n  context:\n"
          + "    cluster: c\n    user: " + name + "\ncurrent-context: c\n";
      java.nio.file.Files.writeString(file, yaml);
      return file;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

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
