package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.Json;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a delta bundle may leave out: the blobs of an earlier bundle, or of an inventory of what the target registry
 * holds ({@code {"blobs": ["sha256:…", …]}}).
 *
 * @param description names the base, for the manifest and for messages
 * @param blobs blobs the target registry is expected to hold already
 */
public record DeltaBase(String description, Set<Digest> blobs) {

  public DeltaBase {
    blobs = Set.copyOf(blobs);
  }

  /** From a bundle file or an inventory JSON file. */
  public static DeltaBase read(Path file) {
    return BundleFile.isBundle(file) ? fromBundle(file) : fromInventory(file);
  }

  static DeltaBase fromBundle(Path file) {
    try (BundleFile bundle = BundleFile.open(file)) {
      BundleManifest m = bundle.readHead().manifest();
      Set<Digest> all = new LinkedHashSet<>();
      for (BundleManifest.Image img : m.images()) {
        img.blobs().forEach(b -> all.add(Digest.parse(b)));
      }
      if (m.delta() != null) {
        m.delta().omitted().forEach(b -> all.add(Digest.parse(b)));
      }
      return new DeltaBase(m.name() + " " + m.version() + " (" + file.getFileName() + ")", all);
    }
  }

  static DeltaBase fromInventory(Path file) {
    try {
      if (Files.size(file) > 64L << 20) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is too large for an inventory", null);
      }
      JsonNode n = Json.MAPPER.readTree(file.toFile());
      JsonNode list = n.path("blobs");
      if (!list.isArray()) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is neither a bundle nor an inventory "
            + "({\"blobs\": [\"sha256:…\"]})", "pass an earlier bundle or an exported inventory to --delta-from");
      }
      Set<Digest> all = new LinkedHashSet<>();
      for (JsonNode b : list) {
        all.add(Digest.parse(b.asText()));
      }
      return new DeltaBase("inventory " + file.getFileName(), all);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read " + file + ": " + e.getMessage(),
          "pass an earlier bundle or an exported inventory to --delta-from", e);
    }
  }
}
