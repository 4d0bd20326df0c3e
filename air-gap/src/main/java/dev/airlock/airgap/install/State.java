package dev.airlock.airgap.install;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What airlock keeps in the cluster about one installation (ADR 5): the installation record, the current or last
 * operation as a plan of phases, and the history of operations.
 *
 * @param installation what is installed, once an install has completed; null before
 * @param operation the running or last operation
 * @param history finished operations, oldest first (at most {@link #HISTORY_LIMIT})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record State(Installation installation, Operation operation, List<Operation> history,
    List<Installation> previous) {

  public static final int HISTORY_LIMIT = 100;
  /** Earlier installations kept for {@code airlock rollback}. */
  public static final int PREVIOUS_LIMIT = 10;

  public State {
    history = history == null ? List.of() : List.copyOf(history);
    previous = previous == null ? List.of() : List.copyOf(previous);
  }

  /** This state with {@code replaced} remembered as the newest earlier installation. */
  public State remembering(Installation replaced) {
    if (replaced == null) {
      return this;
    }
    List<Installation> p = new ArrayList<>(previous);
    p.add(replaced);
    while (p.size() > PREVIOUS_LIMIT) {
      p.remove(0);
    }
    return new State(installation, operation, history, p);
  }

  public State withPrevious(List<Installation> p) {
    return new State(installation, operation, history, p);
  }

  /**
   * The installed platform.
   *
   * @param product the bundle's name
   * @param bundleDigest sha256 of the bundle's signed manifest
   * @param licenseId the license it was installed under
   * @param registry where its images are, {@code HOST[:PORT][/PREFIX]}
   * @param installedBy the kubeconfig user of the last completed operation
   * @param images original reference → the reference the cluster pulls
   * @param status {@code installed}, {@code rolled-back} or {@code failed}
   * @param without optional components left out (upgrades keep leaving them out)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Installation(String product, String version, String bundleDigest, String licenseId, String registry,
      String namespace, String installedBy, Instant installedAt, String status, String reason,
      List<Component> components, Map<String, String> images, List<String> without) {
    public Installation {
      components = components == null ? List.of() : List.copyOf(components);
      images = images == null ? Map.of() : Map.copyOf(images);
      without = without == null ? List.of() : List.copyOf(without);
    }
  }

  /**
   * One component's Helm release.
   *
   * @param renderedDigest sha256 of its rendered manifests: equal digests mean nothing to change
   */
  public record Component(String name, String namespace, String release, int revision, String chart,
      String chartVersion, String renderedDigest) {}

  /**
   * An operation (install, upgrade, rollback, uninstall) as a plan of named phases.
   *
   * @param id unique id, e.g. {@code install-20261122T053000Z}
   * @param kind {@code install}, {@code upgrade}, {@code rollback} or {@code uninstall}
   * @param from the version before, null for an install
   * @param to the version after
   * @param result {@code running}, {@code succeeded}, {@code failed}, {@code rolled-back} or
   *     {@code rollback-incomplete}
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Operation(String id, String kind, String from, String to, String bundleDigest, String user,
      Instant started, Instant finished, String result, String reason, List<Phase> phases) {
    public Operation {
      phases = phases == null ? List.of() : List.copyOf(phases);
    }

    public boolean running() {
      return "running".equals(result);
    }

    public boolean done(String phase) {
      return phases.stream().anyMatch(p -> p.name().equals(phase) && "done".equals(p.status()));
    }

    /** This operation with {@code phase} set (replaced, or added at the end). */
    public Operation with(Phase phase) {
      List<Phase> out = new ArrayList<>(phases);
      out.removeIf(p -> p.name().equals(phase.name()));
      out.add(phase);
      return new Operation(id, kind, from, to, bundleDigest, user, started, finished, result, reason, out);
    }

    public Operation finish(String result, String reason, Instant at) {
      return new Operation(id, kind, from, to, bundleDigest, user, started, at, result, reason, phases);
    }

    /** The history entry: this operation without its phases' details. */
    public Operation summary() {
      return new Operation(id, kind, from, to, bundleDigest, user, started, finished, result, reason, List.of());
    }
  }

  /**
   * One phase of a plan.
   *
   * @param status {@code running}, {@code done}, {@code failed} or {@code skipped}
   * @param detail what it did or why it failed
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Phase(String name, String status, Instant started, Instant finished, String detail) {}

  public State withInstallation(Installation i) {
    return new State(i, operation, history, previous);
  }

  public State withOperation(Operation o) {
    return new State(installation, o, history, previous);
  }

  /** Moves the finished operation into the history. */
  public State archived() {
    if (operation == null || operation.running()) {
      return this;
    }
    List<Operation> h = new ArrayList<>(history);
    h.removeIf(o -> o.id().equals(operation.id()));
    h.add(operation.summary());
    while (h.size() > HISTORY_LIMIT) {
      h.remove(0);
    }
    return new State(installation, operation, h, previous);
  }
}
