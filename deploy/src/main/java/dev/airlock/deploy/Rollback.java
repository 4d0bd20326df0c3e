package dev.airlock.deploy;

import dev.airlock.deploy.plan.Plan;
import dev.airlock.deploy.plan.PlanRunner;
import dev.airlock.deploy.plan.Step;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.EventHandler;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.LeaseLock;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * {@code airlock rollback}: a plan that puts the platform back at an earlier installed version (default: the one
 * before the last upgrade), or undoes an unfinished upgrade, by restoring each component's release to the revision
 * that version recorded — live objects included, the same restore an upgrade's automatic rollback uses — and
 * uninstalling releases that version did not have. Needs no bundle: the images are still in the registry.
 */
public final class Rollback {

  public static final String KIND = "rollback";

  private final KubeTarget kube;
  private final String namespace;
  private Clock clock = Clock.systemUTC();
  private EventHandler events = EventHandler.none();
  private Predicate<Plan.View> confirm = p -> true;

  public Rollback(KubeTarget kube, String namespace) {
    this.kube = kube;
    this.namespace = namespace;
  }

  public Rollback clock(Clock c) {
    clock = c;
    return this;
  }

  public Rollback events(EventHandler e) {
    events = e;
    return this;
  }

  public Rollback confirm(Predicate<Plan.View> c) {
    confirm = c;
    return this;
  }

  /**
   * Rolls back to {@code toVersion} (default: the previous version).
   *
   * @param waitReady wait for each restored release's workloads to become ready
   */
  public OperationResult run(Optional<String> toVersion, boolean dryRun, int timeoutSeconds, boolean waitReady) {
    StateStore store = new StateStore(kube, namespace);
    State state = store.require();
    Path work;
    try {
      work = Files.createTempDirectory("airlock-rollback");
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot create a work directory: " + e.getMessage(),
          "set TMPDIR to a writable directory", e);
    }
    try {
      Target t = target(state, toVersion);
      Plan plan = plan(state, t, work, timeoutSeconds, waitReady);
      if (dryRun) {
        return new OperationResult(KIND, false, true, "dry run: " + plan.title(), state.installation(), List.of(),
            plan.view(), null);
      }
      if (!t.resuming() && !confirm.test(plan.view())) {
        throw new AirlockException(Kind.BAD_INPUT, "rollback cancelled; nothing was changed", null);
      }
      try (LeaseLock lock = LeaseLock.acquire(kube, namespace, KIND, clock)) {
        state = store.require();
        State.Installation current = state.installation();
        State begin = state;
        State.Operation op;
        if (t.resuming()) {
          op = state.operation();
        } else {
          if (state.operation() != null && state.operation().running()) {
            begin = state.withOperation(state.operation().finish("failed", "abandoned: rolled back by hand",
                clock.instant())).archived();
          }
          op = new State.Operation(OperationJournal.newId(KIND, clock.instant()), KIND, current.version(),
              t.installation().version(), t.installation().bundleDigest(), kube.user(), clock.instant(), null,
              "running", t.undoing(), List.of(), t.releases());
        }
        OperationJournal journal = OperationJournal.begin(store, begin, op, plan, current.product(), clock);
        PlanRunner.Outcome outcome = new PlanRunner(journal, events, e -> e instanceof KubernetesClientException k
            ? kube.failure("rolling back", k) : new AirlockException(Kind.REMOTE, e.toString(), null, e)).run(plan);
        if (!outcome.succeeded()) {
          throw new AirlockException(Kind.ROLLBACK_INCOMPLETE, "rolling back to " + t.installation().version()
              + " failed at " + outcome.failedStep() + ": " + outcome.cause().getMessage(), "fix the cause and run "
              + "'airlock rollback' again: it resumes at " + outcome.failedStep(), outcome.cause())
              .with(AirlockException.STEP, outcome.failedStep());
        }
        Releases helm = new Releases(kube);
        List<State.Component> restored = new ArrayList<>();
        for (State.Component c : t.installation().components()) {
          restored.add(new State.Component(c.name(), c.namespace(), c.release(), helm.latest(c.release(),
              c.namespace()).map(Releases.Revision::revision).orElse(c.revision()), c.chart(), c.chartVersion(),
              c.renderedDigest()));
        }
        State.Installation back = t.installation().withComponents(restored, kube.user(), clock.instant())
            .withStatus("installed", null);
        List<State.Installation> previous = t.previous();
        journal.update(s -> s.withInstallation(back).withOperation(s.operation().finish("succeeded", null,
            clock.instant())).archived().withPrevious(previous));
        return new OperationResult(KIND, true, false, current.product() + " is at " + back.version() + " in "
            + namespace + " (was " + current.version() + ")", back, List.of(), plan.view(), journal.operation());
      }
    } finally {
      dev.airlock.io.TempTrees.delete(work);
    }
  }

  /**
   * What to roll back to.
   *
   * @param releases every release the rollback touches, component → {@code namespace/release}
   * @param undoing why, when an unfinished operation is undone
   * @param resuming an interrupted rollback to this target is being finished
   */
  private record Target(State.Installation installation, List<State.Installation> previous,
      Map<String, String> releases, String undoing, boolean resuming) {}

  private Target target(State state, Optional<String> toVersion) {
    State.Installation current = state.installation();
    if (current == null) {
      throw new AirlockException(Kind.BAD_INPUT, "no completed installation in " + namespace + " to roll back to",
          "finish the install by running it again, or 'airlock uninstall'");
    }
    State.Operation op = state.operation();
    boolean unfinished = op != null && op.running();
    Map<String, String> releases = new LinkedHashMap<>();
    current.components().forEach(c -> releases.put(c.name(), c.namespace() + "/" + c.release()));
    if (unfinished && op.kind().equals(KIND)) {
      State.Installation to = state.previous().stream().filter(p -> p.version().equals(op.to())
          && p.bundleDigest().equals(op.bundleDigest())).reduce((a, b) -> b).orElse(current);
      List<State.Installation> previous = new ArrayList<>(state.previous());
      previous.remove(to);
      releases.putAll(op.releases());
      return new Target(to, previous, releases, null, true);
    }
    if (unfinished && toVersion.map(v -> v.equals(current.version())).orElse(true)) {
      // An interrupted install or upgrade: the record still describes the platform before it.
      releases.putAll(op.releases());
      return new Target(current, state.previous(), releases, "undoing the unfinished " + op.kind() + " to " + op.to(),
          false);
    }
    List<State.Installation> previous = new ArrayList<>(state.previous());
    for (int i = previous.size() - 1; i >= 0; i--) {
      if (toVersion.isEmpty() || previous.get(i).version().equals(toVersion.get())) {
        State.Installation to = previous.remove(i);
        to.components().forEach(c -> releases.put(c.name(), c.namespace() + "/" + c.release()));
        return new Target(to, previous, releases, null, false);
      }
    }
    if (state.previous().isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "there is no earlier version to roll back to: " + current.product()
          + " " + current.version() + " is the only version installed in " + namespace, "nothing to do; 'airlock "
          + "history' shows the operations");
    }
    throw new AirlockException(Kind.BAD_INPUT, toVersion.map(v -> "version " + v + " is not among the earlier "
        + "installations").orElse("there is no earlier installation to roll back to"), "roll back to one of the "
        + "earlier versions kept: " + String.join(", ", state.previous().stream().map(State.Installation::version)
        .toList()) + " ('airlock history' shows them)");
  }

  private Plan plan(State state, Target t, Path work, int timeoutSeconds, boolean waitReady) {
    Releases helm = new Releases(kube);
    List<Step> steps = new ArrayList<>();
    Map<String, State.Component> keep = new LinkedHashMap<>();
    t.installation().components().forEach(c -> keep.put(c.name(), c));
    List<String> names = new ArrayList<>(t.releases().keySet());
    java.util.Collections.reverse(names);
    for (String name : names) {
      if (keep.containsKey(name)) {
        continue;
      }
      String[] nsRel = t.releases().get(name).split("/", 2);
      steps.add(Step.of("uninstall/" + name, "uninstall release " + t.releases().get(name) + " (not part of "
          + t.installation().version() + ")", null, () -> {
            helm.uninstall(nsRel[1], nsRel[0]);
            return "uninstalled " + t.releases().get(name);
          }, null));
    }
    List<State.Component> restore = new ArrayList<>(t.installation().components());
    java.util.Collections.reverse(restore);
    for (State.Component c : restore) {
      steps.add(Step.of("restore/" + c.name(), "restore " + c.namespace() + "/" + c.release() + " to revision "
          + c.revision() + " (" + t.installation().product() + " " + t.installation().version() + ", chart "
          + c.chart() + " " + c.chartVersion() + ")", null, () -> helm.restore(c.release(), c.namespace(),
          c.revision(), work, timeoutSeconds, waitReady), null));
    }
    String from = state.installation().version();
    String title = "rollback " + state.installation().product() + " " + from + " → " + t.installation().version()
        + " in " + namespace + (t.undoing() == null ? "" : " (" + t.undoing() + ")") + ": " + steps.size()
        + " releases";
    return new Plan(KIND, title, Plan.OnFailure.RESUME, steps);
  }
}
