package dev.airlock.rbac;

import dev.airlock.text.Glob;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The permissions of one user: their roles (from the mappings), with {@code {{user}}} filled in, compiled for fast
 * decisions. Deny first: a deny rule of any role beats every allow; nothing allowed is denied. Wildcards mean what
 * the {@link Catalog} says, the same for decisions and for the Kubernetes RBAC compiled from them.
 */
public final class Policy {

  private final String username;
  private final String userKey;
  private final List<String> roleNames;
  private final List<Rule> allow = new ArrayList<>();
  private final List<Rule> deny = new ArrayList<>();
  private final List<RegistryMatcher> registryAllow = new ArrayList<>();
  private final List<RegistryMatcher> registryDeny = new ArrayList<>();
  private final Set<String> platform = new HashSet<>();
  private final Limits limits;
  private final Catalog catalog;
  private final String personalNamespace;

  Policy(RoleSet set, Catalog catalog, String username, List<String> roleNames) {
    this.username = username;
    this.userKey = UserName.of(username);
    this.roleNames = List.copyOf(roleNames);
    this.catalog = catalog;
    this.personalNamespace = set.personalNamespace().replace(RoleSet.USER, userKey);
    List<Limits> limits = new ArrayList<>();
    for (String name : roleNames) {
      PlatformRole role = set.role(name);
      if (role == null) {
        continue;
      }
      for (int i = 0; i < role.allow().size(); i++) {
        allow.add(new Rule(role, "allow[" + i + "]", role.allow().get(i), false, userKey, catalog));
      }
      for (int i = 0; i < role.deny().size(); i++) {
        deny.add(new Rule(role, "deny[" + i + "]", role.deny().get(i), true, userKey, catalog));
      }
      role.registryAllow().forEach(r -> registryAllow.add(new RegistryMatcher(role, r, userKey)));
      role.registryDeny().forEach(r -> registryDeny.add(new RegistryMatcher(role, r, userKey)));
      platform.addAll(role.platform());
      limits.add(role.limits());
    }
    this.limits = Limits.merge(limits);
  }

  public String username() {
    return username;
  }

  /** The user's name as it goes into Kubernetes names and templates ({@link UserName}). */
  public String userKey() {
    return userKey;
  }

  public List<String> roles() {
    return roleNames;
  }

  public Set<String> platformPermissions() {
    return Set.copyOf(platform);
  }

  public Limits limits() {
    return limits;
  }

  List<Rule> allowRules() {
    return allow;
  }

  List<Rule> denyRules() {
    return deny;
  }

  /**
   * Decides a Kubernetes request. {@code labels} gives a namespace's labels (for namespace selectors; null when
   * unknown).
   */
  public Decision decide(Request r, Function<String, Map<String, String>> labels) {
    String id = r.group() + "|" + r.resource();
    int slash = r.resource().indexOf('/');
    String baseId = slash > 0 ? r.group() + "|" + r.resource().substring(0, slash) : null;
    Catalog.Resource res = catalog.byId(id);
    boolean namespaced = res != null ? res.namespaced() : r.namespace() != null;
    if (namespaced && r.namespace() == null) {
      return new Decision(false, null, null, null, r.resourceKey() + " is namespaced and the request is across all "
          + "namespaces, which airlock roles never grant (they grant per namespace)", roleNames);
    }
    String ns = namespaced ? r.namespace() : null;
    Map<String, String> nsLabels = ns == null || labels == null ? null : labels.apply(ns);
    if (nsLabels != null && userKey.equals(nsLabels.get(Compiler.EXTRA_OF))) {
      // The user's extra namespace: the rules of their personal namespace apply there.
      ns = personalNamespace;
      nsLabels = labels.apply(ns);
    }
    for (Rule rule : deny) {
      if (rule.matches(r.verb(), r.group(), id, baseId, res, namespaced, ns, nsLabels, r.name())) {
        return new Decision(false, rule.role.name(), rule.id, rule.source.describe(), "denied by role "
            + rule.role.name() + " " + rule.id + " (a deny beats every allow)", roleNames);
      }
    }
    for (Rule rule : allow) {
      if (rule.matches(r.verb(), r.group(), id, baseId, res, namespaced, ns, nsLabels, r.name())) {
        return new Decision(true, rule.role.name(), rule.id, rule.source.describe(), "allowed by role "
            + rule.role.name() + " " + rule.id, roleNames);
      }
    }
    return new Decision(false, null, null, null, roleNames.isEmpty() ? "the user has no roles (no mapping matches "
        + "their groups)" : "no rule of " + String.join(", ", roleNames) + " allows it (default deny)", roleNames);
  }

  /** Decides a registry action ({@code pull}, {@code push}, {@code delete}) on a repository. */
  public Decision decideRegistry(String repository, String action) {
    for (RegistryMatcher m : registryDeny) {
      if (m.matches(repository, action)) {
        return new Decision(false, m.role.name(), "registry.deny", m.rule.describe(), "denied by role "
            + m.role.name() + " registry.deny", roleNames);
      }
    }
    for (RegistryMatcher m : registryAllow) {
      if (m.matches(repository, action)) {
        return new Decision(true, m.role.name(), "registry.allow", m.rule.describe(), "allowed by role "
            + m.role.name() + " registry.allow", roleNames);
      }
    }
    return new Decision(false, null, null, null, "no registry rule allows " + action + " on " + repository,
        roleNames);
  }

  /** One Kubernetes rule, compiled: namespace, resource and verb matchers. */
  static final class Rule {
    final PlatformRole role;
    final String id;
    final KubeRule source;
    final boolean deny;
    final boolean namespaced;
    final boolean allNamespaces;
    final Set<String> namespaceLiterals = new HashSet<>();
    final List<Pattern> namespaceGlobs = new ArrayList<>();
    final Map<String, String> selector;
    final boolean allResources;
    final Set<String> resourceGroups = new HashSet<>();
    /** Named resources as {@code group|name}. */
    final Set<String> resourceIds = new HashSet<>();
    final List<Catalog.Ref> resourceRefs = new ArrayList<>();
    final boolean allVerbs;
    final Set<String> verbs;
    final Set<String> names;
    /** Whether a namespace pattern holds {@code {{user}}} (its matches differ per user). */
    final boolean templated;

    Rule(PlatformRole role, String id, KubeRule source, boolean deny, String userKey, Catalog catalog) {
      this.role = role;
      this.id = id;
      this.source = source;
      this.deny = deny;
      this.namespaced = source.namespaced();
      boolean all = false;
      boolean tpl = false;
      for (String pattern : source.namespaces()) {
        tpl |= pattern.contains(RoleSet.USER);
        String p = pattern.replace(RoleSet.USER, userKey);
        if (p.equals("*")) {
          all = true;
        } else if (Glob.of(p).isLiteral()) {
          namespaceLiterals.add(p);
        } else {
          namespaceGlobs.add(globPattern(p));
        }
      }
      this.templated = tpl;
      this.allNamespaces = all;
      this.selector = source.namespaceSelector();
      boolean allRes = false;
      for (String res : source.resources()) {
        if (res.equals("*")) {
          allRes = true;
        } else if (res.endsWith("/*") && res.indexOf('/') == res.length() - 2) {
          resourceGroups.add(res.substring(0, res.length() - 2));
        } else {
          Catalog.Ref ref = catalog.parse(res);
          resourceRefs.add(ref);
          resourceIds.add(ref.group() + "|" + ref.name());
        }
      }
      this.allResources = allRes;
      this.allVerbs = source.verbs().contains("*");
      this.verbs = Set.copyOf(source.verbs());
      this.names = source.resourceNames().isEmpty() ? null : Set.copyOf(source.resourceNames());
    }

    static Pattern globPattern(String glob) {
      StringBuilder re = new StringBuilder();
      for (char c : glob.toCharArray()) {
        re.append(c == '*' ? "[-a-z0-9]*" : c == '?' ? "[-a-z0-9]" : Pattern.quote(String.valueOf(c)));
      }
      return Pattern.compile(re.toString());
    }

    boolean matchesNamespace(String ns, Map<String, String> labels) {
      if (allNamespaces || namespaceLiterals.contains(ns)) {
        return true;
      }
      for (Pattern p : namespaceGlobs) {
        if (p.matcher(ns).matches()) {
          return true;
        }
      }
      if (!selector.isEmpty() && labels != null) {
        for (Map.Entry<String, String> e : selector.entrySet()) {
          if (!e.getValue().equals(labels.get(e.getKey()))) {
            return false;
          }
        }
        return true;
      }
      return false;
    }

    /** Whether this rule covers the resource (a deny on {@code pods} also covers {@code pods/log}). */
    boolean matchesResource(String group, String name, Catalog.Resource res) {
      int slash = name.indexOf('/');
      return matchesResource(group, group + "|" + name, slash > 0 ? group + "|" + name.substring(0, slash) : null,
          res);
    }

    /** {@code id} is {@code group|name}; {@code baseId} the same for the resource of a subresource, or null. */
    boolean matchesResource(String group, String id, String baseId, Catalog.Resource res) {
      if (allResources && (deny || res != null && res.wildcardable())) {
        return true;
      }
      // An allow's "*" does not reach a resource it cannot expand to (unknown, or not wildcardable), but a resource
      // the same rule names does: the compiled Role lists it by name.
      if (res != null && resourceGroups.contains(group)) {
        return true;
      }
      if (resourceIds.contains(id)) {
        return true;
      }
      return deny && baseId != null && resourceIds.contains(baseId);
    }

    boolean matchesVerb(String verb, Catalog.Resource res) {
      if (allVerbs) {
        return deny || (res != null ? res.verbs().contains(verb) : Catalog.STANDARD_VERBS.contains(verb));
      }
      return verbs.contains(verb);
    }

    boolean matches(String verb, String group, String id, String baseId, Catalog.Resource res,
        boolean reqNamespaced, String ns, Map<String, String> labels, String objectName) {
      if (namespaced != reqNamespaced) {
        return false;
      }
      if (!matchesVerb(verb, res) || !matchesResource(group, id, baseId, res)) {
        return false;
      }
      if (namespaced && !matchesNamespace(ns, labels)) {
        return false;
      }
      return names == null || objectName != null && names.contains(objectName);
    }
  }

  static final class RegistryMatcher {
    final PlatformRole role;
    final RegistryRule rule;
    final List<Glob> repositories;
    final Set<String> actions;

    RegistryMatcher(PlatformRole role, RegistryRule rule, String userKey) {
      this.role = role;
      this.rule = rule;
      this.repositories = rule.repositories().stream().map(r -> Glob.of(r.replace(RoleSet.USER, userKey))).toList();
      this.actions = Set.copyOf(rule.actions());
    }

    boolean matches(String repository, String action) {
      return (actions.contains("*") || actions.contains(action)) && repositories.stream()
          .anyMatch(g -> g.matches(repository));
    }
  }
}
