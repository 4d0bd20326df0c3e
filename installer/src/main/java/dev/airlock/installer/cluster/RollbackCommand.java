package dev.airlock.installer.cluster;

import dev.airlock.deploy.OperationResult;
import dev.airlock.deploy.Rollback;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.kube.KubeTarget;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock rollback}. */
@Command(name = "rollback", mixinStandardHelpOptions = true, description = {"Put the platform back at an earlier "
    + "version (default: the one before the last upgrade), or undo an unfinished upgrade, by restoring every "
    + "component's Helm release to the revision that version recorded, live objects included (as helm rollback "
    + "does). Needs no bundle. Interrupted, it resumes when run again."})
public class RollbackCommand implements Callable<Integer> {

  @Option(names = "--to-version", paramLabel = "VERSION", description = "an earlier installed version (see "
      + "'airlock history')")
  String toVersion;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m",
      converter = dev.airlock.installer.cli.DurationConverter.class,
      description = "time allowed for each release (e.g. 90s, 10m, 1h30m; default: ${DEFAULT-VALUE})")
  java.time.Duration timeout;

  @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "wait for each restored release's workloads to become ready (default: on)")
  boolean waitReady = true;

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
      OperationResult r = OperationAudit.run(kube, cluster.namespace, "rollback", () -> new Rollback(kube,
          cluster.namespace).events(console).confirm(p -> Confirm.ask(yes, p)).run(Optional.ofNullable(toVersion),
          dryRun, (int) timeout.toSeconds(), waitReady));
      console.result(Results.text(r), r);
      return 0;
    }
  }
}
