package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.airgap.install.Check;
import dev.airlock.airgap.install.Installer;
import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.airgap.install.State;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.RegistryFlags;
import dev.airlock.installer.cli.TrustOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock install}. */
@Command(name = "install", mixinStandardHelpOptions = true, description = {"Install the platform from a signed "
    + "bundle into a cluster: verify, license, preflight checks, push the images straight from the bundle into "
    + "the company registry, point every image at it by digest, one Helm release per component in dependency "
    + "order, and record the installation in the cluster.", "Nothing changes unless every check passes. Run it "
    + "again after an interruption: it resumes. Run it again after success: it changes nothing."})
public class InstallCommand implements Callable<Integer> {

  @Option(names = "--license", paramLabel = "FILE", required = true, description = "the license file from the vendor")
  Path license;

  @Option(names = "--registry", required = true, paramLabel = "HOST[:PORT][/PREFIX]",
      description = "the company registry the cluster pulls from: image docker.io/library/nginx:1 is pushed to "
          + "HOST/PREFIX/library/nginx:1")
  String registry;

  @Mixin OperationOptions op;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    return run(Installer.INSTALL, license, RegistryTarget.parse(registry), false, false, op, cluster, registryFlags,
        trust, output);
  }

  /** Runs an install or upgrade (or their dry run) and prints the result. */
  static int run(String kind, Path license, RegistryTarget target, boolean allowDowngrade, boolean resume,
      OperationOptions op, ClusterOptions cluster, RegistryFlags registryFlags, TrustOptions trust,
      OutputOptions output) {
    Console console = new Console(output);
    try (BundleFile bundle = BundleFile.open(op.bundle); KubeTarget kube = cluster.connect()) {
      Installer installer = new Installer(bundle, trust.roots(), kube, cluster.namespace).license(license)
          .overrides(op.overrides()).skipChecks(op.skipChecks()).dryRun(op.dryRun).waitReady(op.waitReady)
          .timeoutSeconds(op.timeout).parallelism(op.parallel).allowDowngrade(allowDowngrade).resumeOnly(resume)
          .confirm(plan -> Confirm.ask(op.yes, plan)).addEventHandler(console);
      installer.registry(target, registryFlags.options());
      if (op.without() != null) {
        installer.without(op.without());
      }
      Installer.Result r = Installer.UPGRADE.equals(kind) ? installer.upgrade() : installer.install();
      console.result(text(r), json(r));
    }
    return 0;
  }

  static String text(Installer.Result r) {
    StringBuilder sb = new StringBuilder(r.summary());
    if (r.installation() != null && r.changed()) {
      for (State.Component c : r.installation().components()) {
        sb.append("\n  ").append(c.namespace()).append('/').append(c.release()).append("  revision ")
            .append(c.revision()).append("  chart ").append(c.chart()).append(' ').append(c.chartVersion());
      }
    }
    return sb.toString();
  }

  static ObjectNode json(Installer.Result r) {
    ObjectNode n = Console.JSON.createObjectNode().put("changed", r.changed()).put("summary", r.summary());
    if (r.installation() != null) {
      n.set("installation", Console.JSON.valueToTree(r.installation()));
    }
    ArrayNode checks = n.putArray("checks");
    for (Check c : r.checks()) {
      ObjectNode o = checks.addObject().put("id", c.id()).put("status", c.status().label()).put("message",
          c.message());
      if (c.fix() != null) {
        o.put("fix", c.fix());
      }
    }
    ArrayNode plan = n.putArray("plan");
    r.plan().forEach(plan::add);
    if (r.operation() != null) {
      n.put("operation", r.operation().id());
    }
    return n;
  }
}
