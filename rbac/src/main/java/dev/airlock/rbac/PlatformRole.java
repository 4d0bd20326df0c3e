package dev.airlock.rbac;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A platform role: Kubernetes allow and deny rules (default deny; a deny beats any allow), registry rules, platform
 * permissions (for the console and the server), and limits. {@code allowPermissionChanges} must be set for a role
 * that names RBAC objects, CRDs or the verbs escalate, bind and impersonate.
 */
public record PlatformRole(String name, String description, List<KubeRule> allow, List<KubeRule> deny,
    List<RegistryRule> registryAllow, List<RegistryRule> registryDeny, Set<String> platform, Limits limits,
    boolean allowPermissionChanges) {

  /** The platform permissions there are. */
  public static final List<String> PERMISSIONS = List.of("view", "install", "upgrade", "rollback", "license", "sso",
      "roles", "users", "audit", "support");

  public PlatformRole {
    allow = List.copyOf(allow);
    deny = List.copyOf(deny);
    registryAllow = List.copyOf(registryAllow);
    registryDeny = List.copyOf(registryDeny);
    platform = Set.copyOf(new TreeSet<>(platform));
  }

  /** The file form (what a {@code PlatformRole} resource's spec holds, plus the name). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    if (description != null) {
      m.put("description", description);
    }
    if (!allow.isEmpty()) {
      m.put("allow", allow.stream().map(KubeRule::toMap).toList());
    }
    if (!deny.isEmpty()) {
      m.put("deny", deny.stream().map(KubeRule::toMap).toList());
    }
    if (!registryAllow.isEmpty() || !registryDeny.isEmpty()) {
      Map<String, Object> r = new LinkedHashMap<>();
      if (!registryAllow.isEmpty()) {
        r.put("allow", registryAllow.stream().map(RegistryRule::toMap).toList());
      }
      if (!registryDeny.isEmpty()) {
        r.put("deny", registryDeny.stream().map(RegistryRule::toMap).toList());
      }
      m.put("registry", r);
    }
    if (!platform.isEmpty()) {
      m.put("platform", List.copyOf(new TreeSet<>(platform)));
    }
    if (!limits.isEmpty()) {
      m.put("limits", limits.toMap());
    }
    if (allowPermissionChanges) {
      m.put("allowPermissionChanges", true);
    }
    return m;
  }
}
