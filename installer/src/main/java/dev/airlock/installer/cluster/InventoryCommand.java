package dev.airlock.installer.cluster;

import dev.airlock.airgap.inventory.Inventory;
import dev.airlock.deploy.InventoryExport;
import dev.airlock.kube.KubeTarget;
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

  /** What {@code inventory export} wrote. */
  record Written(String file, int blobs, int images) {}

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
        Inventory doc = InventoryExport.export(kube, cluster.namespace, registryFlags.options());
        try {
          AtomicFiles.write(out, Console.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n", false,
              force);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new AirlockException(Kind.IO, "cannot encode the inventory", null, e);
        }
        console.result("wrote " + out + ": " + doc.blobs().size() + " blobs of " + doc.images().size()
            + " images of " + doc.product() + " " + doc.version() + " in " + doc.registry(),
            new Written(out.toString(), doc.blobs().size(), doc.images().size()));
        return 0;
      }
    }
  }
}
