package dev.airlock.bundle.supply;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.bundle.supply.CosignArtifacts.Artifact;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks, offline, the cosign signatures and attestations a bundle carries against the public keys it carries: the
 * check {@code bundle verify}, {@code install} and {@code upgrade} repeat after the build's. The keys and the
 * manifest naming them are under the bundle's own signature, so this needs no network and no key of the admin's.
 */
public final class CarriedSignatures {

  private CarriedSignatures() {}

  /**
   * What was checked.
   *
   * @param images images with at least one verified signature
   * @param artifacts signatures and attestations verified
   */
  public record Result(int images, int artifacts) {}

  public static Result verify(BundleFile file, BundleManifest manifest) {
    BundleManifest.ImagePolicy policy = manifest.imagePolicy();
    if (policy == null || policy.signatures().equals("off")) {
      return new Result(0, 0);
    }
    List<CosignKey> keys = new ArrayList<>();
    for (BundleManifest.Key k : policy.keys()) {
      TarIndex.Entry e = file.index().get(k.entry());
      if (e == null || e.size() > 16 * 1024) {
        throw corrupt(file, "its image key " + k.entry() + " is missing or too large");
      }
      CosignKey key = CosignKey.parse(file.readAll(e), k.entry());
      if (!key.fingerprint().equals(k.fingerprint())) {
        throw corrupt(file, "its image key " + k.entry() + " has the fingerprint " + key.fingerprint()
            + ", the manifest says " + k.fingerprint());
      }
      keys.add(key);
    }
    boolean required = policy.signatures().equals("required");
    int images = 0;
    int artifacts = 0;
    for (BundleManifest.Image img : manifest.images()) {
      boolean signed = false;
      for (BundleManifest.Signature s : img.signatures()) {
        Artifact kind = s.kind().equals("attestation") ? Artifact.ATTESTATION : Artifact.SIGNATURE;
        Digest subject = Digest.parse(s.subject() == null ? img.digest() : s.subject());
        Digest digest = Digest.parse(s.digest());
        byte[] manifestBytes = read(file, digest, CosignArtifacts.MAX_MANIFEST);
        CosignArtifacts.Checked c = CosignArtifacts.check(kind, img.ref(), subject, manifestBytes,
            (d, size) -> read(file, d, size), keys, policy.identities());
        if (!c.verified()) {
          throw new AirlockException(Kind.VERIFICATION, "image " + img.ref() + " (" + subject + "): the cosign "
              + kind.word() + " " + s.tag() + " carried in " + file.path() + " does not verify with "
              + CosignArtifacts.describe(keys) + ": " + String.join("; ", c.problems()),
              "do not install this bundle; ask the vendor for a bundle whose image signatures verify");
        }
        artifacts++;
        signed |= kind == Artifact.SIGNATURE;
      }
      if (signed) {
        images++;
      } else if (required && !img.ref().startsWith(BundleLayout.SERVER_IMAGE_REPOSITORY + ":")) {
        throw new AirlockException(Kind.VERIFICATION, "image " + img.ref() + " (" + img.digest() + ") carries no "
            + "cosign signature in " + file.path() + ", and the bundle's imagePolicy.signatures is required",
            "do not install this bundle; ask the vendor for a bundle built with the image signatures");
      }
    }
    return new Result(images, artifacts);
  }

  private static byte[] read(BundleFile file, Digest d, long size) {
    TarIndex.Entry e = file.index().get(BundleLayout.blobPath(d));
    if (e == null) {
      throw corrupt(file, "it lacks blob " + d + " of an image signature");
    }
    if (e.size() > size || e.size() > CosignArtifacts.MAX_LAYER) {
      throw corrupt(file, "blob " + d + " of an image signature is " + e.size() + " bytes, more than its "
          + "manifest says (" + size + ")");
    }
    return file.readAll(e);
  }

  private static AirlockException corrupt(BundleFile file, String what) {
    return new AirlockException(Kind.VERIFICATION, "bundle " + file.path() + " is not valid: " + what,
        "do not use this file; copy the bundle again from the vendor's original");
  }
}
