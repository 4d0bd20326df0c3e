package dev.airlock.license;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.TrustedRoots;
import java.time.Instant;
import java.util.Base64;

/**
 * Verifies a license offline: its signing certificate chains to a trusted root and was valid when the license was
 * issued (so a license outlives the rotation of the key that signed it; revocation handles leaked keys), the
 * signature covers every field, and this machine's clock is not before the issue time.
 */
public final class LicenseVerifier {

  private final TrustedRoots roots;

  public LicenseVerifier(TrustedRoots roots) {
    this.roots = roots;
  }

  /**
   * A license whose signature and chain hold.
   *
   * @param signerKeyId the signing key
   * @param rootKeyId the root that certified it
   */
  public record Verified(License license, String signerKeyId, String rootKeyId) {}

  public Verified verify(LicenseFile file, Instant now) {
    LicenseFile.Signature s = file.signature();
    License l = file.license();
    if (!"ed25519".equals(s.algorithm())) {
      throw invalid("its signature algorithm is '" + s.algorithm() + "', not ed25519");
    }
    if (!s.certificate().keyId().equals(s.keyId())) {
      throw invalid("its signature names key " + s.keyId() + " but carries the certificate of key "
          + s.certificate().keyId());
    }
    if (roots.isEmpty()) {
      throw new AirlockException(Kind.LICENSE, "no trusted root keys: cannot check license " + l.id(),
          "pass the vendor's root public key with --trust-root FILE");
    }
    byte[] sig;
    try {
      sig = Base64.getDecoder().decode(s.value());
    } catch (IllegalArgumentException e) {
      throw invalid("its signature is not base64");
    }
    try {
      roots.verify(l.signedBytes(), sig, s.certificate(), l.issued(), "license " + l.id());
    } catch (AirlockException e) {
      throw new AirlockException(Kind.LICENSE, "license " + l.id() + " of " + l.customer() + " is invalid: "
          + e.getMessage(), e.fix().orElse(null), e);
    }
    if (now.isBefore(l.issued())) {
      throw new AirlockException(Kind.LICENSE, "this machine's clock says " + now + ", before license " + l.id()
          + " was issued (" + l.issued() + ")", "set this machine's clock right (NTP), then try again");
    }
    return new Verified(l, s.keyId(), s.certificate().issuer());
  }

  private AirlockException invalid(String why) {
    return new AirlockException(Kind.LICENSE, "the license is invalid: " + why,
        "ask the vendor for an intact license file");
  }
}
