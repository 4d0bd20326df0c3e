package dev.airlock.installer.cluster;

import dev.airlock.airgap.install.Installer;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.RegistryFlags;
import dev.airlock.installer.cli.TrustOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock preflight}: the install's checks alone. */
@Command(name = "preflight", mixinStandardHelpOptions = true, description = {"Run the checks an install runs "
    + "(bundle, license, rendering, cluster and registry) and show the plan, changing nothing in the cluster. Exit 0 "
    + "when an install would proceed, 3 when a check fails."})
public class PreflightCommand implements Callable<Integer> {

  @Option(names = "--license", paramLabel = "FILE", required = true, description = "the license file from the vendor")
  Path license;

  @Option(names = "--registry", required = true, paramLabel = "HOST[:PORT][/PREFIX]",
      description = "the company registry the cluster will pull from")
  String registry;

  @Mixin OperationOptions op;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    op.dryRun = true;
    return InstallCommand.run(Installer.INSTALL, license, RegistryTarget.parse(registry), false, false, op, cluster,
        registryFlags, trust, output);
  }
}
