package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.airgap.install.Installer;
import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.airgap.install.Releases;
import dev.airlock.airgap.install.State;
import dev.airlock.airgap.install.StateStore;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.license.Entitlements;
import dev.airlock.license.License;
import dev.airlock.license.LicenseFile;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock status}. */
@Command(name = "status", mixinStandardHelpOptions = true, description = {"Show the installation recorded in the "
    + "cluster and check each component's Helm release against the record. Exit 0 when every release is deployed "
    + "at its recorded revision, 11 when one is not."})
public class StatusCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    try (KubeTarget kube = cluster.connect()) {
      State state = new StateStore(kube, cluster.namespace).require();
      State.Installation i = state.installation();
      StringBuilder text = new StringBuilder();
      ObjectNode json = Console.JSON.createObjectNode();
      boolean healthy = i != null;
      if (i == null) {
        text.append("no completed installation in ").append(cluster.namespace);
      } else {
        text.append(i.product()).append(' ').append(i.version()).append(" — ").append(i.status())
            .append(i.reason() == null ? "" : " (" + i.reason() + ")").append("\n  bundle   ").append(i.bundleDigest())
            .append("\n  license  ").append(i.licenseId()).append(licenseState(kube, json))
            .append("\n  registry ").append(i.registry())
            .append("\n  by       ").append(i.installedBy()).append(" at ").append(i.installedAt());
        json.set("installation", Console.JSON.valueToTree(i));
        ArrayNode releases = json.putArray("releases");
        Releases helm = new Releases(kube);
        for (State.Component c : i.components()) {
          Optional<Releases.Revision> latest = helm.latest(c.release(), c.namespace());
          String actual = latest.map(r -> r.status() + " r" + r.revision()).orElse("missing");
          boolean ok = latest.isPresent() && latest.get().revision() == c.revision()
              && "deployed".equals(latest.get().status());
          healthy &= ok;
          text.append(String.format("%n  %-12s %s/%s  recorded r%d, cluster: %s%s", c.name(), c.namespace(),
              c.release(), c.revision(), actual, ok ? "" : "  <-- differs"));
          releases.addObject().put("component", c.name()).put("release", c.release()).put("namespace",
              c.namespace()).put("recordedRevision", c.revision()).put("status", latest.map(Releases.Revision::status)
              .orElse("missing")).put("revision", latest.map(Releases.Revision::revision).orElse(0)).put("ok", ok);
        }
      }
      State.Operation op = state.operation();
      if (op != null && op.running()) {
        healthy = false;
        text.append("\n  unfinished ").append(op.kind()).append(" to ").append(op.to()).append(" started ")
            .append(op.started()).append(" by ").append(op.user()).append(": run it again to resume");
      }
      json.put("healthy", healthy);
      if (op != null) {
        json.set("operation", Console.JSON.valueToTree(op));
      }
      console.result(text.toString(), json);
      return healthy ? 0 : dev.airlock.installer.cli.ExitCodes.REMOTE;
    }
  }

  /** The stored license's state and end date, as recorded (its signature was checked when it was stored). */
  private String licenseState(KubeTarget kube, ObjectNode json) {
    var secret = kube.client().secrets().inNamespace(cluster.namespace).withName(Installer.LICENSE_SECRET).get();
    if (secret == null || secret.getData() == null || !secret.getData().containsKey("license.yaml")) {
      return " (not stored in the cluster)";
    }
    License l = LicenseFile.parse(java.util.Base64.getDecoder().decode(secret.getData().get("license.yaml")),
        cluster.namespace + "/" + Installer.LICENSE_SECRET).license();
    Entitlements e = new Entitlements(l);
    Instant now = Instant.now();
    String state = e.state(now).name().toLowerCase(java.util.Locale.ROOT);
    json.putObject("license").put("id", l.id()).put("customer", l.customer()).put("expires",
        l.expires().toString()).put("state", state).put("daysLeft", e.daysLeft(now));
    return " (" + l.customer() + ", " + state + ", expires " + l.expires() + ", " + e.daysLeft(now) + " days left)";
  }
}
