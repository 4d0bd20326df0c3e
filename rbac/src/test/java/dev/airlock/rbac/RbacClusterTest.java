package dev.airlock.rbac;

import dev.airlock.error.AirlockException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * On the real API server: what a compiled role lets a user do with their own credentials (escalation attempts
 * included), and how reconciliation follows roles, mappings, users and namespaces as a minimal diff.
 */
@KubeTest
class RbacClusterTest {

  final TestCluster cluster;
  final KubernetesClient admin;
  final String sa = TestCluster.uniqueName("airlock-users");
  final String shared = TestCluster.uniqueName("shared");
  final List<String> namespaces = new ArrayList<>();

  RbacClusterTest(TestCluster cluster) {
    this.cluster = cluster;
    this.admin = cluster.client();
  }

  @AfterEach
  void cleanUp() {
    namespaces.add(sa);
    cluster.deleteNamespaces(namespaces.toArray(String[]::new));
  }

  String namespace(String name, Map<String, String> labels) {
    admin.resource(new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build())
        .serverSideApply();
    namespaces.add(name);
    return name;
  }

  RbacStore store() {
    return new RbacStore(admin, sa);
  }

  Reconciler.Result apply(String yaml) {
    RoleSet set = RoleSet.parse("roles.yaml", yaml);
    return store().reconcile(new Authorizer(set, Catalog.discover(admin)), true);
  }

  /** A client that acts as the user's ServiceAccount, with a token from the TokenRequest API. */
  KubernetesClient as(String userKey) {
    String token = admin.serviceAccounts().inNamespace(sa).withName("user-" + userKey).tokenRequest(
        new TokenRequestBuilder().withNewSpec().withExpirationSeconds(600L).endSpec().build()).getStatus()
        .getToken();
    Config c = new ConfigBuilder(admin.getConfiguration()).withClientCertData(null).withClientKeyData(null)
        .withClientCertFile(null).withClientKeyFile(null).withOauthToken(token).build();
    return new KubernetesClientBuilder().withConfig(c).build();
  }

  static void forbidden(Runnable r) {
    assertThatThrownBy(r::run).isInstanceOfSatisfying(KubernetesClientException.class,
        e -> assertThat(e.getCode()).as(e.getMessage()).isEqualTo(403));
  }

  static String user(String name) {
    return TestCluster.uniqueName(name);
  }

  @Test
  void aRoleThatMayCreateRoleBindings_cannotBindClusterAdmin_norAnyRoleBeyondItsOwn() throws Exception {
    String bea = user("bea");
    store().ensureUser(new User(bea, List.of("leads")));
    String yaml = """
        apiVersion: airlock.dev/v1alpha1
        kind: RoleSet
        roles:
          - name: team-lead
            allowPermissionChanges: true
            allow:
              - {namespaces: ["dev-{{user}}"], resources: [pods, configmaps], verbs: [get, list]}
              - {namespaces: ["dev-{{user}}"], resources: [rbac.authorization.k8s.io/rolebindings], verbs: [create, get, list]}
        mappings:
          - {group: leads, roles: [team-lead]}
        """;
    apply(yaml);
    String ns = "dev-" + bea;
    namespaces.add(ns);
    Role own = admin.rbac().roles().inNamespace(ns).withLabel(Compiler.PART_OF, Compiler.RBAC).list().getItems()
        .get(0);
    try (KubernetesClient asBea = as(bea)) {
      assertThat(asBea.configMaps().inNamespace(ns).list().getItems()).as("she may list configmaps")
          .extracting(c -> c.getMetadata().getName()).containsExactly("kube-root-ca.crt");
      forbidden(() -> asBea.rbac().roleBindings().inNamespace(ns).resource(binding(ns, "ClusterRole",
          "cluster-admin")).create());
      forbidden(() -> asBea.rbac().roleBindings().inNamespace(ns).resource(binding(ns, "ClusterRole", "admin"))
          .create());
      forbidden(() -> asBea.rbac().roleBindings().inNamespace(ns).resource(binding(ns, "ClusterRole", "edit"))
          .create());
      forbidden(() -> asBea.rbac().roles().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.rbac
          .RoleBuilder().withNewMetadata().withName("more").endMetadata().withRules(new PolicyRuleBuilder()
          .withApiGroups("").withResources("secrets").withVerbs("get").build()).build()).create());
      // Binding a role no larger than her own is what RBAC lets her do: the test can tell the difference.
      RoleBinding same = asBea.rbac().roleBindings().inNamespace(ns).resource(binding(ns, "Role",
          own.getMetadata().getName())).create();
      assertThat(same.getMetadata().getName()).isEqualTo("escalation-test");
    }
    Role after = admin.rbac().roles().inNamespace(ns).withName(own.getMetadata().getName()).get();
    assertThat(after.getRules()).flatExtracting(r -> r.getVerbs()).doesNotContain("escalate", "bind", "*");
  }

  static RoleBinding binding(String ns, String kind, String role) {
    return new RoleBindingBuilder().withNewMetadata().withName("escalation-test").withNamespace(ns).endMetadata()
        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind(kind).withName(role).endRoleRef()
        .addNewSubject().withKind("ServiceAccount").withName("default").withNamespace(ns).endSubject().build();
  }

  @Test
  void aDeniedResource_cannotBeReachedThroughTheWildcard() throws Exception {
    String dan = user("dan");
    store().ensureUser(new User(dan, List.of("devs")));
    apply("""
        apiVersion: airlock.dev/v1alpha1
        kind: RoleSet
        roles:
          - name: developer
            allow:
              - {namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}
            deny:
              - {namespaces: ["*"], resources: ["secrets"], verbs: ["*"]}
        mappings:
          - {group: devs, roles: [developer]}
        """);
    String ns = "dev-" + dan;
    namespaces.add(ns);
    admin.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
        .withName("s").endMetadata().withStringData(Map.of("k", "v")).build()).create();
    try (KubernetesClient asDan = as(dan)) {
      asDan.configMaps().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
          .withNewMetadata().withName("c").endMetadata().build()).create();
      assertThat(asDan.pods().inNamespace(ns).list().getItems()).isEmpty();
      forbidden(() -> asDan.secrets().inNamespace(ns).withName("s").get());
      forbidden(() -> asDan.secrets().inNamespace(ns).list());
      forbidden(() -> asDan.secrets().inNamespace(ns).withName("s").delete());
      forbidden(() -> asDan.rbac().roles().inNamespace(ns).list());
      forbidden(() -> asDan.configMaps().inNamespace("default").list());
    }
  }

  @Test
  void craftedUserNames_cannotLeaveTheirTemplatedNamespace() {
    List<String> names = List.of("../" + user("x"), "*", "Dev-Bob", "bob bob", "b".repeat(90), "dev-*", user("ok"));
    names.forEach(n -> store().ensureUser(new User(n, List.of("devs"))));
    String bob = namespace("dev-" + user("bob"), Map.of());
    Reconciler.Result r = apply("""
        apiVersion: airlock.dev/v1alpha1
        kind: RoleSet
        roles:
          - name: developer
            allow:
              - {namespaces: ["dev-{{user}}"], resources: ["pods"], verbs: ["*"]}
        mappings:
          - {group: devs, roles: [developer]}
        """);
    assertThat(r.skipped()).isEmpty();
    for (String n : names) {
      String key = UserName.of(n);
      namespaces.add("dev-" + key);
      List<RoleBinding> bindings = admin.rbac().roleBindings().inAnyNamespace().withLabel(Compiler.PART_OF,
          Compiler.RBAC).list().getItems().stream().filter(b -> b.getSubjects().stream().anyMatch(s ->
          s.getName().equals("user-" + key) && s.getNamespace().equals(sa))).toList();
      assertThat(bindings).as(n).singleElement().satisfies(b -> assertThat(b.getMetadata().getNamespace())
          .isEqualTo("dev-" + key));
      assertThat(ClusterAccess.allowed(admin, sa, key, new Request("get", "", "pods", bob, null))).as(n).isFalse();
      assertThat(ClusterAccess.allowed(admin, sa, key, new Request("get", "", "pods", "dev-" + key, null))).as(n)
          .isTrue();
    }
  }

  static final String ROLES = """
      apiVersion: airlock.dev/v1alpha1
      kind: RoleSet
      roles:
        - name: developer
          allow:
            - {namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}
            - {namespaces: ["SHARED-*"], resources: [pods, services], verbs: [get, list]}
          limits: {quota: {requests.cpu: "2", pods: "10"}, limitRange: {default: {cpu: 500m}}}
        - name: viewer
          allow:
            - {namespaces: ["SHARED-*"], resources: [pods], verbs: [get]}
      mappings:
        - {group: devs, roles: [developer]}
        - {group: qa, roles: [viewer]}
      """;

  String roles() {
    return ROLES.replace("SHARED", shared);
  }

  @Test
  void reconciliation_followsNamespacesRolesAndMappings_asAMinimalDiff() throws Exception {
    String ann = user("ann");
    String ben = user("ben");
    store().ensureUser(new User(ann, List.of("devs")));
    store().ensureUser(new User(ben, List.of("qa")));
    namespaces.add("dev-" + ann);
    namespaces.add("dev-" + ben);
    String one = namespace(shared + "-1", Map.of());
    Reconciler.Result first = apply(roles());
    assertThat(first.count("create")).isPositive();
    assertThat(admin.resourceQuotas().inNamespace("dev-" + ann).withName(Compiler.PERSONAL).get().getSpec()
        .getHard()).containsKeys("requests.cpu", "pods");
    assertThat(admin.limitRanges().inNamespace("dev-" + ann).withName(Compiler.PERSONAL).get()).isNotNull();
    assertThat(allowed(ann, "list", "pods", one)).isTrue();
    assertThat(allowed(ben, "get", "pods", one)).isTrue();
    assertThat(allowed(ben, "list", "pods", one)).isFalse();

    // Run again: nothing to do.
    Reconciler.Result again = apply(roles());
    assertThat(again.changes()).as("idempotent").isEmpty();

    // A new namespace matching a pattern gets its bindings.
    String two = namespace(shared + "-2", Map.of());
    assertThat(allowed(ann, "list", "pods", two)).isFalse();
    Reconciler.Result newNs = apply(roles());
    assertThat(newNs.changes()).allSatisfy(c -> assertThat(c.namespace()).isEqualTo(two));
    awaitAllowed(ann, "list", "pods", two, true);

    // A changed mapping (qa now developer) touches only the objects of the users concerned.
    List<String> before = objects();
    Reconciler.Result changed = apply(roles().replace("{group: qa, roles: [viewer]}",
        "{group: qa, roles: [developer]}"));
    assertThat(changed.changes()).isNotEmpty().allSatisfy(c -> assertThat(c.kind() + " " + c.namespace())
        .satisfiesAnyOf(s -> assertThat(c.namespace()).isIn(one, two, "dev-" + ben),
            s -> assertThat(c.kind()).isEqualTo("Namespace")));
    assertThat(changed.changes()).noneMatch(c -> ("dev-" + ann).equals(c.namespace()));
    assertThat(objects()).as("ann's personal namespace objects are untouched")
        .containsAll(before.stream().filter(o -> o.startsWith("dev-" + ann + "/")).toList());
    awaitAllowed(ben, "list", "pods", one, true);

    // A role removed takes its bindings away (ben has no role now).
    Reconciler.Result removed = apply(roles().replace("{group: qa, roles: [viewer]}", "{group: nobody, roles: "
        + "[viewer]}"));
    assertThat(removed.count("delete") + removed.count("update")).isPositive();
    awaitAllowed(ben, "get", "pods", one, false);
    assertThat(allowed(ann, "list", "pods", one)).isTrue();
  }

  @Test
  void handEdits_arePutBack_foreignObjectsAreLeftAlone_andTwoReconcilersAtOnceAgree() throws Exception {
    String cat = user("cat");
    store().ensureUser(new User(cat, List.of("devs")));
    namespaces.add("dev-" + cat);
    String one = namespace(shared + "-1", Map.of());
    apply(roles());
    Role ours = admin.rbac().roles().inNamespace(one).withLabel(Compiler.PART_OF, Compiler.RBAC).list().getItems()
        .get(0);
    // A hand edit: secrets added to airlock's Role.
    ours.getRules().add(new PolicyRuleBuilder().withApiGroups("").withResources("secrets").withVerbs("get").build());
    ours.getMetadata().setManagedFields(null);
    admin.resource(ours).update();
    // A foreign RoleBinding in the same namespace, and a foreign Role under a name airlock does not use.
    admin.rbac().roleBindings().inNamespace(one).resource(new RoleBindingBuilder().withNewMetadata()
        .withName("team-own").endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io")
        .withKind("ClusterRole").withName("view").endRoleRef().addNewSubject().withKind("User").withName("someone")
        .endSubject().build()).create();
    Reconciler.Result fixed = apply(roles());
    assertThat(fixed.changes()).extracting(Reconciler.Change::describe).containsExactly("update Role " + one + "/"
        + ours.getMetadata().getName());
    Role back = admin.rbac().roles().inNamespace(one).withName(ours.getMetadata().getName()).get();
    assertThat(back.getRules()).flatExtracting(r -> r.getResources()).doesNotContain("secrets");
    assertThat(admin.rbac().roleBindings().inNamespace(one).withName("team-own").get()).as("left alone")
        .isNotNull();

    // Two reconcilers at once, from a state with work to do (a new user and a new namespace).
    store().ensureUser(new User(user("dee"), List.of("devs", "qa")));
    String two = namespace(shared + "-2", Map.of());
    RoleSet set = RoleSet.parse("roles.yaml", roles());
    Authorizer auth = new Authorizer(set, Catalog.discover(admin));
    CompletableFuture<Reconciler.Result> a = CompletableFuture.supplyAsync(() -> store().reconcile(auth, true));
    CompletableFuture<Reconciler.Result> b = CompletableFuture.supplyAsync(() -> store().reconcile(auth, true));
    assertThat(a.get().changes()).isNotEmpty();
    b.get();
    assertThat(store().reconcile(auth, false).changes()).as("both converged on the same state").isEmpty();
    store().users().stream().filter(u -> u.username().startsWith("dee")).forEach(u -> namespaces.add("dev-"
        + UserName.of(u.username())));
    assertThat(two).isNotNull();
  }

  @Test
  void theRoleSet_roundTripsThroughItsCustomResources() {
    RbacStore store = store();
    store.ensureCrds();
    RoleSet set = RoleSet.parse("roles.yaml", PolicyTest.EXAMPLE);
    assertThat(store.write(set, true)).isNotEmpty();
    assertThat(store.write(set, false)).as("written already").isEmpty();
    RoleSet back = store.read();
    assertThat(back.toMap()).isEqualTo(set.toMap());
    RoleSet fewer = RoleSet.parse("roles.yaml", PolicyTest.EXAMPLE.replace("  - {user: carol, roles: [auditor]}\n",
        ""));
    assertThat(store.write(fewer, true)).extracting(Reconciler.Change::describe)
        .containsExactly("delete RoleMapping 001-user-carol");
    assertThat(store.read().mappings()).hasSize(1);
  }

  /** Every field the model has, each set (docs/rbac.md's QA role among them). */
  static final String EVERY_FIELD = """
      apiVersion: airlock.dev/v1alpha1
      kind: RoleSet
      personalNamespace: "team-{{user}}"
      roles:
        - name: qa
          description: read-only in the test namespaces
          allow:
            - {namespaceSelector: {matchLabels: {stage: test, team: qa}}, resources: ["*"], verbs: [get, list, watch]}
            - {namespaces: ["dev-{{user}}", "shared-*"], resources: [pods, apps/deployments], resourceNames: [web],
               verbs: [get]}
            - {resources: [nodes], verbs: [get]}
          deny:
            - {namespaces: ["*"], resources: [secrets, pods/exec], verbs: ["*"]}
          registry:
            allow: [{repositories: ["*", "dev-{{user}}/*"], actions: [pull, push]}]
            deny: [{repositories: [vendor/*], actions: ["*"]}]
          platform: [view, install, upgrade, rollback, license, sso, roles, users, audit]
          limits:
            maxCredentialLifetime: 90m
            extraNamespaces: 3
            quota: {pods: "20", requests.cpu: "4"}
            limitRange:
              default: {cpu: 500m}
              defaultRequest: {cpu: 100m}
              max: {memory: 4Gi}
              min: {memory: 64Mi}
        - name: admin
          allow:
            - {namespaces: ["*"], resources: [rbac.authorization.k8s.io/rolebindings], verbs: [create, bind]}
          allowPermissionChanges: true
      mappings:
        - {group: qa, roles: [qa]}
        - {user: carol, roles: [qa, admin]}
        - {claim: department, value: "eng*", roles: [qa]}
      """;

  /** What a RoleSet file can say, the cluster can store: read back, it is the same RoleSet. */
  @Test
  void everyFieldOfTheModel_isStoredByTheApiServer_andReadsBackTheSame() {
    RbacStore store = store();
    store.ensureCrds();
    RoleSet set = RoleSet.parse("roles.yaml", EVERY_FIELD);
    assertThat(store.write(set, true)).hasSize(6);
    RoleSet back = store.read();
    assertThat(back).isEqualTo(set);
    assertThat(store.write(set, false)).as("nothing left to write").isEmpty();
    store.write(RoleSet.parse("roles.yaml", PolicyTest.EXAMPLE), true);
  }

  /**
   * A RoleSet the cluster refuses (here: its CRD is an older one without namespaceSelector) is refused whole before
   * anything is written, naming the role and the field; the roles stored before stay as they were.
   */
  @Test
  void aRoleSetTheClusterRefuses_storesNothing_andNamesTheRoleAndField() {
    RbacStore store = store();
    store.ensureCrds();
    RoleSet before = RoleSet.parse("roles.yaml", PolicyTest.EXAMPLE);
    store.write(before, true);
    var crd = admin.apiextensions().v1().customResourceDefinitions().withName("platformroles.airlock.dev").get();
    var allowItem = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec")
        .getProperties().get("allow").getItems().getSchema();
    allowItem.getProperties().remove("namespaceSelector");
    crd.getMetadata().setManagedFields(null);
    crd.getMetadata().setResourceVersion(null);
    crd.setStatus(null);
    admin.resource(crd).fieldManager("old-airlock").forceConflicts().serverSideApply();
    try {
      String qaFirst = EVERY_FIELD.replace("  - name: admin\n", "  - name: zz-admin\n").replace("admin]", "zz-admin]");
      RoleSet refused = RoleSet.parse("roles.yaml", qaFirst);
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
        // the API server's schema cache follows the CRD within a moment
        for (int i = 0; i < 50; i++) {
          try {
            store.write(refused, true);
          } catch (AirlockException e) {
            assertThat(e.kind()).as(e.getMessage()).isEqualTo(AirlockException.Kind.BAD_INPUT);
            assertThat(e.getMessage()).contains("nothing was stored", "PlatformRole qa",
                "namespaceSelector");
            return;
          }
          store.write(before, true);
          Thread.sleep(200);
        }
        throw new AssertionError("the older CRD never refused namespaceSelector");
      });
      assertThat(store.read()).as("the stored roles are untouched").isEqualTo(before);
      assertThat(admin.genericKubernetesResources(RbacStore.ROLES).withName("zz-admin").get()).isNull();
    } finally {
      store.ensureCrds();
    }
  }

  boolean allowed(String user, String verb, String resource, String ns) {
    return ClusterAccess.allowed(admin, sa, UserName.of(user), Request.of(Catalog.builtIn(), verb, resource, ns,
        null));
  }

  /** RBAC reaches the authorizer through a watch cache: waits up to 5 s for the answer. */
  void awaitAllowed(String user, String verb, String resource, String ns, boolean expected) throws Exception {
    for (int i = 0; i < 50 && allowed(user, verb, resource, ns) != expected; i++) {
      Thread.sleep(100);
    }
    assertThat(allowed(user, verb, resource, ns)).as(user + " " + verb + " " + resource + " in " + ns)
        .isEqualTo(expected);
  }

  List<String> objects() {
    List<String> out = new ArrayList<>();
    admin.rbac().roles().inAnyNamespace().withLabel(Compiler.PART_OF, Compiler.RBAC).list().getItems().forEach(r ->
        out.add(r.getMetadata().getNamespace() + "/Role/" + r.getMetadata().getName() + "@"
            + r.getMetadata().getResourceVersion()));
    admin.rbac().roleBindings().inAnyNamespace().withLabel(Compiler.PART_OF, Compiler.RBAC).list().getItems()
        .forEach(r -> out.add(r.getMetadata().getNamespace() + "/RoleBinding/" + r.getMetadata().getName() + "@"
            + r.getMetadata().getResourceVersion()));
    return out;
  }
}
