package dev.airlock.bundle.sbom;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.Checksums;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.oci.Digest;
import java.util.List;
import java.util.Optional;

/**
 * The SBOMs a bundle carries, read without a signature check (like {@code inspect}) but each checked against the
 * checksum list, so a damaged or swapped SBOM entry is refused; {@code bundle verify} checks the signature over that
 * list.
 */
public final class BundleSboms {

  private final BundleFile file;
  private final BundleManifest manifest;
  private final Checksums checksums;

  private BundleSboms(BundleFile file) {
    this.file = file;
    BundleFile.Head head = file.readHead();
    this.manifest = head.manifest();
    this.checksums = Checksums.parse(head.checksumsBytes(), file.path() + ":" + BundleLayout.CHECKSUMS);
  }

  public static BundleSboms of(BundleFile file) {
    return new BundleSboms(file);
  }

  public BundleManifest manifest() {
    return manifest;
  }

  /** The images whose reference is {@code ref}, or whose repository is (any tag), or all when ref is null. */
  public List<BundleManifest.Image> images(String ref) {
    if (ref == null) {
      return manifest.images();
    }
    List<BundleManifest.Image> exact = manifest.images().stream().filter(i -> i.ref().equals(ref)).toList();
    if (!exact.isEmpty()) {
      return exact;
    }
    List<BundleManifest.Image> byRepo = manifest.images().stream().filter(i -> repository(i.ref()).equals(ref)
        || repository(i.ref()).equals(repository(ref))).toList();
    if (byRepo.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, file.path() + " holds no image " + ref,
          "use one of: " + String.join(", ", manifest.images().stream().map(BundleManifest.Image::ref).toList()));
    }
    return byRepo;
  }

  /** The image's SBOM bytes (CycloneDX JSON), or empty when the bundle was built without SBOMs. */
  public Optional<byte[]> sbom(BundleManifest.Image image) {
    if (image.sbom() == null) {
      return Optional.empty();
    }
    TarIndex.Entry e = file.index().get(image.sbom());
    Digest listed = checksums.byPath().get(image.sbom());
    if (e == null || listed == null) {
      throw new AirlockException(Kind.VERIFICATION, file.path() + " names " + image.sbom() + " as the SBOM of "
          + image.ref() + " but " + (e == null ? "holds no such entry" : "its checksum list does not list it"),
          "copy the bundle again from the vendor's original and run 'airlock bundle verify' on it");
    }
    byte[] bytes = file.readAll(e);
    if (!Digest.of(bytes).equals(listed)) {
      throw new AirlockException(Kind.VERIFICATION, "the SBOM of " + image.ref() + " (" + image.sbom() + " in "
          + file.path() + ") is " + Digest.of(bytes) + ", but the checksum list says " + listed,
          "copy the bundle again from the vendor's original and run 'airlock bundle verify' on it");
    }
    return Optional.of(bytes);
  }

  static String repository(String ref) {
    try {
      dev.airlock.oci.ImageReference r = dev.airlock.oci.ImageReference.parse(ref);
      return r.registry() + "/" + r.repository();
    } catch (AirlockException e) {
      return ref;
    }
  }
}
