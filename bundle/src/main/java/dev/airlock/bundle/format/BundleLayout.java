package dev.airlock.bundle.format;

import dev.airlock.oci.Digest;
import java.util.List;

/**
 * The names inside a bundle file. A bundle is an uncompressed tar whose first three entries are the metadata, so
 * {@code inspect} and the signature check read only the head; then an OCI image layout that skopeo, oras and crane
 * can read once untarred; then charts and values files.
 */
public final class BundleLayout {

  /** The manifest document: components, charts, images with digests. JSON. */
  public static final String MANIFEST = "airlock/manifest.json";
  /** {@code sha256:<hex>  <path>} for every other entry but the signature. */
  public static final String CHECKSUMS = "airlock/checksums.txt";
  /** Detached signature over the manifest and the checksums, with the signer's certificate. JSON. */
  public static final String SIGNATURE = "airlock/signature.json";
  /** A root-signed list of revoked signing key ids the vendor ships to installers; optional. JSON. */
  public static final String REVOCATIONS = "airlock/revocations.json";
  /** The public keys the images' cosign signatures are checked with ({@code bundle.yaml} imagePolicy.keys). PEM. */
  public static final String IMAGE_KEYS_PREFIX = "airlock/image-keys/";
  /** The repository of the airlock server image a bundle's build makes (covered by the bundle's own signature). */
  public static final String SERVER_IMAGE_REPOSITORY = "airlock.dev/airlock/server";
  /**
   * Each image's SBOM, {@code airlock/sbom/<hex of the image digest>.cdx.json} (CycloneDX JSON). Stored after the
   * charts: they are made from the downloaded layers, and their names are fixed in advance so the head keeps its
   * length when it is rewritten with their checksums.
   */
  public static final String SBOM_PREFIX = "airlock/sbom/";
  public static final String OCI_LAYOUT = "oci-layout";
  public static final String OCI_INDEX = "index.json";
  public static final String BLOBS_PREFIX = "blobs/sha256/";
  public static final String CHARTS_PREFIX = "charts/";
  public static final String VALUES_PREFIX = "values/";
  /** Entries in the order a bundle must start with. */
  public static final List<String> HEAD = List.of(MANIFEST, CHECKSUMS, SIGNATURE);
  public static final String OCI_LAYOUT_CONTENT = "{\"imageLayoutVersion\":\"1.0.0\"}";
  /** Annotation carrying the original image reference on index.json descriptors (containerd's convention). */
  public static final String ANNOTATION_IMAGE_NAME = "io.containerd.image.name";
  /** OCI annotation naming the descriptor in index.json (skopeo's oci:DIR:NAME). */
  public static final String ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";

  private BundleLayout() {}

  public static String blobPath(Digest digest) {
    return BLOBS_PREFIX + digest.hex();
  }

  public static String sbomPath(Digest image) {
    return SBOM_PREFIX + image.hex() + ".cdx.json";
  }

  public static boolean isBlob(String name) {
    return name.startsWith(BLOBS_PREFIX);
  }
}
