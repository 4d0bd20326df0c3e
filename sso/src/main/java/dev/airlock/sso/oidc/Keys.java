package dev.airlock.sso.oidc;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/** Private keys from PEM text (PKCS#8 {@code PRIVATE KEY}, RSA or EC), for private_key_jwt and SAML decryption. */
public final class Keys {

  private Keys() {}

  public static PrivateKey privateKey(String pem, String what) {
    String body = pem.replaceAll("-----BEGIN PRIVATE KEY-----|-----END PRIVATE KEY-----|\\s", "");
    if (pem.contains("BEGIN RSA PRIVATE KEY") || pem.contains("BEGIN EC PRIVATE KEY") || body.isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "the private key of " + what + " is not a PKCS#8 PEM key",
          "convert it: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pkcs8.pem");
    }
    byte[] der;
    try {
      der = Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new AirlockException(Kind.BAD_INPUT, "the private key of " + what + " is not PEM", "check the file", e);
    }
    for (String alg : new String[] {"RSA", "EC"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (java.security.GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new AirlockException(Kind.BAD_INPUT, "the private key of " + what + " is neither RSA nor EC",
        "use an RSA or EC key");
  }
}
