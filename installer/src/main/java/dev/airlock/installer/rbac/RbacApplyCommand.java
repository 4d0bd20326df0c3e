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

/** {@code airlock rbac apply}: roles into the cluster, compiled and reconciled once. */
@Command(name = "apply", mixinStandardHelpOptions = true, description = {"Store the roles and mappings in the cluster "
    + "(PlatformRole and RoleMapping resources; the CRDs are installed if missing) and reconcile Kubernetes RBAC for "
    + "every known user: Roles and RoleBindings in each matching namespace, ClusterRoles for cluster-scoped grants, "
    + "personal namespaces with their quota. Only what changed is touched; objects airlock did not make are left "
    + "alone.", "With --user (and --groups), that user is recorded first (their ServiceAccount and personal "
    + "namespace) and the Kubernetes subject their permissions are bound to is printed."})
public class RbacApplyCommand implements Callable<Integer> {

  @Mixin RolesFile roles;
  @Mixin UserOptions user;
  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  /** The Kubernetes subject a user's permissions are bound to. */
  record Subject(String kind, String namespace, String name) {}

  record Applied(String file, Subject subject, String personalNamespace, long created, long updated, long deleted,
      int unchanged, List<String> changes, List<String> skipped) {}

  @Override
  public Integer call() {
    Console console = new Console(output);
    RoleSet set = roles.read();
    User u = user.user();
    try (KubeTarget target = cluster.connect()) {
      RbacStore store = new RbacStore(target.client(), cluster.namespace);
      Catalog catalog = Catalog.discover(target.client());
      List<String> warnings = set.check(catalog);
      warnings.forEach(w -> console.on(new dev.airlock.event.Event.Log(dev.airlock.event.Event.Level.WARN, w)));
      store.ensureCrds();
      List<Reconciler.Change> stored = store.write(set, true);
      store.storeSource(roles.text(), roles.file.toString());
      if (u != null) {
        store.ensureUser(u);
      }
      Reconciler.Result r = store.reconcile(new Authorizer(set, catalog), true);
      List<String> changes = new ArrayList<>();
      stored.forEach(c -> changes.add(c.describe()));
      r.changes().forEach(c -> changes.add(c.describe()));
      Subject subject = null;
      String personal = null;
      if (u != null) {
        String key = UserName.of(u.username());
        var s = Compiler.serviceAccount(cluster.namespace, key);
        subject = new Subject(s.getKind(), s.getNamespace(), s.getName());
        personal = set.personalNamespace().replace("{{user}}", key);
      }
      long created = stored.stream().filter(c -> c.action().equals("create")).count() + r.count("create");
      long updated = stored.stream().filter(c -> c.action().equals("update")).count() + r.count("update");
      long deleted = stored.stream().filter(c -> c.action().equals("delete")).count() + r.count("delete");
      StringBuilder text = new StringBuilder();
      changes.forEach(c -> text.append("  ").append(c).append('\n'));
      r.skipped().forEach(s -> text.append("  skipped: ").append(s).append('\n'));
      text.append("applied ").append(roles.file).append(": ").append(created).append(" created, ").append(updated)
          .append(" updated, ").append(deleted).append(" deleted, ").append(r.unchanged()).append(" unchanged");
      if (subject != null) {
        text.append("\nuser ").append(u.username()).append(" (groups ").append(String.join(", ", u.groups()))
            .append(") is ").append(subject.kind()).append(' ').append(subject.namespace()).append('/')
            .append(subject.name()).append("; personal namespace ").append(personal);
      }
      console.result(text.toString(), new Applied(roles.file.toString(), subject, personal, created, updated,
          deleted, r.unchanged(), changes, r.skipped()));
    }
    return 0;
  }
}
