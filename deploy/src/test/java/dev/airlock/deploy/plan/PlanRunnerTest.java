package dev.airlock.deploy.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import dev.airlock.event.Event;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The plan runner alone: order, resume, rollback, cancellation — against an in-memory journal. */
class PlanRunnerTest {

  /** What the cluster would record, in memory. */
  static final class MemoryJournal implements Journal {
    final Map<String, String> status = new LinkedHashMap<>();

    @Override
    public boolean isDone(String step) {
      return "done".equals(status.get(step));
    }

    @Override
    public Optional<String> failedStep() {
      return status.entrySet().stream().filter(e -> e.getValue().equals("failed")
          && !e.getKey().startsWith(PlanRunner.UNDO)).map(Map.Entry::getKey).findFirst();
    }

    @Override
    public void started(String step) {
      status.put(step, "running");
    }

    @Override
    public void done(String step, String detail) {
      status.put(step, "done");
    }

    @Override
    public void failed(String step, String detail) {
      status.put(step, "failed");
    }
  }

  final List<String> calls = new ArrayList<>();
  final List<Event> events = new ArrayList<>();
  final MemoryJournal journal = new MemoryJournal();

  Step step(String name, boolean fails) {
    return Step.of(name, "do " + name, "undo " + name, () -> {
      calls.add("run " + name);
      if (fails) {
        throw new AirlockException(AirlockException.Kind.REMOTE, name + " broke", null);
      }
      return name + " ok";
    }, () -> {
      calls.add("undo " + name);
      return name + " undone";
    });
  }

  PlanRunner runner() {
    return new PlanRunner(journal, events::add, e -> new AirlockException(AirlockException.Kind.REMOTE,
        "unexpected: " + e.getMessage(), null, e));
  }

  @Test
  void runsEveryStepInOrder_andRecordsEach() {
    Plan plan = new Plan("install", "t", Plan.OnFailure.RESUME, List.of(step("a", false), step("b", false)));
    PlanRunner.Outcome o = runner().run(plan);
    assertThat(o.succeeded()).isTrue();
    assertThat(calls).containsExactly("run a", "run b");
    assertThat(journal.status).containsExactly(Map.entry("a", "done"), Map.entry("b", "done"));
    assertThat(events).filteredOn(e -> e instanceof Event.PhaseStarted).extracting(e -> ((Event.PhaseStarted) e)
        .phase()).containsExactly("a", "b");
  }

  @Test
  void aStepRecordedDone_isNotRepeated_aStepLeftRunning_is() {
    journal.status.put("a", "done");
    journal.status.put("b", "running");
    runner().run(new Plan("install", "t", Plan.OnFailure.RESUME, List.of(step("a", false), step("b", false),
        step("c", false))));
    assertThat(calls).containsExactly("run b", "run c");
  }

  @Test
  void failureInAResumingPlan_keepsWhatIsDone_andStops() {
    PlanRunner.Outcome o = runner().run(new Plan("install", "t", Plan.OnFailure.RESUME, List.of(step("a", false),
        step("b", true), step("c", false))));
    assertThat(o.succeeded()).isFalse();
    assertThat(o.failedStep()).isEqualTo("b");
    assertThat(o.cause().getMessage()).isEqualTo("b broke");
    assertThat(calls).containsExactly("run a", "run b");
    assertThat(journal.status).containsEntry("a", "done").containsEntry("b", "failed").doesNotContainKey("c");
  }

  @Test
  void failureInARollingBackPlan_undoesTheFailedStepThenTheDoneOnes_newestFirst() {
    PlanRunner.Outcome o = runner().run(new Plan("upgrade", "t", Plan.OnFailure.ROLL_BACK, List.of(
        step("a", false), step("b", false), step("c", true), step("d", false))));
    assertThat(o.rolledBack()).isTrue();
    assertThat(calls).containsExactly("run a", "run b", "run c", "undo c", "undo b", "undo a");
    assertThat(journal.status).containsEntry("undo/c", "done").containsEntry("undo/a", "done");
    assertThat(o.undone()).containsExactly("c: c undone", "b: b undone", "a: a undone");
  }

  @Test
  void stepsWithNothingToUndo_areSkipped_andAFailingUndoIsReported_theOthersStillRun() {
    Step noUndo = Step.of("push", "push", null, () -> {
      calls.add("run push");
      return "pushed";
    }, null);
    Step badUndo = Step.of("x", "x", "undo x", () -> {
      calls.add("run x");
      return "x";
    }, () -> {
      throw new IllegalStateException("undo exploded");
    });
    PlanRunner.Outcome o = runner().run(new Plan("upgrade", "t", Plan.OnFailure.ROLL_BACK, List.of(noUndo,
        step("a", false), badUndo, step("b", true))));
    assertThat(o.rolledBack()).isFalse();
    assertThat(o.undoFailures()).singleElement().asString().contains("x: unexpected: undo exploded");
    assertThat(calls).containsExactly("run push", "run a", "run x", "run b", "undo b", "undo a");
  }

  @Test
  void aKilledRollback_continuesWhereItStopped_withoutRunningForward() {
    journal.status.put("a", "done");
    journal.status.put("b", "done");
    journal.status.put("c", "failed");
    journal.status.put("undo/c", "done");
    PlanRunner.Outcome o = runner().run(new Plan("upgrade", "t", Plan.OnFailure.ROLL_BACK, List.of(
        step("a", false), step("b", false), step("c", false))));
    assertThat(o.rolledBack()).isTrue();
    assertThat(calls).containsExactly("undo b", "undo a");
  }

  @Test
  void cancellation_stopsAtOnce_undoesNothing_andLeavesTheStepToResume() {
    Step cancelled = Step.of("b", "b", "undo b", () -> {
      throw new AirlockException(AirlockException.Kind.CANCELLED, "stopped", null);
    }, null);
    assertThatThrownBy(() -> runner().run(new Plan("upgrade", "t", Plan.OnFailure.ROLL_BACK, List.of(
        step("a", false), cancelled)))).isInstanceOfSatisfying(AirlockException.class,
        e -> assertThat(e.kind()).isEqualTo(AirlockException.Kind.CANCELLED));
    assertThat(calls).containsExactly("run a");
    assertThat(journal.status).containsEntry("b", "running");
  }

  @Test
  void planView_listsWhatEachStepDoesAndHowItIsUndone() {
    Plan plan = new Plan("upgrade", "upgrade x", Plan.OnFailure.ROLL_BACK, List.of(step("a", false)));
    assertThat(plan.view().text()).contains("upgrade x", "a  do a", "undo: undo a", "newest first");
    assertThatThrownBy(() -> new Plan("x", "t", Plan.OnFailure.RESUME, List.of(step("a", false), step("a", false))))
        .hasMessageContaining("two steps named a");
  }
}
