package dev.airlock.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * Makes signatures and attestations in cosign's published formats, written from the formats (Debian's skopeo has
 * sigstore signing disabled): the simple-signing payload, ECDSA P-256/SHA-256 (DER) or Ed25519 over it, the
 * {@code sha256-<hex>.sig} manifest whose layer is the payload with the base64 signature annotation; and the
 * {@code .att} manifest whose layer is a DSSE envelope over an in-toto statement.
 */
public final class CosignSigner {

  public static final String SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
  public static final String DSSE = "application/vnd.dsse.envelope.v1+json";
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

  private CosignSigner() {}

  public static KeyPair ecdsaP256() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The public key as cosign writes cosign.pub. */
  public static String publicPem(KeyPair key) {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  /** The simple-signing payload cosign signs for {@code repository} (no tag) at {@code digest}. */
  public static byte[] payload(String dockerReference, String digest) {
    return ("{\"critical\":{\"identity\":{\"docker-reference\":\"" + dockerReference + "\"},\"image\":{"
        + "\"docker-manifest-digest\":\"" + digest + "\"},\"type\":\"cosign container image signature\"},"
        + "\"optional\":null}").getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] sign(KeyPair key, byte[] message) {
    try {
      Signature s = Signature.getInstance(key.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA"
          : "Ed25519");
      s.initSign(key.getPrivate());
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs the image {@code repository@digest} in the test registry with {@code key}; returns the .sig digest. */
  public static String sign(TestImages images, String host, String repository, String digest, KeyPair key) {
    byte[] payload = payload(host + "/" + repository, digest);
    return pushSignature(images, repository, digest, payload, sign(key, payload));
  }

  /** Pushes a .sig manifest for {@code digest} with exactly this payload and signature (tests tamper with either). */
  public static String pushSignature(TestImages images, String repository, String digest, byte[] payload,
      byte[] signature) {
    String layer = images.pushBlob(repository, payload);
    String layerDescriptor = "{\"mediaType\":\"" + SIMPLE_SIGNING + "\",\"size\":" + payload.length + ",\"digest\":\""
        + layer + "\",\"annotations\":{\"dev.cosignproject.cosign/signature\":\""
        + Base64.getEncoder().encodeToString(signature) + "\"}}";
    return pushArtifact(images, repository, digest, "sig", layer, layerDescriptor);
  }

  /** Pushes a .att manifest: a DSSE envelope over an in-toto statement whose subject is {@code subjectDigest}. */
  public static String attest(TestImages images, String repository, String digest, String subjectDigest,
      KeyPair key) {
    String statement = "{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":"
        + "\"https://cyclonedx.org/bom\",\"subject\":[{\"name\":\"" + repository + "\",\"digest\":{\"sha256\":\""
        + subjectDigest.substring("sha256:".length()) + "\"}}],\"predicate\":{}}";
    byte[] body = statement.getBytes(StandardCharsets.UTF_8);
    String type = "application/vnd.in-toto+json";
    byte[] pae = ("DSSEv1 " + type.length() + " " + type + " " + body.length + " " + statement)
        .getBytes(StandardCharsets.UTF_8);
    String envelope = "{\"payloadType\":\"" + type + "\",\"payload\":\"" + Base64.getEncoder().encodeToString(body)
        + "\",\"signatures\":[{\"keyid\":\"\",\"sig\":\"" + Base64.getEncoder().encodeToString(sign(key, pae))
        + "\"}]}";
    byte[] bytes = envelope.getBytes(StandardCharsets.UTF_8);
    String layer = images.pushBlob(repository, bytes);
    String layerDescriptor = "{\"mediaType\":\"" + DSSE + "\",\"size\":" + bytes.length + ",\"digest\":\"" + layer
        + "\",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"\",\"predicateType\":"
        + "\"https://cyclonedx.org/bom\"}}";
    return pushArtifact(images, repository, digest, "att", layer, layerDescriptor);
  }

  private static String pushArtifact(TestImages images, String repository, String digest, String suffix,
      String layer, String layerDescriptor) {
    byte[] config = ("{\"architecture\":\"\",\"config\":{},\"created\":\"0001-01-01T00:00:00Z\",\"os\":\"\","
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer + "\"]}}").getBytes(StandardCharsets.UTF_8);
    String configDigest = images.pushBlob(repository, config);
    String manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
        + "\"application/vnd.oci.image.config.v1+json\",\"size\":" + config.length + ",\"digest\":\"" + configDigest
        + "\"},\"layers\":[" + layerDescriptor + "]}";
    return images.putManifest(repository, "sha256-" + digest.substring("sha256:".length()) + "." + suffix,
        manifest.getBytes(StandardCharsets.UTF_8), OCI_MANIFEST);
  }
}
