package dev.airlock.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Decisions, the file, user names and the expansion of wildcards minus denies, without a cluster. */
class PolicyTest {

  static final String EXAMPLE = """
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
          limits:
            maxCredentialLifetime: 8h
            quota: {requests.cpu: "4", requests.memory: 8Gi}
        - name: auditor
          allow:
            - {namespaces: ["*"], resources: ["*"], verbs: [get, list, watch]}
            - {resources: [nodes, namespaces], verbs: [get, list]}
          deny:
            - {namespaces: ["*"], resources: [secrets, pods/exec], verbs: ["*"]}
          platform: [view, audit]
          limits: {maxCredentialLifetime: 1h, quota: {requests.cpu: "1"}}
      mappings:
        - {group: devs, roles: [developer]}
        - {user: carol, roles: [auditor]}
      """;

  static final Catalog CATALOG = Catalog.builtIn();
  static final Authorizer AUTH = new Authorizer(RoleSet.parse("roles.yaml", EXAMPLE), CATALOG);

  static Decision decide(String user, List<String> groups, String verb, String resource, String ns, String name) {
    return AUTH.policy(new User(user, groups)).decide(Request.of(CATALOG, verb, resource, ns, name), n -> Map.of());
  }

  @ParameterizedTest(name = "{0} {2} {3} in {4}: {5}")
  @CsvSource({
      "alice, devs, create, pods, dev-alice, true, developer, allow[0]",
      "alice, devs, get, pods/log, dev-alice, true, developer, allow[0]",
      "alice, devs, get, secrets, dev-alice, false, developer, deny[0]",
      "alice, devs, get, pods, dev-bob, false, , ",
      "alice, devs, list, apps/deployments, shared-tools, true, developer, allow[1]",
      "alice, devs, delete, apps/deployments, shared-tools, false, , ",
      "alice, devs, get, pods/log, shared-tools, false, , ",
      "alice, devs, list, rbac.authorization.k8s.io/roles, dev-alice, false, , ",
      "alice, devs, get, nodes, , false, , ",
      "carol, , get, configmaps, kube-system, true, auditor, allow[0]",
      "carol, , create, pods/exec, dev-alice, false, auditor, deny[0]",
      "carol, , get, nodes, , true, auditor, allow[1]",
      "carol, , delete, nodes, , false, , ",
      "carol, , list, pods, , false, , ",
      "dave, qa, get, pods, dev-dave, false, , ",
  })
  void decisions_nameTheRuleThatDecided(String user, String groups, String verb, String resource, String ns,
      boolean allowed, String role, String rule) {
    Decision d = decide(user, groups == null ? List.of() : List.of(groups.split(" ")), verb, resource, ns, null);
    assertThat(d.allowed()).as(d.reason()).isEqualTo(allowed);
    assertThat(d.role()).isEqualTo(role);
    assertThat(d.rule()).isEqualTo(rule);
    assertThat(d.reason()).isNotBlank();
  }

  @Test
  void aResourceNamedBesideAStar_isAllowed_evenWhenTheStarCannotReachIt() {
    // Found by ModelEqualsClusterPropertyTest: the compiled Role names example.com/widgets, so the API server allows
    // it; the model had stopped at the rule's "*", which does not reach a resource the catalog does not know.
    Authorizer auth = new Authorizer(RoleSet.parse("roles.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: RoleSet
        roles:
          - name: r0
            allow:
              - {namespaces: ["other-1"], resources: ["pods/log", "example.com/widgets", "*"], verbs: ["*"]}
              - {namespaces: ["other-2"], resources: ["*"], verbs: ["*"]}
        mappings:
          - {group: "*", roles: [r0]}
        """), CATALOG);
    Policy alice = auth.policy(new User("alice", List.of("devs")));
    assertThat(alice.decide(Request.of(CATALOG, "get", "example.com/widgets", "other-1", null), n -> Map.of())
        .allowed()).isTrue();
    assertThat(alice.decide(Request.of(CATALOG, "get", "example.com/widgets", "other-2", null), n -> Map.of())
        .allowed()).as("a bare * does not reach an unknown resource").isFalse();
    assertThat(alice.decide(Request.of(CATALOG, "get", "pods", "other-1", null), n -> Map.of()).allowed()).isTrue();
  }

  @Test
  void registryPlatformAndLimits_followTheRoles() {
    Policy alice = AUTH.policy(new User("alice", List.of("devs")));
    assertThat(alice.decideRegistry("dev-alice/app", "push").allowed()).isTrue();
    assertThat(alice.decideRegistry("dev-bob/app", "pull").allowed()).isFalse();
    assertThat(alice.decideRegistry("dev-alice/app", "delete").allowed()).isFalse();
    assertThat(alice.platformPermissions()).containsExactly("view");
    Policy both = AUTH.policy(new User("carol", List.of("devs")));
    assertThat(both.platformPermissions()).containsExactlyInAnyOrder("view", "audit");
    assertThat(both.limits().maxCredentialLifetime()).as("the shortest lifetime").hasHours(1);
    assertThat(both.limits().quota()).as("the largest quota").containsEntry("requests.cpu", "4")
        .containsEntry("requests.memory", "8Gi");
  }

  @Test
  void anExtraNamespace_getsThePersonalNamespacesRulesAndQuota_forItsOwnerOnly() {
    Map<String, Map<String, String>> labels = Map.of("dev-alice-feature", Map.of(Compiler.EXTRA_OF, "alice"),
        "dev-alice", Map.of());
    Policy alice = AUTH.policy(new User("alice", List.of("devs")));
    Policy bob = AUTH.policy(new User("bob", List.of("devs")));
    assertThat(alice.decide(Request.of(CATALOG, "create", "pods", "dev-alice-feature", null),
        n -> labels.getOrDefault(n, Map.of())).allowed()).isTrue();
    assertThat(alice.decide(Request.of(CATALOG, "get", "secrets", "dev-alice-feature", null),
        n -> labels.getOrDefault(n, Map.of())).allowed()).as("the personal namespace's denies too").isFalse();
    assertThat(bob.decide(Request.of(CATALOG, "get", "pods", "dev-alice-feature", null),
        n -> labels.getOrDefault(n, Map.of())).allowed()).as("not the owner").isFalse();
    Compiler.Desired d = new Compiler(AUTH).compile(List.of(new User("alice", List.of("devs")), new User("bob",
        List.of("devs"))), List.of(new Compiler.Namespace("dev-alice-feature", labels.get("dev-alice-feature"))),
        u -> Compiler.serviceAccount("airlock-system", u.username()));
    List<PolicyRule> personal = d.roles().stream().filter(r -> r.getMetadata().getNamespace().equals("dev-alice"))
        .findFirst().orElseThrow().getRules();
    assertThat(d.roles().stream().filter(r -> r.getMetadata().getNamespace().equals("dev-alice-feature"))
        .map(r -> r.getRules()).toList()).containsExactly(personal);
    assertThat(d.roleBindings().stream().filter(b -> b.getMetadata().getNamespace().equals("dev-alice-feature"))
        .flatMap(b -> b.getSubjects().stream()).map(s -> s.getName()).toList()).containsExactly("user-alice");
    assertThat(d.quotas().stream().map(q -> q.getMetadata().getNamespace()).toList()).contains("dev-alice",
        "dev-alice-feature");
    assertThat(d.namespaces().stream().map(n -> n.getMetadata().getName()).toList()).as("created by the server, "
        + "not the reconciler").doesNotContain("dev-alice-feature");
  }

  @Test
  void theWildcardNeverReachesRbacObjectsOrCrds_andADenyOfSecretsIsSubtracted() {
    Compiler c = new Compiler(AUTH);
    Policy alice = AUTH.policy(new User("alice", List.of("devs")));
    List<PolicyRule> rules = c.expand(alice.allowRules().subList(0, 1), alice.denyRules(), true);
    List<String> resources = rules.stream().flatMap(r -> r.getResources().stream()).toList();
    List<String> groups = rules.stream().flatMap(r -> r.getApiGroups().stream()).toList();
    assertThat(resources).contains("pods", "pods/exec", "configmaps", "deployments", "serviceaccounts/token")
        .doesNotContain("secrets", "roles", "rolebindings", "nodes", "namespaces");
    assertThat(groups).doesNotContain("rbac.authorization.k8s.io");
    List<String> verbs = rules.stream().flatMap(r -> r.getVerbs().stream()).distinct().toList();
    assertThat(verbs).doesNotContain("*", "escalate", "bind", "impersonate");
    assertThat(rules).allSatisfy(r -> assertThat(r.getResources()).doesNotContain("*"));
  }

  @Test
  void permissionChangingResourcesAndVerbs_needTheFlag() {
    String bad = EXAMPLE.replace("verbs: [get, list, watch]}\n    deny", "verbs: [get, list, watch]}\n"
        + "      - {namespaces: [\"dev-{{user}}\"], resources: [rbac.authorization.k8s.io/rolebindings], verbs: "
        + "[create]}\n    deny");
    assertThat(bad).isNotEqualTo(EXAMPLE);
    assertThatThrownBy(() -> RoleSet.parse("roles.yaml", bad)).isInstanceOf(AirlockException.class)
        .hasMessageContaining("roles.yaml:8: roles[0].allow[2].resources names "
            + "rbac.authorization.k8s.io/rolebindings, which changes permissions");
    RoleSet ok = RoleSet.parse("roles.yaml", bad.replace("  - name: developer\n", "  - name: developer\n"
        + "    allowPermissionChanges: true\n"));
    assertThat(ok.role("developer").allowPermissionChanges()).isTrue();
    assertThatThrownBy(() -> RoleSet.parse("roles.yaml", EXAMPLE.replace("verbs: [get, list]}",
        "verbs: [get, impersonate]}"))).hasMessageContaining("names impersonate, which changes permissions");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "'resources: [\"secrets\"], verbs: [\"*\"]}' | 'resources: [\"secrets\"], resourceNames: [x], verbs: [\"*\"]}' | cannot be used in a deny rule",
      "'platform: [view]' | 'platform: [view, root]' | names 'root'; the platform permissions are",
      "'{group: devs, roles: [developer]}' | '{group: devs, roles: [admin]}' | names role 'admin', which the file does not define",
      "'maxCredentialLifetime: 8h' | 'maxCredentialLifetime: 8 hours' | write a number and s, m, h or d",
      "'requests.cpu: \"4\"' | 'requests.cpu: lots' | not a Kubernetes quantity",
      "'[\"dev-{{user}}\"], resources: [\"*\"]' | '[\"dev-{{group}}\"], resources: [\"*\"]' | the only template is {{user}}",
      "'[\"shared-*\"]' | '[\"Shared_*\"]' | is not a namespace name, glob or template",
  })
  void mistakes_areRefusedWithTheLineAndField(String from, String to, String message) {
    String text = EXAMPLE.replace(from, to);
    assertThat(text).as("the edit applies").isNotEqualTo(EXAMPLE);
    assertThatThrownBy(() -> RoleSet.parse("roles.yaml", text)).isInstanceOf(AirlockException.class)
        .hasMessageContaining(message).hasMessageStartingWith("roles.yaml:");
  }

  @Test
  void scopeMistakes_areFoundAgainstTheCatalog() {
    RoleSet nodesInNamespace = RoleSet.parse("roles.yaml", EXAMPLE.replace("resources: [\"pods\", \"services\"",
        "resources: [\"nodes\", \"services\""));
    assertThatThrownBy(() -> nodesInNamespace.check(CATALOG)).hasMessageContaining("nodes is cluster-scoped");
    RoleSet crd = RoleSet.parse("roles.yaml", EXAMPLE.replace("resources: [\"pods\", \"services\"",
        "resources: [\"example.com/widgets\", \"services\""));
    assertThat(crd.check(CATALOG)).singleElement().asString().contains("example.com/widgets is not among");
  }

  @ParameterizedTest
  @ValueSource(strings = {"../etc", "*", "Alice", "alice@corp.example", "a b", "a/b", "-", "a..b",
      "dev-*", "?", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
  void userNames_thatAreNotDnsLabels_becomeSafeOnes(String name) {
    String key = UserName.of(name);
    assertThat(key).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(UserName.MAX)
        .doesNotContain("*", "?", "/", ".");
    assertThat(UserName.of(name)).as("stable").isEqualTo(key);
    Decision d = decide(name, List.of("devs"), "get", "pods", "dev-bob", null);
    assertThat(d.allowed()).as("%s cannot reach dev-bob through dev-{{user}}", name).isFalse();
    assertThat(decide(name, List.of("devs"), "get", "pods", "dev-" + key, null).allowed()).isTrue();
  }

  @Test
  void differentNames_neverShareAKey() {
    assertThat(UserName.of("alice.smith")).isNotEqualTo(UserName.of("alice_smith"));
    assertThat(UserName.of("Alice")).isNotEqualTo(UserName.of("alice"));
    assertThat(UserName.of("alice")).isEqualTo("alice");
  }

  /** A QA user whose roles read only the test namespaces starts there, not in a personal namespace they cannot use. */
  @Test
  void startNamespace_isOneTheUserMayListPodsIn() {
    Authorizer auth = new Authorizer(RoleSet.parse("roles.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: RoleSet
        roles:
          - name: developer
            allow: [{namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}]
          - name: qa
            allow: [{namespaceSelector: {matchLabels: {stage: test}}, resources: ["*"], verbs: [get, list]}]
          - name: nothing
            allow: [{resources: [nodes], verbs: [get]}]
        mappings:
          - {group: devs, roles: [developer]}
          - {group: qa, roles: [qa]}
          - {group: ops, roles: [nothing]}
        """), CATALOG);
    List<Compiler.Namespace> cluster = List.of(new Compiler.Namespace("staging", Map.of("stage", "test")),
        new Compiler.Namespace("qa-2", Map.of("stage", "test")), new Compiler.Namespace("prod", Map.of()));
    Compiler c = new Compiler(auth);
    assertThat(c.startNamespace(auth.policy(new User("alice", List.of("devs", "qa"))), cluster)).contains(
        "dev-alice");
    assertThat(c.startNamespace(auth.policy(new User("bob", List.of("qa"))), cluster)).contains("qa-2");
    assertThat(c.startNamespace(auth.policy(new User("olga", List.of("ops"))), cluster)).isEmpty();
  }
}
