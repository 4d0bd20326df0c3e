package dev.airlock.rbac;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One Kubernetes rule of a role: where (namespace names, globs and {@code {{user}}} templates, or a label selector;
 * neither means cluster-scoped resources), what (resources as {@code pods}, {@code pods/log},
 * {@code apps/deployments}, {@code apps/*} or {@code *}; optionally resource names) and which verbs.
 */
public record KubeRule(List<String> namespaces, Map<String, String> namespaceSelector, List<String> resources,
    List<String> resourceNames, List<String> verbs) {

  public KubeRule {
    namespaces = List.copyOf(namespaces);
    namespaceSelector = Map.copyOf(namespaceSelector);
    resources = List.copyOf(resources);
    resourceNames = List.copyOf(resourceNames);
    verbs = List.copyOf(verbs);
  }

  /** Whether the rule is about namespaced resources (it names namespaces or a selector). */
  public boolean namespaced() {
    return !namespaces.isEmpty() || !namespaceSelector.isEmpty();
  }

  /** The rule as the file writes it (flow style), for messages. */
  public String describe() {
    List<String> parts = new ArrayList<>();
    if (!namespaces.isEmpty()) {
      parts.add("namespaces: " + list(namespaces));
    }
    if (!namespaceSelector.isEmpty()) {
      parts.add("namespaceSelector: " + new TreeMap<>(namespaceSelector));
    }
    parts.add("resources: " + list(resources));
    if (!resourceNames.isEmpty()) {
      parts.add("resourceNames: " + list(resourceNames));
    }
    parts.add("verbs: " + list(verbs));
    return "{" + String.join(", ", parts) + "}";
  }

  /** The file form (as {@link RoleSet} parses it), for the custom resources. */
  Map<String, Object> toMap() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    if (!namespaces.isEmpty()) {
      m.put("namespaces", namespaces);
    }
    if (!namespaceSelector.isEmpty()) {
      m.put("namespaceSelector", Map.of("matchLabels", new TreeMap<>(namespaceSelector)));
    }
    m.put("resources", resources);
    if (!resourceNames.isEmpty()) {
      m.put("resourceNames", resourceNames);
    }
    m.put("verbs", verbs);
    return m;
  }

  static String list(List<String> l) {
    return "[" + String.join(", ", l.stream().map(s -> s.equals("*") || s.contains("{") ? "\"" + s + "\"" : s)
        .toList()) + "]";
  }
}
