package dev.airlock.keys;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.nio.file.Path;
import java.time.Instant;

/** A signing private key with the certificate that vouches for it; what a vendor signs bundles and licenses with. */
public record SigningKey(Ed25519.PrivateKey key, SigningCertificate certificate) {

  public SigningKey {
    if (!key.id().value().equals(certificate.keyId())) {
      throw new AirlockException(Kind.BAD_INPUT,
          "the signing key (" + key.id() + ") does not match the certificate (" + certificate.keyId() + ")",
          "pass the signing.key and signing.cert written together by 'airlock keys create-signing'");
    }
  }

  public static SigningKey load(Path keyFile, Path certFile) {
    return new SigningKey(Ed25519.readPrivateKey(keyFile), SigningCertificate.read(certFile));
  }

  /** Refuses to sign with a certificate that is not valid now: nobody could verify the result. */
  public byte[] sign(byte[] message, Instant now) {
    if (now.isAfter(certificate.notAfter()) || now.isBefore(certificate.notBefore())) {
      throw new AirlockException(Kind.BAD_INPUT,
          "signing certificate " + certificate.keyId() + " is valid from " + certificate.notBefore() + " to "
              + certificate.notAfter() + ", not now (" + now + ")",
          "create a new signing key with 'airlock keys create-signing'");
    }
    return key.sign(message);
  }
}
