package dev.airlock.installer.bundle;

import dev.airlock.bundle.BundleSplitter;
import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
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
          + "tried before the spec's mirrors")
  List<String> mirrors = new ArrayList<>();

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
      description = "blobs downloaded at once (default: ${DEFAULT-VALUE})")
  int parallel;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "also keep blobs in this content-addressed cache and reuse them across builds (default: "
          + "$AIRLOCK_CACHE_DIR; unset: no cache)")
  Path cacheDir;

  @Option(names = "--delta-from", paramLabel = "FILE",
      description = "build a delta: leave out the layers this earlier bundle (or inventory.json) has; installing it "
          + "needs them in the target registry")
  Path deltaFrom;

  @Option(names = "--part-size", paramLabel = "SIZE",
      description = "write parts of at most SIZE (4GiB, 4.7GB, 25GB, 700MiB, or fat32, dvd, dvd-dl, bd, bd-dl) "
          + "named FILE.part-001-of-NNN..., with the signed part list FILE.parts, instead of one file")
  String partSize;

  @Option(names = "--no-sbom", description = "do not catalogue the images' layers: the bundle carries no SBOMs "
      + "(bundle sbom and the package part of bundle diff have nothing to show)")
  boolean noSbom;

  @Option(names = "--force", description = "replace FILE if it exists (it is replaced only once the new bundle is "
      + "complete)")
  boolean force;

  @Mixin RegistryFlags registry;
  @Mixin OutputOptions output;

  /**
   * This airlock's application directory, the source of the server image: $AIRLOCK_APP_DIR, else the directory of
   * the {@code quarkus-run.jar} this JVM runs.
   */
  static java.nio.file.Path applicationDir() {
    String env = System.getenv("AIRLOCK_APP_DIR");
    if (env != null && !env.isBlank()) {
      return java.nio.file.Path.of(env);
    }
    for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
      if (entry.endsWith("quarkus-run.jar")) {
        return java.nio.file.Path.of(entry).toAbsolutePath().getParent();
      }
    }
    return null;
  }

  @Override
  public Integer call() {
    Console console = new Console(output);
    dev.airlock.bundle.format.PartSize parts = partSize == null ? null
        : dev.airlock.bundle.format.PartSize.parse(partSize);
    Path dir = out.toAbsolutePath().getParent();
    if (parts != null && !force && !BundleSplitter.existingParts(dir, out.getFileName().toString()).isEmpty()) {
      throw new AirlockException(AirlockException.Kind.BAD_INPUT, dir + " already holds parts of " + out.getFileName(),
          "pass --force to replace them (parts the new set does not have are deleted), or choose another -o")
          .with(AirlockException.FILE, out);
    }
    if (parts == null && java.nio.file.Files.exists(out) && !force) {
      throw new AirlockException(AirlockException.Kind.BAD_INPUT, out + " exists", "pass --force to replace it (the "
          + "old file stays until the new one is complete), or choose another -o").with(AirlockException.FILE, out);
    }
    BundleSpec parsed = SpecParser.parse(spec);
    List<Mirror> extra = mirrors.stream().map(Mirror::parse).toList();
    SigningKey signing = signingOptions.load();
    Bundler bundler = Bundler.from(parsed.withMirrors(extra))
        .registries(registry.options())
        .parallelism(parallel)
        .signWith(signing)
        .builderVersion(BuildInfo.version())
        .serverApplication(applicationDir())
        .sboms(!noSbom)
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
    Bundler.Result r;
    // Split builds write the whole file under a hidden name, then split it in place (one part of extra disk).
    Path whole = parts == null ? out : dir.resolve("." + out.getFileName() + ".whole");
    try {
      r = bundler.build(whole);
    } catch (AirlockException e) {
      if (e.get(AirlockException.PROBLEM).filter(AirlockException.UNREACHABLE::equals).isPresent()) {
        throw new AirlockException(e.kind(), e.getMessage(), e.fix().orElse("") + ", or pull through a --mirror "
            + "REGISTRY=HOST[/PREFIX] that is", e);
      }
      throw e;
    }
    var m = r.manifest();
    if (parts != null) {
      BundleSplitter.Result split;
      try {
        split = BundleSplitter.split(whole).partSize(parts).named(out.getFileName().toString())
            .into(dir).force(force).consumeSource(true).signWith(signing).addEventHandler(console).run();
      } finally {
        // Consumed by the split when it succeeded; cut short and no bundle any more when it failed.
        try {
          java.nio.file.Files.deleteIfExists(whole);
        } catch (java.io.IOException ignored) {
          // a hidden leftover; the next build replaces it
        }
      }
      console.result(String.format("built %s %s (%d components, %d images, %d blobs, %s downloaded), signed by %s; ",
          m.name(), m.version(), m.components().size(), m.images().size(), m.totals().blobs(),
          Console.bytes(r.bytesDownloaded()), signing.certificate().keyId()) + PartsOutput.text(split),
          PartsOutput.json(split).put("name", m.name()).put("version", m.version()).put("images", m.images().size())
              .put("blobs", m.totals().blobs()).put("bytesDownloaded", r.bytesDownloaded())
              .put("signer", signing.certificate().keyId()));
      return 0;
    }
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
