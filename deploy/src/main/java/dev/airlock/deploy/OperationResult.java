package dev.airlock.deploy;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.airlock.deploy.plan.Plan;
import java.util.List;

/**
 * What an install, upgrade, rollback or uninstall did (or, for a dry run, would do). The CLI prints it as text or,
 * with {@code --output json}, as this record.
 *
 * @param changed false when nothing needed changing (a repeated install) or for a dry run
 * @param summary one line for people
 * @param installation the installation afterwards; null after an uninstall
 * @param checks the preflight results
 * @param plan the plan that ran (or would run)
 * @param operation the operation as recorded in the cluster, with each step's timing; null for a dry run
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OperationResult(String kind, boolean changed, boolean dryRun, String summary,
    State.Installation installation, List<Check> checks, Plan.View plan, State.Operation operation) {

  public OperationResult {
    checks = checks == null ? List.of() : List.copyOf(checks);
  }
}
