package dev.airlock.installer.cluster;

import dev.airlock.deploy.Installations;
import dev.airlock.deploy.State;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.ExitCodes;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.kube.KubeTarget;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock status}. */
@Command(name = "status", mixinStandardHelpOptions = true, description = {"Show the installation recorded in the "
    + "cluster and check it against the cluster: each component's Helm release (deployed at its recorded revision) "
    + "and its workloads (Deployments, StatefulSets, DaemonSets ready). Exit 0 when all is well, 11 when not."})
public class StatusCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    try (KubeTarget kube = cluster.connect()) {
      Installations.Status s = Installations.status(kube, cluster.namespace, Instant.now());
      console.result(text(s), s);
      return s.healthy() ? 0 : ExitCodes.REMOTE;
    }
  }

  static String text(Installations.Status s) {
    StringBuilder text = new StringBuilder();
    State.Installation i = s.installation();
    if (i == null) {
      text.append("no completed installation in ").append(s.namespace());
    } else {
      text.append(i.product()).append(' ').append(i.version()).append(" — ").append(i.status())
          .append(i.reason() == null ? "" : " (" + i.reason() + ")").append("\n  bundle   ").append(i.bundleDigest())
          .append("\n  license  ").append(i.licenseId());
      if (s.license() == null) {
        text.append(" (not stored in the cluster)");
      } else {
        text.append(" (").append(s.license().customer()).append(", ").append(s.license().state())
            .append(", expires ").append(s.license().expires()).append(", ").append(s.license().daysLeft())
            .append(" days left)");
      }
      text.append("\n  registry ").append(i.registry()).append("\n  by       ").append(i.installedBy())
          .append(" at ").append(dev.airlock.text.Times.format(i.installedAt()));
    }
    for (Installations.ComponentHealth c : s.components()) {
      String release = c.status().equals("missing") ? "missing" : c.status() + " r" + c.revision();
      long ready = c.workloads().stream().filter(Installations.Workload::isReady).count();
      text.append(String.format("%n  %-12s %s/%s  recorded r%d, cluster: %s, workloads ready %d/%d%s", c.component(),
          c.namespace(), c.release(), c.recordedRevision(), release, ready, c.workloads().size(), c.ok() ? ""
          : "  <-- " + problem(c)));
    }
    if (s.unfinished() != null) {
      State.Operation op = s.unfinished();
      text.append("\n  unfinished ").append(op.kind()).append(" to ").append(op.to()).append(" started ")
          .append(dev.airlock.text.Times.format(op.started())).append(" by ").append(op.user()).append(": run it again to resume, or 'airlock "
          + "rollback' to undo it");
    }
    return text.toString();
  }

  private static String problem(Installations.ComponentHealth c) {
    if (c.status().equals("missing")) {
      return "release missing";
    }
    if (c.revision() != c.recordedRevision() || !c.status().equals("deployed")) {
      return "release differs from the record";
    }
    return "not ready: " + String.join(", ", c.workloads().stream().filter(w -> !w.isReady())
        .map(w -> w.kind() + " " + w.name() + " " + w.ready() + "/" + w.desired()).toList());
  }
}
