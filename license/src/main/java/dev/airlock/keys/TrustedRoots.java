package dev.airlock.keys;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The root public keys an installer trusts, plus the signing key ids the vendor revoked. Verifies the chain
 * root → signing certificate → signature.
 */
public final class TrustedRoots {

  private final Map<KeyId, Ed25519.PublicKey> roots;
  private final Set<KeyId> revoked;

  private TrustedRoots(Map<KeyId, Ed25519.PublicKey> roots, Set<KeyId> revoked) {
    this.roots = Map.copyOf(roots);
    this.revoked = Set.copyOf(revoked);
  }

  public static TrustedRoots of(Collection<Ed25519.PublicKey> rootKeys) {
    Map<KeyId, Ed25519.PublicKey> map = new LinkedHashMap<>();
    for (Ed25519.PublicKey key : rootKeys) {
      map.put(key.id(), key);
    }
    return new TrustedRoots(map, Set.of());
  }

  /** A copy that also refuses the given signing key ids. */
  public TrustedRoots withRevoked(Set<KeyId> revokedIds) {
    return new TrustedRoots(roots, revokedIds);
  }

  public TrustedRoots plus(Collection<Ed25519.PublicKey> more) {
    List<Ed25519.PublicKey> all = new ArrayList<>(roots.values());
    all.addAll(more);
    return of(all).withRevoked(revoked);
  }

  public Set<KeyId> rootIds() {
    return roots.keySet();
  }

  public boolean isEmpty() {
    return roots.isEmpty();
  }

  /**
   * Checks that {@code cert} was issued by a trusted root, is intact, valid at {@code at}, and not revoked; returns
   * the certified signing key.
   */
  public Ed25519.PublicKey verifyCertificate(SigningCertificate cert, Instant at) {
    Ed25519.PublicKey root = roots.get(parseId(cert.issuer(), "issuer"));
    if (root == null) {
      throw new AirlockException(Kind.VERIFICATION,
          "signing certificate " + cert.keyId() + " was issued by root key " + cert.issuer()
              + ", which this installer does not trust (trusted: " + describeRoots() + ")",
          "pass the vendor's root public key with --trust-root FILE, or use an installer built by that vendor");
    }
    if (!root.verify(cert.signedBytes(), cert.signatureBytes())) {
      throw new AirlockException(Kind.VERIFICATION,
          "signing certificate " + cert.keyId() + " does not carry a valid signature of root key " + cert.issuer()
              + ": it was altered or not issued by that root",
          "ask the vendor for an intact certificate");
    }
    Ed25519.PublicKey signingKey = cert.signingKey();
    if (at.isBefore(cert.notBefore())) {
      throw new AirlockException(Kind.VERIFICATION,
          "signing certificate " + cert.keyId() + " is not valid before " + cert.notBefore() + " (now " + at
              + " by this machine's clock)",
          "check this machine's clock");
    }
    if (at.isAfter(cert.notAfter())) {
      throw new AirlockException(Kind.VERIFICATION,
          "signing certificate " + cert.keyId() + " expired at " + cert.notAfter() + " (now " + at + ")",
          "ask the vendor for a file signed with a current signing key");
    }
    if (revoked.contains(signingKey.id())) {
      throw new AirlockException(Kind.VERIFICATION,
          "signing key " + signingKey.id() + " has been revoked by the vendor",
          "ask the vendor for a file signed with a current signing key");
    }
    return signingKey;
  }

  /** Verifies the whole chain and the signature over {@code message}. */
  public void verify(byte[] message, byte[] signature, SigningCertificate cert, Instant at, String what) {
    Ed25519.PublicKey key = verifyCertificate(cert, at);
    if (!key.verify(message, signature)) {
      throw new AirlockException(Kind.VERIFICATION,
          "the signature over " + what + " does not verify with signing key " + key.id()
              + ": the content was altered after signing, or signed by another key",
          "do not use this file; obtain an intact copy from the vendor");
    }
  }

  /** Verifies a signature made directly by the root {@code issuer} (revocation lists). */
  public void verifyRootSignature(String issuer, byte[] message, byte[] signature, String what) {
    Ed25519.PublicKey root = roots.get(parseId(issuer, "issuer"));
    if (root == null) {
      throw new AirlockException(Kind.VERIFICATION, what + " was signed by root key " + issuer
          + ", which this installer does not trust (trusted: " + describeRoots() + ")",
          "pass the vendor's root public key with --trust-root FILE");
    }
    if (!root.verify(message, signature)) {
      throw new AirlockException(Kind.VERIFICATION, "the signature of " + what + " does not verify with root key "
          + issuer + ": it was altered", "obtain an intact copy from the vendor");
    }
  }

  /** A copy that also refuses the signing keys listed in {@code list}, after checking its root signature. */
  public TrustedRoots withRevocations(RevocationList list) {
    java.util.Set<KeyId> all = new java.util.HashSet<>(revoked);
    all.addAll(list.verifiedIds(this));
    return withRevoked(all);
  }

  private String describeRoots() {
    return roots.isEmpty() ? "none" : String.join(", ", roots.keySet().stream().map(KeyId::value).toList());
  }

  private static KeyId parseId(String value, String field) {
    try {
      return new KeyId(value);
    } catch (AirlockException e) {
      throw new AirlockException(Kind.VERIFICATION, "the " + field + " '" + value + "' is not a key id", null);
    }
  }
}
