package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The server's Kubernetes identity as its chart makes it: the ServiceAccount and exactly the chart's RBAC (the
 * templates 'bundle build' bundles), so a test that runs the server with it shows those rules are enough.
 */
final class ServerIdentity {

  private ServerIdentity() {}

  /** Creates {@code ns}, the ServiceAccount and its RBAC; returns a kubeconfig of that ServiceAccount. */
  static Path create(TestCluster cluster, String ns, Path dir) throws IOException {
    return create(cluster, ns, dir, false);
  }

  /**
   * As {@link #create(TestCluster, String, Path)}; {@code upgrades} adds what the chart's {@code upgrades: true}
   * grants (the console's upgrades and rollbacks).
   */
  static Path create(TestCluster cluster, String ns, Path dir, boolean upgrades) throws IOException {
    if (cluster.client().namespaces().withName(ns).get() == null) {
      cluster.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata()
          .build()).create();
    }
    for (String t : List.of("serviceaccount.yaml", "rbac.yaml")) {
      String text;
      try (var in = ServerIdentity.class.getResourceAsStream("/dev/airlock/bundle/server-chart/templates/" + t)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("{{ .Release.Namespace }}", ns);
      }
      assertThat(text).doesNotContain("{{");
      cluster.client().load(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).inNamespace(ns)
          .create();
    }
    if (upgrades) {
      String text;
      try (var in = ServerIdentity.class.getResourceAsStream("/dev/airlock/bundle/server-chart/templates/"
          + "upgrades.yaml")) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      // The binding, as the chart renders it with upgrades: true (and no trustRoot).
      text = text.substring(text.indexOf('\n') + 1, text.indexOf("{{- end }}")).replace("{{ .Release.Namespace }}",
          ns);
      assertThat(text).doesNotContain("{{").contains("cluster-admin");
      cluster.client().load(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).create();
    }
    return cluster.kubeconfigForServiceAccount(ns, "airlock-server", Duration.ofHours(3),
        dir.resolve("server-sa-" + ns + ".kubeconfig"));
  }

  /** Removes the cluster-scoped part (the namespace's deletion takes the rest). */
  static void delete(TestCluster cluster, String ns) {
    cluster.client().rbac().clusterRoleBindings().withName("airlock-server-" + ns).delete();
    cluster.client().rbac().clusterRoleBindings().withName("airlock-server-upgrades-" + ns).delete();
    cluster.client().rbac().clusterRoles().withName("airlock-server-" + ns).delete();
  }
}
