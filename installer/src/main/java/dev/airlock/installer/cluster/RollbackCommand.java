package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.airgap.install.Rollback;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock rollback}. */
@Command(name = "rollback", mixinStandardHelpOptions = true, description = {"Put the platform back at an earlier "
    + "version (default: the one before the last upgrade), or undo an unfinished upgrade, by restoring every "
    + "component's Helm release to the revision that version recorded. Needs no bundle."})
public class RollbackCommand implements Callable<Integer> {

  @Option(names = "--to-version", paramLabel = "VERSION", description = "an earlier installed version (see "
      + "'airlock history')")
  String toVersion;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
      description = "time allowed for each release (default: ${DEFAULT-VALUE})")
  int timeout;

  @Option(names = "--yes", description = "do not ask for confirmation (needed when there is no terminal)")
  boolean yes;

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    if (!Confirm.ask(yes, "roll back the installation in " + cluster.namespace
        + (toVersion == null ? "" : " to " + toVersion))) {
      console.result("cancelled; nothing was changed", Console.JSON.createObjectNode().put("cancelled", true));
      return dev.airlock.installer.cli.ExitCodes.BAD_INPUT;
    }
    try (KubeTarget kube = cluster.connect()) {
      Rollback.Result r = Rollback.rollback(kube, cluster.namespace, Optional.ofNullable(toVersion), timeout,
          Clock.systemUTC(), console);
      ObjectNode json = Console.JSON.createObjectNode().put("from", r.from()).put("to", r.to());
      ArrayNode releases = json.putArray("releases");
      r.releases().forEach(releases::add);
      console.result("rolled back " + r.from() + " → " + r.to() + ":\n  " + String.join("\n  ", r.releases()), json);
      return 0;
    }
  }
}
