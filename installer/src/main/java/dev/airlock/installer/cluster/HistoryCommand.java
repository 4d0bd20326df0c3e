package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.airgap.install.State;
import dev.airlock.airgap.install.StateStore;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.ArrayList;
import java.util.List;
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
      State state = new StateStore(kube, cluster.namespace).require();
      List<State.Operation> ops = new ArrayList<>(state.history());
      if (state.operation() != null && state.operation().running()) {
        ops.add(state.operation().summary());
      }
      StringBuilder text = new StringBuilder(String.format("%-28s %-9s %-17s %-20s %-22s %s", "OPERATION", "KIND",
          "FROM → TO", "USER", "STARTED", "RESULT"));
      ArrayNode json = Console.JSON.createArrayNode();
      for (State.Operation o : ops) {
        text.append(String.format("%n%-28s %-9s %-17s %-20s %-22s %s", o.id(), o.kind(), (o.from() == null ? "-"
            : o.from()) + " → " + o.to(), o.user(), o.started(), o.result() + (o.reason() == null ? ""
            : ": " + o.reason())));
        json.add(Console.JSON.valueToTree(o));
      }
      console.result(text.toString(), Console.JSON.createObjectNode().set("operations", json));
      return 0;
    }
  }
}
