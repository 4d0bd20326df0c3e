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

/** {@code airlock upgrade}. */
@Command(name = "upgrade", mixinStandardHelpOptions = true, description = {"Upgrade the installation to a new "
    + "bundle (full or delta): verify, license (updates-until must cover the bundle), upgradesFrom, preflight, push "
    + "only the blobs the registry lacks, then upgrade the changed releases in dependency order, each waited for "
    + "until ready.", "If a step fails, every release already changed is restored as helm rollback would restore "
    + "it, live objects included (exit 5; 6 if the rollback failed too). An interrupted upgrade resumes when run "
    + "again (or with --resume). The registry, its CA or plain HTTP, and its credentials default to what the "
    + "install recorded, and so do the values given with --values at the install and earlier upgrades "
    + "(--values merges over them; --reset-values drops them)."})
public class UpgradeCommand implements Callable<Integer> {

  @Option(names = "--license", paramLabel = "FILE",
      description = "a new license file (default: the one stored with the installation)")
  Path license;

  @Option(names = "--registry", paramLabel = "HOST[:PORT][/PREFIX]",
      description = "the registry (default: the installation's)")
  String registry;

  @Option(names = "--allow-downgrade", description = "allow a bundle older than the installed version")
  boolean allowDowngrade;

  @Option(names = "--resume", description = "only finish an interrupted upgrade of this bundle; refuse if there "
      + "is none (running the same command without it also resumes)")
  boolean resume;

  @Option(names = "--reset-values", description = "forget the values given at the install and earlier upgrades: "
      + "render with the bundle's values and this command's --values only")
  boolean resetValues;

  @Mixin BundleOptions bundle;
  @Mixin ApplyOptions apply;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    DeployRequest request = InstallCommand.request(DeployRequest.upgrade(bundle.bundle, trust.roots()), bundle,
        apply).license(license).registry(registry == null ? null : RegistryTarget.parse(registry),
        registryFlags.options()).allowDowngrade(allowDowngrade).resumeOnly(resume).resetValues(resetValues).build();
    return InstallCommand.run(request, apply.yes, cluster, output);
  }
}
