package dev.airlock.installer.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.airgap.install.Inventory;
import dev.airlock.airgap.install.KubeTarget;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.RegistryFlags;
import dev.airlock.io.AtomicFiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock inventory export}. */
@Command(name = "inventory", mixinStandardHelpOptions = true, description = "What the installation's registry "
    + "holds, for delta bundles.", subcommands = InventoryCommand.Export.class)
public class InventoryCommand {

  /** {@code airlock inventory export -o inventory.json}. */
  @Command(name = "export", mixinStandardHelpOptions = true, description = {"List every blob (manifests, configs, "
      + "layers) of every image the installation uses, read from its registry. Give the file to the vendor: "
      + "'airlock bundle build --delta-from inventory.json' leaves those blobs out of the next bundle."})
  public static class Export implements Callable<Integer> {

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "where to write the JSON")
    Path out;

    @Option(names = "--force", description = "replace FILE if it exists")
    boolean force;

    @Mixin ClusterOptions cluster;
    @Mixin RegistryFlags registryFlags;
    @Mixin OutputOptions output;

    @Override
    public Integer call() {
      Console console = new Console(output);
      try (KubeTarget kube = cluster.connect()) {
        ObjectNode doc = Inventory.export(kube, cluster.namespace, registryFlags.options());
        try {
          AtomicFiles.write(out, Console.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n", false,
              force);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new AirlockException(Kind.IO, "cannot encode the inventory", null, e);
        }
        console.result("wrote " + out + ": " + doc.path("blobs").size() + " blobs of " + doc.path("images").size()
            + " images of " + doc.path("product").asText() + " " + doc.path("version").asText() + " in "
            + doc.path("registry").asText(), Console.JSON.createObjectNode().put("file", out.toString())
            .put("blobs", doc.path("blobs").size()));
        return 0;
      }
    }
  }
}
