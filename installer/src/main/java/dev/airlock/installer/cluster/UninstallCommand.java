package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.airgap.install.Uninstaller;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock uninstall}. */
@Command(name = "uninstall", mixinStandardHelpOptions = true, description = {"Remove the installation: every "
    + "component's Helm release, the image pull Secrets, the stored license and the installation record. "
    + "PersistentVolumeClaims (data) stay unless --purge. Images stay in the registry."})
public class UninstallCommand implements Callable<Integer> {

  @Option(names = "--purge", description = "also delete the releases' PersistentVolumeClaims: their data is lost")
  boolean purge;

  @Option(names = "--yes", description = "do not ask for confirmation (needed when there is no terminal)")
  boolean yes;

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    if (!Confirm.ask(yes, "uninstall everything recorded in namespace " + cluster.namespace
        + (purge ? " and DELETE its PersistentVolumeClaims" : ""))) {
      console.result("cancelled; nothing was changed", Console.JSON.createObjectNode().put("cancelled", true));
      return dev.airlock.installer.cli.ExitCodes.BAD_INPUT;
    }
    try (KubeTarget kube = cluster.connect()) {
      Uninstaller.Result r = Uninstaller.uninstall(kube, cluster.namespace, purge, console);
      ObjectNode json = Console.JSON.createObjectNode().put("product", r.product()).put("version", r.version());
      ArrayNode releases = json.putArray("releases");
      r.releases().forEach(releases::add);
      ArrayNode pvcs = json.putArray("pvcsDeleted");
      r.pvcs().forEach(pvcs::add);
      console.result("uninstalled " + (r.product() == null ? "the unfinished installation" : r.product() + " "
          + r.version()) + " from " + cluster.namespace + ": " + r.releases().size() + " releases removed"
          + (purge ? ", " + r.pvcs().size() + " PVCs deleted" : ", PVCs kept"), json);
      return 0;
    }
  }
}
