package dev.airlock.bundle.supply;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A public key images are signed with, as cosign writes it ({@code cosign generate-key-pair}: a PEM
 * {@code PUBLIC KEY}, i.e. an X.509 SubjectPublicKeyInfo): ECDSA on P-256 (signatures: SHA-256, ASN.1 DER) or
 * Ed25519 (signatures over the payload itself).
 *
 * @param name how messages name it: the file name it was read from, or its bundle entry
 * @param algorithm {@code ecdsa-p256} or {@code ed25519}
 * @param fingerprint {@code sha256:} of the DER SubjectPublicKeyInfo, shortened to 16 hex digits
 * @param der the SubjectPublicKeyInfo
 */
public record CosignKey(String name, String algorithm, String fingerprint, byte[] der, PublicKey key) {

  public static final String ECDSA_P256 = "ecdsa-p256";
  public static final String ED25519 = "ed25519";
  /** A PEM public key is a few hundred bytes; anything much larger is not one. */
  private static final int MAX_PEM = 16 * 1024;
  private static final String BEGIN = "-----BEGIN PUBLIC KEY-----";
  private static final String END = "-----END PUBLIC KEY-----";

  public static CosignKey read(Path file) {
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_PEM) {
        throw new AirlockException(Kind.BAD_INPUT, "image key " + file + " is larger than 16 KiB; that is not a PEM "
            + "public key", "give the key cosign wrote (cosign.pub)");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read image key " + file + ": " + e.getMessage(), null, e);
    }
    return parse(bytes, file.getFileName().toString());
  }

  /** Parses a PEM {@code PUBLIC KEY}; the error names {@code name}. */
  public static CosignKey parse(byte[] pem, String name) {
    String text = new String(pem, StandardCharsets.US_ASCII).trim();
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    if (pem.length > MAX_PEM || begin < 0 || end < begin) {
      throw bad(name, "it is not a PEM '" + BEGIN + "' block");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(begin + BEGIN.length(), end));
    } catch (IllegalArgumentException e) {
      throw bad(name, "its base64 is damaged");
    }
    return fromDer(der, name);
  }

  static CosignKey fromDer(byte[] der, String name) {
    for (String family : new String[] {"EC", "Ed25519"}) {
      PublicKey key;
      try {
        key = KeyFactory.getInstance(family).generatePublic(new X509EncodedKeySpec(der));
      } catch (GeneralSecurityException | RuntimeException e) {
        continue;
      }
      String algorithm;
      if (key instanceof ECPublicKey ec) {
        if (ec.getParams().getCurve().getField().getFieldSize() != 256
            || !ec.getParams().getOrder().equals(P256_ORDER)) {
          throw bad(name, "it is an ECDSA key on a curve other than P-256");
        }
        algorithm = ECDSA_P256;
      } else {
        algorithm = ED25519;
      }
      return new CosignKey(name, algorithm, fingerprintOf(der), der.clone(), key);
    }
    throw bad(name, "it is neither an ECDSA P-256 nor an Ed25519 public key (RSA keys are not supported)");
  }

  private static final java.math.BigInteger P256_ORDER = new java.math.BigInteger(
      "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  static String fingerprintOf(byte[] der) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der), 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** True if {@code signature} is this key's signature over {@code message}; never throws on malformed input. */
  public boolean verifies(byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance(algorithm.equals(ED25519) ? "Ed25519" : "SHA256withECDSA");
      s.initVerify(key);
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** The key as PEM, to carry it in the bundle. */
  public byte[] pem() {
    String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return (BEGIN + "\n" + b64 + "\n" + END + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** For messages: {@code cosign.pub (ecdsa-p256 sha256:…)}. */
  public String describe() {
    return name + " (" + algorithm + " " + fingerprint + ")";
  }

  private static AirlockException bad(String name, String why) {
    return new AirlockException(Kind.BAD_INPUT, "image key " + name + " cannot be used: " + why,
        "give the public key cosign wrote (cosign generate-key-pair: cosign.pub), ECDSA P-256 or Ed25519");
  }
}
