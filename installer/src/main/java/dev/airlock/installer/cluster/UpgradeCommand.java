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

/** {@code airlock upgrade}. */
@Command(name = "upgrade", mixinStandardHelpOptions = true, description = {"Upgrade the installation to a new "
    + "bundle (full or delta): verify, license (updates-until must cover the bundle), upgradesFrom, preflight, push "
    + "only the blobs the registry lacks, then upgrade the releases in dependency order.", "If a step fails, every "
    + "component already upgraded is rolled back to its previous revision (exit 5; 6 if the rollback failed too). "
    + "An interrupted upgrade resumes when run again (or with --resume)."})
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

  @Mixin OperationOptions op;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    return InstallCommand.run(Installer.UPGRADE, license, registry == null ? null : RegistryTarget.parse(registry),
        allowDowngrade, resume, op, cluster, registryFlags, trust, output);
  }
}
