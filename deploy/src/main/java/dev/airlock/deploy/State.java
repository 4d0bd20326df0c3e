package dev.airlock.deploy;

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
  /** The newest operations in the history keep their steps (status, timing, outcome); older ones a summary. */
  public static final int HISTORY_WITH_STEPS = 20;
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
   * @param registryInsecure whether the registry is reached over plain HTTP
   * @param registryCa the PEM CA certificates the registry's TLS certificate chains to, if not a public CA
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Installation(String product, String version, String bundleDigest, String licenseId, String registry,
      String namespace, String installedBy, Instant installedAt, String status, String reason,
      List<Component> components, Map<String, String> images, List<String> without, Boolean registryInsecure,
      String registryCa) {
    public Installation {
      components = components == null ? List.of() : List.copyOf(components);
      images = images == null ? Map.of() : new java.util.TreeMap<>(images);
      without = without == null ? List.of() : List.copyOf(without);
    }

    /** This installation with another status and reason. */
    public Installation withStatus(String s, String why) {
      return new Installation(product, version, bundleDigest, licenseId, registry, namespace, installedBy,
          installedAt, s, why, components, images, without, registryInsecure, registryCa);
    }

    /** This installation with other components (after a rollback moved their revisions). */
    public Installation withComponents(List<Component> c, String by, Instant at) {
      return new Installation(product, version, bundleDigest, licenseId, registry, namespace, by, at, status,
          reason, c, images, without, registryInsecure, registryCa);
    }

    /** The component of that name, if installed. */
    public java.util.Optional<Component> component(String name) {
      return components.stream().filter(c -> c.name().equals(name)).findFirst();
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
   * @param releases every Helm release the operation may change, as component → {@code namespace/release}, so an
   *     interrupted operation can be undone by hand
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Operation(String id, String kind, String from, String to, String bundleDigest, String user,
      Instant started, Instant finished, String result, String reason, List<Phase> phases,
      Map<String, String> releases) {
    public Operation {
      phases = phases == null ? List.of() : List.copyOf(phases);
      releases = releases == null ? Map.of() : new java.util.TreeMap<>(releases);
    }

    public boolean running() {
      return "running".equals(result);
    }

    public boolean done(String phase) {
      return phases.stream().anyMatch(p -> p.name().equals(phase) && DONE.equals(p.status()));
    }

    /** The step that failed while this operation still runs (its rollback was interrupted), if any. */
    public java.util.Optional<String> failedStep() {
      return phases.stream().filter(p -> FAILED.equals(p.status()) && !p.name().startsWith("undo/"))
          .map(Phase::name).findFirst();
    }

    /** The phase of that name, if recorded. */
    public java.util.Optional<Phase> phase(String name) {
      return phases.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** This operation with {@code phase} set (in its place, or added at the end). */
    public Operation with(Phase phase) {
      List<Phase> out = new ArrayList<>(phases);
      int at = -1;
      for (int i = 0; i < out.size(); i++) {
        if (out.get(i).name().equals(phase.name())) {
          at = i;
        }
      }
      if (at >= 0) {
        out.set(at, phase);
      } else {
        out.add(phase);
      }
      return new Operation(id, kind, from, to, bundleDigest, user, started, finished, result, reason, out, releases);
    }

    public Operation finish(String result, String reason, Instant at) {
      return new Operation(id, kind, from, to, bundleDigest, user, started, at, result, reason, phases, releases);
    }

    /**
     * The history entry of a recent operation: each step's status, timing and outcome, without the plan's text
     * (the step's name says it) and with long outcomes cut, so the record stays small.
     */
    public Operation archivedCopy() {
      List<Phase> kept = new ArrayList<>();
      for (Phase p : phases) {
        String d = p.detail() == null || p.detail().length() <= 400 ? p.detail() : p.detail().substring(0, 399) + "…";
        kept.add(new Phase(p.name(), p.status(), null, p.started(), p.finished(), d));
      }
      return new Operation(id, kind, from, to, bundleDigest, user, started, finished, result, reason, kept, null);
    }

    /** The history entry of an older operation: this operation without its steps. */
    public Operation summary() {
      return new Operation(id, kind, from, to, bundleDigest, user, started, finished, result, reason, List.of(),
          null);
    }
  }

  public static final String PENDING = "pending";
  public static final String RUNNING = "running";
  public static final String DONE = "done";
  public static final String FAILED = "failed";

  /**
   * One step of an operation's plan, as recorded.
   *
   * @param status {@value #PENDING}, {@value #RUNNING}, {@value #DONE} or {@value #FAILED}
   * @param does what the step changes (from the plan)
   * @param detail what it did or why it failed
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Phase(String name, String status, String does, Instant started, Instant finished, String detail) {

    public Phase withStatus(String s, Instant at, String d) {
      return new Phase(name, s, does, RUNNING.equals(s) ? at : started, RUNNING.equals(s) ? null : at, d);
    }
  }

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
    h.add(operation.archivedCopy());
    while (h.size() > HISTORY_LIMIT) {
      h.remove(0);
    }
    for (int i = 0; i < h.size() - HISTORY_WITH_STEPS; i++) {
      if (!h.get(i).phases().isEmpty()) {
        h.set(i, h.get(i).summary());
      }
    }
    return new State(installation, operation, h, previous);
  }
}
