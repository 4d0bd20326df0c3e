package dev.airlock.deploy;

import dev.airlock.deploy.plan.Plan;
import dev.airlock.deploy.plan.PlanRunner;
import dev.airlock.deploy.plan.Step;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.LeaseLock;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code airlock uninstall} as a plan: the Helm releases (newest component first, and those an unfinished operation
 * created), with {@code purge} their PVCs, the image pull Secrets and the license, then the record. PVCs stay unless
 * {@code purge}: data outlives an uninstall by default, as with Helm. Namespaces stay but lose the installation's
 * label. Killed midway, it resumes when run again.
 */
public final class Uninstaller {

  public static final String KIND = "uninstall";

  private final KubeTarget kube;
  private final String namespace;
  private Clock clock = Clock.systemUTC();
  private EventHandler events = EventHandler.none();
  private Predicate<Plan.View> confirm = p -> true;
  private OperationJournal journal;

  public Uninstaller(KubeTarget kube, String namespace) {
    this.kube = kube;
    this.namespace = namespace;
  }

  public Uninstaller clock(Clock c) {
    clock = c;
    return this;
  }

  public Uninstaller events(EventHandler e) {
    events = e;
    return this;
  }

  public Uninstaller confirm(Predicate<Plan.View> c) {
    confirm = c;
    return this;
  }

  public OperationResult run(boolean purge, boolean dryRun) {
    StateStore store = new StateStore(kube, namespace);
    State state = store.require();
    Plan plan = plan(state, purge, store);
    if (dryRun) {
      return new OperationResult(KIND, false, true, "dry run: " + plan.title(), state.installation(), List.of(),
          plan.view(), null);
    }
    boolean resuming = state.operation() != null && state.operation().running()
        && state.operation().kind().equals(KIND);
    if (!resuming && !confirm.test(plan.view())) {
      throw new AirlockException(Kind.BAD_INPUT, "uninstall cancelled; nothing was changed", null);
    }
    try (LeaseLock lock = LeaseLock.acquire(kube, namespace, KIND, clock)) {
      state = store.require();
      State.Operation op = state.operation();
      State begin = state;
      if (!resuming) {
        if (op != null && op.running()) {
          events.on(new Event.Log(Event.Level.WARN, "an unfinished " + op.kind() + " (started " + dev.airlock.text.Times.format(op.started())
              + " by " + op.user() + ") is abandoned"));
          begin = state.withOperation(op.finish("failed", "abandoned: uninstalled", clock.instant())).archived();
        }
        op = new State.Operation(OperationJournal.newId(KIND, clock.instant()), KIND, state.installation() == null
            ? null : state.installation().version(), null, null, kube.user(), clock.instant(), null, "running",
            purge ? "purge" : null, List.of(), releases(state));
      }
      String product = state.installation() == null ? "unknown" : state.installation().product();
      journal = OperationJournal.begin(store, begin, op, plan, product, clock);
      PlanRunner.Outcome outcome = new PlanRunner(journal, events, e -> e instanceof KubernetesClientException k
          ? kube.failure("uninstalling", k) : new AirlockException(Kind.REMOTE, e.toString(), null, e)).run(plan);
      if (!outcome.succeeded()) {
        throw new AirlockException(outcome.cause().kind(), "uninstall failed at " + outcome.failedStep() + ": "
            + outcome.cause().getMessage(), "fix the cause and run 'airlock uninstall' again: it resumes",
            outcome.cause()).with(AirlockException.STEP, outcome.failedStep());
      }
      State.Operation done = journal.operation().finish("succeeded", null, clock.instant());
      return new OperationResult(KIND, true, false, plan.title().replaceFirst("^uninstall", "uninstalled"), null,
          List.of(), plan.view(), done);
    }
  }

  /** Every release of the installation, and those an unfinished operation may have created, newest first. */
  private static Map<String, String> releases(State state) {
    Map<String, String> out = new LinkedHashMap<>();
    if (state.installation() != null) {
      state.installation().components().forEach(c -> out.put(c.name(), c.namespace() + "/" + c.release()));
    }
    if (state.operation() != null) {
      out.putAll(state.operation().releases());
    }
    return out;
  }

  private Plan plan(State state, boolean purge, StateStore store) {
    Map<String, String> releases = state.operation() != null && state.operation().running()
        && state.operation().kind().equals(KIND) ? state.operation().releases() : releases(state);
    Releases helm = new Releases(kube);
    List<Step> steps = new ArrayList<>();
    List<String> names = new ArrayList<>(releases.keySet());
    java.util.Collections.reverse(names);
    Set<String> namespaces = new LinkedHashSet<>();
    for (String name : names) {
      String[] nsRel = releases.get(name).split("/", 2);
      namespaces.add(nsRel[0]);
      steps.add(Step.of("uninstall/" + name, "uninstall release " + releases.get(name), null, () -> {
        helm.uninstall(nsRel[1], nsRel[0]);
        return "uninstalled release " + releases.get(name);
      }, null));
      if (purge) {
        steps.add(Step.of("pvcs/" + name, "delete the PVCs of release " + releases.get(name), null,
            () -> deletePvcs(nsRel[0], nsRel[1]), null));
      }
    }
    namespaces.add(namespace);
    steps.add(Step.of("secrets", "delete image pull Secret " + ChartRenderer.PULL_SECRET + " in " + String.join(", ",
        namespaces) + ", license Secret " + Deployer.LICENSE_SECRET + " and values Secret " + InstalledValues.SECRET,
        null, () -> {
          for (String ns : namespaces) {
            kube.client().secrets().inNamespace(ns).withName(ChartRenderer.PULL_SECRET).delete();
          }
          kube.client().secrets().inNamespace(namespace).withName(Deployer.LICENSE_SECRET).delete();
          kube.client().secrets().inNamespace(namespace).withName(InstalledValues.SECRET).delete();
          return "Secrets deleted";
        }, null));
    steps.add(Step.of("record", "delete the installation record " + namespace + "/" + StateStore.NAME + "; keep "
        + "namespaces " + String.join(", ", namespaces) + " without the installation label", null, () -> {
          journal.forget();
          store.delete();
          for (String ns : namespaces) {
            store.releaseNamespace(ns);
          }
          return "record deleted";
        }, null));
    String what = state.installation() == null ? "an unfinished installation"
        : state.installation().product() + " " + state.installation().version();
    return new Plan(KIND, "uninstall " + what + " from " + namespace + ": " + releases.size() + " releases"
        + (purge ? " and their PVCs" : "; PVCs kept (--purge deletes them)"), Plan.OnFailure.RESUME, steps);
  }

  private String deletePvcs(String ns, String release) {
    List<String> deleted = new ArrayList<>();
    for (PersistentVolumeClaim pvc : kube.client().persistentVolumeClaims().inNamespace(ns)
        .withLabel("app.kubernetes.io/instance", release).list().getItems()) {
      kube.client().persistentVolumeClaims().inNamespace(ns).withName(pvc.getMetadata().getName()).delete();
      deleted.add(pvc.getMetadata().getName());
    }
    return deleted.size() + " PVCs deleted" + (deleted.isEmpty() ? "" : ": " + String.join(", ", deleted));
  }
}
