package dev.airlock.deploy.plan;

import java.util.Optional;

/** Where a {@link PlanRunner} records progress as it happens (for airlock: the installation record in the cluster). */
public interface Journal {

  /** Whether {@code step} completed in this or an earlier (interrupted) run of the same plan. */
  boolean isDone(String step);

  /** The step that failed in an earlier run of a plan that rolls back, if its rollback did not finish. */
  Optional<String> failedStep();

  void started(String step);

  void done(String step, String detail);

  void failed(String step, String detail);
}
