package dev.airlock.rbac;

/**
 * A Kubernetes request to decide: verb, resource (group and name, subresources as {@code pods/log}), namespace
 * (null for cluster-scoped resources, or a namespaced resource across all namespaces) and object name (or null).
 */
public record Request(String verb, String group, String resource, String namespace, String name) {

  /** Parses the resource as roles write it ({@code pods}, {@code pods/log}, {@code apps/deployments}). */
  public static Request of(Catalog catalog, String verb, String resource, String namespace, String name) {
    Catalog.Ref ref = catalog.parse(resource);
    return new Request(verb, ref.group(), ref.name(), blank(namespace), blank(name));
  }

  private static String blank(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  public String resourceKey() {
    return Catalog.key(group, resource);
  }

  public String describe() {
    return verb + " " + resourceKey() + (name == null ? "" : " " + name) + (namespace == null ? "" : " in namespace "
        + namespace);
  }
}
