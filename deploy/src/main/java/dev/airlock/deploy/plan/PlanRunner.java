package dev.airlock.deploy.plan;

import dev.airlock.error.AirlockException;
import dev.airlock.event.Event;
import dev.airlock.event.EventHandler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Runs a {@link Plan}: each step not yet done, in order, recording its start and end in the {@link Journal} and
 * announcing it as events. A step recorded done (by an earlier run that was killed) is not repeated. When a step
 * fails in a plan that {@linkplain Plan.OnFailure#ROLL_BACK rolls back}, the failed step and then every completed
 * step are undone, newest first, each recorded as {@code undo/NAME}; a killed rollback continues when the plan runs
 * again.
 */
public final class PlanRunner {

  public static final String UNDO = "undo/";

  private final Journal journal;
  private final EventHandler events;
  private final java.util.function.Function<RuntimeException, AirlockException> errors;

  /**
   * @param errors turns an unexpected failure of a step (a client library's exception) into an
   *     {@link AirlockException}, so that it is recorded and undone like any other
   */
  public PlanRunner(Journal journal, EventHandler events,
      java.util.function.Function<RuntimeException, AirlockException> errors) {
    this.journal = journal;
    this.events = events;
    this.errors = errors;
  }

  private String attempt(java.util.function.Supplier<String> work) {
    try {
      return work.get();
    } catch (AirlockException e) {
      throw e;
    } catch (RuntimeException e) {
      throw errors.apply(e);
    }
  }

  /**
   * How a run ended.
   *
   * @param failedStep the step that failed, or null
   * @param cause why it failed, or null
   * @param undone what each undo did, newest first
   * @param undoFailures undo steps that failed, with why
   */
  public record Outcome(String failedStep, AirlockException cause, List<String> undone, List<String> undoFailures) {
    public Outcome {
      undone = List.copyOf(undone);
      undoFailures = List.copyOf(undoFailures);
    }

    public boolean succeeded() {
      return failedStep == null;
    }

    public boolean rolledBack() {
      return failedStep != null && undoFailures.isEmpty();
    }
  }

  public Outcome run(Plan plan) {
    Optional<String> earlier = plan.onFailure() == Plan.OnFailure.ROLL_BACK ? journal.failedStep() : Optional.empty();
    if (earlier.isPresent()) {
      events.on(new Event.Log(Event.Level.WARN, "continuing the rollback of the " + plan.kind() + " that failed at "
          + earlier.get()));
      return undo(plan, earlier.get(), new AirlockException(AirlockException.Kind.REMOTE, "step " + earlier.get()
          + " failed in an earlier run", null));
    }
    for (Step step : plan.steps()) {
      if (journal.isDone(step.name())) {
        continue;
      }
      dev.airlock.io.Cancellation.check("running the " + plan.kind() + " (before " + step.name() + ")");
      events.on(new Event.PhaseStarted(step.name(), step.does(), -1));
      journal.started(step.name());
      String detail;
      try {
        detail = attempt(step::run);
      } catch (AirlockException e) {
        if (e.kind() == AirlockException.Kind.CANCELLED) {
          // Stopped by the user: the step stays "running" in the journal, so the next run resumes it.
          throw e;
        }
        journal.failed(step.name(), e.getMessage());
        events.on(new Event.PhaseFinished(step.name(), "failed: " + e.getMessage()));
        if (plan.onFailure() == Plan.OnFailure.RESUME) {
          return new Outcome(step.name(), e, List.of(), List.of());
        }
        return undo(plan, step.name(), e);
      }
      journal.done(step.name(), detail);
      events.on(new Event.PhaseFinished(step.name(), detail));
    }
    return new Outcome(null, null, List.of(), List.of());
  }

  /** Undoes {@code failed} and every step before it that completed, newest first; each undo is recorded. */
  private Outcome undo(Plan plan, String failed, AirlockException cause) {
    List<Step> toUndo = new ArrayList<>();
    for (Step s : plan.steps()) {
      if (s.name().equals(failed) || journal.isDone(s.name())) {
        toUndo.add(s);
      }
      if (s.name().equals(failed)) {
        break;
      }
    }
    Collections.reverse(toUndo);
    List<String> undone = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    events.on(new Event.PhaseStarted("rollback", "Rolling back: " + failed + " failed", -1));
    for (Step s : toUndo) {
      String name = UNDO + s.name();
      if (s.undoes() == null || journal.isDone(name)) {
        continue;
      }
      events.on(new Event.PhaseStarted(name, "Undo " + s.name() + ": " + s.undoes(), -1));
      journal.started(name);
      try {
        String detail = attempt(s::undo);
        journal.done(name, detail);
        events.on(new Event.PhaseFinished(name, detail));
        undone.add(s.name() + ": " + detail);
      } catch (AirlockException e) {
        if (e.kind() == AirlockException.Kind.CANCELLED) {
          throw e;
        }
        journal.failed(name, e.getMessage());
        events.on(new Event.PhaseFinished(name, "failed: " + e.getMessage()));
        problems.add(s.name() + ": " + e.getMessage());
      }
    }
    events.on(new Event.PhaseFinished("rollback", problems.isEmpty() ? "every step done was undone"
        : "rollback incomplete: " + String.join("; ", problems)));
    return new Outcome(failed, cause, undone, problems);
  }
}
