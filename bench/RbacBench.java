// Benchmark (not a test), run by bench/rbac.sh with the rbac module's class path: at 1,000 users x 20 roles x 200
// namespaces, the full compilation (time and objects), one changed mapping re-compiled (the objects it touches, and
// whether they all concern the users of that group), and decisions per second on one core; each against its goal.
import dev.airlock.rbac.Authorizer;
import dev.airlock.rbac.Catalog;
import dev.airlock.rbac.Compiler;
import dev.airlock.rbac.Policy;
import dev.airlock.rbac.Request;
import dev.airlock.rbac.RoleSet;
import dev.airlock.rbac.User;
import dev.airlock.rbac.UserName;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

public class RbacBench {
  static final int USERS = 1000;
  static final int ROLES = 20;
  static final int TEAMS = 10;

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("decisions")) {
      decisions();
      return;
    }
    Catalog catalog = Catalog.builtIn();
    List<Compiler.Namespace> namespaces = new ArrayList<>();
    for (int t = 0; t < TEAMS; t++) {
      for (int i = 0; i < 15; i++) {
        namespaces.add(new Compiler.Namespace("team-" + t + "-" + i, Map.of("team", "t" + t)));
      }
    }
    for (int i = 0; i < 50; i++) {
      namespaces.add(new Compiler.Namespace("shared-" + i, Map.of()));
    }
    List<User> users = users();
    RoleSet set = RoleSet.parse("bench.yaml", roleSet(3));
    long best = Long.MAX_VALUE;
    StringBuilder runs = new StringBuilder();
    Compiler.Desired d = null;
    for (int i = 0; i < 5; i++) {
      long t0 = System.nanoTime();
      d = new Compiler(new Authorizer(set, catalog)).compile(users, namespaces,
          u -> Compiler.serviceAccount("airlock-system", UserName.of(u.username())));
      best = Math.min(best, System.nanoTime() - t0);
      runs.append(String.format(" %.2f", (System.nanoTime() - t0) / 1e9));
    }
    System.out.printf("full compile, %d users x %d roles x %d namespaces: %.2f s (best of 5:%s; the first is cold; "
        + "goal < 2 s, ratio %.2f); %,d objects (%,d Roles, %,d RoleBindings, %,d ClusterRoles, %,d personal namespaces, %,d quotas)%n", USERS,
        ROLES, namespaces.size(), best / 1e9, runs, best / 1e9 / 2, d.objects(), d.roles().size(), d.roleBindings().size(),
        d.clusterRoles().size(), d.namespaces().size(), d.quotas().size());

    // One changed mapping: group g3 now gets role r4 instead of r3.
    RoleSet changed = RoleSet.parse("bench.yaml", roleSet(4));
    long t0 = System.nanoTime();
    Compiler.Desired d2 = new Compiler(new Authorizer(changed, catalog)).compile(users, namespaces,
        u -> Compiler.serviceAccount("airlock-system", UserName.of(u.username())));
    double recompile = (System.nanoTime() - t0) / 1e9;
    Map<String, String> before = index(d);
    Map<String, String> after = index(d2);
    Set<String> touched = new HashSet<>();
    before.forEach((k, v) -> {
      if (!v.equals(after.get(k))) {
        touched.add(k);
      }
    });
    after.forEach((k, v) -> {
      if (!before.containsKey(k)) {
        touched.add(k);
      }
    });
    Set<String> g3 = new HashSet<>();
    Set<String> g3Namespaces = new HashSet<>();
    for (User u : users) {
      if (u.groups().contains("g3")) {
        g3.add("user-" + UserName.of(u.username()));
        g3Namespaces.add("dev-" + UserName.of(u.username()));
      }
    }
    // Every touched object must be in a g3 user's personal namespace, or be (the role of) a binding that has or had
    // a g3 user among its subjects.
    Map<String, RoleBinding> bindingsBefore = new HashMap<>();
    d.roleBindings().forEach(b -> bindingsBefore.put(b.getMetadata().getNamespace() + "/" + b.getMetadata().getName(),
        b));
    Map<String, RoleBinding> bindingsAfter = new HashMap<>();
    d2.roleBindings().forEach(b -> bindingsAfter.put(b.getMetadata().getNamespace() + "/" + b.getMetadata().getName(),
        b));
    int unrelated = 0;
    for (String k : touched) {
      String id = k.substring(k.indexOf(' ') + 1);
      RoleBinding b1 = bindingsBefore.get(id);
      RoleBinding b2 = bindingsAfter.get(id);
      boolean concerns = g3Namespaces.contains(id.substring(0, id.indexOf('/'))) || b1 != null && b1.getSubjects().stream().anyMatch(s -> g3.contains(s.getName()))
          || b2 != null && b2.getSubjects().stream().anyMatch(s -> g3.contains(s.getName()));
      if (!concerns) {
        unrelated++;
      }
    }
    System.out.printf("one changed mapping (%d users in the group): re-compiled in %.2f s; %,d of %,d objects "
        + "touched, %d of them not concerning those users (goal 0)%n", g3.size(), recompile, touched.size(),
        before.size(), unrelated);
  }

  static List<User> users() {
    Random rnd = new Random(7);
    List<User> users = new ArrayList<>();
    for (int i = 0; i < USERS; i++) {
      Set<String> groups = new HashSet<>();
      int n = 1 + rnd.nextInt(3);
      while (groups.size() < n) {
        groups.add("g" + rnd.nextInt(ROLES));
      }
      users.add(new User("user" + i, List.copyOf(groups)));
    }
    return users;
  }

  /** 20 roles; group gI maps to role rI, except g3, which maps to role {@code g3role}. */
  static String roleSet(int g3role) {
    StringBuilder sb = new StringBuilder("apiVersion: airlock.dev/v1alpha1\nkind: RoleSet\nroles:\n");
    for (int r = 0; r < ROLES; r++) {
      sb.append("  - name: r").append(r).append('\n').append("    allow:\n")
          .append("      - {namespaces: [\"dev-{{user}}\"], resources: [\"*\"], verbs: [\"*\"]}\n")
          .append("      - {namespaces: [\"team-").append(r % TEAMS).append("-*\"], resources: [pods, services, "
              + "apps/deployments, pods/log], verbs: [get, list, watch").append(r >= TEAMS ? ", update, patch" : "")
          .append("]}\n")
          .append("      - {namespaces: [\"shared-*\"], resources: [pods], verbs: [get]}\n");
      if (r % 2 == 0) {
        sb.append("    deny:\n      - {namespaces: [\"*\"], resources: [secrets], verbs: [\"*\"]}\n");
      }
      sb.append("    platform: [view]\n    limits: {quota: {requests.cpu: \"").append(1 + r % 4).append("\"}}\n");
    }
    sb.append("mappings:\n");
    for (int g = 0; g < ROLES; g++) {
      sb.append("  - {group: g").append(g).append(", roles: [r").append(g == 3 ? g3role : g).append("]}\n");
    }
    return sb.toString();
  }

  static Map<String, String> index(Compiler.Desired d) {
    Map<String, String> out = new HashMap<>();
    List<HasMetadata> all = new ArrayList<>();
    all.addAll(d.roles());
    all.addAll(d.roleBindings());
    all.addAll(d.clusterRoles());
    all.addAll(d.clusterRoleBindings());
    all.addAll(d.namespaces());
    all.addAll(d.quotas());
    all.addAll(d.limitRanges());
    for (HasMetadata o : all) {
      out.put(o.getKind() + " " + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName(), o.toString());
    }
    return out;
  }

  static void decisions() {
    Catalog catalog = Catalog.builtIn();
    RoleSet set = RoleSet.parse("bench.yaml", roleSet(3));
    Policy p = new Authorizer(set, catalog).policy(new User("user1", List.of("g1", "g12", "g4")));
    Random rnd = new Random(11);
    String[] resources = {"pods", "pods/log", "secrets", "configmaps", "apps/deployments", "services", "nodes",
        "batch/jobs"};
    String[] verbs = {"get", "list", "watch", "create", "delete", "update", "patch"};
    String[] namespaces = {"dev-user1", "team-1-3", "team-4-0", "team-2-1", "shared-7", "kube-system"};
    Request[] reqs = new Request[4096];
    for (int i = 0; i < reqs.length; i++) {
      reqs[i] = Request.of(catalog, verbs[rnd.nextInt(verbs.length)], resources[rnd.nextInt(resources.length)],
          namespaces[rnd.nextInt(namespaces.length)], null);
    }
    int allowed = 0;
    for (int i = 0; i < 3_000_000; i++) {
      allowed += p.decide(reqs[i & 4095], null).allowed() ? 1 : 0;
    }
    int n = 10_000_000;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      allowed += p.decide(reqs[i & 4095], null).allowed() ? 1 : 0;
    }
    double perSecond = n / ((System.nanoTime() - t0) / 1e9);
    System.out.printf("decisions, one core: %,.0f per second (goal > 1,000,000: ratio %.2f; %d%% allowed)%n",
        perSecond, perSecond / 1e6, allowed * 100L / (n + 3_000_000L));
  }
}
