package dev.airlock.rbac;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.RoleMapping;
import dev.airlock.sso.SsoConfig;
import dev.airlock.yaml.YamlMap;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The roles and mappings file ({@code apiVersion: airlock.dev/v1alpha1}, {@code kind: RoleSet}), also held in the
 * cluster as {@code PlatformRole} and {@code RoleMapping} resources. Every error names the source, line and field.
 *
 * @param personalNamespace the namespace template of each user's own namespace (default {@code dev-{{user}}})
 */
public record RoleSet(List<PlatformRole> roles, List<RoleMapping> mappings, String personalNamespace) {

  public static final String API_VERSION = "airlock.dev/v1alpha1";
  public static final String KIND = "RoleSet";
  public static final String DEFAULT_PERSONAL_NAMESPACE = "dev-{{user}}";
  static final String DOCS = "docs/rbac.md";
  static final String USER = "{{user}}";
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{[^}]*}}");
  private static final Pattern NAMESPACE_PATTERN = Pattern.compile("[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?");

  public RoleSet {
    roles = List.copyOf(roles);
    mappings = List.copyOf(mappings);
  }

  public PlatformRole role(String name) {
    return roles.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
  }

  public static RoleSet read(Path file) {
    return parse(YamlMap.read(file, DOCS));
  }

  public static RoleSet parse(String source, String text) {
    return parse(YamlMap.parse(source, text, DOCS));
  }

  static RoleSet parse(YamlMap top) {
    top.allow("apiVersion", "kind", "roles", "mappings", "personalNamespace");
    if (!API_VERSION.equals(top.requiredString("apiVersion"))) {
      throw top.error("apiVersion", "is '" + top.requiredString("apiVersion") + "'; this airlock reads "
          + API_VERSION);
    }
    if (!KIND.equals(top.requiredString("kind"))) {
      throw top.error("kind", "is '" + top.requiredString("kind") + "', expected " + KIND);
    }
    List<PlatformRole> roles = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (YamlMap r : top.maps("roles")) {
      PlatformRole role = role(r);
      if (!names.add(role.name())) {
        throw r.error("name", "'" + role.name() + "' names two roles");
      }
      roles.add(role);
    }
    List<RoleMapping> mappings = SsoConfig.mappings(top, "mappings");
    List<YamlMap> mappingNodes = top.maps("mappings");
    for (int i = 0; i < mappings.size(); i++) {
      for (String role : mappings.get(i).roles()) {
        if (!names.contains(role)) {
          throw mappingNodes.get(i).error("roles", "names role '" + role + "', which the file does not define");
        }
      }
    }
    String personal = top.string("personalNamespace").orElse(DEFAULT_PERSONAL_NAMESPACE);
    if (!personal.contains(USER) || personal.contains("*") || personal.contains("?")) {
      throw top.error("personalNamespace", "must be a name with {{user}} and no wildcards, e.g. dev-{{user}}");
    }
    namespacePattern(top, "personalNamespace", personal);
    return new RoleSet(roles, mappings, personal);
  }

  private static PlatformRole role(YamlMap r) {
    r.allow("name", "description", "allow", "deny", "registry", "platform", "limits", "allowPermissionChanges");
    String name = r.requiredString("name");
    if (!NAME.matcher(name).matches()) {
      throw r.error("name", "'" + name + "' must be a DNS label (lower-case letters, digits, '-')");
    }
    boolean permissionChanges = r.bool("allowPermissionChanges").orElse(false);
    List<KubeRule> allow = new ArrayList<>();
    for (YamlMap m : r.maps("allow")) {
      allow.add(rule(m, false, permissionChanges));
    }
    List<KubeRule> deny = new ArrayList<>();
    for (YamlMap m : r.maps("deny")) {
      deny.add(rule(m, true, permissionChanges));
    }
    List<RegistryRule> regAllow = new ArrayList<>();
    List<RegistryRule> regDeny = new ArrayList<>();
    if (r.has("registry")) {
      YamlMap reg = r.map("registry");
      reg.allow("allow", "deny");
      for (YamlMap m : reg.maps("allow")) {
        regAllow.add(registryRule(m));
      }
      for (YamlMap m : reg.maps("deny")) {
        regDeny.add(registryRule(m));
      }
    }
    List<String> platform = r.strings("platform");
    for (String p : platform) {
      if (!PlatformRole.PERMISSIONS.contains(p)) {
        throw r.error("platform", "names '" + p + "'; the platform permissions are "
            + String.join(", ", PlatformRole.PERMISSIONS));
      }
    }
    Limits limits = r.has("limits") ? limits(r.map("limits")) : Limits.NONE;
    return new PlatformRole(name, r.string("description").orElse(null), allow, deny, regAllow, regDeny,
        Set.copyOf(platform), limits, permissionChanges);
  }

  private static KubeRule rule(YamlMap m, boolean deny, boolean permissionChanges) {
    m.allow("namespaces", "namespaceSelector", "resources", "resourceNames", "verbs");
    List<String> namespaces = m.strings("namespaces");
    for (String ns : namespaces) {
      namespacePattern(m, "namespaces", ns);
    }
    Map<String, String> selector = new TreeMap<>();
    if (m.has("namespaceSelector")) {
      YamlMap sel = m.map("namespaceSelector");
      sel.allow("matchLabels");
      YamlMap labels = sel.map("matchLabels");
      for (String k : labels.keys()) {
        selector.put(k, labels.requiredString(k));
      }
      if (selector.isEmpty()) {
        throw m.error("namespaceSelector", "must name at least one label (an empty selector would match every "
            + "namespace: write namespaces: [\"*\"] for that)");
      }
    }
    List<String> resources = m.strings("resources");
    if (resources.isEmpty()) {
      throw m.error("resources", "must name at least one resource, or \"*\"");
    }
    for (String res : resources) {
      if (res.isBlank() || res.contains("{{") || res.startsWith("/") || res.endsWith("/") || res.contains("//")) {
        throw m.error("resources", "has '" + res + "'; write pods, pods/log, apps/deployments, apps/* or *");
      }
    }
    List<String> verbs = m.strings("verbs");
    if (verbs.isEmpty()) {
      throw m.error("verbs", "must name at least one verb, or \"*\"");
    }
    List<String> names = m.strings("resourceNames");
    if (deny && !names.isEmpty()) {
      throw m.error("resourceNames", "cannot be used in a deny rule: Kubernetes RBAC cannot grant \"all but these "
          + "names\"; deny the resource, and allow the names you mean");
    }
    if (!deny && !permissionChanges) {
      for (String res : resources) {
        String group = res.contains("/") ? res.substring(0, res.indexOf('/')) : "";
        if (Catalog.PROTECTED_GROUPS.contains(group) || Catalog.PROTECTED_RESOURCES.contains(res)) {
          throw m.error("resources", "names " + res + ", which changes permissions; set allowPermissionChanges: "
              + "true on the role if that is meant (docs/rbac.md, escalation)");
        }
      }
      for (String v : verbs) {
        if (Catalog.PROTECTED_VERBS.contains(v)) {
          throw m.error("verbs", "names " + v + ", which changes permissions; set allowPermissionChanges: true on "
              + "the role if that is meant (docs/rbac.md, escalation)");
        }
      }
    }
    return new KubeRule(namespaces, selector, resources, names, verbs);
  }

  private static RegistryRule registryRule(YamlMap m) {
    m.allow("repositories", "actions");
    List<String> repos = m.strings("repositories");
    if (repos.isEmpty()) {
      throw m.error("repositories", "must name at least one repository glob");
    }
    for (String repo : repos) {
      checkPlaceholders(m, "repositories", repo);
    }
    List<String> actions = m.strings("actions");
    if (actions.isEmpty()) {
      throw m.error("actions", "must name at least one of pull, push, delete");
    }
    for (String a : actions) {
      if (!a.equals("*") && !RegistryRule.ACTIONS.contains(a)) {
        throw m.error("actions", "names '" + a + "'; the registry actions are pull, push, delete");
      }
    }
    return new RegistryRule(repos, actions);
  }

  private static Limits limits(YamlMap m) {
    m.allow("maxCredentialLifetime", "quota", "limitRange", "extraNamespaces");
    long extra = m.number("extraNamespaces").orElse(0L);
    if (extra < 0 || extra > 100) {
      throw m.error("extraNamespaces", "is " + extra + "; write a count from 0 to 100");
    }
    Duration life = m.string("maxCredentialLifetime").map(v -> duration(m, v)).orElse(null);
    Map<String, String> quota = new TreeMap<>();
    if (m.has("quota")) {
      YamlMap q = m.map("quota");
      for (String k : q.keys()) {
        quota.put(k, quantity(q, k));
      }
    }
    Map<String, Map<String, String>> range = new TreeMap<>();
    if (m.has("limitRange")) {
      YamlMap lr = m.map("limitRange");
      lr.allow(Limits.LIMIT_KINDS.toArray(String[]::new));
      for (String kind : lr.keys()) {
        YamlMap values = lr.map(kind);
        Map<String, String> v = new TreeMap<>();
        for (String k : values.keys()) {
          v.put(k, quantity(values, k));
        }
        range.put(kind, v);
      }
    }
    return new Limits(life, quota, range, (int) extra);
  }

  private static String quantity(YamlMap m, String key) {
    String v = m.requiredString(key);
    try {
      io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(new io.fabric8.kubernetes.api.model.Quantity(v));
      return v;
    } catch (RuntimeException e) {
      throw m.error(key, "is '" + v + "', not a Kubernetes quantity (e.g. 500m, 2, 4Gi)");
    }
  }

  static Duration duration(YamlMap m, String v) {
    Duration out = dev.airlock.text.Durations.parse(v).orElseThrow(() -> m.error("maxCredentialLifetime", "is '" + v
        + "'; write a number and s, m, h or d, e.g. 8h"));
    if (out.isZero()) {
      throw m.error("maxCredentialLifetime", "must be longer than zero");
    }
    return out;
  }

  private static void checkPlaceholders(YamlMap m, String key, String value) {
    Matcher p = PLACEHOLDER.matcher(value);
    while (p.find()) {
      if (!p.group().equals(USER)) {
        throw m.error(key, "has " + p.group() + "; the only template is {{user}}");
      }
    }
  }

  /** A namespace name, glob or template: the longest user name must still give a valid namespace name. */
  private static void namespacePattern(YamlMap m, String key, String ns) {
    checkPlaceholders(m, key, ns);
    String longest = ns.replace(USER, "u".repeat(UserName.MAX));
    if (!NAMESPACE_PATTERN.matcher(longest).matches() || longest.length() > 63 && !longest.contains("*")) {
      throw m.error(key, "has '" + ns + "', which is not a namespace name, glob or template (lower-case letters, "
          + "digits, '-', '*', '?', {{user}}; at most 63 characters with a " + UserName.MAX + "-character user)");
    }
  }

  /**
   * Checks the roles against the resources a cluster (or Kubernetes 1.32) serves: a namespaced rule must not name
   * cluster-scoped resources, nor a cluster rule namespaced ones. Returns warnings (resources the catalog does not
   * know, which may be CRDs installed later).
   */
  public List<String> check(Catalog catalog) {
    List<String> warnings = new ArrayList<>();
    for (PlatformRole role : roles) {
      List<KubeRule> all = new ArrayList<>(role.allow());
      all.addAll(role.deny());
      for (KubeRule rule : all) {
        for (String res : rule.resources()) {
          if (res.equals("*") || res.endsWith("/*")) {
            continue;
          }
          Catalog.Ref ref = catalog.parse(res);
          var known = catalog.find(ref.group(), ref.name());
          if (known.isEmpty()) {
            warnings.add("role " + role.name() + ": " + res + " is not among " + catalog.source()
                + " (a CRD not installed yet? a typo?)");
          } else if (known.get().namespaced() != rule.namespaced()) {
            throw new AirlockException(Kind.BAD_INPUT, "role " + role.name() + ", rule " + rule.describe() + ": "
                + res + " is " + (known.get().namespaced() ? "namespaced: name namespaces in the rule"
                : "cluster-scoped: put it in a rule without namespaces"), "see " + DOCS);
          }
        }
      }
    }
    return warnings;
  }

  /** The file form: what {@link #parse} reads back. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("apiVersion", API_VERSION);
    m.put("kind", KIND);
    if (!personalNamespace.equals(DEFAULT_PERSONAL_NAMESPACE)) {
      m.put("personalNamespace", personalNamespace);
    }
    m.put("roles", roles.stream().map(PlatformRole::toMap).toList());
    m.put("mappings", mappings.stream().map(RoleSet::mapping).toList());
    return m;
  }

  static Map<String, Object> mapping(RoleMapping r) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (r.group() != null) {
      m.put("group", r.group());
    }
    if (r.user() != null) {
      m.put("user", r.user());
    }
    if (r.claim() != null) {
      m.put("claim", r.claim());
      m.put("value", r.value());
    }
    m.put("roles", r.roles());
    return m;
  }
}
