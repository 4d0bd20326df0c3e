package dev.airlock.installer.cluster;

import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.deploy.DeployRequest;
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

  @Mixin BundleOptions bundle;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    DeployRequest request = InstallCommand.request(DeployRequest.install(bundle.bundle, trust.roots()), bundle, null)
        .dryRun(true).license(license).registry(RegistryTarget.parse(registry), registryFlags.options()).build();
    return InstallCommand.run(request, true, cluster, output);
  }
}
