package dev.airlock.installer.cluster;

import dev.airlock.deploy.Installations;
import dev.airlock.deploy.State;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.kube.KubeTarget;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock plan show}. */
@Command(name = "plan", mixinStandardHelpOptions = true, description = "Operations as recorded plans.",
    subcommands = PlanCommand.Show.class)
public class PlanCommand {

  /** {@code airlock plan show}. */
  @Command(name = "show", mixinStandardHelpOptions = true, description = "Print the current (or last) operation's "
      + "plan: each step, its status, how long it took and what it did.")
  public static class Show implements Callable<Integer> {

    @Mixin ClusterOptions cluster;
    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      Console console = new Console(output);
      try (KubeTarget kube = cluster.connect()) {
        State.Operation op = Installations.lastOperation(kube, cluster.namespace);
        if (op == null) {
          console.result("no operation recorded", new Object() {
            public final String operation = null;
          });
          return 0;
        }
        console.result(text(op), op);
        return 0;
      }
    }

    static String text(State.Operation op) {
      StringBuilder text = new StringBuilder(op.kind() + " " + op.id() + " (" + (op.from() == null ? ""
          : op.from() + " → ") + (op.to() == null ? "-" : op.to()) + ") by " + op.user() + ": " + op.result()
          + (op.reason() == null ? "" : " — " + op.reason()));
      int width = op.phases().stream().mapToInt(p -> p.name().length()).max().orElse(10);
      for (State.Phase p : op.phases()) {
        String took = p.started() == null || p.finished() == null ? ""
            : String.format("%.1fs", Duration.between(p.started(), p.finished()).toMillis() / 1000.0);
        text.append(String.format("%n  %-8s %-" + width + "s %7s  %s", p.status(), p.name(), took,
            p.detail() != null ? p.detail() : p.does() == null ? "" : p.does()));
      }
      return text.toString();
    }
  }
}
