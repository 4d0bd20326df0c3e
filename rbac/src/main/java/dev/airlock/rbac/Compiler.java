package dev.airlock.rbac;

import io.fabric8.kubernetes.api.model.LimitRange;
import io.fabric8.kubernetes.api.model.LimitRangeBuilder;
import io.fabric8.kubernetes.api.model.LimitRangeItemBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRefBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.IdentityHashMap;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Compiles roles for users into Kubernetes RBAC. Per namespace, each user gets the rules their roles allow there
 * minus what any of their roles denies there — expanded against the {@link Catalog}, since RBAC has no deny — as a
 * Role; users with the same rules in a namespace share one Role and one RoleBinding, named by the rules' hash, so a
 * change touches only the objects whose rules or subjects change. Cluster-scoped grants become a ClusterRole and
 * ClusterRoleBinding the same way. Each user also gets their personal namespace, with the ResourceQuota and
 * LimitRange of their roles. Every object carries {@link #PART_OF} = {@value #RBAC} and an owner annotation.
 */
public final class Compiler {

  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "airlock";
  public static final String PART_OF = "airlock.dev/part-of";
  public static final String RBAC = "rbac";
  public static final String OWNER = "airlock.dev/owner";
  public static final String PERSONAL_OF = "airlock.dev/personal-namespace-of";
  public static final String PERSONAL = "airlock-personal";
  /** The label of an extra namespace ({@code airlock namespace create}): its owner's user key. */
  public static final String EXTRA_OF = "airlock.dev/extra-namespace-of";

  /** A namespace as the compiler sees it. */
  public record Namespace(String name, Map<String, String> labels) {
    public Namespace {
      labels = Map.copyOf(labels);
    }
  }

  /** Everything the cluster's RBAC should be, for these users and namespaces. */
  public record Desired(List<Role> roles, List<RoleBinding> roleBindings, List<ClusterRole> clusterRoles,
      List<ClusterRoleBinding> clusterRoleBindings, List<io.fabric8.kubernetes.api.model.Namespace> namespaces,
      List<ResourceQuota> quotas, List<LimitRange> limitRanges) {
    public int objects() {
      return roles.size() + roleBindings.size() + clusterRoles.size() + clusterRoleBindings.size() + namespaces.size()
          + quotas.size() + limitRanges.size();
    }
  }

  private final Authorizer authorizer;
  private final Catalog catalog;
  private final Map<String, List<PolicyRule>> rulesByKey = new HashMap<>();

  public Compiler(Authorizer authorizer) {
    this.authorizer = authorizer;
    this.catalog = authorizer.catalog();
  }

  /** The namespace a user works in: the set's {@code personalNamespace} with their name. */
  public String personalNamespace(Policy p) {
    return authorizer.roleSet().personalNamespace().replace(RoleSet.USER, p.userKey());
  }

  /**
   * The namespace a user's kubeconfig starts in: their personal namespace when their roles let them list pods
   * there, else the first of {@code namespaces} (by name) where they may; empty when there is none (a QA role that
   * reads only the test namespaces has nothing in its personal namespace).
   */
  public java.util.Optional<String> startNamespace(Policy p, List<Namespace> namespaces) {
    Map<String, Map<String, String>> labels = new HashMap<>();
    namespaces.forEach(n -> labels.put(n.name(), n.labels()));
    String personal = personalNamespace(p);
    java.util.function.Predicate<String> mayList = ns -> p.decide(Request.of(catalog, "list", "pods", ns, null),
        n -> labels.getOrDefault(n, Map.of())).allowed();
    if (mayList.test(personal)) {
      return java.util.Optional.of(personal);
    }
    return namespaces.stream().map(Namespace::name).sorted().filter(mayList).findFirst();
  }

  /**
   * Compiles for {@code users} in {@code namespaces} (the cluster's, with labels; personal namespaces that do not
   * exist yet are added). {@code subjectOf} names the Kubernetes subject each user's permissions go to.
   */
  public Desired compile(List<User> users, List<Namespace> namespaces, Function<User, Subject> subjectOf) {
    Map<String, Namespace> all = new TreeMap<>();
    namespaces.forEach(n -> all.put(n.name(), n));
    List<Policy> policies = users.stream().map(authorizer::policy).toList();
    List<io.fabric8.kubernetes.api.model.Namespace> personal = new ArrayList<>();
    List<ResourceQuota> quotas = new ArrayList<>();
    List<LimitRange> ranges = new ArrayList<>();
    Map<String, List<String>> extras = new HashMap<>(); // user key -> their extra namespaces
    for (Namespace n : namespaces) {
      String owner = n.labels().get(EXTRA_OF);
      if (owner != null) {
        extras.computeIfAbsent(owner, x -> new ArrayList<>()).add(n.name());
      }
    }
    for (Policy p : policies) {
      String ns = personalNamespace(p);
      all.putIfAbsent(ns, new Namespace(ns, Map.of()));
      personal.add(new NamespaceBuilder().withMetadata(meta(ns, null, Map.of(PERSONAL_OF, p.userKey()))).build());
      Limits l = p.limits();
      List<String> own = new ArrayList<>(List.of(ns));
      own.addAll(extras.getOrDefault(p.userKey(), List.of()));
      for (String each : own) {
        limits(l, each, quotas, ranges);
      }
    }

    // Namespaced grants: per namespace, the users with the same rules share a Role and a RoleBinding.
    Map<String, Map<String, TreeSet<String>>> bindings = new TreeMap<>(); // ns -> rules key -> subjects
    Map<String, Subject> subjects = new HashMap<>();
    List<Namespace> nsList = List.copyOf(all.values());
    // Where a rule without {{user}} applies is the same for every user: computed once per rule.
    Map<KubeRule, BitSet> where = new IdentityHashMap<>();
    Map<String, Integer> nsIndex = new HashMap<>();
    for (int i = 0; i < nsList.size(); i++) {
      nsIndex.put(nsList.get(i).name(), i);
    }
    for (int u = 0; u < policies.size(); u++) {
      Policy p = policies.get(u);
      Subject s = subjectOf.apply(users.get(u));
      String sid = s.getKind() + "/" + s.getNamespace() + "/" + s.getName();
      subjects.put(sid, s);
      List<Policy.Rule> nsAllow = p.allowRules().stream().filter(r -> r.namespaced).toList();
      if (nsAllow.isEmpty()) {
        continue;
      }
      List<Policy.Rule> nsDeny = p.denyRules().stream().filter(r -> r.namespaced).toList();
      List<BitSet> allowWhere = nsAllow.stream().map(r -> where(r, nsList, nsIndex, where)).toList();
      List<BitSet> denyWhere = nsDeny.stream().map(r -> where(r, nsList, nsIndex, where)).toList();
      List<String> own = extras.getOrDefault(p.userKey(), List.of());
      if (!own.isEmpty()) {
        // In the user's extra namespaces, the rules of their personal namespace apply (as Policy.decide says).
        int personalAt = nsIndex.get(personalNamespace(p));
        allowWhere = sameAsPersonal(allowWhere, personalAt, own, nsIndex);
        denyWhere = sameAsPersonal(denyWhere, personalAt, own, nsIndex);
      }
      BitSet any = new BitSet(nsList.size());
      allowWhere.forEach(any::or);
      for (int i = any.nextSetBit(0); i >= 0; i = any.nextSetBit(i + 1)) {
        List<Policy.Rule> allows = new ArrayList<>();
        for (int r = 0; r < nsAllow.size(); r++) {
          if (allowWhere.get(r).get(i)) {
            allows.add(nsAllow.get(r));
          }
        }
        List<Policy.Rule> denies = new ArrayList<>();
        for (int r = 0; r < nsDeny.size(); r++) {
          if (denyWhere.get(r).get(i)) {
            denies.add(nsDeny.get(r));
          }
        }
        String key = key(allows, denies, true);
        if (!rules(key).isEmpty()) {
          bindings.computeIfAbsent(nsList.get(i).name(), x -> new TreeMap<>()).computeIfAbsent(key,
              x -> new TreeSet<>()).add(sid);
        }
      }
    }
    // Cluster-scoped grants.
    Map<String, TreeSet<String>> clusterBindings = new TreeMap<>();
    for (int u = 0; u < policies.size(); u++) {
      Policy p = policies.get(u);
      List<Policy.Rule> allows = p.allowRules().stream().filter(r -> !r.namespaced).toList();
      if (allows.isEmpty()) {
        continue;
      }
      String key = key(allows, p.denyRules().stream().filter(r -> !r.namespaced).toList(), false);
      if (!rules(key).isEmpty()) {
        Subject s = subjectOf.apply(users.get(u));
        String sid = s.getKind() + "/" + s.getNamespace() + "/" + s.getName();
        subjects.put(sid, s);
        clusterBindings.computeIfAbsent(key, x -> new TreeSet<>()).add(sid);
      }
    }

    // Keys that expand to the same rules share one object (named by the rules' hash): merge their subjects.
    List<Role> roles = new ArrayList<>();
    List<RoleBinding> roleBindings = new ArrayList<>();
    bindings.forEach((ns, byKey) -> {
      Map<String, List<PolicyRule>> rulesByName = new TreeMap<>();
      Map<String, TreeSet<String>> subjectsByName = new TreeMap<>();
      byKey.forEach((key, subs) -> {
        List<PolicyRule> rules = rules(key);
        String name = "airlock-" + hash(rules);
        rulesByName.put(name, rules);
        subjectsByName.computeIfAbsent(name, x -> new TreeSet<>()).addAll(subs);
      });
      rulesByName.forEach((name, rules) -> {
        roles.add(new io.fabric8.kubernetes.api.model.rbac.RoleBuilder().withMetadata(meta(name, ns, Map.of()))
            .withRules(rules).build());
        roleBindings.add(new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder().withMetadata(meta(name, ns,
            Map.of())).withRoleRef(new RoleRefBuilder().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
            .withName(name).build()).withSubjects(subjectsByName.get(name).stream().map(subjects::get).toList())
            .build());
      });
    });
    Map<String, List<PolicyRule>> clusterRulesByName = new TreeMap<>();
    Map<String, TreeSet<String>> clusterSubjectsByName = new TreeMap<>();
    clusterBindings.forEach((key, subs) -> {
      List<PolicyRule> rules = rules(key);
      String name = "airlock-" + hash(rules);
      clusterRulesByName.put(name, rules);
      clusterSubjectsByName.computeIfAbsent(name, x -> new TreeSet<>()).addAll(subs);
    });
    List<ClusterRole> clusterRoles = new ArrayList<>();
    List<ClusterRoleBinding> crbs = new ArrayList<>();
    clusterRulesByName.forEach((name, rules) -> {
      clusterRoles.add(new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder().withMetadata(meta(name, null,
          Map.of())).withRules(rules).build());
      crbs.add(new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder().withMetadata(meta(name, null,
          Map.of())).withRoleRef(new RoleRefBuilder().withApiGroup("rbac.authorization.k8s.io")
          .withKind("ClusterRole").withName(name).build()).withSubjects(clusterSubjectsByName.get(name).stream()
          .map(subjects::get).toList()).build());
    });
    return new Desired(roles, roleBindings, clusterRoles, crbs, personal, quotas, ranges);
  }

  private static List<BitSet> sameAsPersonal(List<BitSet> where, int personalAt, List<String> extras,
      Map<String, Integer> nsIndex) {
    List<BitSet> out = new ArrayList<>();
    for (BitSet b : where) {
      BitSet copy = (BitSet) b.clone(); // the cached sets are shared between users
      for (String e : extras) {
        copy.set(nsIndex.get(e), b.get(personalAt));
      }
      out.add(copy);
    }
    return out;
  }

  /** The ResourceQuota and LimitRange {@value #PERSONAL} of a user's own namespace, from their roles' limits. */
  private static void limits(Limits l, String ns, List<ResourceQuota> quotas, List<LimitRange> ranges) {
    if (!l.quota().isEmpty()) {
      Map<String, Quantity> hard = new TreeMap<>();
      l.quota().forEach((k, v) -> hard.put(k, new Quantity(v)));
      quotas.add(new ResourceQuotaBuilder().withMetadata(meta(PERSONAL, ns, Map.of())).withNewSpec()
          .withHard(hard).endSpec().build());
    }
    if (!l.limitRange().isEmpty()) {
      LimitRangeItemBuilder item = new LimitRangeItemBuilder().withType("Container");
      l.limitRange().forEach((kind, values) -> {
        Map<String, Quantity> q = new TreeMap<>();
        values.forEach((k, v) -> q.put(k, new Quantity(v)));
        switch (kind) {
          case "default" -> item.withDefault(q);
          case "defaultRequest" -> item.withDefaultRequest(q);
          case "max" -> item.withMax(q);
          default -> item.withMin(q);
        }
      });
      ranges.add(new LimitRangeBuilder().withMetadata(meta(PERSONAL, ns, Map.of())).withNewSpec()
          .withLimits(item.build()).endSpec().build());
    }
  }

  /**
   * The namespaces (indexes into {@code all}) where a namespaced rule applies: computed once for a rule without
   * {@code {{user}}}; for a templated one, by name when its patterns are plain names (a personal namespace).
   */
  private static BitSet where(Policy.Rule r, List<Namespace> all, Map<String, Integer> index,
      Map<KubeRule, BitSet> cache) {
    if (!r.templated) {
      return cache.computeIfAbsent(r.source, x -> scan(r, all));
    }
    if (r.namespaceGlobs.isEmpty() && !r.allNamespaces && r.selector.isEmpty()) {
      BitSet b = new BitSet(all.size());
      for (String literal : r.namespaceLiterals) {
        Integer i = index.get(literal);
        if (i != null) {
          b.set(i);
        }
      }
      return b;
    }
    return scan(r, all);
  }

  private static BitSet scan(Policy.Rule r, List<Namespace> all) {
    BitSet b = new BitSet(all.size());
    for (int j = 0; j < all.size(); j++) {
      if (r.matchesNamespace(all.get(j).name(), all.get(j).labels())) {
        b.set(j);
      }
    }
    return b;
  }

  /** A key for a set of applicable rules (their resources and verbs do not depend on the user). */
  private String key(List<Policy.Rule> allows, List<Policy.Rule> denies, boolean namespaced) {
    StringBuilder sb = new StringBuilder(namespaced ? "ns:" : "cluster:");
    for (Policy.Rule r : allows) {
      sb.append(r.role.name()).append('.').append(r.id).append(',');
    }
    sb.append('|');
    for (Policy.Rule r : denies) {
      sb.append(r.role.name()).append('.').append(r.id).append(',');
    }
    String key = sb.toString();
    if (!rulesByKey.containsKey(key)) {
      rulesByKey.put(key, expand(allows, denies, namespaced));
    }
    return key;
  }

  private List<PolicyRule> rules(String key) {
    return rulesByKey.get(key);
  }

  /** Allowed atoms (group, resource, verb, names) minus denied ones, grouped into RBAC rules. */
  List<PolicyRule> expand(List<Policy.Rule> allows, List<Policy.Rule> denies, boolean namespaced) {
    // group -> resourceNames key -> resource -> verbs
    Map<String, Map<String, Map<String, TreeSet<String>>>> atoms = new TreeMap<>();
    for (Policy.Rule rule : allows) {
      for (Catalog.Resource res : candidates(rule, namespaced)) {
        Catalog.Resource known = catalog.find(res.group(), res.name()).orElse(null);
        List<String> verbs = rule.allVerbs ? (known != null ? known.verbs() : Catalog.STANDARD_VERBS)
            : List.copyOf(new TreeSet<>(rule.verbs));
        for (String verb : verbs) {
          boolean denied = false;
          for (Policy.Rule d : denies) {
            if (d.matchesResource(res.group(), res.name(), known) && d.matchesVerb(verb, known)) {
              denied = true;
              break;
            }
          }
          if (!denied) {
            String names = rule.names == null ? "" : String.join(",", new TreeSet<>(rule.names));
            atoms.computeIfAbsent(res.group(), g -> new TreeMap<>()).computeIfAbsent(names, x -> new TreeMap<>())
                .computeIfAbsent(res.name(), x -> new TreeSet<>()).add(verb);
          }
        }
      }
    }
    List<PolicyRule> out = new ArrayList<>();
    atoms.forEach((group, byNames) -> byNames.forEach((names, byResource) -> {
      Map<String, List<String>> byVerbs = new TreeMap<>();
      byResource.forEach((res, verbs) -> byVerbs.computeIfAbsent(String.join(",", verbs), x -> new ArrayList<>())
          .add(res));
      byVerbs.forEach((verbs, resources) -> {
        PolicyRuleBuilder b = new PolicyRuleBuilder().withApiGroups(group).withResources(resources)
            .withVerbs(List.of(verbs.split(",")));
        if (!names.isEmpty()) {
          b.withResourceNames(List.of(names.split(",")));
        }
        out.add(b.build());
      });
    }));
    return out;
  }

  /** The resources an allow rule reaches in this scope. */
  private List<Catalog.Resource> candidates(Policy.Rule rule, boolean namespaced) {
    List<Catalog.Resource> out = new ArrayList<>();
    if (rule.allResources) {
      catalog.all().stream().filter(r -> r.namespaced() == namespaced && r.wildcardable()).forEach(out::add);
    }
    if (!rule.resourceGroups.isEmpty()) {
      catalog.all().stream().filter(r -> r.namespaced() == namespaced && rule.resourceGroups.contains(r.group()))
          .forEach(out::add);
    }
    for (Catalog.Ref ref : rule.resourceRefs) {
      Catalog.Resource known = catalog.find(ref.group(), ref.name()).orElse(null);
      if (known == null) {
        out.add(new Catalog.Resource(ref.group(), ref.name(), namespaced, Catalog.STANDARD_VERBS));
      } else if (known.namespaced() == namespaced) {
        out.add(known);
      }
    }
    return out;
  }

  static ObjectMeta meta(String name, String namespace, Map<String, String> extraLabels) {
    Map<String, String> labels = new TreeMap<>();
    labels.put(MANAGED_BY, MANAGER);
    labels.put(PART_OF, RBAC);
    labels.putAll(extraLabels);
    return new ObjectMetaBuilder().withName(name).withNamespace(namespace).withLabels(labels)
        .withAnnotations(Map.of(OWNER, "airlock rbac (docs/rbac.md); changes are put back")).build();
  }

  static String hash(List<PolicyRule> rules) {
    StringBuilder sb = new StringBuilder();
    for (PolicyRule r : rules) {
      sb.append(r.getApiGroups()).append(r.getResources()).append(r.getVerbs()).append(r.getResourceNames())
          .append(';');
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(
          StandardCharsets.UTF_8))).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The subject a user's permissions are bound to: their ServiceAccount. */
  public static Subject serviceAccount(String namespace, String userKey) {
    return new SubjectBuilder().withKind("ServiceAccount").withNamespace(namespace).withName("user-" + userKey)
        .build();
  }
}
