package dev.airlock.installer.bundle;

import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.installer.BuildInfo;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.RegistryFlags;
import dev.airlock.installer.cli.SigningOptions;
import dev.airlock.keys.SigningKey;
import dev.airlock.oci.Platform;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock bundle build}. */
@Command(name = "build", mixinStandardHelpOptions = true, description = "Build one signed bundle file from a bundle.yaml.")
public class BuildCommand implements Callable<Integer> {

  @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "the bundle spec")
  Path spec;

  @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "the bundle file to write")
  Path out;

  @Mixin SigningOptions signingOptions;

  @Option(names = "--platform", paramLabel = "OS/ARCH[,...]", split = ",",
      description = "keep only these platforms of multi-arch images (default: the spec's platforms, else all)")
  List<String> platforms = new ArrayList<>();

  @Option(names = "--mirror", paramLabel = "REGISTRY=HOST[/PREFIX]",
      description = "pull REGISTRY's images through a mirror, e.g. docker.io=127.0.0.1:5000/hub; repeatable; "
          + "overrides the spec's mirrors")
  List<String> mirrors = new ArrayList<>();

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
      description = "blobs downloaded at once (default: ${DEFAULT-VALUE})")
  int parallel;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "content-addressed blob cache (default: $AIRLOCK_CACHE_DIR or ~/.cache/airlock)")
  Path cacheDir;

  @Option(names = "--delta-from", paramLabel = "FILE",
      description = "build a delta: leave out the layers this earlier bundle (or inventory.json) has; installing it "
          + "needs them in the target registry")
  Path deltaFrom;

  @Mixin RegistryFlags registry;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    BundleSpec parsed = SpecParser.parse(spec);
    List<Mirror> extra = mirrors.stream().map(Mirror::parse).toList();
    SigningKey signing = signingOptions.load();
    Bundler bundler = Bundler.from(parsed.withMirrors(extra))
        .registries(registry.options())
        .parallelism(parallel)
        .signWith(signing)
        .builderVersion(BuildInfo.version())
        .addEventHandler(console);
    if (!platforms.isEmpty()) {
      bundler.platforms(platforms.stream().map(Platform::parse).toList());
    }
    if (cacheDir != null) {
      bundler.cacheDir(cacheDir);
    }
    if (deltaFrom != null) {
      bundler.deltaFrom(dev.airlock.bundle.DeltaBase.read(deltaFrom));
    }
    Bundler.Result r = bundler.build(out);
    var m = r.manifest();
    console.result(String.format("built %s: %s %s, %d components, %d images, %d blobs, %s (%s downloaded, %d blobs "
            + "reused), signed by %s", r.output(), m.name(), m.version(), m.components().size(), m.images().size(),
        m.totals().blobs(), Console.bytes(r.size()), Console.bytes(r.bytesDownloaded()), r.blobsReused(),
        signing.certificate().keyId()) + (m.delta() == null ? "" : String.format("; a delta of %s leaving out %d "
            + "blobs (%s)", m.delta().base(), m.delta().omitted().size(), Console.bytes(m.delta().omittedBytes()))),
        Console.JSON.createObjectNode().put("file", r.output().toString()).put("name", m.name())
            .put("version", m.version()).put("size", r.size()).put("images", m.images().size())
            .put("blobs", m.totals().blobs()).put("bytesDownloaded", r.bytesDownloaded())
            .put("blobsReused", r.blobsReused()).put("signer", signing.certificate().keyId()));
    return 0;
  }
}
