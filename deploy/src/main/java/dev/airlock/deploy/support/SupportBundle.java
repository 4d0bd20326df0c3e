package dev.airlock.deploy.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.airlock.deploy.Installations;
import dev.airlock.deploy.Releases;
import dev.airlock.deploy.State;
import dev.airlock.deploy.StateStore;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import dev.airlock.license.LicenseFile;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * {@code airlock support-bundle}: what a vendor needs to see about an installation it cannot reach, in one
 * {@code .tar.gz}, with every secret taken out (docs/support.md, ADR 21). Secrets are never read except Helm's
 * release records, whose values are never written out (only the releases' metadata and their rendered manifests, with
 * any Secret's data dropped). Every collected file passes the {@link Redactor}; the bundle holds its report. A
 * collector that fails (a resource the caller may not read, a namespace deleted meanwhile) is recorded in
 * {@code errors.json} and the others go on.
 */
public final class SupportBundle {

  /** Per container, the newest this many bytes of log are kept. */
  public static final long DEFAULT_LOG_CAP = 5L * 1024 * 1024;
  static final ResourceDefinitionContext ROLES = new ResourceDefinitionContext.Builder().withGroup("airlock.dev")
      .withVersion("v1alpha1").withKind("PlatformRole").withPlural("platformroles").withNamespaced(false).build();
  static final ResourceDefinitionContext MAPPINGS = new ResourceDefinitionContext.Builder().withGroup("airlock.dev")
      .withVersion("v1alpha1").withKind("RoleMapping").withPlural("rolemappings").withNamespaced(false).build();
  private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);
  /** An audit event as the chain stores it: one line, keys in order. */
  private static final ObjectMapper EVENT_LINE = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  /**
   * What to collect.
   *
   * @param namespace the installation's namespace
   * @param since events and logs from then on
   * @param logCap bytes of log kept per container (the newest)
   * @param airlockVersion the collecting airlock's version
   */
  public record Options(String namespace, Instant since, long logCap, Redactor redactor, String airlockVersion) {}

  /** What was written. */
  public record Result(Path file, int files, long bytes, List<String> errors, List<Redactor.Replacement> redactions) {}

  private final KubeTarget kube;
  private final Options o;
  private final EventHandler events;
  private final Clock clock;
  private final List<String> errors = new ArrayList<>();
  private final Map<String, Long> files = new LinkedHashMap<>();
  private TarArchiveOutputStream tar;

  private SupportBundle(KubeTarget kube, Options o, EventHandler events, Clock clock) {
    this.kube = kube;
    this.o = o;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Collects into {@code out} (written beside it and renamed when complete, so a stopped run leaves no bundle);
   * {@code extra} are further files to add (the usage report), redacted like the rest.
   */
  public static Result collect(KubeTarget kube, Options o, Supplier<Map<String, byte[]>> extra, Path out,
      EventHandler events, Clock clock) {
    return new SupportBundle(kube, o, events, clock).run(extra, out);
  }

  private Result run(Supplier<Map<String, byte[]>> extra, Path out) {
    Path tmp;
    try {
      Path dir = out.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + out.getFileName(), ".partial");
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write " + out + ": " + e.getMessage(), "pass -o a file in a "
          + "writable directory", e);
    }
    boolean done = false;
    try (OutputStream fo = Files.newOutputStream(tmp); GZIPOutputStream gz = new GZIPOutputStream(fo, 64 * 1024);
        TarArchiveOutputStream t = new TarArchiveOutputStream(gz)) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar = t;
      State state = step("installation", "the installation record", this::installation);
      Set<String> namespaces = platformNamespaces(state);
      step("versions", "airlock's and Kubernetes' versions", this::versions);
      step("health", "the installation checked against the cluster", () -> {
        json("airlock/health.json", Installations.status(kube, o.namespace(), clock.instant()));
        return null;
      });
      if (state != null && state.installation() != null) {
        step("helm", "the Helm releases' metadata and rendered manifests", () -> helm(state.installation()));
      }
      step("nodes", "nodes' capacity and conditions", this::nodes);
      for (String ns : namespaces) {
        step("namespace " + ns, "workloads, pods, events and logs of " + ns, () -> namespace(ns));
      }
      step("rbac", "the platform roles and mappings", this::roles);
      step("license", "the license's terms", this::license);
      String auditNs = serverNamespace(state, o.namespace());
      step("audit", "the audit chain's head and its check", () -> audit(auditNs));
      step("extra", "the usage report", () -> {
        for (Map.Entry<String, byte[]> e : extra.get().entrySet()) {
          put(e.getKey(), e.getValue());
        }
        return null;
      });
      json("redaction-report.json", Map.of("redactors", o.redactor().names(), "replacements",
          o.redactor().report()));
      json("errors.json", errors);
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put("collectedAt", clock.instant().toString());
      manifest.put("since", o.since().toString());
      manifest.put("namespace", o.namespace());
      manifest.put("logCapBytes", o.logCap());
      manifest.put("files", new LinkedHashMap<>(files));
      putRaw("manifest.json", JSON.writeValueAsBytes(manifest));
      t.finish();
      done = true;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write " + out + ": " + e.getMessage(), "check the disk", e);
    } finally {
      if (!done) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a temporary file beside the target
        }
      }
    }
    try {
      Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return new Result(out, files.size(), Files.size(out), List.copyOf(errors), o.redactor().report());
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot move the support bundle to " + out + ": " + e.getMessage(), null, e);
    }
  }

  private interface Collector<T> {
    T collect() throws IOException;
  }

  /** Runs one collector; its failure is recorded and collection goes on. */
  private <T> T step(String name, String what, Collector<T> c) {
    events.on(new Event.PhaseStarted("support/" + name, "Collecting " + what, -1));
    try {
      T t = c.collect();
      events.on(new Event.PhaseFinished("support/" + name, what));
      return t;
    } catch (KubernetesClientException e) {
      record(name, e.getCode() == 403 ? "forbidden to the caller (" + message(e) + ")" : message(e));
    } catch (IOException | RuntimeException e) {
      record(name, e.getMessage());
    }
    return null;
  }

  private void record(String name, String why) {
    errors.add(name + ": " + why);
    events.on(new Event.Log(Event.Level.WARN, "support bundle: " + name + " not collected: " + why));
  }

  private static String message(KubernetesClientException e) {
    return (e.getCode() == 0 ? "" : "HTTP " + e.getCode() + ": ") + (e.getStatus() != null
        && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage());
  }

  private State installation() throws IOException {
    State s = new StateStore(kube, o.namespace()).load().orElse(null);
    json("airlock/installation.json", s == null ? Map.of("installed", false) : s);
    return s;
  }

  private Set<String> platformNamespaces(State state) {
    Set<String> out = new LinkedHashSet<>();
    out.add(o.namespace());
    if (state != null && state.installation() != null) {
      state.installation().components().forEach(c -> out.add(c.namespace()));
    }
    return out;
  }

  /**
   * Where the airlock server keeps its audit log and keys: the namespace of the installation's {@code airlock-server}
   * component, else the installation's own.
   */
  public static String serverNamespace(State state, String installation) {
    return state == null || state.installation() == null ? installation : state.installation()
        .component("airlock-server").map(State.Component::namespace).orElse(installation);
  }

  private Void versions() throws IOException {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("airlock", o.airlockVersion());
    try {
      v.put("kubernetes", kube.client().getKubernetesVersion().getGitVersion());
    } catch (KubernetesClientException e) {
      v.put("kubernetes", "unknown (" + message(e) + ")");
    }
    json("airlock/versions.json", v);
    return null;
  }

  /** Each release's revisions (metadata) and its newest rendered manifest, Secrets' data dropped; never values. */
  private Void helm(State.Installation installation) throws IOException {
    Releases helm = new Releases(kube);
    for (State.Component c : installation.components()) {
      List<Map<String, Object>> revisions = new ArrayList<>();
      String manifest = null;
      for (Releases.Revision r : helm.history(c.release(), c.namespace())) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("revision", r.revision());
        m.put("status", r.status());
        m.put("chart", r.release().path("chart").path("metadata").path("name").asText(null));
        m.put("chartVersion", r.release().path("chart").path("metadata").path("version").asText(null));
        m.put("appVersion", r.release().path("chart").path("metadata").path("appVersion").asText(null));
        m.put("firstDeployed", r.release().path("info").path("first_deployed").asText(null));
        m.put("lastDeployed", r.release().path("info").path("last_deployed").asText(null));
        m.put("description", r.release().path("info").path("description").asText(null));
        revisions.add(m);
        manifest = r.release().path("manifest").asText(null);
      }
      String base = "helm/" + c.namespace() + "/" + c.release();
      json(base + "/revisions.json", revisions);
      if (manifest != null) {
        List<Object> docs = new ArrayList<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(manifest)) {
          if (doc instanceof Map<?, ?> map) {
            if ("Secret".equals(map.get("kind"))) {
              map.remove("data");
              map.remove("stringData");
            }
            docs.add(doc);
          }
        }
        yaml(base + "/manifest.yaml", docs);
      }
    }
    return null;
  }

  private Void nodes() throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Node n : kube.client().nodes().list().getItems()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", n.getMetadata().getName());
      m.put("labels", n.getMetadata().getLabels());
      m.put("capacity", n.getStatus().getCapacity());
      m.put("allocatable", n.getStatus().getAllocatable());
      m.put("conditions", n.getStatus().getConditions());
      m.put("nodeInfo", n.getStatus().getNodeInfo());
      out.add(m);
    }
    yaml("cluster/nodes.yaml", JSON.convertValue(out, List.class));
    return null;
  }

  /** A namespace's objects (never its Secrets), events and containers' logs. */
  private Void namespace(String ns) throws IOException {
    var c = kube.client();
    if (c.namespaces().withName(ns).get() == null) {
      record("namespace " + ns, "the namespace does not exist (deleted?)");
      return null;
    }
    String base = "namespaces/" + ns + "/";
    objects(base + "deployments.yaml", () -> c.apps().deployments().inNamespace(ns).list().getItems());
    objects(base + "statefulsets.yaml", () -> c.apps().statefulSets().inNamespace(ns).list().getItems());
    objects(base + "daemonsets.yaml", () -> c.apps().daemonSets().inNamespace(ns).list().getItems());
    objects(base + "jobs.yaml", () -> c.batch().v1().jobs().inNamespace(ns).list().getItems());
    objects(base + "services.yaml", () -> c.services().inNamespace(ns).list().getItems());
    objects(base + "persistentvolumeclaims.yaml", () -> c.persistentVolumeClaims().inNamespace(ns).list()
        .getItems());
    objects(base + "configmaps.yaml", () -> c.configMaps().inNamespace(ns).list().getItems().stream()
        .filter(cm -> cm.getMetadata().getLabels() == null || !cm.getMetadata().getLabels().containsKey(
            AuditLog.LABEL)).toList());
    objects(base + "events.yaml", () -> c.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> e.getLastTimestamp() == null || !Instant.parse(e.getLastTimestamp()).isBefore(o.since()))
        .toList());
    List<Pod> pods = objects(base + "pods.yaml", () -> c.pods().inNamespace(ns).list().getItems());
    for (Pod p : pods == null ? List.<Pod>of() : pods) {
      List<String> containers = new ArrayList<>();
      if (p.getSpec().getInitContainers() != null) {
        p.getSpec().getInitContainers().forEach(x -> containers.add(x.getName()));
      }
      p.getSpec().getContainers().forEach(x -> containers.add(x.getName()));
      boolean started = p.getStatus() != null && p.getStatus().getContainerStatuses() != null && p.getStatus()
          .getContainerStatuses().stream().anyMatch(s -> s.getState() != null && (s.getState().getRunning() != null
          || s.getState().getTerminated() != null));
      if (!started) {
        continue;
      }
      for (String container : containers) {
        logs(ns, p, container);
      }
    }
    return null;
  }

  private <T extends HasMetadata> List<T> objects(String file, Supplier<List<T>> list) throws IOException {
    List<T> items;
    try {
      items = list.get();
    } catch (KubernetesClientException e) {
      record(file, e.getCode() == 403 ? "forbidden to the caller (" + message(e) + ")" : message(e));
      return null;
    }
    List<Object> out = new ArrayList<>();
    for (T item : items) {
      if (item instanceof Secret) {
        continue; // never collected
      }
      item.getMetadata().setManagedFields(null);
      out.add(JSON.convertValue(item, Map.class));
    }
    yaml(file, out);
    return items;
  }

  /** The newest {@link Options#logCap} bytes of a container's log since {@link Options#since}. */
  private void logs(String ns, Pod p, String container) throws IOException {
    String name = p.getMetadata().getName();
    String file = "namespaces/" + ns + "/logs/" + name + "/" + container + ".log";
    String log;
    try {
      long age = Math.max(1, Duration.between(o.since(), clock.instant()).toSeconds());
      log = kube.client().pods().inNamespace(ns).withName(name).inContainer(container)
          .sinceSeconds((int) Math.min(Integer.MAX_VALUE, age)).tailingLines(200_000).getLog();
    } catch (KubernetesClientException e) {
      record(file, e.getCode() == 403 ? "forbidden to the caller (" + message(e) + ")" : message(e));
      return;
    }
    if (log == null) {
      return;
    }
    byte[] bytes = log.getBytes(StandardCharsets.UTF_8);
    String kept = log;
    if (bytes.length > o.logCap()) {
      // The newest part, cut at a line start.
      String tail = new String(bytes, (int) (bytes.length - o.logCap()), (int) o.logCap(), StandardCharsets.UTF_8);
      int nl = tail.indexOf('\n');
      kept = "[airlock: " + (bytes.length - o.logCap()) + " older bytes left out; the newest " + o.logCap()
          + " kept]\n" + (nl >= 0 ? tail.substring(nl + 1) : tail);
    }
    put(file, kept.getBytes(StandardCharsets.UTF_8));
  }

  private Void roles() throws IOException {
    List<Object> out = new ArrayList<>();
    for (ResourceDefinitionContext ctx : List.of(ROLES, MAPPINGS)) {
      try {
        for (var r : kube.client().genericKubernetesResources(ctx).list().getItems()) {
          r.getMetadata().setManagedFields(null);
          out.add(JSON.convertValue(r, Map.class));
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw e;
        }
      }
    }
    yaml("airlock/roles.yaml", out);
    return null;
  }

  private Void license() throws IOException {
    Secret s = kube.client().secrets().inNamespace(o.namespace()).withName(dev.airlock.deploy.Deployer
        .LICENSE_SECRET).get();
    if (s == null || s.getData() == null || !s.getData().containsKey("license.yaml")) {
      json("airlock/license.json", Map.of("stored", false));
      return null;
    }
    LicenseFile f = LicenseFile.parse(Base64.getDecoder().decode(s.getData().get("license.yaml")), o.namespace()
        + "/" + dev.airlock.deploy.Deployer.LICENSE_SECRET);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("terms", f.license());
    out.put("state", Installations.license(kube, o.namespace(), clock.instant()).orElse(null));
    json("airlock/license.json", out);
    return null;
  }

  private Void audit(String ns) throws IOException {
    AuditLog.Snapshot snap = new AuditLog(kube.client(), ns, clock, null).read(null);
    List<Map<String, Object>> all = snap.events();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("namespace", ns);
    out.put("events", all.size());
    out.put("head", all.isEmpty() ? null : all.get(all.size() - 1).get("hash"));
    out.put("headSeq", all.isEmpty() ? null : all.get(all.size() - 1).get("seq"));
    out.put("intact", snap.verification().intact());
    out.put("broken", snap.verification().broken());
    json("airlock/audit.json", out);
    StringBuilder lines = new StringBuilder();
    for (Map<String, Object> e : all) {
      lines.append(EVENT_LINE.writeValueAsString(e)).append('\n');
    }
    // Redacted like the rest: the server never writes a secret into an event, and if one got there, the redaction
    // shows in the report and breaks that event's hash, which `airlock usage verify` then names.
    put("airlock/audit-events.jsonl", lines.toString().getBytes(StandardCharsets.UTF_8));
    return null;
  }

  private void json(String file, Object value) throws IOException {
    Object tree = JSON.convertValue(value, Object.class);
    o.redactor().redactTree(file, tree);
    put(file, JSON.writeValueAsBytes(tree));
  }

  private void yaml(String file, Object tree) throws IOException {
    o.redactor().redactTree(file, tree);
    DumperOptions d = new DumperOptions();
    d.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    d.setWidth(200);
    put(file, new Yaml(new Representer(d), d).dump(tree).getBytes(StandardCharsets.UTF_8));
  }

  /** Adds a file after the redactors have read it. */
  private void put(String file, byte[] bytes) throws IOException {
    putRaw(file, o.redactor().redact(file, new String(bytes, StandardCharsets.UTF_8)).getBytes(
        StandardCharsets.UTF_8));
  }

  /** Adds a file as it is: only the bundle's own index, which names files, not their content. */
  private void putRaw(String file, byte[] bytes) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(file);
    e.setSize(bytes.length);
    e.setModTime(clock.millis());
    e.setMode(0644);
    tar.putArchiveEntry(e);
    tar.write(bytes);
    tar.closeArchiveEntry();
    files.put(file, (long) bytes.length);
  }
}
