package dev.airlock.airgap.inventory;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.RegistryClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a registry holds of a set of images: every blob (manifests, configs, layers), read from the registry itself.
 * A vendor builds a delta bundle against it ({@code bundle build --delta-from inventory.json}).
 */
@JsonPropertyOrder({"apiVersion", "kind", "product", "version", "registry", "images", "blobs"})
public record Inventory(String apiVersion, String kind, String product, String version, String registry,
    List<String> images, List<String> blobs) {

  public static final String API_VERSION = "airlock.dev/v1alpha1";
  public static final String KIND = "Inventory";

  public Inventory {
    images = List.copyOf(images);
    blobs = List.copyOf(blobs);
  }

  /** Reads every blob of {@code images} (references by digest) from their registry. */
  public static Inventory collect(RegistryClient client, String product, String version, String registry,
      Collection<String> images) {
    Set<String> blobs = new TreeSet<>();
    List<String> listed = new ArrayList<>();
    for (String pulled : images) {
      ImageReference ref = ImageReference.parse(pulled);
      collect(client, ref.registry(), ref.repository(), ref.digest().toString(), blobs);
      listed.add(pulled);
    }
    return new Inventory(API_VERSION, KIND, product, version, registry, listed, new ArrayList<>(blobs));
  }

  private static void collect(RegistryClient client, String registry, String repository, String reference,
      Set<String> blobs) {
    RegistryClient.Manifest m = client.getManifest(registry, repository, reference);
    blobs.add(m.digest().toString());
    JsonNode json = m.json();
    for (JsonNode child : json.path("manifests")) {
      collect(client, registry, repository, child.path("digest").asText(), blobs);
    }
    if (json.has("config")) {
      blobs.add(json.path("config").path("digest").asText());
    }
    for (JsonNode layer : json.path("layers")) {
      blobs.add(layer.path("digest").asText());
    }
  }
}
