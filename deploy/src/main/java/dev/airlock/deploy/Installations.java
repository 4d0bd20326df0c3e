package dev.airlock.deploy;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.Secrets;
import dev.airlock.license.Entitlements;
import dev.airlock.license.License;
import dev.airlock.license.LicenseFile;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Read-only views of an installation: its status (releases and workloads as the cluster has them) and history. */
public final class Installations {

  private Installations() {}

  /**
   * The installation as the cluster has it.
   *
   * @param installation the record; null before the first install completed
   * @param license the stored license, if any
   * @param components each recorded component, checked against the cluster
   * @param unfinished an operation that has not finished (interrupted), if any
   * @param healthy every release at its recorded revision and deployed, every workload ready, nothing unfinished
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Status(String namespace, State.Installation installation, LicenseSummary license,
      List<ComponentHealth> components, State.Operation unfinished, State.Operation last, boolean healthy) {}

  /** The stored license's terms as of now (its signature was checked when it was stored). */
  public record LicenseSummary(String id, String customer, String expires, String state, long daysLeft, int seats) {}

  /**
   * One component: its Helm release against the record, and its workloads' readiness.
   *
   * @param status the newest revision's status, or {@code missing}
   */
  public record ComponentHealth(String component, String namespace, String release, int recordedRevision,
      int revision, String status, List<Workload> workloads, boolean ok) {}

  /** A Deployment, StatefulSet or DaemonSet of a release, with its desired and ready replicas. */
  public record Workload(String kind, String name, int desired, int ready) {
    public boolean isReady() {
      return ready >= desired;
    }
  }

  public static Status status(KubeTarget kube, String namespace, Instant now) {
    State state = new StateStore(kube, namespace).require();
    State.Installation i = state.installation();
    List<ComponentHealth> components = new ArrayList<>();
    boolean healthy = i != null;
    if (i != null) {
      Releases helm = new Releases(kube);
      for (State.Component c : i.components()) {
        Optional<Releases.Revision> latest = helm.latest(c.release(), c.namespace());
        List<Workload> workloads = latest.map(r -> workloads(kube, c.namespace(), r.release().path("manifest")
            .asText())).orElse(List.of());
        boolean ok = latest.isPresent() && latest.get().revision() == c.revision()
            && Releases.DEPLOYED.equals(latest.get().status()) && workloads.stream().allMatch(Workload::isReady);
        healthy &= ok;
        components.add(new ComponentHealth(c.name(), c.namespace(), c.release(), c.revision(),
            latest.map(Releases.Revision::revision).orElse(0), latest.map(Releases.Revision::status)
            .orElse("missing"), workloads, ok));
      }
    }
    State.Operation op = state.operation();
    State.Operation unfinished = op != null && op.running() ? op : null;
    healthy &= unfinished == null;
    return new Status(namespace, i, license(kube, namespace, now).orElse(null), components, unfinished, op,
        healthy);
  }

  /** The stored license's state, if a license is stored. */
  public static Optional<LicenseSummary> license(KubeTarget kube, String namespace, Instant now) {
    Optional<String> yaml = Secrets.value(kube.client().secrets().inNamespace(namespace)
        .withName(Deployer.LICENSE_SECRET).get(), "license.yaml");
    if (yaml.isEmpty()) {
      return Optional.empty();
    }
    License l = LicenseFile.parse(yaml.get().getBytes(java.nio.charset.StandardCharsets.UTF_8),
        namespace + "/" + Deployer.LICENSE_SECRET).license();
    Entitlements e = new Entitlements(l);
    return Optional.of(new LicenseSummary(l.id(), l.customer(), l.expires().toString(),
        e.state(now).name().toLowerCase(Locale.ROOT), e.daysLeft(now), l.seats()));
  }

  /** The workloads a release's manifest names, with their readiness as the cluster reports it. */
  @SuppressWarnings("unchecked")
  static List<Workload> workloads(KubeTarget kube, String namespace, String manifest) {
    List<Workload> out = new ArrayList<>();
    for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(manifest)) {
      if (!(doc instanceof Map<?, ?> m) || !(m.get("metadata") instanceof Map<?, ?> meta)) {
        continue;
      }
      String kind = String.valueOf(m.get("kind"));
      String name = String.valueOf(meta.get("name"));
      String ns = meta.get("namespace") == null ? namespace : String.valueOf(meta.get("namespace"));
      switch (kind) {
        case "Deployment" -> {
          Deployment d = kube.client().apps().deployments().inNamespace(ns).withName(name).get();
          out.add(new Workload(kind, name, d == null || d.getSpec().getReplicas() == null ? 1
              : d.getSpec().getReplicas(), d == null || d.getStatus() == null ? 0 : orZero(d.getStatus()
              .getReadyReplicas())));
        }
        case "StatefulSet" -> {
          StatefulSet s = kube.client().apps().statefulSets().inNamespace(ns).withName(name).get();
          out.add(new Workload(kind, name, s == null || s.getSpec().getReplicas() == null ? 1
              : s.getSpec().getReplicas(), s == null || s.getStatus() == null ? 0 : orZero(s.getStatus()
              .getReadyReplicas())));
        }
        case "DaemonSet" -> {
          DaemonSet d = kube.client().apps().daemonSets().inNamespace(ns).withName(name).get();
          out.add(new Workload(kind, name, d == null || d.getStatus() == null ? 1 : orZero(d.getStatus()
              .getDesiredNumberScheduled()), d == null || d.getStatus() == null ? 0 : orZero(d.getStatus()
              .getNumberReady())));
        }
        default -> {
          // not a workload
        }
      }
    }
    return out;
  }

  private static int orZero(Integer i) {
    return i == null ? 0 : i;
  }

  /** Every finished operation, oldest first, then the unfinished one if any. */
  public record History(String namespace, List<State.Operation> operations) {}

  public static History history(KubeTarget kube, String namespace) {
    State state = new StateStore(kube, namespace).require();
    List<State.Operation> ops = new ArrayList<>(state.history());
    if (state.operation() != null && state.operation().running()) {
      ops.add(state.operation().summary());
    }
    return new History(namespace, ops);
  }

  /** The current or last operation with every step's status and timing; null when none is recorded. */
  public static State.Operation lastOperation(KubeTarget kube, String namespace) {
    return new StateStore(kube, namespace).require().operation();
  }
}
