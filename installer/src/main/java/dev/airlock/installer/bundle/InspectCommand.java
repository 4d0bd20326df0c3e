package dev.airlock.installer.bundle;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.BundleSignature;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle inspect}: reads only the head of the file. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show what a bundle holds, reading only its metadata head (fast on any "
    + "size). Does not verify: use 'airlock bundle verify' for that."})
public class InspectCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle file")
  Path file;

  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    try (BundleFile f = BundleFile.open(file)) {
      BundleFile.Head head = f.readHead();
      // The head is enough to describe the bundle, but a truncated copy must not look fine: the headers of every
      // entry are read (one small read each, no content), so a file shorter than its index says is refused.
      f.index();
      BundleManifest m = head.manifest();
      BundleSignature sig = BundleSignature.parse(head.signatureBytes(), file + ":" + BundleLayout.SIGNATURE);
      StringBuilder t = new StringBuilder();
      t.append("Bundle:       ").append(m.name()).append(' ').append(m.version()).append('\n');
      if (m.description() != null && !m.description().isEmpty()) {
        t.append("Description:  ").append(m.description()).append('\n');
      }
      t.append("Created:      ").append(m.created()).append(" by ").append(m.builder().name()).append(' ')
          .append(m.builder().version()).append('\n');
      t.append("Signed by:    key ").append(sig.keyId()).append(" (root ").append(sig.certificate().issuer())
          .append(", ").append(sig.certificate().subject()).append(")\n");
      if (m.delta() != null) {
        t.append("Delta of:     ").append(m.delta().base()).append(" — leaves out ").append(m.delta().omitted()
            .size()).append(" blobs (").append(Console.bytes(m.delta().omittedBytes()))
            .append("), which the target registry must already hold\n");
      }
      if (m.revocations() != null) {
        t.append("Revocations:  ships a revocation list (").append(m.revocations()).append(")\n");
      }
      t.append("Upgrades:     ").append(m.upgradesFrom() == null ? "(any)" : m.upgradesFrom()).append('\n');
      t.append("Kubernetes:   ").append(m.kubernetes() == null ? "(any)" : m.kubernetes()).append('\n');
      if (m.requirements() != null && (m.requirements().cpu() != null || m.requirements().memory() != null)) {
        t.append("Requires:     cpu ").append(m.requirements().cpu()).append(", memory ")
            .append(m.requirements().memory()).append('\n');
      }
      t.append("Size:         ").append(Console.bytes(f.size())).append(" (images ")
          .append(Console.bytes(m.totals().imageBytes())).append(", unique blobs ")
          .append(Console.bytes(m.totals().uniqueBytes())).append(" in ").append(m.totals().blobs())
          .append(" blobs)\n");
      f.parts().ifPresent(p -> t.append("Parts:        ").append(p.list().parts().size()).append(" of at most ")
          .append(Console.bytes(p.list().partSize())).append(" in ").append(p.dir()).append(" (")
          .append(p.listFile().getFileName()).append(")\n"));
      t.append("\nComponents:\n");
      for (BundleManifest.Component c : m.components()) {
        t.append(String.format("  %-14s chart %s %s, release %s in %s%s%s%n", c.name(), c.chart().name(),
            c.chart().version(), c.releaseName(), c.namespace() == null ? "(installation namespace)" : c.namespace(), c.required() ? "" : " (optional)",
            c.dependsOn().isEmpty() ? "" : ", after " + String.join(", ", c.dependsOn())));
      }
      t.append("\nImages:\n");
      for (BundleManifest.Image i : m.images()) {
        t.append(String.format("  %s%n    %s  %s  %s%n", i.ref(), i.digest(), String.join(",", i.platforms()),
            Console.bytes(i.size())));
      }
      ObjectNode json = Console.JSON.valueToTree(m);
      json.put("file", file.toString()).put("fileSize", f.size()).put("signer", sig.keyId())
          .put("signerRoot", sig.certificate().issuer());
      f.parts().ifPresent(p -> json.put("parts", p.list().parts().size()).put("partList", p.listFile().toString()));
      console.result(t.toString().stripTrailing(), json);
    }
    return 0;
  }
}
