package dev.airlock.rbac;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.RoleMapping;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What RBAC keeps in the cluster: the roles and mappings as {@code PlatformRole} and {@code RoleMapping} resources
 * (cluster-scoped, {@code airlock.dev/v1alpha1}), the personal-namespace setting in a ConfigMap, and the users as
 * ServiceAccounts in airlock's namespace (the subject their permissions are bound to), annotated with their groups.
 */
public final class RbacStore {

  public static final String GROUP = "airlock.dev";
  public static final String VERSION = "v1alpha1";
  static final ResourceDefinitionContext ROLES = new ResourceDefinitionContext.Builder().withGroup(GROUP)
      .withVersion(VERSION).withKind("PlatformRole").withPlural("platformroles").withNamespaced(false).build();
  static final ResourceDefinitionContext MAPPINGS = new ResourceDefinitionContext.Builder().withGroup(GROUP)
      .withVersion(VERSION).withKind("RoleMapping").withPlural("rolemappings").withNamespaced(false).build();
  public static final String USER_LABEL = "airlock.dev/user";
  public static final String USERNAME = "airlock.dev/username";
  public static final String GROUPS = "airlock.dev/groups";
  public static final String ATTRIBUTES = "airlock.dev/attributes";
  static final String SETTINGS = "airlock-rbac";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final String namespace;

  /** @param namespace airlock's namespace (users' ServiceAccounts and the settings live there) */
  public RbacStore(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  public String namespace() {
    return namespace;
  }

  /** Installs or updates the CRDs and waits until they are served. */
  public void ensureCrds() {
    try (InputStream in = RbacStore.class.getResourceAsStream("crds.yaml")) {
      List<HasMetadata> crds = client.load(in).items();
      for (HasMetadata crd : crds) {
        client.resource(crd).fieldManager(Reconciler.FIELD_MANAGER).forceConflicts().serverSideApply();
      }
      for (HasMetadata crd : crds) {
        client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
            .waitUntilCondition(RbacStore::established, 60, TimeUnit.SECONDS);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (KubernetesClientException e) {
      throw failure("install airlock's RBAC resource definitions (CRDs)", e);
    }
  }

  private static boolean established(CustomResourceDefinition crd) {
    return crd != null && crd.getStatus() != null && crd.getStatus().getConditions() != null && crd.getStatus()
        .getConditions().stream().anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));
  }

  /**
   * The changes that writing {@code set} makes to the stored roles and mappings ({@code apply}: make them).
   *
   * <p>Stored all or nothing: every object is first checked by the API server against the stored resource
   * definitions (a server-side dry run), then written, then read back and compared with what was meant; when any
   * of that fails, what was already written is put back as it was and nothing of {@code set} stays.
   */
  public List<Reconciler.Change> write(RoleSet set, boolean apply) {
    List<Reconciler.Change> changes = new ArrayList<>();
    try {
      if (apply) {
        ensureNamespace();
      }
      Sync roles = sync(ROLES, "PlatformRole", desiredRoles(set), changes);
      Sync mappings = sync(MAPPINGS, "RoleMapping", desiredMappings(set), changes);
      var settings = client.configMaps().inNamespace(namespace).withName(SETTINGS).get();
      String have = settings == null || settings.getData() == null ? null : settings.getData().get(
          "personalNamespace");
      boolean settingsChange = !set.personalNamespace().equals(have);
      if (settingsChange) {
        changes.add(new Reconciler.Change(have == null ? "create" : "update", "ConfigMap", namespace, SETTINGS));
      }
      roles.check(apply);
      mappings.check(apply);
      if (!apply) {
        return changes;
      }
      try {
        roles.write();
        mappings.write();
        roles.verify();
        mappings.verify();
      } catch (KubernetesClientException | AirlockException e) {
        List<String> undoFailures = new ArrayList<>();
        mappings.undo(undoFailures);
        roles.undo(undoFailures);
        String cause = e instanceof KubernetesClientException k ? apiMessage(k) : e.getMessage();
        throw new AirlockException(Kind.REMOTE, "the roles and mappings could not be stored (" + cause + "); "
            + (undoFailures.isEmpty() ? "the stored ones were put back as they were" : "putting back the stored "
            + "ones failed too: " + String.join("; ", undoFailures)), undoFailures.isEmpty() ? "check the cluster "
            + "and run the same command again" : "run the same command again; 'airlock rbac diff' shows what "
            + "differs", e);
      }
      if (settingsChange) {
        client.resource(new ConfigMapBuilder().withMetadata(Compiler.meta(SETTINGS, namespace, Map.of()))
            .withData(Map.of("personalNamespace", set.personalNamespace())).build())
            .fieldManager(Reconciler.FIELD_MANAGER).forceConflicts().serverSideApply();
      }
    } catch (KubernetesClientException e) {
      throw failure("store the roles and mappings", e);
    }
    return changes;
  }

  private static String apiMessage(KubernetesClientException e) {
    return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
        : e.getMessage();
  }

  private Map<String, GenericKubernetesResource> desiredRoles(RoleSet set) {
    Map<String, GenericKubernetesResource> out = new LinkedHashMap<>();
    for (int i = 0; i < set.roles().size(); i++) {
      PlatformRole r = set.roles().get(i);
      Map<String, Object> spec = new LinkedHashMap<>(r.toMap());
      spec.remove("name");
      spec.put("order", i);
      out.put(r.name(), resource("PlatformRole", r.name(), spec));
    }
    return out;
  }

  private Map<String, GenericKubernetesResource> desiredMappings(RoleSet set) {
    Map<String, GenericKubernetesResource> out = new LinkedHashMap<>();
    for (int i = 0; i < set.mappings().size(); i++) {
      RoleMapping m = set.mappings().get(i);
      Map<String, Object> spec = new LinkedHashMap<>(RoleSet.mapping(m));
      spec.put("order", i);
      String name = String.format("%03d-", i) + UserName.of(m.subject().replace(' ', '-').replace('=', '-'));
      out.put(name, resource("RoleMapping", name, spec));
    }
    return out;
  }

  private static GenericKubernetesResource resource(String kind, String name, Map<String, Object> spec) {
    return new GenericKubernetesResourceBuilder().withApiVersion(GROUP + "/" + VERSION).withKind(kind)
        .withMetadata(Compiler.meta(name, null, Map.of())).withAdditionalProperties(Map.of("spec", spec)).build();
  }

  private Sync sync(ResourceDefinitionContext ctx, String kind, Map<String, GenericKubernetesResource> want,
      List<Reconciler.Change> changes) {
    Map<String, GenericKubernetesResource> have = new TreeMap<>();
    for (GenericKubernetesResource r : client.genericKubernetesResources(ctx).list().getItems()) {
      have.put(r.getMetadata().getName(), r);
    }
    Sync sync = new Sync(ctx, kind, have);
    for (var e : want.entrySet()) {
      GenericKubernetesResource h = have.get(e.getKey());
      if (h == null || !sameSpec(e.getValue(), h)) {
        changes.add(new Reconciler.Change(h == null ? "create" : "update", kind, null, e.getKey()));
        sync.put.add(e.getValue());
      }
    }
    for (var e : have.entrySet()) {
      Map<String, String> labels = e.getValue().getMetadata().getLabels();
      if (!want.containsKey(e.getKey()) && labels != null && Compiler.RBAC.equals(labels.get(Compiler.PART_OF))) {
        changes.add(new Reconciler.Change("delete", kind, null, e.getKey()));
        sync.delete.add(e.getKey());
      }
    }
    return sync;
  }

  private static boolean sameSpec(GenericKubernetesResource a, GenericKubernetesResource b) {
    return JSON.valueToTree(a.getAdditionalProperties().get("spec")).equals(JSON.valueToTree(
        b.getAdditionalProperties().get("spec")));
  }

  /** One kind's writes: checked, made, read back, and undone when any of them fails. */
  private final class Sync {
    final ResourceDefinitionContext ctx;
    final String kind;
    final Map<String, GenericKubernetesResource> before;
    final List<GenericKubernetesResource> put = new ArrayList<>();
    final List<String> delete = new ArrayList<>();
    final List<String> touched = new ArrayList<>();

    Sync(ResourceDefinitionContext ctx, String kind, Map<String, GenericKubernetesResource> before) {
      this.ctx = ctx;
      this.kind = kind;
      this.before = before;
    }

    /**
     * The API server's verdict on every object to write, without writing: refusals name each object. A preview
     * ({@code apply} false) by a user who may not write them is not checked.
     */
    void check(boolean apply) {
      List<String> refused = new ArrayList<>();
      for (GenericKubernetesResource r : put) {
        try {
          client.genericKubernetesResources(ctx).resource(r).dryRun().fieldManager(Reconciler.FIELD_MANAGER)
              .forceConflicts().serverSideApply();
        } catch (KubernetesClientException e) {
          if (!apply && (e.getCode() == 403 || e.getCode() == 404)) {
            return;
          }
          // A field the schema lacks comes back as 500 "failed to create typed patch object" from server-side apply.
          boolean schema = e.getCode() == 500 && String.valueOf(apiMessage(e)).contains("typed patch");
          if (!schema && (e.getCode() == 403 || e.getCode() == 404 || e.getCode() >= 500 || e.getCode() == 0)) {
            throw e;
          }
          refused.add(kind + " " + r.getMetadata().getName() + ": " + apiMessage(e));
        }
      }
      if (!refused.isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, "the cluster refuses " + refused.size() + " of the roles and "
            + "mappings (nothing was stored): " + String.join("; ", refused), "the cluster's airlock.dev "
            + "resource definitions may be older than this airlock: run 'airlock rbac apply' from this version "
            + "(it updates them), or fix the role the message names");
      }
    }

    void write() {
      for (GenericKubernetesResource r : put) {
        touched.add(r.getMetadata().getName());
        client.genericKubernetesResources(ctx).resource(r).fieldManager(Reconciler.FIELD_MANAGER).forceConflicts()
            .serverSideApply();
      }
      for (String name : delete) {
        touched.add(name);
        client.genericKubernetesResources(ctx).withName(name).delete();
      }
    }

    /** Reads back what was written: the cluster must hold exactly what was meant (nothing pruned or defaulted). */
    void verify() {
      for (GenericKubernetesResource r : put) {
        GenericKubernetesResource stored = client.genericKubernetesResources(ctx).withName(r.getMetadata()
            .getName()).get();
        if (stored == null || !sameSpec(r, stored)) {
          throw new AirlockException(Kind.REMOTE, kind + " " + r.getMetadata().getName() + " reads back "
              + (stored == null ? "as missing" : "differently from what was written: " + JSON.valueToTree(
              stored.getAdditionalProperties().get("spec")) + " instead of " + JSON.valueToTree(
              r.getAdditionalProperties().get("spec"))), "the cluster's resource definition drops fields: run "
              + "'airlock rbac apply' from this version to update it");
        }
      }
    }

    /** Puts every object this sync touched back as it was before. */
    void undo(List<String> failures) {
      for (String name : touched) {
        try {
          GenericKubernetesResource was = before.get(name);
          if (was == null) {
            client.genericKubernetesResources(ctx).withName(name).delete();
          } else {
            GenericKubernetesResource restore = resource(kind, name, castSpec(was));
            restore.getMetadata().setLabels(was.getMetadata().getLabels());
            client.genericKubernetesResources(ctx).resource(restore).fieldManager(Reconciler.FIELD_MANAGER)
                .forceConflicts().serverSideApply();
          }
        } catch (RuntimeException e) {
          failures.add(kind + " " + name + ": " + e.getMessage());
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castSpec(GenericKubernetesResource r) {
    Object spec = r.getAdditionalProperties().get("spec");
    return spec instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  /** The roles and mappings stored in the cluster (what {@code airlock rbac apply} wrote). */
  public RoleSet read() {
    try {
      List<GenericKubernetesResource> roles = new ArrayList<>(client.genericKubernetesResources(ROLES).list()
          .getItems());
      roles.sort(Comparator.comparingLong(r -> order(r)));
      List<GenericKubernetesResource> mappings = new ArrayList<>(client.genericKubernetesResources(MAPPINGS).list()
          .getItems());
      mappings.sort(Comparator.comparingLong(m -> order(m)));
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("apiVersion", RoleSet.API_VERSION);
      doc.put("kind", RoleSet.KIND);
      var settings = client.configMaps().inNamespace(namespace).withName(SETTINGS).get();
      if (settings != null && settings.getData() != null && settings.getData().get("personalNamespace") != null) {
        doc.put("personalNamespace", settings.getData().get("personalNamespace"));
      }
      List<Object> roleList = new ArrayList<>();
      for (GenericKubernetesResource r : roles) {
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = new LinkedHashMap<>((Map<String, Object>) r.getAdditionalProperties().get("spec"));
        spec.remove("order");
        Map<String, Object> role = new LinkedHashMap<>();
        role.put("name", r.getMetadata().getName());
        role.putAll(spec);
        roleList.add(role);
      }
      doc.put("roles", roleList);
      List<Object> mappingList = new ArrayList<>();
      for (GenericKubernetesResource m : mappings) {
        @SuppressWarnings("unchecked")
        Map<String, Object> spec = new LinkedHashMap<>((Map<String, Object>) m.getAdditionalProperties().get("spec"));
        spec.remove("order");
        mappingList.add(spec);
      }
      doc.put("mappings", mappingList);
      if (roleList.isEmpty()) {
        throw new AirlockException(Kind.BAD_INPUT, "the cluster holds no PlatformRoles",
            "run airlock rbac apply -f roles.yaml first, or pass -f roles.yaml");
      }
      return RoleSet.parse("the cluster's PlatformRoles and RoleMappings", JSON.writeValueAsString(doc));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        throw new AirlockException(Kind.BAD_INPUT, "the cluster has no airlock RBAC resources (PlatformRole CRD)",
            "run airlock rbac apply -f roles.yaml first, or pass -f roles.yaml", e);
      }
      throw failure("read the roles and mappings", e);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long order(GenericKubernetesResource m) {
    Object spec = m.getAdditionalProperties().get("spec");
    Object o = spec instanceof Map<?, ?> s ? s.get("order") : null;
    return o instanceof Number n ? n.longValue() : Long.MAX_VALUE;
  }

  public static final String LAST_LOGIN = "airlock.dev/last-login";

  /** Records a user (their ServiceAccount, annotated with groups), creating airlock's namespace if needed. */
  public ServiceAccount ensureUser(User user) {
    return ensureUser(user, null);
  }

  /**
   * Records a login: the user and the time (seats count users active in the last 30 days). Returns whether their
   * RBAC needs reconciling: a new user, or other groups or attributes than recorded.
   */
  public boolean recordLogin(User user, java.time.Instant at) {
    ServiceAccount before;
    try {
      before = client.serviceAccounts().inNamespace(namespace).withName("user-" + UserName.of(user.username())).get();
    } catch (KubernetesClientException e) {
      throw failure("read user " + user.username(), e);
    }
    ServiceAccount after = ensureUser(user, at);
    Map<String, String> was = before == null || before.getMetadata().getAnnotations() == null ? Map.of()
        : before.getMetadata().getAnnotations();
    Map<String, String> now = after.getMetadata().getAnnotations();
    return before == null || !java.util.Objects.equals(was.get(GROUPS), now.get(GROUPS))
        || !java.util.Objects.equals(was.get(ATTRIBUTES), now.get(ATTRIBUTES));
  }

  /** Records a user and, when given, the time of their login (seats count users active in the last 30 days). */
  public ServiceAccount ensureUser(User user, java.time.Instant lastLogin) {
    try {
      ensureNamespace();
      String key = UserName.of(user.username());
      Map<String, String> annotations = new TreeMap<>();
      annotations.put(Compiler.OWNER, "airlock rbac (docs/rbac.md)");
      annotations.put(USERNAME, user.username());
      annotations.put(GROUPS, JSON.writeValueAsString(user.groups()));
      if (!user.attributes().isEmpty()) {
        annotations.put(ATTRIBUTES, JSON.writeValueAsString(new TreeMap<>(user.attributes())));
      }
      if (lastLogin != null) {
        annotations.put(LAST_LOGIN, lastLogin.toString());
      }
      ServiceAccount sa = new ServiceAccountBuilder().withNewMetadata().withName("user-" + key)
          .withNamespace(namespace).withLabels(Map.of(Compiler.MANAGED_BY, Compiler.MANAGER, Compiler.PART_OF,
              Compiler.RBAC, USER_LABEL, key)).withAnnotations(annotations).endMetadata()
          .withAutomountServiceAccountToken(false).build();
      return client.resource(sa).fieldManager(Reconciler.FIELD_MANAGER).forceConflicts().serverSideApply();
    } catch (KubernetesClientException e) {
      throw failure("record user " + user.username(), e);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The users recorded in the cluster. */
  public List<User> users() {
    List<User> out = new ArrayList<>();
    try {
      for (ServiceAccount sa : client.serviceAccounts().inNamespace(namespace).withLabel(USER_LABEL).list()
          .getItems()) {
        Map<String, String> a = sa.getMetadata().getAnnotations();
        if (a == null || a.get(USERNAME) == null) {
          continue;
        }
        List<String> groups = a.get(GROUPS) == null ? List.of() : JSON.readValue(a.get(GROUPS),
            new TypeReference<List<String>>() {});
        Map<String, List<String>> attrs = a.get(ATTRIBUTES) == null ? Map.of() : JSON.readValue(a.get(ATTRIBUTES),
            new TypeReference<Map<String, List<String>>>() {});
        out.add(new User(a.get(USERNAME), groups, attrs));
      }
    } catch (KubernetesClientException e) {
      throw failure("list the users", e);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "a user's ServiceAccount in " + namespace + " has unreadable "
          + "annotations", "fix or delete it (kubectl -n " + namespace + " get sa -l " + USER_LABEL + ")", e);
    }
    out.sort(Comparator.comparing(User::username));
    return out;
  }

  /** When each recorded user last logged in, by their {@link UserName} (users who never did are left out). */
  public Map<String, java.time.Instant> lastLogins() {
    Map<String, java.time.Instant> out = new TreeMap<>();
    try {
      for (ServiceAccount sa : client.serviceAccounts().inNamespace(namespace).withLabel(USER_LABEL).list()
          .getItems()) {
        Map<String, String> a = sa.getMetadata().getAnnotations();
        if (a != null && a.get(LAST_LOGIN) != null) {
          out.put(sa.getMetadata().getLabels().get(USER_LABEL), java.time.Instant.parse(a.get(LAST_LOGIN)));
        }
      }
    } catch (KubernetesClientException e) {
      throw failure("list the users", e);
    }
    return out;
  }

  /** The cluster's namespaces with their labels (those being deleted left out). */
  public List<Compiler.Namespace> namespaces() {
    try {
      return client.namespaces().list().getItems().stream().filter(n -> n.getStatus() == null
          || !"Terminating".equals(n.getStatus().getPhase())).filter(n -> n.getMetadata().getDeletionTimestamp()
          == null).map(n -> new Compiler.Namespace(n.getMetadata().getName(), n.getMetadata().getLabels() == null
          ? Map.of() : n.getMetadata().getLabels())).toList();
    } catch (KubernetesClientException e) {
      throw failure("list namespaces", e);
    }
  }

  /** The ConfigMap holding the roles file's text as last stored through airlock (the CRs are what counts). */
  public static final String SOURCE_CONFIGMAP = "airlock-roles-source";

  /** Keeps the text of the roles file just stored, for people to read and edit (the console). */
  public void storeSource(String text, String source) {
    try {
      client.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata()
          .withName(SOURCE_CONFIGMAP).withNamespace(namespace).addToAnnotations("airlock.dev/source", source)
          .endMetadata().withData(Map.of("roles.yaml", text)).build()).fieldManager(Reconciler.FIELD_MANAGER)
          .forceConflicts().serverSideApply();
    } catch (KubernetesClientException e) {
      throw failure("store the roles file's text", e);
    }
  }

  /** The roles file's text as last stored through airlock, if any. */
  public java.util.Optional<String> source() {
    try {
      var cm = client.configMaps().inNamespace(namespace).withName(SOURCE_CONFIGMAP).get();
      return cm == null || cm.getData() == null ? java.util.Optional.empty()
          : java.util.Optional.ofNullable(cm.getData().get("roles.yaml"));
    } catch (KubernetesClientException e) {
      throw failure("read the roles file's text", e);
    }
  }

  /** Compiles for every recorded user and reconciles (or only plans, with {@code apply} false). */
  public Reconciler.Result reconcile(Authorizer authorizer, boolean apply) {
    Compiler compiler = new Compiler(authorizer);
    Compiler.Desired d = compiler.compile(users(), namespaces(), u -> Compiler.serviceAccount(namespace,
        UserName.of(u.username())));
    Reconciler r = new Reconciler(client);
    return apply ? r.apply(d) : r.plan(d);
  }

  private void ensureNamespace() {
    if (client.namespaces().withName(namespace).get() == null) {
      client.resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .fieldManager(Reconciler.FIELD_MANAGER).serverSideApply();
    }
  }

  private static AirlockException failure(String doing, KubernetesClientException e) {
    return new AirlockException(Kind.REMOTE, "cannot " + doing + ": " + e.getMessage(), e.getCode() == 403
        ? "the kubeconfig's user lacks the rights; RBAC needs cluster-admin (or airlock's installer role)"
        : "check the cluster", e);
  }

}
