package dev.airlock.installer;

import dev.airlock.installer.bundle.BundleCommand;
import dev.airlock.installer.keys.KeysCommand;
import dev.airlock.installer.license.LicenseCommand;
import io.quarkus.picocli.runtime.annotations.TopCommand;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/** The {@code airlock} command. */
@TopCommand
@Command(name = "airlock", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
    description = "Packages a Kubernetes platform into one signed offline bundle and installs it in air-gapped "
        + "clusters.",
    footer = {"", "Exit codes: 0 ok, 1 internal error, 2 bad input, 3 preflight failed,",
        "  4 license refused, 5 failed and rolled back, 6 rollback incomplete,",
        "  10 verification failed, 11 registry, cluster or IdP failed, 12 local I/O failed,",
        "  13 login or credential refused, 130 stopped by Ctrl-C, 143 stopped by SIGTERM.",
        "Docs: docs/README.md"})
public class AirlockCommand {

  /** Every subcommand, in the order {@code --help} lists them. */
  public static final List<Class<?>> SUBCOMMANDS = List.of(VersionCommand.class, KeysCommand.class,
      BundleCommand.class, LicenseCommand.class, dev.airlock.installer.cluster.PreflightCommand.class,
      dev.airlock.installer.cluster.InstallCommand.class, dev.airlock.installer.cluster.UpgradeCommand.class,
      dev.airlock.installer.cluster.StatusCommand.class, dev.airlock.installer.cluster.HistoryCommand.class,
      dev.airlock.installer.cluster.PlanCommand.class, dev.airlock.installer.cluster.RollbackCommand.class,
      dev.airlock.installer.cluster.InventoryCommand.class, dev.airlock.installer.cluster.UninstallCommand.class,
      dev.airlock.installer.sso.SsoCommand.class, dev.airlock.installer.rbac.RbacCommand.class,
      dev.airlock.installer.server.ServerCommand.class, dev.airlock.installer.server.LoginCommand.class,
      dev.airlock.installer.server.LogoutCommand.class, dev.airlock.installer.server.WhoamiCommand.class,
      dev.airlock.installer.server.KubeTokenCommand.class, dev.airlock.installer.server.UsersCommand.class,
      dev.airlock.installer.server.AuditCommand.class, dev.airlock.installer.server.NamespaceCommand.class,
      dev.airlock.installer.support.SupportBundleCommand.class, dev.airlock.installer.support.UsageCommand.class);

  /**
   * The command line for {@code args}: the subcommand they name is built in full (its options, mixins and nested
   * commands), every other one only as its name and description, which is all the top-level help and the "did you
   * mean" suggestions need. Building every command's options took most of the CLI's start-up (docs/cli.md).
   * {@code args} null builds all in full.
   */
  public static CommandLine commandLine(CommandLine.IFactory factory, String[] args) {
    String named = null;
    for (String a : args == null ? new String[0] : args) {
      if (!a.startsWith("-")) {
        named = a;
        break;
      }
    }
    CommandLine cl = new CommandLine(AirlockCommand.class, factory);
    for (Class<?> c : SUBCOMMANDS) {
      Command command = c.getAnnotation(Command.class);
      if (args == null || command.name().equals(named)) {
        cl.addSubcommand(command.name(), new CommandLine(c, factory));
      } else {
        CommandSpec listed = CommandSpec.create().name(command.name());
        listed.usageMessage().description(command.description());
        cl.addSubcommand(command.name(), new CommandLine(listed, factory));
      }
    }
    return cl;
  }
}
