package dev.airlock.deploy;

import dev.airlock.deploy.plan.Journal;
import dev.airlock.deploy.plan.Plan;
import dev.airlock.deploy.plan.PlanRunner;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Records a plan's progress in the installation record ({@link StateStore}) as it happens: the plan's steps as
 * {@code pending} before the first one runs, then each as {@code running}, {@code done} or {@code failed}, and undo
 * steps as they run. Every write carries the resourceVersion it read, so a second airlock writing meanwhile fails.
 */
final class OperationJournal implements Journal {

  private final StateStore store;
  private final String product;
  private final Clock clock;
  private State state;
  private boolean forgotten;

  private OperationJournal(StateStore store, String product, Clock clock, State state) {
    this.store = store;
    this.product = product;
    this.clock = clock;
    this.state = state;
  }

  /** A new operation id: {@code kind-yyyyMMddTHHmmssZ}. */
  static String newId(String kind, Instant now) {
    return kind + "-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(now);
  }

  /**
   * Records {@code op} (a new operation, or the interrupted one being resumed) with every step of {@code plan}
   * listed, and returns the journal that records the run.
   */
  static OperationJournal begin(StateStore store, State state, State.Operation op, Plan plan, String product,
      Clock clock) {
    State.Operation recorded = op;
    for (Plan.StepView s : plan.view().steps()) {
      if (recorded.phase(s.name()).isEmpty()) {
        recorded = recorded.with(new State.Phase(s.name(), State.PENDING, s.does(), null, null, null));
      }
    }
    State s = (state == null ? new State(null, recorded, List.of(), List.of()) : state.withOperation(recorded));
    OperationJournal j = new OperationJournal(store, product, clock, s);
    j.save();
    return j;
  }

  State state() {
    return state;
  }

  State.Operation operation() {
    return state.operation();
  }

  /** Changes the recorded state and writes it. */
  void update(UnaryOperator<State> change) {
    state = change.apply(state);
    save();
  }

  private void save() {
    if (!forgotten) {
      store.save(state, product);
    }
  }

  /** Stops writing: the record is being deleted (uninstall); later progress stays in memory only. */
  void forget() {
    forgotten = true;
  }

  @Override
  public boolean isDone(String step) {
    return state.operation().done(step);
  }

  @Override
  public Optional<String> failedStep() {
    return state.operation().failedStep();
  }

  @Override
  public void started(String step) {
    set(step, State.RUNNING, null);
  }

  @Override
  public void done(String step, String detail) {
    set(step, State.DONE, detail);
  }

  @Override
  public void failed(String step, String detail) {
    set(step, State.FAILED, detail);
  }

  private void set(String step, String status, String detail) {
    State.Operation op = state.operation();
    State.Phase phase = op.phase(step).orElseGet(() -> new State.Phase(step, State.PENDING,
        step.startsWith(PlanRunner.UNDO) ? "undo " + step.substring(PlanRunner.UNDO.length()) : step, null, null,
        null));
    update(s -> s.withOperation(op.with(phase.withStatus(status, clock.instant(), detail))));
  }
}
