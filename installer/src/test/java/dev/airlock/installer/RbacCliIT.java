package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code airlock rbac validate | apply | diff | explain} as an admin runs them, against the test cluster. */
@KubeTest
class RbacCliIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String ROLES = """
      apiVersion: airlock.dev/v1alpha1
      kind: RoleSet
      roles:
        - name: developer
          allow:
            - {namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}
            - {namespaces: ["shared-*"], resources: ["pods", "services", "apps/deployments"], verbs: [get, list, watch]}
          deny:
            - {namespaces: ["*"], resources: ["secrets"], verbs: ["*"]}
          registry:
            allow: [{repositories: ["dev-{{user}}/*"], actions: [pull, push]}]
          platform: [view]
        - name: auditor
          allow:
            - {namespaces: ["*"], resources: ["*"], verbs: [get, list, watch]}
          deny:
            - {namespaces: ["*"], resources: [secrets], verbs: ["*"]}
          platform: [view, audit]
      mappings:
        - {group: devs, roles: [developer]}
        - {user: carol, roles: [auditor]}
      """;

  final TestCluster cluster;
  final String airlockNs = TestCluster.uniqueName("airlock-rbac");
  final String alice = TestCluster.uniqueName("alice");

  RbacCliIT(TestCluster cluster) {
    this.cluster = cluster;
  }

  @AfterEach
  void cleanUp() {
    cluster.deleteNamespaces(airlockNs, "dev-" + alice);
  }

  boolean allowed(String namespace, String verb, String resource) {
    return Boolean.TRUE.equals(cluster.client().authorization().v1().subjectAccessReview().create(
        new SubjectAccessReviewBuilder().withNewSpec().withUser("system:serviceaccount:" + airlockNs + ":user-"
            + alice).withGroups(List.of("system:serviceaccounts", "system:authenticated")).withNewResourceAttributes()
            .withNamespace(namespace).withVerb(verb).withResource(resource).endResourceAttributes().endSpec()
            .build()).getStatus().getAllowed());
  }

  static JsonNode result(Cli.Run run) throws Exception {
    List<String> lines = run.outLines();
    return JSON.readTree(lines.get(lines.size() - 1));
  }

  @Test
  void validate_thenApplyForAUser_thenDiff_thenExplain(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("roles.yaml"), ROLES);
    Cli.Run valid = Cli.run(dir, "rbac", "validate", "-f", "roles.yaml");
    assertThat(valid.exit()).as(valid.toString()).isZero();
    assertThat(valid.out()).contains("2 roles, 2 mappings: valid");

    Files.writeString(dir.resolve("bad.yaml"), ROLES.replace("platform: [view]", "platform: [view, root]"));
    Cli.Run bad = Cli.run(dir, "rbac", "validate", "-f", "bad.yaml");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("bad.yaml:12: roles[0].platform names 'root'");

    String[] cluster = {"--kubeconfig", this.cluster.kubeconfig().toString(), "--namespace", airlockNs};
    Cli.Run apply = Cli.run(dir, concat(new String[] {"rbac", "apply", "-f", "roles.yaml", "--user", alice,
        "--groups", "devs,qa", "--output", "json"}, cluster));
    assertThat(apply.exit()).as(apply.toString()).isZero();
    JsonNode applied = result(apply);
    assertThat(applied.path("subject").path("kind").asText()).isEqualTo("ServiceAccount");
    assertThat(applied.path("subject").path("namespace").asText()).isEqualTo(airlockNs);
    assertThat(applied.path("subject").path("name").asText()).isEqualTo("user-" + alice);
    assertThat(applied.path("personalNamespace").asText()).isEqualTo("dev-" + alice);
    assertThat(applied.path("created").asInt()).isPositive();
    // What the user would check: the API server's own answer for that subject.
    for (int i = 0; i < 50 && !allowed("dev-" + alice, "create", "pods"); i++) {
      Thread.sleep(100);
    }
    assertThat(allowed("dev-" + alice, "create", "pods")).isTrue();
    assertThat(allowed("dev-" + alice, "get", "secrets")).isFalse();
    assertThat(allowed("kube-system", "get", "pods")).isFalse();

    Cli.Run same = Cli.run(dir, concat(new String[] {"rbac", "diff", "-f", "roles.yaml"}, cluster));
    assertThat(same.exit()).as(same.toString()).isZero();
    assertThat(same.out()).contains("no changes");
    Files.writeString(dir.resolve("roles.yaml"), ROLES.replace("- {group: devs, roles: [developer]}",
        "- {group: devs, roles: [developer, auditor]}"));
    Cli.Run diff = Cli.run(dir, concat(new String[] {"rbac", "diff", "-f", "roles.yaml", "--output", "json"},
        cluster));
    assertThat(diff.exit()).isZero();
    assertThat(result(diff).path("changes").toString()).contains("update RoleMapping 000-group-devs");
    assertThat(allowed("kube-system", "get", "pods")).as("diff changed nothing").isFalse();

    Cli.Run offline = Cli.run(dir, "rbac", "explain", "-f", "roles.yaml", "--user", "alice", "--groups", "devs,qa",
        "--verb", "get", "--resource", "secrets", "--namespace", "dev-bob");
    assertThat(offline.exit()).as(offline.toString()).isZero();
    assertThat(offline.out()).startsWith("DENIED: alice get secrets in namespace dev-bob")
        .contains("denied by role developer deny[0]").contains("{namespaces: [\"*\"], resources: [secrets]");
    Cli.Run fromCluster = Cli.run(dir, "rbac", "explain", "--kubeconfig", this.cluster.kubeconfig().toString(),
        "--airlock-namespace", airlockNs, "--user", alice, "--groups", "devs", "--verb", "list", "--resource",
        "apps/deployments", "--namespace", "dev-" + alice, "--output", "json");
    assertThat(fromCluster.exit()).as(fromCluster.toString()).isZero();
    JsonNode e = result(fromCluster);
    assertThat(e.path("allowed").asBoolean()).isTrue();
    assertThat(e.path("role").asText()).isEqualTo("developer");
    assertThat(e.path("rule").asText()).isEqualTo("allow[0]");
    assertThat(e.path("source").asText()).contains("the cluster's PlatformRoles").contains("discovery");
  }

  static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
