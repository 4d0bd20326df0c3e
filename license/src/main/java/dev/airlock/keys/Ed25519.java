package dev.airlock.keys;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Ed25519 keys through Bouncy Castle's lightweight API, stored as standard PEM (PKCS#8 "PRIVATE KEY", SPKI "PUBLIC
 * KEY") so that openssl can read them too.
 */
public final class Ed25519 {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Ed25519() {}

  /** A private key with its id. */
  public record PrivateKey(Ed25519PrivateKeyParameters params) {
    public PublicKey publicKey() {
      return new PublicKey(params.generatePublicKey());
    }

    public KeyId id() {
      return publicKey().id();
    }

    public byte[] sign(byte[] message) {
      Ed25519Signer signer = new Ed25519Signer();
      signer.init(true, params);
      signer.update(message, 0, message.length);
      return signer.generateSignature();
    }

    public String toPem() {
      try {
        // RFC 8410's PKCS#8 v1 form (no embedded public key), which OpenSSL 3.0 reads ("openssl pkey"); v2 keys
        // written by earlier versions are still read.
        return pem("PRIVATE KEY", new PrivateKeyInfo(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.3.101.112")), new org.bouncycastle.asn1.DEROctetString(
            params.getEncoded())).getEncoded());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A public key with its id. */
  public record PublicKey(Ed25519PublicKeyParameters params) {
    public KeyId id() {
      return KeyId.of(params.getEncoded());
    }

    public byte[] raw() {
      return params.getEncoded();
    }

    public boolean verify(byte[] message, byte[] signature) {
      if (signature == null || signature.length != Ed25519PrivateKeyParameters.SIGNATURE_SIZE) {
        return false;
      }
      Ed25519Signer verifier = new Ed25519Signer();
      verifier.init(false, params);
      verifier.update(message, 0, message.length);
      return verifier.verifySignature(signature);
    }

    public String toPem() {
      try {
        return pem("PUBLIC KEY", SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(params).getEncoded());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    public static PublicKey fromRaw(byte[] raw) {
      if (raw.length != Ed25519PublicKeyParameters.KEY_SIZE) {
        throw new AirlockException(Kind.BAD_INPUT, "an Ed25519 public key has 32 bytes, this one has " + raw.length,
            null);
      }
      return new PublicKey(new Ed25519PublicKeyParameters(raw, 0));
    }
  }

  public static PrivateKey generate() {
    return new PrivateKey(new Ed25519PrivateKeyParameters(RANDOM));
  }

  public static PrivateKey readPrivateKey(Path file) {
    byte[] der = readPem(file, "PRIVATE KEY");
    try {
      AsymmetricKeyParameter key = PrivateKeyFactory.createKey(PrivateKeyInfo.getInstance(der));
      if (key instanceof Ed25519PrivateKeyParameters ed) {
        return new PrivateKey(ed);
      }
    } catch (IOException | RuntimeException e) {
      // fall through to the error below
    }
    throw new AirlockException(Kind.BAD_INPUT, file + " is not an Ed25519 private key",
        "create keys with 'airlock keys create-root' or 'airlock keys create-signing'");
  }

  public static PublicKey readPublicKey(Path file) {
    return parsePublicKey(readText(file), file.toString());
  }

  public static PublicKey parsePublicKey(String pemText, String source) {
    byte[] der = decodePem(pemText, "PUBLIC KEY", source);
    try {
      AsymmetricKeyParameter key = PublicKeyFactory.createKey(SubjectPublicKeyInfo.getInstance(der));
      if (key instanceof Ed25519PublicKeyParameters ed) {
        return new PublicKey(ed);
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    throw new AirlockException(Kind.BAD_INPUT, source + " is not an Ed25519 public key",
        "pass the root.pub written by 'airlock keys create-root'");
  }

  /** Every PEM "PUBLIC KEY" block in {@code pemText}, in order; other text between blocks is ignored. */
  public static java.util.List<PublicKey> parsePublicKeys(String pemText, String source) {
    java.util.List<PublicKey> keys = new java.util.ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", java.util.regex.Pattern.DOTALL).matcher(pemText);
    while (m.find()) {
      keys.add(parsePublicKey(m.group(), source));
    }
    return keys;
  }

  private static byte[] readPem(Path file, String type) {
    return decodePem(readText(file), type, file.toString());
  }

  private static String readText(Path file) {
    try {
      if (Files.size(file) > 64 * 1024) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is too large to be a key file", null);
      }
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, "key file " + file + " does not exist", "check the path (--key, "
          + "--trust-root, --root-key)", e).with(AirlockException.FILE, file);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + file + ": " + e.getMessage(),
          "check the path and its permissions", e).with(AirlockException.FILE, file);
    }
  }

  private static byte[] decodePem(String text, String type, String source) {
    try (PemReader reader = new PemReader(new StringReader(text))) {
      PemObject obj = reader.readPemObject();
      if (obj == null || !obj.getType().equals(type)) {
        throw new AirlockException(Kind.BAD_INPUT,
            source + " does not hold a PEM '" + type + "' block" + (obj == null ? "" : " (found '" + obj.getType() + "')"),
            null);
      }
      return obj.getContent();
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is not valid PEM: " + e.getMessage(), null, e);
    }
  }

  private static String pem(String type, byte[] der) {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      writer.writeObject(new PemObject(type, der));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }
}
