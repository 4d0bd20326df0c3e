package dev.airlock.installer.cluster;

import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.deploy.DeployRequest;
import dev.airlock.deploy.Deployer;
import dev.airlock.deploy.OperationResult;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.RegistryFlags;
import dev.airlock.installer.cli.TrustOptions;
import dev.airlock.kube.KubeTarget;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock install}. */
@Command(name = "install", mixinStandardHelpOptions = true, description = {"Install the platform from a signed "
    + "bundle into a cluster: verify, license, preflight checks, push the images straight from the bundle into "
    + "the company registry, point every image at it by digest, one Helm release per component in dependency "
    + "order (each waited for until ready), and record the installation in the cluster.", "Nothing changes unless "
    + "every check passes. Run it again after an interruption: it resumes. Run it again after success: it changes "
    + "nothing."})
public class InstallCommand implements Callable<Integer> {

  @Option(names = "--license", paramLabel = "FILE", required = true, description = "the license file from the vendor")
  Path license;

  @Option(names = "--registry", required = true, paramLabel = "HOST[:PORT][/PREFIX]",
      description = "the company registry the cluster pulls from: image docker.io/library/nginx:1 is pushed to "
          + "HOST/PREFIX/library/nginx:1")
  String registry;

  @Mixin BundleOptions bundle;
  @Mixin ApplyOptions apply;
  @Mixin ClusterOptions cluster;
  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    DeployRequest request = request(DeployRequest.install(bundle.bundle, trust.roots()), bundle, apply)
        .license(license).registry(RegistryTarget.parse(registry), registryFlags.options()).build();
    return run(request, apply.yes, cluster, output);
  }

  /** The request's parts every install, upgrade and preflight shares. */
  static DeployRequest.Builder request(DeployRequest.Builder b, BundleOptions bundle, ApplyOptions apply) {
    b.overrides(bundle.overrides()).skipChecks(bundle.skipChecks()).without(bundle.without());
    if (apply != null) {
      b.dryRun(apply.dryRun).waitReady(apply.waitReady).timeoutSeconds((int) apply.timeout.toSeconds()).parallelism(apply.parallel);
    }
    return b;
  }

  /**
   * The break-glass admin of the airlock server, made at the install that brings the server: returns the password
   * to show once, or null (no server in the bundle, or the admin existed).
   */
  private static String adminPassword(KubeTarget kube, dev.airlock.deploy.OperationResult r) {
    if (r.installation() == null) {
      return null;
    }
    return r.installation().components().stream()
        .filter(c -> c.name().equals(dev.airlock.bundle.spec.BundleSpec.ServerSpec.COMPONENT)).findFirst()
        .map(c -> dev.airlock.installer.server.AdminPassword.ensure(kube.client(), c.namespace())).orElse(null);
  }

  /** Runs an install or upgrade (or its dry run) and prints the result. */
  static int run(DeployRequest request, boolean yes, ClusterOptions cluster, OutputOptions output) {
    Console console = new Console(output);
    try (KubeTarget kube = cluster.connect()) {
      OperationResult r = OperationAudit.run(kube, cluster.namespace, request.kind(), () -> new Deployer(kube,
          cluster.namespace).confirm(plan -> Confirm.ask(yes, plan)).addEventHandler(console).run(request));
      String password = request.kind().equals("install") && !r.dryRun() ? adminPassword(kube, r) : null;
      if (password == null) {
        console.result(Results.text(r), r);
      } else {
        var json = Console.JSON.valueToTree(r);
        ((com.fasterxml.jackson.databind.node.ObjectNode) json).put("adminPassword", password);
        console.result(Results.text(r) + "\nThe airlock server's break-glass admin password, shown this once (only "
            + "its hash is kept, in Secret " + dev.airlock.installer.server.AirlockServer.ADMIN_SECRET + "): "
            + password + "\nKeep it in the company's vault: it logs in when the IdP is down.", json);
      }
    }
    return 0;
  }
}
