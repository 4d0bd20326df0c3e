package dev.airlock.testing.kube;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The API discovery documents a real API server serves ({@code /api}, {@code /apis}, one resource list per group
 * version) for the resource types airlock and its test charts use. Helm's REST mapper needs them; the fabric8 mock
 * server does not serve them.
 */
final class Discovery {

  /** One resource type. */
  record Resource(String group, String version, String plural, String kind, boolean namespaced) {
    String groupVersion() {
      return group.isEmpty() ? version : group + "/" + version;
    }
  }

  static final List<Resource> RESOURCES = List.of(
      new Resource("", "v1", "namespaces", "Namespace", false),
      new Resource("", "v1", "nodes", "Node", false),
      new Resource("", "v1", "persistentvolumes", "PersistentVolume", false),
      new Resource("", "v1", "secrets", "Secret", true),
      new Resource("", "v1", "configmaps", "ConfigMap", true),
      new Resource("", "v1", "services", "Service", true),
      new Resource("", "v1", "serviceaccounts", "ServiceAccount", true),
      new Resource("", "v1", "pods", "Pod", true),
      new Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
      new Resource("", "v1", "events", "Event", true),
      new Resource("apps", "v1", "deployments", "Deployment", true),
      new Resource("apps", "v1", "statefulsets", "StatefulSet", true),
      new Resource("apps", "v1", "daemonsets", "DaemonSet", true),
      new Resource("apps", "v1", "replicasets", "ReplicaSet", true),
      new Resource("batch", "v1", "jobs", "Job", true),
      new Resource("batch", "v1", "cronjobs", "CronJob", true),
      new Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", false),
      new Resource("networking.k8s.io", "v1", "ingresses", "Ingress", true),
      new Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true),
      new Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true),
      new Resource("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
      new Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
      new Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
      new Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
      new Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
      new Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false),
      new Resource("coordination.k8s.io", "v1", "leases", "Lease", true));

  private static final List<String> VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch",
      "update", "watch");

  private final ObjectMapper json;

  Discovery(ObjectMapper json) {
    this.json = json;
  }

  /** The document for a discovery path, if {@code path} (without query) is one. */
  Optional<String> document(String path) {
    if (path.equals("/api")) {
      ObjectNode doc = json.createObjectNode().put("kind", "APIVersions");
      doc.putArray("versions").add("v1");
      doc.putArray("serverAddressByClientCIDRs").addObject().put("clientCIDR", "0.0.0.0/0")
          .put("serverAddress", "127.0.0.1");
      return Optional.of(doc.toString());
    }
    if (path.equals("/apis")) {
      ObjectNode doc = json.createObjectNode().put("kind", "APIGroupList").put("apiVersion", "v1");
      ArrayNode groups = doc.putArray("groups");
      for (Map.Entry<String, String> g : groupVersions().entrySet()) {
        if (g.getKey().isEmpty()) {
          continue;
        }
        ObjectNode group = groups.addObject().put("name", g.getKey());
        ObjectNode gv = json.createObjectNode().put("groupVersion", g.getKey() + "/" + g.getValue())
            .put("version", g.getValue());
        group.putArray("versions").add(gv);
        group.set("preferredVersion", gv.deepCopy());
      }
      return Optional.of(doc.toString());
    }
    String gv = path.equals("/api/v1") ? "v1" : path.startsWith("/apis/") ? path.substring(6) : null;
    if (gv == null || gv.chars().filter(c -> c == '/').count() != (gv.equals("v1") ? 0 : 1)) {
      return Optional.empty();
    }
    List<Resource> resources = RESOURCES.stream().filter(r -> r.groupVersion().equals(gv)).toList();
    if (resources.isEmpty()) {
      return Optional.empty();
    }
    ObjectNode doc = json.createObjectNode().put("kind", "APIResourceList").put("apiVersion", "v1")
        .put("groupVersion", gv);
    ArrayNode list = doc.putArray("resources");
    for (Resource r : resources) {
      ObjectNode node = list.addObject().put("name", r.plural()).put("singularName", "")
          .put("namespaced", r.namespaced()).put("kind", r.kind());
      ArrayNode verbs = node.putArray("verbs");
      (r.plural().equals("selfsubjectaccessreviews") ? List.of("create") : VERBS).forEach(verbs::add);
    }
    return Optional.of(doc.toString());
  }

  /** The resource a request path names, e.g. {@code /apis/apps/v1/namespaces/x/deployments/y}. */
  static Optional<Resource> resourceOf(String path) {
    String[] parts = path.split("/");
    int i;
    String group;
    if (parts.length > 3 && parts[1].equals("api")) {
      group = "";
      i = 3;
    } else if (parts.length > 4 && parts[1].equals("apis")) {
      group = parts[2];
      i = 4;
    } else {
      return Optional.empty();
    }
    String version = parts[i - 1];
    if (parts.length > i + 2 && parts[i].equals("namespaces")) {
      i += 2;
    }
    String plural = parts.length > i ? parts[i] : "namespaces";
    return RESOURCES.stream().filter(r -> r.group().equals(group) && r.version().equals(version)
        && r.plural().equals(plural)).findFirst();
  }

  private static Map<String, String> groupVersions() {
    Map<String, String> out = new LinkedHashMap<>();
    RESOURCES.forEach(r -> out.putIfAbsent(r.group(), r.version()));
    return out;
  }
}
