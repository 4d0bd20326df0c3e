package dev.airlock.bundle.supply;

import dev.airlock.bundle.spec.ImagePolicy;
import dev.airlock.bundle.supply.CosignArtifacts.Artifact;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.event.EventHandler;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds an image's cosign signature and attestation in its source registry (the tags {@code sha256-<hex>.sig} and
 * {@code .att} beside it), checks them against the policy's keys, and returns what the bundle carries.
 */
public final class ImageSignatures {

  private ImageSignatures() {}

  /**
   * A signature or attestation to carry: its manifest and every blob, all small enough to hold in memory.
   *
   * @param tag {@code sha256-<hex>.sig} or {@code .att}
   * @param keys fingerprints of the keys it verified with
   */
  public record Found(Artifact kind, String tag, Digest digest, String mediaType, byte[] manifest,
      Map<Digest, byte[]> blobs, List<String> keys) {
    public Found {
      blobs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(blobs));
      keys = List.copyOf(keys);
    }
  }

  /**
   * Looks for {@code image}'s signature and attestation at {@code from} (the image's source, mirrors applied).
   * Under {@code required}, a missing or unverifiable signature and an unverifiable attestation are refused; under
   * {@code optional} they are left out with a warning; {@code off} looks for nothing.
   */
  public static List<Found> fetch(RegistryClient registry, ImageReference image, ImageReference from, Digest digest,
      ImagePolicy policy, List<CosignKey> keys, EventHandler events) {
    List<Found> out = new ArrayList<>();
    if (policy.signatures() == ImagePolicy.Signatures.OFF) {
      return out;
    }
    boolean required = policy.signatures() == ImagePolicy.Signatures.REQUIRED;
    for (Artifact kind : Artifact.values()) {
      String tag = kind.tagFor(digest);
      Optional<Digest> at = registry.manifestDigest(from.registry(), from.repository(), tag);
      if (at.isEmpty()) {
        if (kind == Artifact.SIGNATURE && required) {
          throw new AirlockException(Kind.VERIFICATION, "image " + image + " (" + digest + ") has no cosign "
              + "signature: " + from.name() + ":" + tag + " does not exist, and imagePolicy.signatures is required "
              + "(expected a signature by " + CosignArtifacts.describe(keys) + ")",
              "sign it: cosign sign --key cosign.key " + from.name() + "@" + digest
                  + ", or set imagePolicy.signatures: optional");
        }
        continue;
      }
      RegistryClient.Manifest m = registry.getManifest(from.registry(), from.repository(), at.get().toString());
      Map<Digest, byte[]> blobs = new LinkedHashMap<>();
      CosignArtifacts.Checked checked = CosignArtifacts.check(kind, image.toString(), digest, m.bytes(),
          (d, size) -> {
            byte[] b = read(registry, from, d, size);
            blobs.put(d, b);
            return b;
          }, keys, policy.identities());
      if (!checked.verified()) {
        String message = "image " + image + " (" + digest + "): its cosign " + kind.word() + " " + from.name() + ":"
            + tag + " does not verify with " + CosignArtifacts.describe(keys) + ": "
            + String.join("; ", checked.problems());
        if (required) {
          throw new AirlockException(Kind.VERIFICATION, message, "sign the image with a key listed in "
              + "imagePolicy.keys (cosign sign --key cosign.key " + from.name() + "@" + digest + "), or add the "
              + "public key it was signed with to imagePolicy.keys");
        }
        events.warn(message + "; it is left out of the bundle (imagePolicy.signatures: optional)");
        continue;
      }
      if (!checked.problems().isEmpty()) {
        events.warn("image " + image + ": " + String.join("; ", checked.problems()) + " (another verified)");
      }
      events.info("image " + image + ": cosign " + kind.word() + " verified with "
          + String.join(", ", checked.keys()));
      out.add(new Found(kind, tag, at.get(), m.mediaType(), m.bytes(), blobs, checked.keys()));
    }
    return out;
  }

  private static byte[] read(RegistryClient registry, ImageReference from, Digest d, long size) {
    try (InputStream in = registry.openBlob(from.registry(), from.repository(), d)) {
      // One byte more than promised shows an oversized blob without reading all of it.
      return in.readNBytes((int) size + 1);
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "cannot read blob " + d + " of " + from.name() + ": "
          + e.getMessage(), null, e);
    }
  }
}
