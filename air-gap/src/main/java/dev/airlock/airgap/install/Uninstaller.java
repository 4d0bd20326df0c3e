package dev.airlock.airgap.install;

import dev.airlock.bundle.event.Event;
import dev.airlock.bundle.event.EventHandler;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Removes an installation: its Helm releases (newest component first), the image pull Secrets and the record. PVCs
 * stay unless {@code purge}: data outlives an uninstall by default, as with Helm.
 */
public final class Uninstaller {

  private Uninstaller() {}

  /**
   * What was removed.
   *
   * @param releases {@code namespace/name} of each release uninstalled
   * @param pvcs PVCs deleted ({@code purge} only)
   */
  public record Result(String product, String version, List<String> releases, List<String> pvcs) {}

  public static Result uninstall(KubeTarget kube, String namespace, boolean purge, EventHandler events) {
    StateStore store = new StateStore(kube, namespace);
    store.require();
    try (OperationLock lock = OperationLock.acquire(kube, namespace, "uninstall", java.time.Clock.systemUTC())) {
      return uninstall(kube, store, namespace, purge, events);
    }
  }

  private static Result uninstall(KubeTarget kube, StateStore store, String namespace, boolean purge,
      EventHandler events) {
    State state = store.require();
    if (state.operation() != null && state.operation().running()) {
      events.on(new Event.Log(Event.Level.WARN, "an unfinished " + state.operation().kind() + " (started "
          + state.operation().started() + " by " + state.operation().user() + ") is abandoned"));
    }
    List<State.Component> components = new ArrayList<>();
    if (state.installation() != null) {
      components.addAll(state.installation().components());
    }
    // Releases a killed install created before it recorded them are in the operation's phases.
    Releases helm = new Releases(kube);
    Set<String> namespaces = new LinkedHashSet<>();
    List<String> releases = new ArrayList<>();
    List<String> pvcs = new ArrayList<>();
    events.on(new Event.PhaseStarted("uninstall", "Uninstalling " + (state.installation() == null
        ? "an unfinished installation" : state.installation().product() + " " + state.installation().version())
        + " from " + namespace, -1));
    java.util.Collections.reverse(components);
    for (State.Component c : components) {
      helm.uninstall(c.release(), c.namespace());
      releases.add(c.namespace() + "/" + c.release());
      namespaces.add(c.namespace());
      events.on(new Event.Log(Event.Level.INFO, "uninstalled release " + c.namespace() + "/" + c.release()));
      if (purge) {
        try {
          for (PersistentVolumeClaim pvc : kube.client().persistentVolumeClaims().inNamespace(c.namespace())
              .withLabel("app.kubernetes.io/instance", c.release()).list().getItems()) {
            kube.client().persistentVolumeClaims().inNamespace(c.namespace()).withName(pvc.getMetadata().getName())
                .delete();
            pvcs.add(c.namespace() + "/" + pvc.getMetadata().getName());
          }
        } catch (KubernetesClientException e) {
          throw kube.failure("deleting the PVCs of release " + c.release(), e);
        }
      }
    }
    namespaces.add(namespace);
    try {
      for (String ns : namespaces) {
        kube.client().secrets().inNamespace(ns).withName(ChartRenderer.PULL_SECRET).delete();
      }
      kube.client().secrets().inNamespace(namespace).withName(Installer.LICENSE_SECRET).delete();
    } catch (KubernetesClientException e) {
      throw kube.failure("deleting the image pull Secrets", e);
    }
    store.delete();
    // The namespaces stay (they may hold other things), but no longer claim to belong to this installation.
    for (String ns : namespaces) {
      store.releaseNamespace(ns);
    }
    String product = state.installation() == null ? null : state.installation().product();
    String version = state.installation() == null ? null : state.installation().version();
    events.on(new Event.PhaseFinished("uninstall", releases.size() + " releases removed" + (purge ? ", "
        + pvcs.size() + " PVCs deleted" : "; PVCs kept (use --purge to delete them)")));
    return new Result(product, version, releases, pvcs);
  }
}
