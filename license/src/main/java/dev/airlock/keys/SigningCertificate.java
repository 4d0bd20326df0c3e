package dev.airlock.keys;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;

/**
 * A small certificate: the root key vouches for a signing key during a validity window. Its signature covers
 * {@link #signedBytes()}, a canonical line encoding of every field but the signature, so the JSON form may be
 * re-indented but not changed in meaning.
 *
 * @param version format version, always 1
 * @param keyId id of the certified signing key
 * @param publicKey raw Ed25519 signing public key, base64
 * @param issuer id of the root key that signed this certificate
 * @param notBefore start of validity
 * @param notAfter end of validity
 * @param subject free text naming the key's holder (for people, not for decisions)
 * @param signature the root's Ed25519 signature over {@link #signedBytes()}, base64
 */
@JsonPropertyOrder({"version", "keyId", "publicKey", "issuer", "notBefore", "notAfter", "subject", "signature"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SigningCertificate(
    @JsonProperty("version") int version,
    @JsonProperty("keyId") String keyId,
    @JsonProperty("publicKey") String publicKey,
    @JsonProperty("issuer") String issuer,
    @JsonProperty("notBefore") Instant notBefore,
    @JsonProperty("notAfter") Instant notAfter,
    @JsonProperty("subject") String subject,
    @JsonProperty("signature") String signature) {

  private static final ObjectMapper JSON = new ObjectMapper()
      .findAndRegisterModules()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** Issues a certificate for {@code signingKey}, signed by {@code root}. */
  public static SigningCertificate issue(Ed25519.PrivateKey root, Ed25519.PublicKey signingKey, String subject,
      Instant notBefore, Instant notAfter) {
    if (!notAfter.isAfter(notBefore)) {
      throw new AirlockException(Kind.BAD_INPUT, "the certificate's end (" + notAfter + ") is not after its start ("
          + notBefore + ")", "choose a positive validity");
    }
    if (subject != null && subject.contains("\n")) {
      throw new AirlockException(Kind.BAD_INPUT, "the certificate subject must be one line", null);
    }
    SigningCertificate unsigned = new SigningCertificate(1, signingKey.id().value(),
        Base64.getEncoder().encodeToString(signingKey.raw()), root.id().value(), notBefore, notAfter, subject, null);
    String sig = Base64.getEncoder().encodeToString(root.sign(unsigned.signedBytes()));
    return new SigningCertificate(1, unsigned.keyId, unsigned.publicKey, unsigned.issuer, notBefore, notAfter,
        subject, sig);
  }

  /** The canonical bytes the root signs: one {@code name=value} line per field, in a fixed order. */
  public byte[] signedBytes() {
    String text = "airlock-signing-certificate\n"
        + "version=" + version + "\n"
        + "keyId=" + keyId + "\n"
        + "publicKey=" + publicKey + "\n"
        + "issuer=" + issuer + "\n"
        + "notBefore=" + notBefore + "\n"
        + "notAfter=" + notAfter + "\n"
        + "subject=" + (subject == null ? "" : subject) + "\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** The certified key; checks that it matches {@link #keyId()}. */
  public Ed25519.PublicKey signingKey() {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(publicKey);
    } catch (IllegalArgumentException e) {
      throw tampered("its public key is not base64");
    }
    Ed25519.PublicKey key = Ed25519.PublicKey.fromRaw(raw);
    if (!key.id().value().equals(keyId)) {
      throw tampered("its key id " + keyId + " does not match its public key (" + key.id() + ")");
    }
    return key;
  }

  byte[] signatureBytes() {
    try {
      return signature == null ? new byte[0] : Base64.getDecoder().decode(signature);
    } catch (IllegalArgumentException e) {
      throw tampered("its signature is not base64");
    }
  }

  private AirlockException tampered(String why) {
    return new AirlockException(Kind.VERIFICATION, "signing certificate " + keyId + " is invalid: " + why,
        "ask the vendor for an intact certificate");
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static SigningCertificate parse(String json, String source) {
    try {
      SigningCertificate cert = JSON.readValue(json, SigningCertificate.class);
      if (cert.version != 1 || cert.keyId == null || cert.publicKey == null || cert.issuer == null
          || cert.notBefore == null || cert.notAfter == null || cert.signature == null) {
        throw new AirlockException(Kind.BAD_INPUT, source + " is not a complete airlock signing certificate "
            + "(version 1 with keyId, publicKey, issuer, notBefore, notAfter and signature)", null);
      }
      return cert;
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, source + " is not an airlock signing certificate: "
          + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), "pass the signing.cert written by 'airlock keys create-signing'", e);
    }
  }

  public static SigningCertificate read(Path file) {
    try {
      if (Files.size(file) > 64 * 1024) {
        throw new AirlockException(Kind.BAD_INPUT, file + " is too large to be a certificate", null);
      }
      return parse(Files.readString(file), file.toString());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, "certificate file " + file + " does not exist", "check the path "
          + "(--cert)", e).with(AirlockException.FILE, file);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read " + file + ": " + e.getMessage(), null, e)
          .with(AirlockException.FILE, file);
    }
  }
}
