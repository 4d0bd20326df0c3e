package dev.airlock.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * 1,000 users x 20 roles x 200 namespaces compiled (the scale of bench/rbac.sh, which times it): every user gets
 * exactly the bindings their policy implies, objects are shared between users with the same rules, and nothing
 * binds a user outside what the model allows.
 */
class CompileAtScaleTest {

  @Test
  void thousandUsers_twentyRoles_twoHundredNamespaces() {
    StringBuilder yaml = new StringBuilder("apiVersion: airlock.dev/v1alpha1\nkind: RoleSet\nroles:\n");
    for (int r = 0; r < 20; r++) {
      yaml.append("  - name: r").append(r).append("\n    allow:\n")
          .append("      - {namespaces: [\"dev-{{user}}\"], resources: [\"*\"], verbs: [\"*\"]}\n")
          .append("      - {namespaces: [\"team-").append(r % 10).append("-*\"], resources: [pods, pods/log], verbs: ")
          .append("[get, list]}\n");
      if (r % 2 == 0) {
        yaml.append("    deny:\n      - {namespaces: [\"*\"], resources: [secrets], verbs: [\"*\"]}\n");
      }
    }
    yaml.append("mappings:\n");
    for (int g = 0; g < 20; g++) {
      yaml.append("  - {group: g").append(g).append(", roles: [r").append(g).append("]}\n");
    }
    Authorizer auth = new Authorizer(RoleSet.parse("scale.yaml", yaml.toString()), Catalog.builtIn());
    List<Compiler.Namespace> namespaces = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      namespaces.add(new Compiler.Namespace("team-" + (i % 10) + "-" + i, Map.of()));
    }
    Random rnd = new Random(3);
    List<User> users = new ArrayList<>();
    for (int u = 0; u < 1000; u++) {
      users.add(new User("user" + u, List.of("g" + rnd.nextInt(20), "g" + rnd.nextInt(20))));
    }
    Compiler.Desired d = new Compiler(auth).compile(users, namespaces, u -> Compiler.serviceAccount("airlock-system",
        UserName.of(u.username())));
    assertThat(d.namespaces()).hasSize(1000);
    // Per namespace, users with the same rules share one Role: far fewer Roles than (user, namespace) pairs.
    assertThat(d.roles()).hasSizeLessThan(1000 + 200 * 4);
    Map<String, Set<String>> boundIn = new HashMap<>();
    for (RoleBinding b : d.roleBindings()) {
      Set<String> seen = new HashSet<>();
      b.getSubjects().forEach(s -> {
        assertThat(seen.add(s.getName())).as("each subject once").isTrue();
        boundIn.computeIfAbsent(s.getName(), x -> new HashSet<>()).add(b.getMetadata().getNamespace());
      });
    }
    for (User u : users) {
      Policy p = auth.policy(u);
      Set<String> expected = new HashSet<>();
      expected.add("dev-" + p.userKey());
      for (Compiler.Namespace n : namespaces) {
        if (p.decide(new Request("list", "", "pods", n.name(), null), x -> Map.of()).allowed()) {
          expected.add(n.name());
        }
      }
      assertThat(boundIn.get("user-" + p.userKey())).as(u.toString()).isEqualTo(expected);
    }
  }
}
