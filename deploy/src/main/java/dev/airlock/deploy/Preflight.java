package dev.airlock.deploy;

import dev.airlock.kube.KubeTarget;
import dev.airlock.airgap.push.ImagePusher;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.version.SemVer;
import dev.airlock.version.VersionRange;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.VersionInfo;
import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The checks run before an install or upgrade changes anything. Each has an id, a status, a message and a fix; a
 * failing check stops the operation. Read-only against the cluster; against the registry it writes one tiny blob
 * to prove that pushing is allowed.
 */
public final class Preflight {

  public static final String KUBERNETES = "kubernetes-version";
  public static final String PERMISSIONS = "permissions";
  public static final String STORAGE = "default-storage-class";
  public static final String RESOURCES = "node-resources";
  public static final String REGISTRY = "registry";
  public static final String NAMESPACE = "namespace-owner";
  public static final String DELTA = "delta-base";
  public static final List<String> IDS = List.of(KUBERNETES, PERMISSIONS, STORAGE, RESOURCES, REGISTRY, NAMESPACE,
      DELTA);

  /** The repository the registry check pushes its test blob to, below the prefix. */
  public static final String PROBE_REPOSITORY = "airlock-preflight";
  static final byte[] PROBE = "airlock preflight: push allowed\n".getBytes(StandardCharsets.UTF_8);

  private final KubeTarget kube;
  private final BundleFile bundle;
  private final BundleManifest manifest;
  private final RegistryTarget registry;
  private final RegistryOptions registryOptions;
  private final String namespace;
  private final Set<String> skip;

  /** The installation's namespace and those of its components. */
  private final Set<String> namespaces = new LinkedHashSet<>();

  /** The server's version, once the version check has asked; null if it could not. */
  private String kubeVersion;

  public Preflight(KubeTarget kube, BundleFile bundle, RegistryTarget registry, RegistryOptions registryOptions,
      String namespace, Set<String> skip) {
    for (String id : skip) {
      if (!IDS.contains(id)) {
        throw new AirlockException(Kind.BAD_INPUT, "--skip-check " + id + ": no such check",
            "the checks are: " + String.join(", ", IDS));
      }
    }
    this.kube = kube;
    this.bundle = bundle;
    this.manifest = bundle.readHead().manifest();
    this.registry = registry;
    this.registryOptions = registryOptions;
    this.namespace = namespace;
    this.skip = Set.copyOf(skip);
  }

  /**
   * Runs every check not skipped.
   *
   * @param rendered the components as they will be installed: their objects (for the permission check), releases
   *     (ownership), namespaces and storage claims
   * @param product the installation's product, for the ownership check
   */
  public List<Check> run(List<ChartRenderer.Rendered> rendered, String product) {
    List<ChartRenderer.ObjectRef> objects = new ArrayList<>();
    Set<String> releases = new LinkedHashSet<>();
    List<String> claims = new ArrayList<>();
    namespaces.add(namespace);
    for (ChartRenderer.Rendered r : rendered) {
      objects.addAll(r.objects());
      releases.add(r.namespace() + "/" + r.release());
      namespaces.add(r.namespace());
      claims.addAll(r.defaultStorageClaims());
    }
    List<Check> out = new ArrayList<>();
    Check api = run(KUBERNETES, this::kubernetes);
    out.add(api);
    boolean reachable = api.status() != Check.Status.FAIL || kubeVersion != null || skip.contains(KUBERNETES);
    if (reachable) {
      out.add(run(PERMISSIONS, () -> permissions(objects)));
      out.add(run(STORAGE, () -> storage(claims)));
      out.add(run(RESOURCES, this::resources));
      out.add(run(NAMESPACE, () -> ownership(releases, product)));
    }
    Check reg = run(REGISTRY, this::registry);
    out.add(reg);
    if (reg.status() != Check.Status.FAIL) {
      out.add(run(DELTA, this::delta));
    }
    return out;
  }

  private Check run(String id, java.util.function.Supplier<Check> check) {
    if (skip.contains(id)) {
      return new Check(id, Check.Status.SKIPPED, "skipped (--skip-check " + id + ")", null);
    }
    try {
      return check.get();
    } catch (KubernetesClientException e) {
      AirlockException a = kube.failure("running check " + id, e);
      return Check.fail(id, a.getMessage(), a.fix().orElse(null));
    } catch (AirlockException e) {
      return Check.fail(id, e.getMessage(), e.fix().orElse(null));
    }
  }

  private Check kubernetes() {
    VersionInfo v;
    try {
      v = kube.client().getKubernetesVersion();
    } catch (KubernetesClientException e) {
      AirlockException a = kube.failure("asking for the server version", e);
      return Check.fail(KUBERNETES, a.getMessage(), a.fix().orElse(null));
    }
    kubeVersion = v.getGitVersion();
    SemVer version;
    try {
      version = SemVer.parseLenient(v.getGitVersion().replaceFirst("^v", "").replaceAll("[+].*$", ""));
    } catch (RuntimeException e) {
      return Check.warn(KUBERNETES, "cannot read the server version '" + v.getGitVersion() + "'",
          "check that this is a Kubernetes API server");
    }
    if (manifest.kubernetes() == null) {
      return Check.pass(KUBERNETES, "API reachable at " + kube.server() + ", Kubernetes " + v.getGitVersion());
    }
    SemVer plain = new SemVer(version.major(), version.minor(), version.patch(), null, null);
    if (!VersionRange.parse(manifest.kubernetes()).contains(plain)) {
      return Check.fail(KUBERNETES, "Kubernetes " + v.getGitVersion() + " is outside the range this bundle supports ("
          + manifest.kubernetes() + ")", "upgrade the cluster into " + manifest.kubernetes()
          + ", or ask the vendor for a bundle that supports " + v.getGitVersion());
    }
    return Check.pass(KUBERNETES, "API reachable at " + kube.server() + ", Kubernetes " + v.getGitVersion()
        + " (bundle supports " + manifest.kubernetes() + ")");
  }

  /** One permission the operation needs. */
  record Need(String verb, String group, String resource, String namespace) {
    @Override
    public String toString() {
      return verb + " " + (group.isEmpty() ? "" : group + "/") + resource + (namespace == null ? ""
          : " in " + namespace);
    }
  }

  private Check permissions(List<ChartRenderer.ObjectRef> objects) {
    Set<Need> needs = new LinkedHashSet<>();
    for (String verb : List.of("get", "create", "patch")) {
      needs.add(new Need(verb, "", "namespaces", null));
    }
    for (String ns : namespaces) {
      for (String verb : List.of("get", "list", "create", "update", "patch", "delete")) {
        needs.add(new Need(verb, "", "secrets", ns));
      }
    }
    for (String verb : List.of("get", "create", "update")) {
      needs.add(new Need(verb, "", "configmaps", namespace));
    }
    for (String verb : List.of("get", "create", "update", "patch", "delete")) {
      needs.add(new Need(verb, "coordination.k8s.io", "leases", namespace));
    }
    List<String> unknown = new ArrayList<>();
    Map<String, Optional<APIResourceList>> discovery = new LinkedHashMap<>();
    for (ChartRenderer.ObjectRef o : objects) {
      String apiVersion = o.apiVersion();
      Optional<APIResourceList> list = discovery.computeIfAbsent(apiVersion, gv -> {
        try {
          return Optional.ofNullable(kube.client().getApiResources(gv));
        } catch (KubernetesClientException e) {
          if (e.getCode() == 404) {
            return Optional.empty();
          }
          throw e;
        }
      });
      Optional<APIResource> resource = list.flatMap(l -> l.getResources().stream()
          .filter(r -> r.getKind().equals(o.kind()) && !r.getName().contains("/")).findFirst());
      if (resource.isEmpty()) {
        unknown.add(apiVersion + " " + o.kind());
        continue;
      }
      String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
      String ns = Boolean.TRUE.equals(resource.get().getNamespaced()) ? o.namespace() : null;
      for (String verb : List.of("get", "create", "patch", "delete")) {
        needs.add(new Need(verb, group, resource.get().getName(), ns));
      }
    }
    List<String> denied = new ArrayList<>();
    for (Need n : needs) {
      SelfSubjectAccessReview review = kube.client().authorization().v1().selfSubjectAccessReview()
          .create(new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
              .withVerb(n.verb()).withGroup(n.group()).withResource(n.resource()).withNamespace(n.namespace())
              .endResourceAttributes().endSpec().build());
      if (review.getStatus() == null || !Boolean.TRUE.equals(review.getStatus().getAllowed())) {
        denied.add(n.toString());
      }
    }
    if (!denied.isEmpty()) {
      return Check.fail(PERMISSIONS, "the kubeconfig user '" + kube.credentials() + "' may not: " + String.join("; ", denied),
          "grant these with a Role/ClusterRole bound to that user, or use a kubeconfig with more rights");
    }
    if (!unknown.isEmpty()) {
      return Check.warn(PERMISSIONS, needs.size() + " permissions granted; these kinds are not served by the cluster "
          + "yet: " + String.join(", ", new LinkedHashSet<>(unknown)), "if no chart of the bundle installs their "
          + "CRDs, install the operator that provides them first");
    }
    return Check.pass(PERMISSIONS, needs.size() + " permissions granted to '" + kube.credentials() + "'");
  }

  /** A claim Pending for longer than this is taken as a sign that the class's provisioner does not answer. */
  static java.time.Duration stuckClaim = java.time.Duration.ofMinutes(5);

  /**
   * Whether the default class's provisioner can serve the charts' claims: a class without one
   * ({@code kubernetes.io/no-provisioner}) binds only volumes made by hand, and claims of the class that have been
   * Pending for minutes say its provisioner does not answer. Both warn: the claims would stay Pending and the
   * install would wait for readiness until --timeout.
   */
  private Check provisioner(StorageClass c, List<String> claims) {
    String name = c.getMetadata().getName();
    String uses = "; these claim storage from it: " + String.join(", ", claims);
    if ("kubernetes.io/no-provisioner".equals(c.getProvisioner())) {
      return Check.warn(STORAGE, "the default StorageClass '" + name + "' has no provisioner (kubernetes.io/"
          + "no-provisioner): its claims bind only to PersistentVolumes made by hand" + uses, "make a "
          + "PersistentVolume for each claim, or make a class with a provisioner the default");
    }
    try {
      java.time.Instant now = java.time.Instant.now();
      for (var pvc : kube.client().persistentVolumeClaims().inAnyNamespace().list().getItems()) {
        String cls = pvc.getSpec().getStorageClassName();
        boolean ofClass = name.equals(cls);
        java.time.Instant created = java.time.Instant.parse(pvc.getMetadata().getCreationTimestamp());
        if (ofClass && pvc.getStatus() != null && "Pending".equals(pvc.getStatus().getPhase())
            && java.time.Duration.between(created, now).compareTo(stuckClaim) >= 0
            && !"WaitForFirstConsumer".equals(c.getVolumeBindingMode())) {
          return Check.warn(STORAGE, "the default StorageClass '" + name + "' (" + c.getProvisioner() + ") has "
              + "not provisioned claim " + pvc.getMetadata().getNamespace() + "/" + pvc.getMetadata().getName()
              + ", Pending for " + java.time.Duration.between(created, now).toMinutes() + " min: its provisioner "
              + "may not be running" + uses, "check the provisioner's pods ('kubectl get events -n " + pvc
              .getMetadata().getNamespace() + "' shows what it says), or make another class the default");
        }
      }
    } catch (KubernetesClientException e) {
      // Listing every claim needs cluster-wide read; without it the class is taken at its word.
    }
    return Check.pass(STORAGE, "default StorageClass '" + name + "' (" + c.getProvisioner() + ")");
  }

  /**
   * Passes when a default StorageClass exists; fails only when the charts claim storage without naming a class
   * (the claims would stay Pending); otherwise passes with a note.
   */
  private Check storage(List<String> claims) {
    List<StorageClass> classes = kube.client().storage().v1().storageClasses().list().getItems();
    for (StorageClass c : classes) {
      Map<String, String> a = c.getMetadata().getAnnotations();
      if (a != null && ("true".equals(a.get("storageclass.kubernetes.io/is-default-class"))
          || "true".equals(a.get("storageclass.beta.kubernetes.io/is-default-class")))) {
        return claims.isEmpty() ? Check.pass(STORAGE, "default StorageClass '" + c.getMetadata().getName() + "' ("
            + c.getProvisioner() + ")") : provisioner(c, claims);
      }
    }
    String none = classes.isEmpty() ? "the cluster has no StorageClass"
        : "none of the " + classes.size() + " StorageClasses is the default";
    if (claims.isEmpty()) {
      return Check.pass(STORAGE, none + "; no chart claims storage without naming a class, so none is needed");
    }
    return Check.fail(STORAGE, none + ", but these claim storage from the default: " + String.join(", ", claims)
        + " (they would stay Pending)", "mark one as default: kubectl patch storageclass NAME -p "
        + "'{\"metadata\":{\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}'");
  }

  private Check resources() {
    BundleManifest.Requirements req = manifest.requirements();
    if (req == null || (req.cpu() == null && req.memory() == null)) {
      return Check.pass(RESOURCES, "the bundle states no resource requirements");
    }
    List<Node> nodes;
    try {
      nodes = kube.client().nodes().list().getItems();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 403) {
        return Check.warn(RESOURCES, "cannot list nodes to check allocatable CPU and memory",
            "grant 'list nodes', or check by hand that the nodes have " + req.cpu() + " CPU and " + req.memory());
      }
      throw e;
    }
    BigDecimal cpu = BigDecimal.ZERO;
    BigDecimal memory = BigDecimal.ZERO;
    int ready = 0;
    for (Node n : nodes) {
      boolean isReady = n.getStatus() != null && n.getStatus().getConditions() != null && n.getStatus()
          .getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
      if (!isReady || n.getStatus().getAllocatable() == null) {
        continue;
      }
      ready++;
      Quantity c = n.getStatus().getAllocatable().get("cpu");
      Quantity m = n.getStatus().getAllocatable().get("memory");
      cpu = c == null ? cpu : cpu.add(c.getNumericalAmount());
      memory = m == null ? memory : memory.add(m.getNumericalAmount());
    }
    String have = ready + " Ready nodes with " + cpu.stripTrailingZeros().toPlainString() + " CPU and "
        + gib(memory) + " allocatable";
    List<String> short_ = new ArrayList<>();
    if (req.cpu() != null && cpu.compareTo(new Quantity(req.cpu()).getNumericalAmount()) < 0) {
      short_.add(req.cpu() + " CPU");
    }
    if (req.memory() != null && memory.compareTo(new Quantity(req.memory()).getNumericalAmount()) < 0) {
      short_.add(req.memory() + " memory");
    }
    if (!short_.isEmpty()) {
      return Check.fail(RESOURCES, have + "; the bundle needs " + String.join(" and ", short_),
          "add nodes or capacity, or free allocatable resources");
    }
    return Check.pass(RESOURCES, have + " (needs " + (req.cpu() == null ? "" : req.cpu() + " CPU ")
        + (req.memory() == null ? "" : req.memory()) + ")");
  }

  private static String gib(BigDecimal bytes) {
    return bytes.divide(BigDecimal.valueOf(1L << 30), 1, java.math.RoundingMode.DOWN).toPlainString() + " GiB";
  }

  private Check ownership(Set<String> releases, String product) {
    List<String> problems = new ArrayList<>();
    for (String ns : namespaces) {
      Namespace n = kube.client().namespaces().withName(ns).get();
      String owner = n == null || n.getMetadata().getLabels() == null ? null
          : n.getMetadata().getLabels().get(StateStore.LABEL_INSTALLATION);
      if (owner != null && !owner.equals(product)) {
        problems.add("namespace " + ns + " belongs to installation '" + owner + "'");
      }
    }
    State state = new StateStore(kube, namespace).load().orElse(null);
    Set<String> ours = new LinkedHashSet<>();
    if (state != null && state.installation() != null) {
      if (!state.installation().product().equals(product)) {
        problems.add("namespace " + namespace + " holds an installation of '" + state.installation().product() + "'");
      }
      state.installation().components().forEach(c -> ours.add(c.namespace() + "/" + c.release()));
    }
    if (state != null && state.operation() != null) {
      ours.addAll(releases);
    }
    Releases helm = new Releases(kube);
    for (String r : releases) {
      if (ours.contains(r)) {
        continue;
      }
      String[] nsName = r.split("/", 2);
      if (!helm.history(nsName[1], nsName[0]).isEmpty()) {
        problems.add("Helm release " + r + " exists and was not installed by airlock");
      }
    }
    if (!problems.isEmpty()) {
      return Check.fail(NAMESPACE, String.join("; ", problems), "install into another namespace with --namespace, "
          + "or remove the other installation first");
    }
    return Check.pass(NAMESPACE, state == null ? "namespaces " + String.join(", ", namespaces) + " are free"
        : "namespace " + namespace + " holds this installation");
  }

  private Check registry() {
    RegistryClient client = new RegistryClient(registryOptions);
    String repo = registry.prefix().isEmpty() ? PROBE_REPOSITORY : registry.prefix() + "/" + PROBE_REPOSITORY;
    try {
      client.ping(registry.registry(), repo, true);
      client.uploadBlob(registry.registry(), repo, Digest.of(PROBE), PROBE.length,
          (from, length) -> new ByteArrayInputStream(PROBE, (int) from, (int) length), 0);
    } catch (AirlockException e) {
      return Check.fail(REGISTRY, "registry " + registry + ": " + e.getMessage(), registryFix(e));
    }
    return Check.pass(REGISTRY, "registry " + registry + " reachable, credentials accepted, push allowed"
        + (registryOptions.caFiles().isEmpty() ? "" : ", CA trusted"));
  }

  private String registryFix(AirlockException e) {
    return switch (e.get(AirlockException.PROBLEM).orElse("")) {
      case AirlockException.TLS -> "trust the registry's CA with --registry-ca ca.pem (or --insecure-registry "
          + registry.registry() + " for a plain-HTTP registry)";
      case AirlockException.PLAINTEXT -> "the registry speaks plain HTTP: pass --insecure-registry "
          + registry.registry();
      case AirlockException.CREDENTIALS_NEEDED, AirlockException.CREDENTIALS_REFUSED -> "check --registry-username "
          + "and the password on standard input (or the docker config.json entry for " + registry.registry() + ")";
      case AirlockException.FORBIDDEN -> "grant push rights on " + registry + " to that user";
      default -> e.fix().orElse("check that " + registry.registry() + " is reachable from here");
    };
  }

  private Check delta() {
    if (manifest.delta() == null) {
      return Check.pass(DELTA, "a full bundle: it carries every blob");
    }
    ImagePusher.from(bundle).to(registry).registries(registryOptions).checkDeltaBase();
    return Check.pass(DELTA, "the registry holds all " + manifest.delta().omitted().size() + " blobs this delta "
        + "bundle leaves out");
  }
}
