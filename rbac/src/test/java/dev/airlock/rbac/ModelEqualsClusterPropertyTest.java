package dev.airlock.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.testing.kube.KubeClusterExtension;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * The model is the cluster: random roles and mappings, compiled and reconciled onto the real API server, then random
 * requests — user, verb, resource (subresources, unknown resources and RBAC objects included), namespace or none,
 * object name — each decided by the library and by the API server (a SubjectAccessReview for the user's
 * ServiceAccount). They must agree on every request: never more, never less. A failure shrinks to a minimal role set.
 */
@Tag("kube")
@AddLifecycleHook(ModelEqualsClusterPropertyTest.NeedsCluster.class)
class ModelEqualsClusterPropertyTest {

  static final String SA_NAMESPACE = "airlock-prop";
  static final List<User> USERS = List.of(new User("prop-alice", List.of("devs")), new User("prop-bob",
      List.of("qa")), new User("prop-carol", List.of("devs", "qa")), new User("Eve.Admin@corp", List.of("ops")));
  static final List<String> NAMESPACES = List.of("shared-a", "shared-b", "team-x", "other-1");
  static final List<String> NAMESPACE_CHOICES = List.of("dev-{{user}}", "shared-*", "*", "team-x",
      "other-1,shared-a", "selector");
  static final List<String> NAMESPACED = List.of("*", "pods", "pods/log", "pods/exec", "secrets", "configmaps",
      "apps/deployments", "apps/*", "services", "batch/jobs", "example.com/widgets");
  static final List<String> CLUSTER = List.of("*", "nodes", "namespaces", "persistentvolumes",
      "storage.k8s.io/storageclasses");
  static final List<String> VERBS = List.of("*", "get", "list", "watch", "create", "delete", "update", "patch");
  static final List<String> REQUEST_RESOURCES = List.of("pods", "pods/log", "pods/exec", "secrets", "configmaps",
      "apps/deployments", "apps/deployments/scale", "services", "batch/jobs", "example.com/widgets",
      "rbac.authorization.k8s.io/roles", "coordination.k8s.io/leases", "nodes", "namespaces", "persistentvolumes",
      "storage.k8s.io/storageclasses");
  static final List<String> REQUEST_VERBS = List.of("get", "list", "watch", "create", "delete", "update", "patch",
      "deletecollection", "escalate", "bind");

  static TestCluster cluster;
  static KubernetesClient admin;
  static Catalog catalog;
  static int requestsChecked;
  static int requestsAllowed;

  /** Skips the property, saying why, when no Kubernetes test cluster can run here. */
  public static class NeedsCluster implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
      return KubeClusterExtension.shared().isPresent() ? SkipResult.doNotSkip()
          : SkipResult.skip(KubeClusterExtension.whyUnavailable());
    }
  }

  @BeforeContainer
  static void fixture() {
    cluster = KubeClusterExtension.shared().orElseThrow();
    admin = cluster.client();
    for (String ns : NAMESPACES) {
      Map<String, String> labels = ns.equals("team-x") ? Map.of("team", "x") : Map.of();
      admin.resource(new NamespaceBuilder().withNewMetadata().withName(ns).withLabels(labels).endMetadata().build())
          .serverSideApply();
    }
    RbacStore store = new RbacStore(admin, SA_NAMESPACE);
    USERS.forEach(store::ensureUser);
    catalog = Catalog.discover(admin);
  }

  @AfterContainer
  static void report() {
    System.err.println("[rbac property] " + requestsChecked + " requests decided by the model and the API server ("
        + requestsAllowed + " allowed)");
  }

  /** A generated role set, as the file writes it. */
  record Spec(String yaml) {
    @Override
    public String toString() {
      return "\n" + yaml;
    }
  }

  @Property(tries = 40)
  void theApiServerDecidesEveryRequestAsTheModelDoes(@ForAll("roleSets") Spec spec,
      @ForAll("requests") List<Object[]> requests) throws InterruptedException {
    RoleSet set = RoleSet.parse("generated.yaml", spec.yaml());
    Authorizer auth = new Authorizer(set, catalog);
    Compiler.Desired desired = new Compiler(auth).compile(USERS, new RbacStore(admin, SA_NAMESPACE).namespaces(),
        u -> Compiler.serviceAccount(SA_NAMESPACE, UserName.of(u.username())));
    new Reconciler(admin).apply(desired);
    List<String> mismatches = new ArrayList<>();
    List<Object[]> pending = new ArrayList<>(requests);
    // RBAC reaches the authorizer through its watch cache: a mismatch is asked again for up to 3 s.
    for (int attempt = 0; attempt < 16 && !pending.isEmpty(); attempt++) {
      if (attempt > 0) {
        Thread.sleep(200);
      }
      mismatches.clear();
      List<Object[]> still = new ArrayList<>();
      for (Object[] q : pending) {
        User u = (User) q[0];
        Request r = (Request) q[1];
        Policy p = auth.policy(u);
        Decision model = p.decide(r, ns -> labels(ns));
        boolean api = ClusterAccess.allowed(admin, SA_NAMESPACE, p.userKey(), r);
        if (attempt == 0) {
          requestsChecked++;
          requestsAllowed += api ? 1 : 0;
        }
        if (model.allowed() != api) {
          still.add(q);
          mismatches.add(u.username() + " " + r.describe() + ": model " + (model.allowed() ? "allows" : "denies")
              + " (" + model.reason() + "), the API server " + (api ? "allows" : "denies"));
        }
      }
      pending = still;
    }
    assertThat(mismatches).as("requests on which the model and the API server disagree").isEmpty();
  }

  static Map<String, String> labels(String ns) {
    return ns.equals("team-x") ? Map.of("team", "x") : Map.of();
  }

  @Provide
  Arbitrary<Spec> roleSets() {
    Arbitrary<String> rule = Arbitraries.integers().between(0, NAMESPACE_CHOICES.size()).flatMap(nsChoice -> {
      boolean cluster = nsChoice == NAMESPACE_CHOICES.size();
      String where = cluster ? "" : namespaces(NAMESPACE_CHOICES.get(nsChoice));
      // Wildcards often, so that many requests are allowed and the subtraction of denies is exercised.
      Arbitrary<List<String>> resources = Arbitraries.oneOf(Arbitraries.just(List.of("*")),
          Arbitraries.of(cluster ? CLUSTER : NAMESPACED).list().ofMinSize(1).ofMaxSize(3).uniqueElements());
      Arbitrary<List<String>> verbs = Arbitraries.oneOf(Arbitraries.just(List.of("*")),
          Arbitraries.of(VERBS).list().ofMinSize(1).ofMaxSize(3).uniqueElements());
      Arbitrary<String> names = Arbitraries.of("", "", "", "resourceNames: [a], ", "resourceNames: [a, b], ");
      return Combinators.combine(resources, verbs, names).as((res, v, n) -> "{" + where + "resources: " + quoted(res)
          + ", " + n + "verbs: " + quoted(v) + "}");
    });
    Arbitrary<String> denyRule = rule.filter(r -> !r.contains("resourceNames"));
    Arbitrary<String> role = Combinators.combine(rule.list().ofMinSize(1).ofMaxSize(3),
        denyRule.list().ofMaxSize(1)).as((allow, deny) -> {
          StringBuilder sb = new StringBuilder("    allow:\n");
          allow.forEach(a -> sb.append("      - ").append(a).append('\n'));
          if (!deny.isEmpty()) {
            sb.append("    deny:\n");
            deny.forEach(d -> sb.append("      - ").append(d).append('\n'));
          }
          return sb.toString();
        });
    Arbitrary<String> mapping = Combinators.combine(Arbitraries.of("group: devs", "group: qa", "group: ops",
        "user: prop-alice", "group: \"*\"", "group: \"*\""), Arbitraries.integers().between(0, 2).list()
        .ofMinSize(1).ofMaxSize(2)
        .uniqueElements()).as((who, roles) -> "  - {" + who + ", roles: [" + String.join(", ", roles.stream()
        .map(i -> "r" + i).toList()) + "]}\n");
    return Combinators.combine(role.list().ofSize(3), mapping.list().ofMinSize(1).ofMaxSize(4)).as((roles, maps) -> {
      StringBuilder sb = new StringBuilder("apiVersion: airlock.dev/v1alpha1\nkind: RoleSet\nroles:\n");
      for (int i = 0; i < roles.size(); i++) {
        sb.append("  - name: r").append(i).append('\n').append(roles.get(i));
      }
      sb.append("mappings:\n");
      maps.forEach(sb::append);
      return new Spec(sb.toString());
    });
  }

  private static String namespaces(String choice) {
    if (choice.equals("selector")) {
      return "namespaceSelector: {matchLabels: {team: x}}, ";
    }
    return "namespaces: " + quoted(List.of(choice.split(","))) + ", ";
  }

  private static String quoted(List<String> l) {
    return "[" + String.join(", ", l.stream().map(s -> "\"" + s + "\"").toList()) + "]";
  }

  @Provide
  Arbitrary<List<Object[]>> requests() {
    List<String> namespaces = new ArrayList<>(NAMESPACES);
    USERS.forEach(u -> namespaces.add("dev-" + UserName.of(u.username())));
    Arbitrary<String> verbs = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.of(REQUEST_VERBS.subList(0,
        7))), net.jqwik.api.Tuple.of(1, Arbitraries.of(REQUEST_VERBS.subList(7, REQUEST_VERBS.size()))));
    Arbitrary<Object[]> one = Combinators.combine(Arbitraries.of(USERS), verbs,
        Arbitraries.of(REQUEST_RESOURCES), Arbitraries.of(namespaces).injectNull(0.1),
        Arbitraries.of("a", "b").injectNull(0.6)).as((u, verb, res, ns, name) -> {
          Catalog.Ref ref = catalog.parse(res);
          boolean namespaced = catalog.find(ref.group(), ref.name()).map(Catalog.Resource::namespaced)
              .orElse(true);
          return new Object[] {u, new Request(verb, ref.group(), ref.name(), namespaced ? ns : null, name)};
        });
    return one.list().ofSize(150).withoutEdgeCases();
  }
}
