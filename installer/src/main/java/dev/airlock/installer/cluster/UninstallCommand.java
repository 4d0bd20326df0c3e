package dev.airlock.installer.cluster;

import dev.airlock.deploy.OperationResult;
import dev.airlock.deploy.Uninstaller;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.kube.KubeTarget;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock uninstall}. */
@Command(name = "uninstall", mixinStandardHelpOptions = true, description = {"Remove the installation: every "
    + "component's Helm release, the image pull Secrets, the stored license and the installation record. "
    + "PersistentVolumeClaims (data) stay unless --purge. Images stay in the registry; namespaces stay."})
public class UninstallCommand implements Callable<Integer> {

  @Option(names = "--purge", description = "also delete the releases' PersistentVolumeClaims: their data is lost")
  boolean purge;

  @Option(names = "--yes", description = "do not ask for confirmation (needed when there is no terminal)")
  boolean yes;

  @Option(names = "--dry-run", description = "show the plan; change nothing")
  boolean dryRun;

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    try (KubeTarget kube = cluster.connect()) {
      OperationResult r = OperationAudit.run(kube, cluster.namespace, "uninstall", () -> new Uninstaller(kube,
          cluster.namespace).events(console).confirm(p -> Confirm.ask(yes, p)).run(purge, dryRun));
      console.result(Results.text(r), r);
      return 0;
    }
  }
}
