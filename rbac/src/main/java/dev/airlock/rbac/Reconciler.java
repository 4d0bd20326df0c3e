package dev.airlock.rbac;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LimitRange;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Makes the cluster's RBAC what the {@link Compiler} says, as a minimal diff: it creates what is missing, puts back
 * what differs (server-side apply, so a hand edit is undone), deletes what airlock made and no longer wants, and
 * leaves everything else alone — an object without airlock's labels is never changed, even under a name airlock
 * would use. Idempotent; two reconcilers at once converge on the same state (creates that race, updates that race
 * and deletes of the already deleted are all fine). Personal namespaces are created, never deleted (they hold the
 * users' work).
 */
public final class Reconciler {

  public static final String FIELD_MANAGER = "airlock-rbac";

  /** What a reconciliation does, or did. */
  public record Change(String action, String kind, String namespace, String name) {
    public String describe() {
      return action + " " + kind + " " + (namespace == null ? "" : namespace + "/") + name;
    }
  }

  /** The changes, and what was left alone because something not airlock's holds the name. */
  public record Result(List<Change> changes, List<String> skipped, int unchanged) {
    public long count(String action) {
      return changes.stream().filter(c -> c.action().equals(action)).count();
    }
  }

  private final KubernetesClient client;
  private final java.util.Set<String> terminating = new java.util.HashSet<>();

  public Reconciler(KubernetesClient client) {
    this.client = client;
  }

  /** The changes {@link #apply} would make, without making them. */
  public Result plan(Compiler.Desired desired) {
    return run(desired, false);
  }

  public Result apply(Compiler.Desired desired) {
    return run(desired, true);
  }

  private Result run(Compiler.Desired d, boolean apply) {
    List<Change> changes = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    int[] unchanged = {0};
    try {
      Map<String, Namespace> nsActual = index(client.namespaces().list().getItems());
      terminating.clear();
      nsActual.values().stream().filter(n -> n.getMetadata().getDeletionTimestamp() != null || n.getStatus() != null
          && "Terminating".equals(n.getStatus().getPhase())).forEach(n -> terminating.add(n.getMetadata().getName()));
      for (Namespace ns : d.namespaces()) {
        Namespace have = nsActual.get(ns.getMetadata().getName());
        if (terminating.contains(ns.getMetadata().getName())) {
          skipped.add("Namespace " + ns.getMetadata().getName() + " is being deleted: its objects wait for the next "
              + "reconciliation");
        } else if (have == null) {
          changes.add(new Change("create", "Namespace", null, ns.getMetadata().getName()));
          if (apply) {
            ssa(ns);
          }
        } else {
          unchanged[0]++;
        }
      }
      // Roles before the bindings that name them; bindings deleted before their roles.
      sync("ClusterRole", d.clusterRoles(), client.rbac().clusterRoles().withLabel(Compiler.PART_OF,
          Compiler.RBAC).list().getItems(), Reconciler::sameRules, apply, changes, skipped, unchanged,
          n -> client.rbac().clusterRoles().withName(n.name()).get());
      sync("Role", d.roles(), client.rbac().roles().inAnyNamespace().withLabel(Compiler.PART_OF, Compiler.RBAC)
          .list().getItems(), Reconciler::sameRules, apply, changes, skipped, unchanged,
          n -> client.rbac().roles().inNamespace(n.namespace()).withName(n.name()).get());
      sync("ClusterRoleBinding", d.clusterRoleBindings(), client.rbac().clusterRoleBindings().withLabel(
          Compiler.PART_OF, Compiler.RBAC).list().getItems(), Reconciler::sameBinding, apply, changes, skipped,
          unchanged, n -> client.rbac().clusterRoleBindings().withName(n.name()).get());
      sync("RoleBinding", d.roleBindings(), client.rbac().roleBindings().inAnyNamespace().withLabel(
          Compiler.PART_OF, Compiler.RBAC).list().getItems(), Reconciler::sameBinding, apply, changes, skipped,
          unchanged, n -> client.rbac().roleBindings().inNamespace(n.namespace()).withName(n.name()).get());
      sync("ResourceQuota", d.quotas(), client.resourceQuotas().inAnyNamespace().withLabel(Compiler.PART_OF,
          Compiler.RBAC).list().getItems(), (a, b) -> sameQuantities(((ResourceQuota) a).getSpec().getHard(),
          ((ResourceQuota) b).getSpec().getHard()), apply, changes, skipped, unchanged,
          n -> client.resourceQuotas().inNamespace(n.namespace()).withName(n.name()).get());
      sync("LimitRange", d.limitRanges(), client.limitRanges().inAnyNamespace().withLabel(Compiler.PART_OF,
          Compiler.RBAC).list().getItems(), Reconciler::sameLimits, apply, changes, skipped, unchanged,
          n -> client.limitRanges().inNamespace(n.namespace()).withName(n.name()).get());
      if (apply) {
        // Deletions last, bindings first, so no moment grants more than either state.
        for (String kind : List.of("ClusterRoleBinding", "RoleBinding", "ClusterRole", "Role", "ResourceQuota",
            "LimitRange")) {
          for (Change c : changes) {
            if (c.action().equals("delete") && c.kind().equals(kind)) {
              delete(c);
            }
          }
        }
      }
    } catch (KubernetesClientException e) {
      throw new AirlockException(Kind.REMOTE, "cannot reconcile RBAC: " + e.getMessage(), e.getCode() == 403
          ? "the kubeconfig's user must be allowed to manage Roles, RoleBindings, ClusterRoles, ClusterRoleBindings "
          + "and namespaces (cluster-admin, or airlock's installer role)" : "check the cluster", e);
    }
    return new Result(changes, skipped, unchanged[0]);
  }

  interface Same {
    boolean same(HasMetadata want, HasMetadata have);
  }

  private <T extends HasMetadata> void sync(String kind, List<T> want, List<T> have, Same same, boolean apply,
      List<Change> changes, List<String> skipped, int[] unchanged, Function<Change, HasMetadata> get) {
    Map<String, T> actual = index(have);
    Map<String, Boolean> wanted = new HashMap<>();
    for (T w : want) {
      String id = id(w);
      wanted.put(id, true);
      if (w.getMetadata().getNamespace() != null && terminating.contains(w.getMetadata().getNamespace())) {
        continue; // created when the namespace is back, if it comes back
      }
      T a = actual.get(id);
      Change create = new Change("create", kind, w.getMetadata().getNamespace(), w.getMetadata().getName());
      if (a == null) {
        HasMetadata foreign = get.apply(create);
        if (foreign != null) {
          // The name is taken by an object airlock did not label: leave it.
          skipped.add(kind + " " + id + " exists and is not airlock's: left alone");
          continue;
        }
        changes.add(create);
        if (apply) {
          ssa(w);
        }
      } else if (!same.same(w, a) || !labelled(a)) {
        changes.add(new Change("update", kind, w.getMetadata().getNamespace(), w.getMetadata().getName()));
        if (apply) {
          ssa(w);
        }
      } else {
        unchanged[0]++;
      }
    }
    for (T a : have) {
      if (!wanted.containsKey(id(a)) && labelled(a)) {
        changes.add(new Change("delete", kind, a.getMetadata().getNamespace(), a.getMetadata().getName()));
      }
    }
  }

  private static boolean labelled(HasMetadata o) {
    Map<String, String> l = o.getMetadata().getLabels();
    return l != null && Compiler.RBAC.equals(l.get(Compiler.PART_OF)) && Compiler.MANAGER.equals(l.get(
        Compiler.MANAGED_BY)) && o.getMetadata().getAnnotations() != null && o.getMetadata().getAnnotations()
        .containsKey(Compiler.OWNER);
  }

  private void ssa(HasMetadata o) {
    HasMetadata copy = o;
    copy.getMetadata().setResourceVersion(null);
    client.resource(copy).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
  }

  private void delete(Change c) {
    try {
      switch (c.kind()) {
        case "ClusterRoleBinding" -> client.rbac().clusterRoleBindings().withName(c.name()).delete();
        case "RoleBinding" -> client.rbac().roleBindings().inNamespace(c.namespace()).withName(c.name()).delete();
        case "ClusterRole" -> client.rbac().clusterRoles().withName(c.name()).delete();
        case "Role" -> client.rbac().roles().inNamespace(c.namespace()).withName(c.name()).delete();
        case "ResourceQuota" -> client.resourceQuotas().inNamespace(c.namespace()).withName(c.name()).delete();
        default -> client.limitRanges().inNamespace(c.namespace()).withName(c.name()).delete();
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /** Limit ranges compared as written: the API server fills defaultRequest from default when it is not given. */
  private static boolean sameLimits(HasMetadata want, HasMetadata have) {
    var w = ((LimitRange) want).getSpec().getLimits();
    var h = ((LimitRange) have).getSpec().getLimits();
    if (w.size() != h.size()) {
      return false;
    }
    for (int i = 0; i < w.size(); i++) {
      var a = w.get(i);
      var b = h.get(i);
      Map<String, io.fabric8.kubernetes.api.model.Quantity> defaultRequest = a.getDefaultRequest() == null
          || a.getDefaultRequest().isEmpty() ? a.getDefault() : a.getDefaultRequest();
      if (!Objects.equals(a.getType(), b.getType()) || !sameQuantities(a.getDefault(), b.getDefault())
          || !sameQuantities(defaultRequest, b.getDefaultRequest()) || !sameQuantities(a.getMax(), b.getMax())
          || !sameQuantities(a.getMin(), b.getMin())) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameQuantities(Map<String, io.fabric8.kubernetes.api.model.Quantity> a,
      Map<String, io.fabric8.kubernetes.api.model.Quantity> b) {
    Map<String, java.math.BigDecimal> x = new java.util.TreeMap<>();
    Map<String, java.math.BigDecimal> y = new java.util.TreeMap<>();
    if (a != null) {
      a.forEach((k, v) -> x.put(k, io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(v).stripTrailingZeros()));
    }
    if (b != null) {
      b.forEach((k, v) -> y.put(k, io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(v).stripTrailingZeros()));
    }
    return x.equals(y);
  }

  private static boolean sameRules(HasMetadata want, HasMetadata have) {
    return Objects.equals(rules(want), rules(have));
  }

  private static Object rules(HasMetadata o) {
    List<?> rules = o instanceof Role r ? r.getRules() : ((ClusterRole) o).getRules();
    List<List<List<String>>> out = new ArrayList<>();
    for (Object x : rules == null ? List.of() : rules) {
      var p = (io.fabric8.kubernetes.api.model.rbac.PolicyRule) x;
      out.add(List.of(norm(p.getApiGroups()), norm(p.getResources()), norm(p.getVerbs()), norm(p.getResourceNames()),
          norm(p.getNonResourceURLs())));
    }
    return out;
  }

  private static List<String> norm(List<String> l) {
    return l == null ? List.of() : l;
  }

  private static boolean sameBinding(HasMetadata want, HasMetadata have) {
    if (want instanceof RoleBinding w) {
      RoleBinding h = (RoleBinding) have;
      return Objects.equals(w.getRoleRef(), h.getRoleRef()) && Objects.equals(subjects(w.getSubjects()),
          subjects(h.getSubjects()));
    }
    ClusterRoleBinding w = (ClusterRoleBinding) want;
    ClusterRoleBinding h = (ClusterRoleBinding) have;
    return Objects.equals(w.getRoleRef(), h.getRoleRef()) && Objects.equals(subjects(w.getSubjects()),
        subjects(h.getSubjects()));
  }

  private static List<String> subjects(List<io.fabric8.kubernetes.api.model.rbac.Subject> s) {
    return s == null ? List.of() : s.stream().map(x -> x.getKind() + "/" + x.getNamespace() + "/" + x.getName())
        .sorted().toList();
  }

  private static <T extends HasMetadata> Map<String, T> index(List<T> items) {
    Map<String, T> out = new HashMap<>();
    items.forEach(i -> out.put(id(i), i));
    return out;
  }

  private static String id(HasMetadata o) {
    return (o.getMetadata().getNamespace() == null ? "" : o.getMetadata().getNamespace() + "/")
        + o.getMetadata().getName();
  }
}
