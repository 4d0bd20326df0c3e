package dev.airlock.installer.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.sbom.BundleSboms;
import dev.airlock.bundle.sbom.CycloneDx;
import dev.airlock.error.AirlockException;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle sbom}: the SBOMs a bundle carries. */
@Command(name = "sbom", mixinStandardHelpOptions = true, description = {"Print the SBOMs a bundle carries: with "
    + "--image, that image's CycloneDX document as stored; without, every image's packages. Each SBOM is checked "
    + "against the bundle's checksum list; 'airlock bundle verify' checks the signature over it."})
public class SbomCommand implements Callable<Integer> {

  /** The SBOM formats a bundle holds. */
  public enum Format { cyclonedx }

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle file")
  Path file;

  @Option(names = "--image", paramLabel = "REF", description = "only this image: its reference as the bundle "
      + "records it, or its repository (any tag)")
  String image;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "cyclonedx",
      description = "the SBOM format: cyclonedx (CycloneDX 1.6 JSON; the only one a bundle carries)")
  Format format;

  @Mixin OutputOptions output;

  @Override
  public Integer call() throws IOException {
    Console console = new Console(output);
    try (BundleFile f = BundleFile.open(file)) {
      BundleSboms sboms = BundleSboms.of(f);
      List<BundleManifest.Image> images = sboms.images(image);
      if (image != null && images.size() == 1) {
        BundleManifest.Image i = images.get(0);
        byte[] doc = required(sboms.sbom(i), i);
        ObjectNode json = Console.JSON.createObjectNode().put("ref", i.ref()).put("digest", i.digest());
        json.set("sbom", Console.JSON.readTree(doc));
        console.result(new String(doc, StandardCharsets.UTF_8).stripTrailing(), json);
        return 0;
      }
      StringBuilder t = new StringBuilder();
      ObjectNode json = Console.JSON.createObjectNode();
      ArrayNode list = json.putArray("images");
      for (BundleManifest.Image i : images) {
        Optional<byte[]> doc = sboms.sbom(i);
        ObjectNode n = list.addObject().put("ref", i.ref()).put("digest", i.digest());
        t.append(i.ref()).append("  ").append(i.digest()).append('\n');
        if (doc.isEmpty()) {
          t.append("  (no SBOM: the bundle was built with --no-sbom)\n");
          n.putNull("sbom");
          continue;
        }
        JsonNode bom = Console.JSON.readTree(doc.get());
        n.set("sbom", bom);
        var components = CycloneDx.components(doc.get(), file + ":" + i.sbom()).values();
        t.append("  ").append(components.size()).append(" packages\n");
        for (CycloneDx.Entry e : components) {
          t.append(String.format("  %-40s %-28s %s%n", e.name(), e.version(), e.purl()));
        }
        for (String note : CycloneDx.notes(doc.get(), file + ":" + i.sbom())) {
          t.append("  note: ").append(note).append('\n');
        }
      }
      console.result(t.toString().stripTrailing(), json);
      return 0;
    }
  }

  private byte[] required(Optional<byte[]> doc, BundleManifest.Image i) {
    return doc.orElseThrow(() -> new AirlockException(AirlockException.Kind.BAD_INPUT, file + " carries no SBOM for "
        + i.ref() + ": it was built with --no-sbom", "build the bundle again without --no-sbom"));
  }
}
