package dev.airlock.installer.cluster;

import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.airgap.install.State;
import dev.airlock.airgap.install.StateStore;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock plan show}. */
@Command(name = "plan", mixinStandardHelpOptions = true, description = "Operations as recorded plans.",
    subcommands = PlanCommand.Show.class)
public class PlanCommand {

  /** {@code airlock plan show}. */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Print the current (or last) operation's "
      + "plan: each phase, its status, when it ran and what it did.")
  public static class Show implements Callable<Integer> {

    @Mixin ClusterOptions cluster;
    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      Console console = new Console(output);
      try (KubeTarget kube = cluster.connect()) {
        State state = new StateStore(kube, cluster.namespace).require();
        State.Operation op = state.operation();
        if (op == null) {
          console.result("no operation recorded", Console.JSON.createObjectNode());
          return 0;
        }
        StringBuilder text = new StringBuilder(op.kind() + " " + op.id() + " (" + (op.from() == null ? ""
            : op.from() + " → ") + op.to() + ") by " + op.user() + ": " + op.result()
            + (op.reason() == null ? "" : " — " + op.reason()));
        for (State.Phase p : op.phases()) {
          text.append(String.format("%n  %-8s %-24s %s", p.status(), p.name(), p.detail() == null ? ""
              : p.detail()));
        }
        console.result(text.toString(), Console.JSON.valueToTree(op));
        return 0;
      }
    }
  }
}
