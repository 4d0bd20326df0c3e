package dev.airlock.rbac;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import io.fabric8.kubernetes.api.model.APIGroup;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The API resources a cluster serves (its discovery): group, resource (subresources as {@code pods/log}), scope and
 * verbs. It gives wildcards their meaning: {@code *} is every resource listed here (except the permission-changing
 * ones, {@link #PROTECTED_GROUPS}), a {@code *} verb every verb discovery lists for the resource. The same catalog
 * serves decisions and compilation, so both mean the same thing. {@link #builtIn()} is Kubernetes 1.32's, for
 * decisions without a cluster.
 */
public final class Catalog {

  /** Verbs a {@code *} stands for on a resource discovery does not list (a CRD not installed yet). */
  public static final List<String> STANDARD_VERBS = List.of("create", "delete", "deletecollection", "get", "list",
      "patch", "update", "watch");
  /** Resources that change permissions: never reached through {@code *}, only named, with allowPermissionChanges. */
  public static final Set<String> PROTECTED_GROUPS = Set.of("rbac.authorization.k8s.io");
  public static final Set<String> PROTECTED_RESOURCES = Set.of("apiextensions.k8s.io/customresourcedefinitions");
  /** Verbs that change permissions: never reached through {@code *}, only named, with allowPermissionChanges. */
  public static final Set<String> PROTECTED_VERBS = Set.of("escalate", "bind", "impersonate");

  /** One resource or subresource. {@code group} is {@code ""} for the core group. */
  public record Resource(String group, String name, boolean namespaced, List<String> verbs) {
    public Resource {
      verbs = List.copyOf(verbs);
    }

    /** As written in roles: {@code pods}, {@code pods/log}, {@code apps/deployments}. */
    public String key() {
      return Catalog.key(group, name);
    }

    /** Reached by {@code *}: everything but RBAC objects and CRDs. */
    public boolean wildcardable() {
      return !PROTECTED_GROUPS.contains(group) && !PROTECTED_RESOURCES.contains(key());
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static volatile Catalog builtIn;

  /** By group and name ({@code group|name}: unambiguous). */
  private final Map<String, Resource> byId = new LinkedHashMap<>();
  /** By the written form ({@code apps/deployments}, {@code pods/log}). */
  private final Map<String, Resource> byKey = new LinkedHashMap<>();
  private final Set<String> groups = new java.util.HashSet<>();
  private final String source;

  private Catalog(Collection<Resource> resources, String source) {
    resources.stream().sorted(Comparator.comparing(Resource::key)).forEach(r -> {
      byId.putIfAbsent(r.group() + "|" + r.name(), r);
      byKey.putIfAbsent(r.key(), r);
      groups.add(r.group());
    });
    this.source = source;
  }

  public static Catalog of(Collection<Resource> resources, String source) {
    return new Catalog(resources, source);
  }

  static String key(String group, String name) {
    return group.isEmpty() ? name : group + "/" + name;
  }

  /** Where the catalog came from, for messages: a cluster's discovery, or the built-in one. */
  public String source() {
    return source;
  }

  public Collection<Resource> all() {
    return byId.values();
  }

  /** By {@code group|name}, or null. */
  Resource byId(String id) {
    return byId.get(id);
  }

  public Optional<Resource> find(String group, String name) {
    return Optional.ofNullable(byId.get(group + "|" + name));
  }

  /**
   * Reads a resource as roles write it: {@code pods} (core), {@code pods/log} (a core subresource),
   * {@code apps/deployments}, {@code apps/deployments/scale}. {@code a/b} is a core subresource when this catalog
   * has the core resource {@code a/b}, or {@code a} has no dot and is a core resource; otherwise group {@code a}.
   */
  public Ref parse(String text) {
    Resource known = byKey.get(text);
    if (known != null) {
      return new Ref(known.group(), known.name());
    }
    String[] parts = text.split("/", -1);
    if (parts.length == 1) {
      return new Ref("", text);
    }
    if (parts.length == 2) {
      boolean core = !parts[0].contains(".") && byId.containsKey("|" + parts[0]) && !groups.contains(parts[0]);
      return core ? new Ref("", text) : new Ref(parts[0], parts[1]);
    }
    return new Ref(parts[0], parts[1] + "/" + String.join("/", List.of(parts).subList(2, parts.length)));
  }

  /** A resource reference: group and name (subresources as {@code pods/log}). */
  public record Ref(String group, String name) {
    public String key() {
      return Catalog.key(group, name);
    }

    /** The resource a subresource belongs to ({@code pods} for {@code pods/log}). */
    public String base() {
      int slash = name.indexOf('/');
      return slash < 0 ? name : name.substring(0, slash);
    }
  }

  /** The cluster's discovery: every group's preferred version, subresources included. */
  public static Catalog discover(KubernetesClient client) {
    List<Resource> out = new ArrayList<>();
    try {
      add(out, "", client.getApiResources("v1"));
      for (APIGroup g : client.getApiGroups().getGroups()) {
        String gv = g.getPreferredVersion() != null ? g.getPreferredVersion().getGroupVersion()
            : g.getVersions().get(0).getGroupVersion();
        add(out, g.getName(), client.getApiResources(gv));
      }
    } catch (KubernetesClientException e) {
      throw new AirlockException(Kind.REMOTE, "cannot read the cluster's API discovery: " + e.getMessage(),
          "check the kubeconfig and that the API server answers", e);
    }
    return new Catalog(out, "the cluster's discovery");
  }

  private static void add(List<Resource> out, String group, APIResourceList list) {
    if (list == null) {
      return;
    }
    for (APIResource r : list.getResources()) {
      out.add(new Resource(group, r.getName(), Boolean.TRUE.equals(r.getNamespaced()),
          r.getVerbs() == null ? List.of() : r.getVerbs().stream().sorted().toList()));
    }
  }

  /** Kubernetes 1.32's resources (a cluster without CRDs), for decisions made from a file alone. */
  public static Catalog builtIn() {
    Catalog c = builtIn;
    if (c == null) {
      try (InputStream in = Catalog.class.getResourceAsStream("kubernetes-1.32-resources.json")) {
        List<Resource> list = JSON.readValue(in, new TypeReference<List<Resource>>() {});
        c = new Catalog(list, "Kubernetes 1.32's built-in resources");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      builtIn = c;
    }
    return c;
  }

  /** Writes this catalog as the built-in resource file (to refresh it from a newer cluster). */
  public void write(Path file) {
    try {
      JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), List.copyOf(byId.values()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
