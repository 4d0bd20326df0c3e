package dev.airlock.installer.bundle;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.airlock.airgap.push.ImagePusher;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.RegistryFlags;
import dev.airlock.installer.cli.TrustOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle push}: the bundle's images into a private registry, straight from the file. */
@Command(name = "push", mixinStandardHelpOptions = true, description = {"Push a bundle's images into a registry "
    + "straight from the file (no extraction): each blob once, skipping what the registry has, mounting across "
    + "repositories; then manifests by digest and the original tags. Running it again changes nothing."})
public class PushCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle file")
  Path file;

  @Option(names = "--registry", required = true, paramLabel = "HOST[:PORT][/PREFIX]",
      description = "where to push: image docker.io/library/nginx:1 goes to HOST/PREFIX/library/nginx:1")
  String registry;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
      description = "blobs uploaded at once (default: ${DEFAULT-VALUE})")
  int parallel;

  @Option(names = "--chunk-size", paramLabel = "MIB", defaultValue = "0",
      description = "upload blobs larger than this in chunks of this many MiB (default: one request per blob "
          + "unless the registry asks for chunks)")
  long chunkMib;

  @Option(names = "--verify-contents", description = "hash every entry before pushing (the signature and the "
      + "structure are always checked; the registry checks every blob's digest as it receives it)")
  boolean verifyContents;

  @Mixin RegistryFlags registryFlags;
  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    RegistryTarget target = RegistryTarget.parse(registry);
    try (BundleFile bundle = BundleFile.open(file)) {
      new BundleVerifier(trust.roots(), Clock.systemUTC(), console).verify(bundle, verifyContents);
      ImagePusher.Result r = ImagePusher.from(bundle).to(target).registries(registryFlags.options())
          .parallelism(parallel).chunkSize(chunkMib * 1024 * 1024).addEventHandler(console).push();
      StringBuilder text = new StringBuilder(String.format("pushed %d images to %s: %d blobs uploaded (%s), %d "
          + "mounted, %d already present, %d manifests and tags written", r.images().size(), target,
          r.blobsUploaded(), Console.bytes(r.bytesUploaded()), r.blobsMounted(), r.blobsPresent(), r.manifestsPut()));
      ArrayNode images = Console.JSON.createArrayNode();
      for (ImagePusher.Pushed p : r.images()) {
        text.append("\n  ").append(p.source()).append(" -> ").append(p.target());
        images.addObject().put("source", p.source()).put("target", p.target()).put("digest", p.digest());
      }
      var json = Console.JSON.createObjectNode().put("registry", target.toString())
          .put("blobsUploaded", r.blobsUploaded()).put("bytesUploaded", r.bytesUploaded())
          .put("blobsMounted", r.blobsMounted()).put("blobsPresent", r.blobsPresent())
          .put("manifestsPut", r.manifestsPut());
      json.set("images", images);
      console.result(text.toString(), json);
    }
    return 0;
  }
}
