package dev.airlock.installer.cluster;

import picocli.CommandLine.Option;

/** How install and upgrade change the cluster: waiting, timeouts, parallel uploads, confirmation, dry run. */
public class ApplyOptions {

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m",
      converter = dev.airlock.installer.cli.DurationConverter.class,
      description = "time allowed for each Helm release, readiness included (e.g. 90s, 10m, 1h30m; default: ${DEFAULT-VALUE})")
  public java.time.Duration timeout;

  @Option(names = "--wait", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "wait for every release's workloads to become ready before the next one (default: on; "
          + "--no-wait only applies the objects). A release that is not ready within --timeout fails")
  public boolean waitReady = true;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
      description = "blobs uploaded at once (default: ${DEFAULT-VALUE})")
  public int parallel;

  @Option(names = "--yes", description = "do not ask for confirmation (needed when there is no terminal)")
  public boolean yes;

  @Option(names = "--dry-run", description = "run every check and show the plan; change nothing")
  public boolean dryRun;
}
