package dev.airlock.bundle.format;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The signed list of a split bundle's parts, {@code NAME.parts} beside them (ADR 19). It names the build it belongs
 * to by the digests of the bundle's manifest and checksum list (so it cannot be moved to another build), and every
 * part by name, size and SHA-256; a probe digest of each part's first and last 64 KiB lets a part set be checked
 * before it is read. Signed by a vendor signing key as the bundle's head is, with a domain-separated message.
 *
 * @param apiVersion {@code airlock.dev/v1alpha1}
 * @param kind {@code BundleParts}
 * @param bundle the single file's name, e.g. {@code platform-1.4.0.airlock}; the parts are named after it
 * @param size the single file's length: the sum of the parts
 * @param manifest digest of the bundle's {@code airlock/manifest.json}
 * @param checksums digest of the bundle's {@code airlock/checksums.txt}
 * @param partSize the largest size of a part the split was asked for
 * @param created when the list was signed
 * @param parts the parts in order
 * @param signature the signer's certificate and the signature over {@link #message()}
 */
@JsonPropertyOrder({"apiVersion", "kind", "bundle", "size", "manifest", "checksums", "partSize", "created", "parts",
    "signature"})
public record PartList(String apiVersion, String kind, String bundle, long size, String manifest, String checksums,
    long partSize, Instant created, List<Part> parts, BundleSignature signature) {

  public static final String KIND = "BundleParts";
  /** The part list's name beside the parts: {@code NAME.parts}. */
  public static final String SUFFIX = ".parts";
  /** Bytes from each end of a part that its probe digest covers. */
  public static final int PROBE = 64 * 1024;
  private static final Pattern PART_NAME = Pattern.compile("(.+)\\.part-([0-9]{3,})-of-([0-9]{3,})");

  /**
   * One part.
   *
   * @param name its file name, {@code NAME.part-003-of-007}
   * @param size its length
   * @param sha256 digest of all of it
   * @param probe digest of its first {@link #PROBE} bytes followed by its last {@link #PROBE} bytes
   */
  @JsonPropertyOrder({"name", "size", "sha256", "probe"})
  public record Part(String name, long size, String sha256, String probe) {}

  public PartList {
    parts = parts == null ? List.of() : List.copyOf(parts);
  }

  /** {@code NAME.part-003-of-007}: numbers of at least three digits, so names sort in order. */
  public static String partName(String bundle, int number, int count) {
    int width = Math.max(3, String.valueOf(count).length());
    return String.format(Locale.ROOT, "%s.part-%0" + width + "d-of-%0" + width + "d", bundle, number, count);
  }

  /** The bundle name, number and count of a part's file name, or null when it is not named like a part. */
  public static Matcher matchPartName(String fileName) {
    Matcher m = PART_NAME.matcher(fileName);
    return m.matches() ? m : null;
  }

  public static String listName(String bundle) {
    return bundle + SUFFIX;
  }

  /** Signs a new list. */
  public static PartList sign(String bundle, long size, Digest manifest, Digest checksums, long partSize,
      List<Part> parts, SigningKey key, Instant now) {
    PartList unsigned = new PartList(BundleManifest.API_VERSION, KIND, bundle, size, manifest.toString(),
        checksums.toString(), partSize, now, parts, null);
    return unsigned.withSignature(BundleSignature.signMessage(key, unsigned.message(), now));
  }

  private PartList withSignature(BundleSignature s) {
    return new PartList(apiVersion, kind, bundle, size, manifest, checksums, partSize, created, parts, s);
  }

  /** The signed text: everything in the list but the signature, one field a line. */
  public byte[] message() {
    StringBuilder sb = new StringBuilder("airlock-bundle-parts-v1\n");
    sb.append("bundle ").append(bundle).append('\n');
    sb.append("size ").append(size).append('\n');
    sb.append(BundleLayout.MANIFEST).append(' ').append(manifest).append('\n');
    sb.append(BundleLayout.CHECKSUMS).append(' ').append(checksums).append('\n');
    sb.append("part-size ").append(partSize).append('\n');
    sb.append("created ").append(created).append('\n');
    for (Part p : parts) {
      sb.append("part ").append(p.name()).append(' ').append(p.size()).append(' ').append(p.sha256()).append(' ')
          .append(p.probe()).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Checks the signer's chain to a trusted root, at the list's creation, and the signature; and that the list was
   * signed by the same vendor root as the bundle it names ({@code bundleRoot}).
   */
  public void verify(TrustedRoots roots, String bundleRoot, String source) {
    signature.verifyMessage(roots, message(), created, "the part list " + source);
    if (!signature.certificate().issuer().equals(bundleRoot)) {
      throw new AirlockException(Kind.VERIFICATION, "the part list " + source + " is signed by a key of root "
          + signature.certificate().issuer() + ", but the bundle by root " + bundleRoot,
          "use the part list the vendor shipped with these parts");
    }
  }

  public Part part(int number) {
    return parts.get(number - 1);
  }

  public byte[] toBytes() {
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses and checks that the list is consistent in itself: names, numbering, sizes, digests. */
  public static PartList parse(byte[] bytes, String source) {
    PartList l;
    try {
      l = Json.MAPPER.readValue(bytes, PartList.class);
    } catch (IOException e) {
      throw bad(source, "is not a readable part list: " + e.getMessage());
    }
    if (!BundleManifest.API_VERSION.equals(l.apiVersion()) || !KIND.equals(l.kind())) {
      throw bad(source, "is not a part list (apiVersion " + BundleManifest.API_VERSION + ", kind " + KIND + ")");
    }
    if (l.bundle() == null || l.bundle().isBlank() || l.bundle().contains("/") || l.parts().isEmpty()
        || l.signature() == null || l.created() == null || l.manifest() == null || !Digest.isDigest(l.manifest())
        || l.checksums() == null || !Digest.isDigest(l.checksums())) {
      throw bad(source, "lacks the bundle name, the digests, the parts, the creation time or the signature");
    }
    long sum = 0;
    int n = l.parts().size();
    for (int i = 0; i < n; i++) {
      Part p = l.parts().get(i);
      String expected = partName(l.bundle(), i + 1, n);
      if (!expected.equals(p.name())) {
        throw bad(source, "names part " + (i + 1) + " of " + n + " " + p.name() + ", expected " + expected);
      }
      if (p.size() <= 0 || p.size() > l.partSize() || p.sha256() == null || !Digest.isDigest(p.sha256())
          || p.probe() == null || !Digest.isDigest(p.probe())) {
        throw bad(source, "lists part " + p.name() + " with a bad size or digest");
      }
      sum += p.size();
    }
    if (sum != l.size()) {
      throw bad(source, "lists parts of " + sum + " bytes in all, but a bundle of " + l.size());
    }
    return l;
  }

  private static AirlockException bad(String source, String what) {
    return new AirlockException(Kind.VERIFICATION, source + " " + what,
        "copy the part list (" + SUFFIX + " file) again from the original set");
  }
}
