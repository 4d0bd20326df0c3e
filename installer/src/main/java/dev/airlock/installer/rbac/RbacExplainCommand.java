package dev.airlock.installer.rbac;

import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.kube.KubeTarget;
import dev.airlock.rbac.Authorizer;
import dev.airlock.rbac.Catalog;
import dev.airlock.rbac.Decision;
import dev.airlock.rbac.Policy;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.Request;
import dev.airlock.rbac.RoleSet;
import dev.airlock.rbac.User;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock rbac explain}: one decision, and why. */
@Command(name = "explain", mixinStandardHelpOptions = true, description = {"Decide one request for a user and say "
    + "why: the role and rule that allowed or denied it, or that nothing allowed it. Exit 0 either way.",
    "With -f, the roles come from the file and resources from Kubernetes 1.32 (or the cluster's discovery with "
    + "--kubeconfig/--context); without -f, roles, resources and namespace labels come from the cluster."})
public class RbacExplainCommand implements Callable<Integer> {

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "the roles file (default: the roles stored "
      + "in the cluster)")
  Path file;

  @Mixin UserOptions user;

  @Option(names = "--verb", paramLabel = "VERB", required = true, description = "get, list, watch, create, update, "
      + "patch, delete, deletecollection, …")
  String verb;

  @Option(names = "--resource", paramLabel = "RESOURCE", required = true, description = "pods, pods/log, "
      + "apps/deployments, …")
  String resource;

  @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "the namespace of the request (none for "
      + "cluster-scoped resources, or across all namespaces)")
  String namespace;

  @Option(names = "--name", paramLabel = "NAME", description = "the object's name, for rules with resourceNames")
  String name;

  @Option(names = "--kubeconfig", paramLabel = "FILE", description = "kubeconfig of the cluster (default: "
      + "$KUBECONFIG, else ~/.kube/config)")
  Path kubeconfig;

  @Option(names = "--context", paramLabel = "NAME", description = "kubeconfig context (default: the current one)")
  String context;

  @Option(names = "--airlock-namespace", paramLabel = "NS", defaultValue = "airlock-system",
      description = "airlock's namespace in the cluster (default: ${DEFAULT-VALUE})")
  String airlockNamespace;

  @Mixin OutputOptions output;

  record Explained(boolean allowed, String decision, String user, List<String> groups, List<String> roles,
      String request, String role, String rule, String ruleText, String reason, String source) {}

  @Override
  public Integer call() {
    Console console = new Console(output);
    User u = user.user();
    if (u == null) {
      throw new dev.airlock.error.AirlockException(dev.airlock.error.AirlockException.Kind.BAD_INPUT,
          "explain needs --user", "e.g. --user alice --groups devs,qa");
    }
    boolean cluster = file == null || kubeconfig != null || context != null;
    KubeTarget target = cluster ? KubeTarget.connect(Optional.ofNullable(kubeconfig), Optional.ofNullable(context))
        : null;
    try {
      RoleSet set = file != null ? RoleSet.read(file) : new RbacStore(target.client(), airlockNamespace).read();
      Catalog catalog = target != null ? Catalog.discover(target.client()) : Catalog.builtIn();
      Function<String, Map<String, String>> labels = ns -> {
        if (target == null) {
          return null;
        }
        var n = target.client().namespaces().withName(ns).get();
        return n == null || n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
      };
      Policy p = new Authorizer(set, catalog).policy(u);
      Request r = Request.of(catalog, verb, resource, namespace, name);
      Decision d = p.decide(r, labels);
      String source = (file != null ? file.toString() : "the cluster's PlatformRoles") + "; resources: "
          + catalog.source();
      StringBuilder text = new StringBuilder();
      text.append(d.allowed() ? "ALLOWED" : "DENIED").append(": ").append(u.username()).append(' ')
          .append(r.describe()).append('\n');
      text.append("  user:     ").append(u.username()).append(" (groups: ").append(u.groups().isEmpty() ? "none"
          : String.join(", ", u.groups())).append(")\n");
      text.append("  roles:    ").append(d.roles().isEmpty() ? "none (no mapping matches)"
          : String.join(", ", d.roles())).append('\n');
      text.append("  why:      ").append(d.reason()).append('\n');
      if (d.ruleText() != null) {
        text.append("  rule:     ").append(d.role()).append(' ').append(d.rule()).append(' ').append(d.ruleText())
            .append('\n');
      }
      text.append("  from:     ").append(source);
      console.result(text.toString(), new Explained(d.allowed(), d.allowed() ? "allow" : "deny", u.username(),
          u.groups(), d.roles(), r.describe(), d.role(), d.rule(), d.ruleText(), d.reason(), source));
    } finally {
      if (target != null) {
        target.close();
      }
    }
    return 0;
  }
}
