package dev.airlock.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.bundle.format.Json;
import dev.airlock.oci.Digest;
import dev.airlock.oci.MediaTypes;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Docker schema-2 manifests and lists rewritten with OCI media types, for the bundle's {@code index.json} only:
 * OCI layout readers (skopeo's {@code oci:} transport) accept only OCI types there. Config and layer blobs are
 * unchanged; only manifest bytes (and so their digests) differ. The original manifests stay in the bundle and
 * remain the images' identity for install and serve.
 */
final class OciConversion {

  private static final Map<String, String> TYPES = Map.of(
      MediaTypes.DOCKER_MANIFEST, MediaTypes.OCI_MANIFEST,
      MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.OCI_INDEX,
      "application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json",
      "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.docker.image.rootfs.diff.tar", "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");

  /** A converted manifest tree: the new top and every new manifest blob by digest. */
  record Converted(Digest digest, String mediaType, long size, Map<Digest, byte[]> manifests) {}

  private OciConversion() {}

  static boolean needed(String mediaType) {
    return mediaType.equals(MediaTypes.DOCKER_MANIFEST) || mediaType.equals(MediaTypes.DOCKER_MANIFEST_LIST);
  }

  /** Converts the manifest {@code top} (and, for a list, its children found in {@code manifests}). */
  static Converted convert(Digest top, Map<Digest, byte[]> manifests) {
    Map<Digest, byte[]> out = new LinkedHashMap<>();
    byte[] bytes = convertOne(top, manifests, out);
    Digest d = Digest.of(bytes);
    JsonNode n = read(bytes);
    return new Converted(d, n.path("mediaType").asText(), bytes.length, out);
  }

  private static byte[] convertOne(Digest digest, Map<Digest, byte[]> manifests, Map<Digest, byte[]> out) {
    ObjectNode node = (ObjectNode) read(manifests.get(digest));
    String type = node.path("mediaType").asText(MediaTypes.OCI_MANIFEST);
    node.put("mediaType", TYPES.getOrDefault(type, type));
    if (node.has("manifests")) {
      for (JsonNode child : node.get("manifests")) {
        ObjectNode c = (ObjectNode) child;
        Digest childDigest = Digest.parse(c.path("digest").asText());
        if (manifests.containsKey(childDigest) && needed(c.path("mediaType").asText())) {
          byte[] converted = convertOne(childDigest, manifests, out);
          c.put("digest", Digest.of(converted).toString());
          c.put("size", converted.length);
        }
        String ct = c.path("mediaType").asText();
        c.put("mediaType", TYPES.getOrDefault(ct, ct));
      }
    } else {
      retype(node.path("config"));
      node.path("layers").forEach(OciConversion::retype);
    }
    byte[] bytes;
    try {
      bytes = Json.MAPPER.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    out.put(Digest.of(bytes), bytes);
    return bytes;
  }

  private static void retype(JsonNode descriptor) {
    if (descriptor instanceof ObjectNode d && d.has("mediaType")) {
      String t = d.get("mediaType").asText();
      d.put("mediaType", TYPES.getOrDefault(t, t));
    }
  }

  private static JsonNode read(byte[] bytes) {
    try {
      return Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalStateException("manifest is not JSON", e);
    }
  }
}
