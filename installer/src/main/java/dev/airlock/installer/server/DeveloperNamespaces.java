package dev.airlock.installer.server;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import dev.airlock.rbac.Authorizer;
import dev.airlock.rbac.Compiler;
import dev.airlock.rbac.Policy;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.User;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A developer's extra namespaces ({@code airlock namespace create|delete|list}): named {@code <personal>-<suffix>},
 * as many as their roles' {@code extraNamespaces} allow, labelled with their owner so that the compiled RBAC, quota
 * and limits of the personal namespace apply there (and only for the owner). Personal namespaces are never deleted.
 */
final class DeveloperNamespaces {

  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  private final KubernetesClient client;
  private final RbacStore rbac;
  private final AuditLog audit;
  private final Runnable reconcile;

  DeveloperNamespaces(KubernetesClient client, RbacStore rbac, AuditLog audit, Runnable reconcile) {
    this.client = client;
    this.rbac = rbac;
    this.audit = audit;
    this.reconcile = reconcile;
  }

  record Listing(String personal, List<Map<String, Object>> extra, int allowed) {}

  Listing list(Policy p, Authorizer auth) {
    List<Map<String, Object>> extra = new ArrayList<>();
    for (Namespace n : owned(p)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", n.getMetadata().getName());
      m.put("phase", n.getStatus() == null ? null : n.getStatus().getPhase());
      m.put("created", n.getMetadata().getCreationTimestamp());
      extra.add(m);
    }
    return new Listing(new Compiler(auth).personalNamespace(p), extra, p.limits().extraNamespaces());
  }

  Map<String, Object> create(Policy p, Authorizer auth, String name, String remote) {
    String personal = new Compiler(auth).personalNamespace(p);
    if (name == null || !name.startsWith(personal + "-") || name.length() > 63 || !LABEL.matcher(name).matches()) {
      throw new AirlockException(Kind.BAD_INPUT, "namespace '" + name + "': yours are named " + personal
          + "-<suffix> (lower-case letters, digits and dashes; at most 63 characters)", "airlock namespace create "
          + personal + "-feature");
    }
    List<Namespace> owned = owned(p);
    int allowed = p.limits().extraNamespaces();
    boolean already = owned.stream().anyMatch(n -> n.getMetadata().getName().equals(name));
    if (already) {
      // A re-run (the first one may have failed after the create): converge its RBAC, quota and limits.
      reconcile.run();
      return created(p, name, owned.size(), allowed);
    }
    if (owned.size() >= allowed) {
      throw new AirlockException(Kind.DENIED, "your roles " + p.roles() + " allow " + allowed + " extra namespace"
          + (allowed == 1 ? "" : "s") + " and you have " + owned.stream().map(n -> n.getMetadata().getName())
          .toList(), allowed == 0 ? "ask an admin for a role with limits.extraNamespaces (docs/rbac.md)"
          : "delete one with airlock namespace delete NAME, or ask an admin for more extraNamespaces")
          .with(AirlockException.CHECK, "extra-namespaces");
    }
    for (User u : rbac.users()) {
      if (new Compiler(auth).personalNamespace(auth.policy(u)).equals(name)) {
        throw new AirlockException(Kind.DENIED, name + " is " + u.username() + "'s personal namespace",
            "choose another suffix").with(AirlockException.CHECK, "extra-namespaces");
      }
    }
    Namespace ns = new NamespaceBuilder().withNewMetadata().withName(name).addToLabels(Compiler.EXTRA_OF,
        p.userKey()).addToLabels(KubeTarget.LABEL_MANAGED_BY, KubeTarget.MANAGER).addToAnnotations(
        "airlock.dev/username", p.username()).endMetadata().build();
    try {
      client.namespaces().resource(ns).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw new AirlockException(Kind.BAD_INPUT, "namespace " + name + " already exists", "choose another suffix");
      }
      throw new AirlockException(Kind.REMOTE, "cannot create namespace " + name + ": " + e.getMessage(),
          "the server's ServiceAccount needs create on namespaces", e);
    }
    // Its Role, RoleBinding, quota and limits: the personal namespace's, for the owner.
    reconcile.run();
    audit.record(AuditLog.Event.of(p.username(), "namespace-create", name, "success", remote));
    return created(p, name, owned.size() + 1, allowed);
  }

  private static Map<String, Object> created(Policy p, String name, int used, int allowed) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", name);
    out.put("owner", p.username());
    out.put("used", used);
    out.put("allowed", allowed);
    return out;
  }

  Map<String, Object> delete(Policy p, String name, String remote) {
    Namespace n = client.namespaces().withName(name).get();
    if (n == null || n.getMetadata().getLabels() == null
        || !p.userKey().equals(n.getMetadata().getLabels().get(Compiler.EXTRA_OF))) {
      throw new AirlockException(Kind.DENIED, name + " is not one of your extra namespaces (personal namespaces are "
          + "never deleted)", "airlock namespace list shows yours").with(AirlockException.CHECK, "owner");
    }
    client.namespaces().withName(name).delete();
    audit.record(AuditLog.Event.of(p.username(), "namespace-delete", name, "success", remote));
    return Map.of("name", name, "deleted", true);
  }

  private List<Namespace> owned(Policy p) {
    return client.namespaces().withLabel(Compiler.EXTRA_OF, p.userKey()).list().getItems().stream()
        .filter(n -> n.getMetadata().getDeletionTimestamp() == null).toList();
  }
}
