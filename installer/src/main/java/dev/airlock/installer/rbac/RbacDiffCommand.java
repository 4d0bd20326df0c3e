package dev.airlock.installer.rbac;

import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cluster.ClusterOptions;
import dev.airlock.kube.KubeTarget;
import dev.airlock.rbac.Authorizer;
import dev.airlock.rbac.Catalog;
import dev.airlock.rbac.Compiler;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.Reconciler;
import dev.airlock.rbac.RoleSet;
import dev.airlock.rbac.User;
import dev.airlock.rbac.UserName;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock rbac diff}: what apply would change, changing nothing. */
@Command(name = "diff", mixinStandardHelpOptions = true, description = {"Show what `airlock rbac apply` would change "
    + "in the cluster — stored roles and mappings, Roles, RoleBindings, ClusterRoles, personal namespaces, quotas — "
    + "without changing anything. Exit 0 either way."})
public class RbacDiffCommand implements Callable<Integer> {

  @Mixin RolesFile roles;
  @Mixin UserOptions user;
  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  record Diff(String file, List<String> changes, List<String> skipped) {}

  @Override
  public Integer call() {
    Console console = new Console(output);
    RoleSet set = roles.read();
    User u = user.user();
    try (KubeTarget target = cluster.connect()) {
      RbacStore store = new RbacStore(target.client(), cluster.namespace);
      Catalog catalog = Catalog.discover(target.client());
      List<String> changes = new ArrayList<>();
      boolean crds = target.client().apiextensions().v1().customResourceDefinitions()
          .withName("platformroles.airlock.dev").get() != null;
      if (crds) {
        store.write(set, false).forEach(c -> changes.add(c.describe()));
      } else {
        changes.add("create CustomResourceDefinition platformroles.airlock.dev, rolemappings.airlock.dev");
        set.roles().forEach(r -> changes.add("create PlatformRole " + r.name()));
      }
      List<User> users = new ArrayList<>(store.users());
      if (u != null && users.stream().noneMatch(x -> x.username().equals(u.username()))) {
        users.add(u);
        changes.add("create ServiceAccount " + cluster.namespace + "/user-" + UserName.of(u.username()));
      } else if (u != null) {
        users.replaceAll(x -> x.username().equals(u.username()) ? u : x);
      }
      Compiler.Desired d = new Compiler(new Authorizer(set, catalog)).compile(users, store.namespaces(),
          x -> Compiler.serviceAccount(cluster.namespace, UserName.of(x.username())));
      Reconciler.Result r = new Reconciler(target.client()).plan(d);
      r.changes().forEach(c -> changes.add(c.describe()));
      StringBuilder text = new StringBuilder();
      changes.forEach(c -> text.append(c).append('\n'));
      r.skipped().forEach(s -> text.append("skipped: ").append(s).append('\n'));
      text.append(changes.isEmpty() ? "no changes: the cluster follows " + roles.file : changes.size()
          + " changes (nothing applied)");
      console.result(text.toString(), new Diff(roles.file.toString(), changes, r.skipped()));
    }
    return 0;
  }
}
