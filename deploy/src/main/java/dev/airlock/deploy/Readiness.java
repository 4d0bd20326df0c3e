package dev.airlock.deploy;

import dev.airlock.kube.KubeTarget;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Why a release's workloads are not ready, in words an admin can act on: each workload that is short of ready
 * replicas, and for its pods the reason — unschedulable, a claim that stays Pending (and its StorageClass), an
 * image that cannot be pulled, a crash loop with its exit code, a failing probe — with the newest warning events.
 * Read while waiting (progress) and when the wait ends in a timeout (the error).
 */
final class Readiness {

  /** At most this many pods are described per workload. */
  private static final int PODS = 3;

  private final KubeTarget kube;
  private final List<ChartRenderer.ObjectRef> objects;

  Readiness(KubeTarget kube, List<ChartRenderer.ObjectRef> objects) {
    this.kube = kube;
    this.objects = List.copyOf(objects);
  }

  /** One line per workload that is not ready; empty when all are (or none can be read). */
  List<String> notReady() {
    List<String> out = new ArrayList<>();
    for (ChartRenderer.ObjectRef o : objects) {
      if (o.name() == null) {
        continue;
      }
      try {
        String line = describe(o);
        if (line != null) {
          out.add(line);
        }
      } catch (KubernetesClientException e) {
        // Readiness is read for people; a workload this user may not read is left out, not an error.
      }
    }
    return out;
  }

  private String describe(ChartRenderer.ObjectRef o) {
    var c = kube.client();
    switch (o.kind()) {
      case "Deployment" -> {
        Deployment d = c.apps().deployments().inNamespace(o.namespace()).withName(o.name()).get();
        if (d == null) {
          return null;
        }
        int want = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        return newReady(d) >= want ? null : workload(o, newReady(d), want, d.getSpec().getSelector());
      }
      case "StatefulSet" -> {
        StatefulSet s = c.apps().statefulSets().inNamespace(o.namespace()).withName(o.name()).get();
        if (s == null) {
          return null;
        }
        int want = s.getSpec().getReplicas() == null ? 1 : s.getSpec().getReplicas();
        int ready = s.getStatus() == null || s.getStatus().getReadyReplicas() == null ? 0
            : s.getStatus().getReadyReplicas();
        return ready >= want ? null : workload(o, ready, want, s.getSpec().getSelector());
      }
      case "DaemonSet" -> {
        DaemonSet s = c.apps().daemonSets().inNamespace(o.namespace()).withName(o.name()).get();
        if (s == null || s.getStatus() == null) {
          return null;
        }
        int want = nz(s.getStatus().getDesiredNumberScheduled());
        int ready = nz(s.getStatus().getNumberReady());
        return ready >= want ? null : workload(o, ready, want, s.getSpec().getSelector());
      }
      case "Job" -> {
        Job j = c.batch().v1().jobs().inNamespace(o.namespace()).withName(o.name()).get();
        if (j == null || j.getStatus() == null || nz(j.getStatus().getSucceeded()) > 0) {
          return null;
        }
        return workload(o, 0, 1, j.getSpec().getSelector()).replace("0/1 ready", "not complete");
      }
      default -> {
        return null;
      }
    }
  }

  /** Ready pods of the Deployment's current version (its newest ReplicaSet); old pods of a rollout do not count. */
  private int newReady(Deployment d) {
    String revision = d.getMetadata().getAnnotations() == null ? null : d.getMetadata().getAnnotations().get(
        "deployment.kubernetes.io/revision");
    if (revision == null || d.getStatus() == null) {
      return 0;
    }
    for (var rs : kube.client().apps().replicaSets().inNamespace(d.getMetadata().getNamespace())
        .withLabels(d.getSpec().getSelector().getMatchLabels()).list().getItems()) {
      boolean owned = rs.getMetadata().getOwnerReferences() != null && rs.getMetadata().getOwnerReferences().stream()
          .anyMatch(r -> d.getMetadata().getUid().equals(r.getUid()));
      if (owned && rs.getMetadata().getAnnotations() != null && revision.equals(rs.getMetadata().getAnnotations()
          .get("deployment.kubernetes.io/revision"))) {
        return rs.getStatus() == null ? 0 : nz(rs.getStatus().getReadyReplicas());
      }
    }
    return 0;
  }

  private static int nz(Integer i) {
    return i == null ? 0 : i;
  }

  private String workload(ChartRenderer.ObjectRef o, int ready, int want, LabelSelector selector) {
    StringBuilder b = new StringBuilder(o.kind() + " " + o.namespace() + "/" + o.name() + " " + ready + "/" + want
        + " ready" + (o.kind().equals("Deployment") ? " (pods of its current version)" : ""));
    if (selector == null || selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty()) {
      return b.toString();
    }
    List<Pod> pods = new ArrayList<>(kube.client().pods().inNamespace(o.namespace())
        .withLabels(selector.getMatchLabels()).list().getItems());
    pods.removeIf(p -> p.getMetadata().getDeletionTimestamp() != null);
    if (pods.isEmpty()) {
      b.append(": no pod exists");
      String why = warnings(o.namespace(), o.kind(), o.name());
      return why.isEmpty() ? b.append(" (see 'kubectl describe ").append(o.kind().toLowerCase()).append(" -n ")
          .append(o.namespace()).append(' ').append(o.name()).append("')").toString() : b.append(" (").append(why)
          .append(')').toString();
    }
    pods.sort(Comparator.comparing(p -> p.getMetadata().getName()));
    List<String> reasons = new ArrayList<>();
    for (Pod p : pods) {
      String r = pod(p);
      if (r != null && reasons.size() < PODS) {
        reasons.add(r);
      }
    }
    if (!reasons.isEmpty()) {
      b.append(": ").append(String.join("; ", reasons));
    }
    return b.toString();
  }

  /** Why one pod is not ready, or null when it is. */
  private String pod(Pod p) {
    String name = "pod " + p.getMetadata().getName();
    var status = p.getStatus();
    if (status == null) {
      return name + " has no status yet";
    }
    if (isReady(p)) {
      return null;
    }
    Set<String> why = new LinkedHashSet<>();
    if ("Pending".equals(status.getPhase())) {
      for (Volume v : p.getSpec().getVolumes() == null ? List.<Volume>of() : p.getSpec().getVolumes()) {
        if (v.getPersistentVolumeClaim() != null) {
          String claim = claim(p.getMetadata().getNamespace(), v.getPersistentVolumeClaim().getClaimName());
          if (claim != null) {
            why.add(claim);
          }
        }
      }
      for (PodCondition c : status.getConditions() == null ? List.<PodCondition>of() : status.getConditions()) {
        if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && c.getMessage() != null) {
          why.add("not scheduled: " + c.getMessage());
        }
      }
    }
    List<ContainerStatus> containers = new ArrayList<>();
    if (status.getInitContainerStatuses() != null) {
      containers.addAll(status.getInitContainerStatuses());
    }
    if (status.getContainerStatuses() != null) {
      containers.addAll(status.getContainerStatuses());
    }
    for (ContainerStatus cs : containers) {
      var state = cs.getState();
      if (state != null && state.getWaiting() != null && state.getWaiting().getReason() != null
          && !"ContainerCreating".equals(state.getWaiting().getReason())
          && !"PodInitializing".equals(state.getWaiting().getReason())) {
        String r = state.getWaiting().getReason();
        String m = state.getWaiting().getMessage();
        String more = r.contains("Pull") || r.equals("InvalidImageName") ? " (image " + cs.getImage() + ")" : "";
        var last = cs.getLastState() == null ? null : cs.getLastState().getTerminated();
        if (last != null) {
          more += ", last exit code " + last.getExitCode() + (last.getReason() == null ? "" : " " + last.getReason())
              + ", " + nz(cs.getRestartCount()) + " restarts";
        }
        why.add("container " + cs.getName() + " " + r + more + (m == null ? "" : ": " + cut(m)));
      } else if (state != null && state.getTerminated() != null && state.getTerminated().getExitCode() != 0) {
        why.add("container " + cs.getName() + " exited with code " + state.getTerminated().getExitCode());
      } else if (state != null && state.getRunning() != null && !Boolean.TRUE.equals(cs.getReady())) {
        why.add("container " + cs.getName() + " runs but is not ready (its readiness probe fails)");
      }
    }
    String events = warnings(p.getMetadata().getNamespace(), "Pod", p.getMetadata().getName());
    if (!events.isEmpty()) {
      why.add(events);
    }
    if (why.isEmpty()) {
      why.add(status.getPhase() == null ? "no phase yet" : status.getPhase().toLowerCase());
    }
    return name + ": " + String.join(", ", why);
  }

  private static boolean isReady(Pod p) {
    if (p.getStatus().getConditions() == null) {
      return false;
    }
    return p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType())
        && "True".equals(c.getStatus())) || "Succeeded".equals(p.getStatus().getPhase());
  }

  /** A claim that is not bound: its class and what the cluster says about it. */
  private String claim(String namespace, String name) {
    PersistentVolumeClaim pvc = kube.client().persistentVolumeClaims().inNamespace(namespace).withName(name).get();
    if (pvc == null) {
      return "claim " + name + " does not exist";
    }
    if (pvc.getStatus() != null && "Bound".equals(pvc.getStatus().getPhase())) {
      return null;
    }
    String cls = pvc.getSpec().getStorageClassName();
    String events = warnings(namespace, "PersistentVolumeClaim", name);
    if (events.isEmpty()) {
      events = latest(namespace, "PersistentVolumeClaim", name, null);
    }
    return "claim " + name + " is Pending (StorageClass " + (cls == null ? "none: the cluster has no default"
        : cls) + (events.isEmpty() ? ": no provisioner has answered" : ": " + events) + ")";
  }

  private String warnings(String namespace, String kind, String name) {
    return latest(namespace, kind, name, "Warning");
  }

  /** The newest event of an object (of that type, if given), as "Reason: message". */
  private String latest(String namespace, String kind, String name, String type) {
    List<Event> events;
    try {
      events = kube.client().v1().events().inNamespace(namespace).withField("involvedObject.name", name).list()
          .getItems();
    } catch (KubernetesClientException e) {
      return "";
    }
    return events.stream().filter(e -> e.getInvolvedObject() != null && kind.equals(e.getInvolvedObject().getKind()))
        .filter(e -> type == null || type.equals(e.getType()))
        .max(Comparator.comparing(Readiness::when))
        .map(e -> e.getReason() + ": " + cut(Objects.toString(e.getMessage(), ""))).orElse("");
  }

  private static String when(Event e) {
    return Objects.toString(e.getLastTimestamp() != null ? e.getLastTimestamp() : e.getEventTime() != null
        ? e.getEventTime().getTime() : e.getMetadata().getCreationTimestamp(), "");
  }

  private static String cut(String s) {
    s = s.replace('\n', ' ').strip();
    return s.length() > 240 ? s.substring(0, 239) + "…" : s;
  }

  /** The objects of a release that have workloads to wait for. */
  static boolean hasWorkloads(List<ChartRenderer.ObjectRef> objects) {
    return objects.stream().anyMatch(o -> Set.of("Deployment", "StatefulSet", "DaemonSet", "Job").contains(
        o.kind()));
  }
}
