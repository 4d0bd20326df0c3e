package dev.airlock.installer.cluster;

import dev.airlock.deploy.Installations;
import dev.airlock.deploy.State;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.kube.KubeTarget;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock history}. */
@Command(name = "history", mixinStandardHelpOptions = true, description = "List every operation on the "
    + "installation: what, who, when, from → to, and the result.")
public class HistoryCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    try (KubeTarget kube = cluster.connect()) {
      Installations.History h = Installations.history(kube, cluster.namespace);
      StringBuilder text = new StringBuilder(String.format("%-28s %-9s %-17s %-20s %-22s %s", "OPERATION", "KIND",
          "FROM → TO", "USER", "STARTED", "RESULT"));
      for (State.Operation o : h.operations()) {
        text.append(String.format("%n%-28s %-9s %-17s %-20s %-22s %s", o.id(), o.kind(), (o.from() == null ? "-"
            : o.from()) + " → " + (o.to() == null ? "-" : o.to()), o.user(), dev.airlock.text.Times.format(o.started()), o.result()
            + (o.reason() == null ? "" : ": " + o.reason())));
      }
      console.result(text.toString(), h);
      return 0;
    }
  }
}
