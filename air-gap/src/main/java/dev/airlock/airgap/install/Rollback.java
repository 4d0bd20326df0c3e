package dev.airlock.airgap.install;

import com.marcnuri.helm.Release;
import dev.airlock.bundle.event.Event;
import dev.airlock.bundle.event.EventHandler;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code airlock rollback}: puts the platform back at an earlier installed version (default: the one before the
 * last upgrade), or undoes an unfinished upgrade, by restoring each component's Helm release to the revision that
 * version recorded (its chart and values, as {@code helm rollback} does). Needs no bundle: the images are still in
 * the registry.
 */
public final class Rollback {

  private Rollback() {}

  /** What was restored. */
  public record Result(String from, String to, List<String> releases) {}

  public static Result rollback(KubeTarget kube, String namespace, Optional<String> toVersion, int timeoutSeconds,
      Clock clock, EventHandler events) {
    StateStore store = new StateStore(kube, namespace);
    store.require();
    try (OperationLock lock = OperationLock.acquire(kube, namespace, "rollback", clock)) {
      return rollback(kube, store, namespace, toVersion, timeoutSeconds, clock, events);
    }
  }

  private static Result rollback(KubeTarget kube, StateStore store, String namespace, Optional<String> toVersion,
      int timeoutSeconds, Clock clock, EventHandler events) {
    State state = store.require();
    State.Installation current = state.installation();
    State.Installation target;
    List<State.Installation> previous = new ArrayList<>(state.previous());
    boolean unfinished = state.operation() != null && state.operation().running();
    if (current == null) {
      throw new AirlockException(Kind.BAD_INPUT, "no completed installation in " + namespace + " to roll back to",
          "finish the install by running it again, or 'airlock uninstall'");
    }
    if (unfinished && toVersion.map(v -> v.equals(current.version())).orElse(true)) {
      // An interrupted operation: the record still describes the platform before it.
      target = current;
    } else {
      target = null;
      for (int i = previous.size() - 1; i >= 0 && target == null; i--) {
        if (toVersion.isEmpty() || previous.get(i).version().equals(toVersion.get())) {
          target = previous.remove(i);
        }
      }
      if (target == null) {
        throw new AirlockException(Kind.BAD_INPUT, toVersion.map(v -> "version " + v + " is not among the earlier "
            + "installations").orElse("there is no earlier installation to roll back to"), "see 'airlock history'; "
            + "earlier versions kept: " + String.join(", ", state.previous().stream().map(State.Installation::version)
            .toList()));
      }
    }
    Instant now = clock.instant();
    State.Operation op = new State.Operation("rollback-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
        .withZone(ZoneOffset.UTC).format(now), "rollback", current.version(), target.version(), target.bundleDigest(),
        kube.user(), now, null, "running", unfinished ? "undoing the unfinished " + state.operation().kind() : null,
        List.of());
    if (unfinished) {
      State.Operation abandoned = state.operation().finish("failed", "abandoned: rolled back by hand", now);
      state = state.withOperation(abandoned).archived();
    }
    state = state.withOperation(op);
    store.save(state, current.product());
    events.on(new Event.PhaseStarted("rollback", "Rolling back " + current.product() + " " + current.version()
        + " to " + target.version(), -1));
    Releases helm = new Releases(kube);
    List<String> done = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Set<String> keep = new LinkedHashSet<>();
    target.components().forEach(c -> keep.add(c.namespace() + "/" + c.release()));
    Path work;
    try {
      work = Files.createTempDirectory("airlock-rollback");
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot create a work directory: " + e.getMessage(), null, e);
    }
    List<State.Component> restored = new ArrayList<>();
    List<State.Component> drop = new ArrayList<>(current.components());
    drop.removeIf(c -> keep.contains(c.namespace() + "/" + c.release()));
    for (State.Component c : drop) {
      try {
        helm.uninstall(c.release(), c.namespace());
        done.add("uninstalled " + c.release());
      } catch (AirlockException e) {
        problems.add(c.release() + ": " + e.getMessage());
      }
    }
    for (State.Component c : target.components()) {
      try {
        Optional<Releases.Revision> latest = helm.latest(c.release(), c.namespace());
        int revision = c.revision();
        if (latest.isPresent() && latest.get().revision() == c.revision()
            && "deployed".equals(latest.get().status())) {
          done.add(c.release() + " already at revision " + revision);
        } else {
          Release r = helm.rollback(c.release(), c.namespace(), c.revision(), work, timeoutSeconds, false);
          revision = Integer.parseInt(r.getRevision());
          done.add(c.release() + " restored revision " + c.revision() + " as " + revision);
        }
        restored.add(new State.Component(c.name(), c.namespace(), c.release(), revision, c.chart(), c.chartVersion(),
            c.renderedDigest()));
        events.on(new Event.Log(Event.Level.INFO, done.get(done.size() - 1)));
      } catch (AirlockException e) {
        problems.add(c.release() + ": " + e.getMessage());
        restored.add(c);
      }
    }
    dev.airlock.io.TempTrees.delete(work);
    boolean ok = problems.isEmpty();
    State.Installation back = new State.Installation(target.product(), target.version(), target.bundleDigest(),
        target.licenseId(), target.registry(), target.namespace(), kube.user(), clock.instant(), ok ? "installed"
        : "failed", ok ? null : "rollback incomplete: " + String.join("; ", problems), restored, target.images(),
        target.without());
    State fin = state.withInstallation(back).withOperation(op.finish(ok ? "succeeded" : "failed", ok ? null
        : String.join("; ", problems), clock.instant())).archived().withPrevious(previous);
    store.save(fin, current.product());
    events.on(new Event.PhaseFinished("rollback", ok ? current.product() + " is at " + target.version()
        : "rollback incomplete"));
    if (!ok) {
      throw new AirlockException(Kind.ROLLBACK_INCOMPLETE, "rolling back to " + target.version() + " failed for: "
          + String.join("; ", problems), "fix the cause and run 'airlock rollback' again");
    }
    return new Result(current.version(), target.version(), done);
  }

}
