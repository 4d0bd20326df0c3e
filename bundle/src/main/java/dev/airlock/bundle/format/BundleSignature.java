package dev.airlock.bundle.format;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.SigningCertificate;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * The detached signature at {@link BundleLayout#SIGNATURE}. It signs {@link #message}: a domain-separated text naming
 * the digests of the manifest and of the checksum list, which in turn names the digest of every other entry.
 *
 * @param version format version, 1
 * @param algorithm {@code ed25519}
 * @param keyId id of the signing key
 * @param certificate the signing key's certificate from the vendor root
 * @param signature base64 signature
 */
@JsonPropertyOrder({"version", "algorithm", "keyId", "certificate", "signature"})
public record BundleSignature(int version, String algorithm, String keyId, SigningCertificate certificate,
    String signature) {

  public static BundleSignature sign(SigningKey key, Digest manifest, Digest checksums, Instant now) {
    return signMessage(key, message(manifest, checksums), now);
  }

  /** Signs another domain-separated message of the format (a part list's) the same way. */
  public static BundleSignature signMessage(SigningKey key, byte[] message, Instant now) {
    byte[] sig = key.sign(message, now);
    return new BundleSignature(1, "ed25519", key.certificate().keyId(), key.certificate(),
        Base64.getEncoder().encodeToString(sig));
  }

  static byte[] message(Digest manifest, Digest checksums) {
    return ("airlock-bundle-signature-v1\n" + BundleLayout.MANIFEST + " " + manifest + "\n" + BundleLayout.CHECKSUMS
        + " " + checksums + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /** Verifies the chain to a trusted root and the signature; throws naming what failed. */
  public void verify(TrustedRoots roots, Digest manifest, Digest checksums, Instant now) {
    verifyMessage(roots, message(manifest, checksums), now, "the bundle's manifest and checksums");
  }

  /** Verifies the chain to a trusted root and the signature over {@code message}; {@code what} names it. */
  public void verifyMessage(TrustedRoots roots, byte[] message, Instant now, String what) {
    if (version != 1 || !"ed25519".equals(algorithm) || certificate == null || signature == null) {
      throw new AirlockException(Kind.VERIFICATION, "the bundle signature is not a version 1 ed25519 signature",
          "use an airlock at least as new as the bundle's builder");
    }
    if (!certificate.keyId().equals(keyId)) {
      throw new AirlockException(Kind.VERIFICATION, "the bundle signature names key " + keyId
          + " but carries the certificate of key " + certificate.keyId(), "copy the bundle again from the vendor");
    }
    byte[] sig;
    try {
      sig = Base64.getDecoder().decode(signature);
    } catch (IllegalArgumentException e) {
      throw new AirlockException(Kind.VERIFICATION, "the bundle signature is not base64", null);
    }
    roots.verify(message, sig, certificate, now, what);
  }

  public byte[] toBytes() {
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static BundleSignature parse(byte[] bytes, String source) {
    try {
      return Json.MAPPER.readValue(bytes, BundleSignature.class);
    } catch (IOException e) {
      throw new AirlockException(Kind.VERIFICATION, source + " holds an unreadable signature: " + e.getMessage(),
          "copy the bundle again from the vendor's original", e);
    }
  }
}
