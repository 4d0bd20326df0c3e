package dev.airlock.bundle.format;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * The manifest document at {@link BundleLayout#MANIFEST}: everything an installer needs to know about a bundle
 * without reading its blobs.
 *
 * @param apiVersion {@code airlock.dev/v1alpha1}
 * @param kind {@code BundleManifest}
 * @param name bundle name
 * @param version platform version
 * @param description one line
 * @param upgradesFrom semver range of installed versions this bundle may upgrade, or null
 * @param kubernetes semver range of supported Kubernetes versions, or null
 * @param requirements cluster resource requirements
 * @param created when the bundle was built
 * @param builder the airlock that built it
 * @param components components in install order
 * @param images every image with its digest
 * @param totals sizes
 * @param revocations entry name of the revocation list the bundle ships, or null
 * @param delta for a delta bundle, what it leaves out; null for a full bundle
 * @param imagePolicy what the images' cosign signatures were checked against, with the keys carried; null when the
 *     spec had no policy
 */
@JsonPropertyOrder({"apiVersion", "kind", "name", "version", "description", "upgradesFrom", "kubernetes",
    "requirements", "created", "builder", "components", "images", "totals", "revocations", "delta", "imagePolicy"})
public record BundleManifest(String apiVersion, String kind, String name, String version, String description,
    String upgradesFrom, String kubernetes, Requirements requirements, Instant created, Builder builder,
    List<Component> components, List<Image> images, Totals totals, String revocations, Delta delta,
    ImagePolicy imagePolicy) {

  /** A manifest without an image policy. */
  public BundleManifest(String apiVersion, String kind, String name, String version, String description,
      String upgradesFrom, String kubernetes, Requirements requirements, Instant created, Builder builder,
      List<Component> components, List<Image> images, Totals totals, String revocations, Delta delta) {
    this(apiVersion, kind, name, version, description, upgradesFrom, kubernetes, requirements, created, builder,
        components, images, totals, revocations, delta, null);
  }

  /**
   * The image policy the bundle was built with.
   *
   * @param signatures {@code required}, {@code optional} or {@code off}
   * @param keys the public keys carried in the bundle
   * @param identities repository patterns a signed payload must name; empty: any
   */
  public record ImagePolicy(String signatures, List<Key> keys, List<String> identities) {
    public ImagePolicy {
      keys = keys == null ? List.of() : List.copyOf(keys);
      identities = identities == null ? List.of() : List.copyOf(identities);
    }
  }

  /**
   * A public key images are signed with.
   *
   * @param entry the bundle entry holding its PEM
   * @param algorithm {@code ecdsa-p256} or {@code ed25519}
   * @param fingerprint {@code sha256:} of its SubjectPublicKeyInfo, 16 hex digits
   */
  public record Key(String entry, String algorithm, String fingerprint) {}

  /**
   * A cosign signature or attestation carried with an image.
   *
   * @param kind {@code signature} or {@code attestation}
   * @param tag where it is pushed beside the image: {@code sha256-<hex>.sig} or {@code .att}
   * @param subject the image digest it signs: the image's, or for an index reduced by --platform the original's
   * @param digest its manifest's digest
   * @param mediaType its manifest's media type
   * @param blobs its config and layers
   * @param keys fingerprints of the keys it verified with at build
   */
  public record Signature(String kind, String tag, String subject, String digest, String mediaType, List<String> blobs,
      List<String> keys) {
    public Signature {
      blobs = blobs == null ? List.of() : List.copyOf(blobs);
      keys = keys == null ? List.of() : List.copyOf(keys);
    }
  }

  public static final String API_VERSION = "airlock.dev/v1alpha1";
  public static final String KIND = "BundleManifest";

  public BundleManifest {
    components = components == null ? List.of() : List.copyOf(components);
    images = images == null ? List.of() : List.copyOf(images);
  }

  /** CPU and memory the cluster must have allocatable, as Kubernetes quantities, or null. */
  public record Requirements(String cpu, String memory) {}

  /** Name and version of the airlock that built the bundle. */
  public record Builder(String name, String version) {}

  /**
   * One component.
   *
   * @param namespace where it is installed; null for the installation's namespace
   * @param images references of the images its chart renders or it lists
   */
  @JsonPropertyOrder({"name", "required", "namespace", "releaseName", "dependsOn", "chart", "values", "images"})
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public record Component(String name, boolean required, String namespace, String releaseName, List<String> dependsOn,
      Chart chart, List<String> values, List<String> images) {
    public Component {
      dependsOn = dependsOn == null ? List.of() : List.copyOf(dependsOn);
      values = values == null ? List.of() : List.copyOf(values);
      images = images == null ? List.of() : List.copyOf(images);
    }
  }

  /**
   * A packaged chart.
   *
   * @param path entry name in the bundle
   * @param source where it came from (a path or oci:// reference), for people
   */
  public record Chart(String name, String version, String appVersion, String path, String digest, long size,
      String source) {}

  /**
   * An image.
   *
   * @param ref the original reference, e.g. {@code docker.io/library/nginx:1.25}
   * @param digest digest of the top manifest (an index for multi-arch images)
   * @param mediaType media type of that manifest
   * @param platforms platforms it holds
   * @param size bytes of every blob it references, manifests included
   * @param blobs every blob of the image: manifests, configs, layers
   * @param layoutDigest for Docker schema-2 images, the digest of the OCI-typed copy that index.json names (OCI
   *     layout readers accept only OCI types); null when the image is OCI already
   * @param layoutBlobs the manifests of that copy
   * @param signatures the cosign signatures and attestations carried with it
   * @param sbom the entry holding its SBOM (CycloneDX JSON), or null when the bundle was built without SBOMs
   */
  @JsonPropertyOrder({"ref", "digest", "mediaType", "platforms", "size", "blobs", "layoutDigest", "layoutBlobs",
      "signatures", "sbom"})
  public record Image(String ref, String digest, String mediaType, List<String> platforms, long size,
      List<String> blobs, String layoutDigest, List<String> layoutBlobs,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
      List<Signature> signatures,
      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
      String sbom) {
    public Image {
      platforms = platforms == null ? List.of() : List.copyOf(platforms);
      blobs = blobs == null ? List.of() : List.copyOf(blobs);
      layoutBlobs = layoutBlobs == null ? List.of() : List.copyOf(layoutBlobs);
      signatures = signatures == null ? List.of() : List.copyOf(signatures);
    }

    public Image(String ref, String digest, String mediaType, List<String> platforms, long size, List<String> blobs,
        String layoutDigest, List<String> layoutBlobs) {
      this(ref, digest, mediaType, platforms, size, blobs, layoutDigest, layoutBlobs, List.of(), null);
    }

    public Image(String ref, String digest, String mediaType, List<String> platforms, long size, List<String> blobs,
        String layoutDigest, List<String> layoutBlobs, List<Signature> signatures) {
      this(ref, digest, mediaType, platforms, size, blobs, layoutDigest, layoutBlobs, signatures, null);
    }
  }

  /**
   * Sizes.
   *
   * @param imageBytes sum of every image's size, counting shared blobs once per image
   * @param uniqueBytes bytes of distinct blobs stored
   * @param blobs number of distinct blobs
   */
  public record Totals(long imageBytes, long uniqueBytes, int blobs) {}

  /**
   * A delta bundle leaves out blobs its base provides; the target registry must hold them before install.
   *
   * @param base the bundle or inventory it was built against
   * @param omitted digests of the blobs left out
   * @param omittedBytes their bytes
   */
  public record Delta(String base, List<String> omitted, long omittedBytes) {
    public Delta {
      omitted = omitted == null ? List.of() : List.copyOf(omitted);
    }
  }

  public byte[] toBytes() {
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static BundleManifest parse(byte[] bytes, String source) {
    try {
      BundleManifest m = Json.MAPPER.readValue(bytes, BundleManifest.class);
      if (!API_VERSION.equals(m.apiVersion) || !KIND.equals(m.kind)) {
        throw new AirlockException(Kind.BAD_INPUT, source + " holds a manifest of " + m.apiVersion + "/" + m.kind
            + "; this airlock reads " + API_VERSION + "/" + KIND, "use an airlock at least as new as the bundle's builder");
      }
      return m;
    } catch (IOException e) {
      throw new AirlockException(Kind.VERIFICATION, source + " holds an unreadable manifest: " + e.getMessage(),
          "copy the bundle again from the vendor's original", e);
    }
  }
}
