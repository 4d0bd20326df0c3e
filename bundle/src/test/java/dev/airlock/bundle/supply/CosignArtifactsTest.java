package dev.airlock.bundle.supply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.bundle.supply.CosignArtifacts.Artifact;
import dev.airlock.error.AirlockException;
import dev.airlock.oci.Digest;
import dev.airlock.testing.CosignSigner;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The offline check of cosign signatures, on artifacts the tests' own signer writes in cosign's format. The attack
 * list of the issue: another digest, another key, a flipped byte, a truncated or oversized object, an attestation
 * whose subject differs.
 */
class CosignArtifactsTest {

  static final String IMAGE = "registry.example.com/acme/app:1.0";
  static final Digest DIGEST = Digest.of("the image manifest".getBytes(StandardCharsets.UTF_8));
  static final Digest OTHER = Digest.of("another image manifest".getBytes(StandardCharsets.UTF_8));
  static final KeyPair EC = CosignSigner.ecdsaP256();
  static final KeyPair ED = CosignSigner.ed25519();
  static final CosignKey EC_KEY = CosignKey.parse(CosignSigner.publicPem(EC).getBytes(StandardCharsets.US_ASCII),
      "cosign.pub");
  static final CosignKey ED_KEY = CosignKey.parse(CosignSigner.publicPem(ED).getBytes(StandardCharsets.US_ASCII),
      "ed25519.pub");

  private final Map<Digest, byte[]> blobs = new HashMap<>();

  private byte[] blob(byte[] b) {
    blobs.put(Digest.of(b), b);
    return b;
  }

  /** A .sig manifest with one layer: this payload, this signature. */
  private byte[] sigManifest(byte[] payload, byte[] signature) {
    blob(payload);
    return ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{"
        + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\""
        + Digest.of(blob("{}".getBytes(StandardCharsets.UTF_8))) + "\"},\"layers\":[{\"mediaType\":\""
        + CosignArtifacts.SIMPLE_SIGNING + "\",\"size\":" + payload.length + ",\"digest\":\"" + Digest.of(payload)
        + "\",\"annotations\":{\"" + CosignArtifacts.SIGNATURE_ANNOTATION + "\":\""
        + Base64.getEncoder().encodeToString(signature) + "\"}}]}").getBytes(StandardCharsets.UTF_8);
  }

  private CosignArtifacts.Checked check(byte[] manifest, List<CosignKey> keys) {
    return CosignArtifacts.check(Artifact.SIGNATURE, IMAGE, DIGEST, manifest, (d, size) -> blobs.get(d), keys,
        List.of());
  }

  private byte[] signed(KeyPair key, Digest digest) {
    byte[] payload = CosignSigner.payload("registry.example.com/acme/app", digest.toString());
    return sigManifest(payload, CosignSigner.sign(key, payload));
  }

  @Test
  void ecdsaP256Signature_verifies() {
    CosignArtifacts.Checked c = check(signed(EC, DIGEST), List.of(EC_KEY));
    assertThat(c.verified()).isTrue();
    assertThat(c.keys()).containsExactly(EC_KEY.fingerprint());
    assertThat(c.blobs()).hasSize(2);
    assertThat(EC_KEY.algorithm()).isEqualTo(CosignKey.ECDSA_P256);
  }

  @Test
  void ed25519Signature_verifies_andOnlyWithItsKey() {
    assertThat(check(signed(ED, DIGEST), List.of(EC_KEY, ED_KEY)).keys()).containsExactly(ED_KEY.fingerprint());
    assertThat(ED_KEY.algorithm()).isEqualTo(CosignKey.ED25519);
  }

  @Test
  void signatureOverAnotherDigest_isRefused_namingTheDigests() {
    CosignArtifacts.Checked c = check(signed(EC, OTHER), List.of(EC_KEY));
    assertThat(c.verified()).isFalse();
    assertThat(c.problems()).singleElement().asString().contains("it signs " + OTHER)
        .contains("not the image's digest " + DIGEST).contains("cosign.pub");
  }

  @Test
  void signatureByAnotherKey_isRefused_namingTheKey() {
    CosignArtifacts.Checked c = check(signed(CosignSigner.ecdsaP256(), DIGEST), List.of(EC_KEY));
    assertThat(c.verified()).isFalse();
    assertThat(c.problems()).singleElement().asString().contains("does not verify with key cosign.pub (ecdsa-p256 "
        + EC_KEY.fingerprint() + ")");
  }

  @Test
  void flippedByteInThePayload_orInTheSignature_isRefused() {
    byte[] payload = CosignSigner.payload("registry.example.com/acme/app", DIGEST.toString());
    byte[] signature = CosignSigner.sign(ED, payload);
    byte[] flippedPayload = payload.clone();
    flippedPayload[10] ^= 1;
    assertThat(check(sigManifest(flippedPayload, signature), List.of(ED_KEY)).verified()).isFalse();
    byte[] flippedSignature = signature.clone();
    flippedSignature[5] ^= 1;
    assertThat(check(sigManifest(payload, flippedSignature), List.of(ED_KEY)).problems()).singleElement().asString()
        .contains("does not verify with key ed25519.pub");
    assertThat(check(sigManifest(payload, signature), List.of(ED_KEY)).verified()).isTrue();
  }

  @Test
  void truncatedPayload_isRefused_namingTheImage() {
    byte[] manifest = signed(EC, DIGEST);
    Map<Digest, byte[]> truncated = new HashMap<>();
    blobs.forEach((d, b) -> truncated.put(d, java.util.Arrays.copyOf(b, b.length / 2)));
    assertThatThrownBy(() -> CosignArtifacts.check(Artifact.SIGNATURE, IMAGE, DIGEST, manifest,
        (d, size) -> truncated.get(d), List.of(EC_KEY), List.of()))
        .isInstanceOf(AirlockException.class).hasMessageContaining("signature sha256-" + DIGEST.hex()
            + ".sig of image " + IMAGE).hasMessageContaining("truncated or altered");
  }

  @Test
  void oversizedOrTruncatedManifest_isRefused_beforeAnyBlobIsRead() {
    String big = "{\"layers\":[{\"size\":" + (CosignArtifacts.MAX_LAYER + 1) + ",\"digest\":\"" + DIGEST + "\"}]}";
    assertThatThrownBy(() -> CosignArtifacts.check(Artifact.SIGNATURE, IMAGE, DIGEST,
        big.getBytes(StandardCharsets.UTF_8), (d, size) -> {
          throw new AssertionError("read an oversized blob");
        }, List.of(EC_KEY), List.of())).hasMessageContaining("over the limit of " + CosignArtifacts.MAX_LAYER);
    byte[] manifest = signed(EC, DIGEST);
    byte[] cut = java.util.Arrays.copyOf(manifest, manifest.length - 20);
    assertThatThrownBy(() -> check(cut, List.of(EC_KEY))).hasMessageContaining("is not JSON (truncated?)");
    assertThatThrownBy(() -> check(new byte[CosignArtifacts.MAX_MANIFEST + 1], List.of(EC_KEY)))
        .hasMessageContaining("over the limit of " + CosignArtifacts.MAX_MANIFEST);
  }

  @Test
  void oversizedSignatureAnnotation_isRefused() {
    byte[] payload = CosignSigner.payload("registry.example.com/acme/app", DIGEST.toString());
    CosignArtifacts.Checked c = check(sigManifest(payload, new byte[CosignArtifacts.MAX_SIGNATURE_B64]),
        List.of(EC_KEY));
    assertThat(c.problems()).singleElement().asString().contains("over the limit of "
        + CosignArtifacts.MAX_SIGNATURE_B64);
  }

  @Test
  void identities_limitTheSignedRepository() {
    byte[] m = signed(EC, DIGEST);
    assertThat(CosignArtifacts.check(Artifact.SIGNATURE, IMAGE, DIGEST, m, (d, s) -> blobs.get(d), List.of(EC_KEY),
        List.of("registry.example.com/acme/*")).verified()).isTrue();
    assertThat(CosignArtifacts.check(Artifact.SIGNATURE, IMAGE, DIGEST, m, (d, s) -> blobs.get(d), List.of(EC_KEY),
        List.of("registry.example.com/other/**")).problems()).singleElement().asString()
        .contains("matches none of imagePolicy.identities");
  }

  @Test
  void keys_otherThanP256OrEd25519_areRefused_namingTheFile() throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
    String p384 = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(
        g.generateKeyPair().getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    assertThatThrownBy(() -> CosignKey.parse(p384.getBytes(StandardCharsets.US_ASCII), "p384.pub"))
        .hasMessageContaining("image key p384.pub cannot be used").hasMessageContaining("other than P-256");
    assertThatThrownBy(() -> CosignKey.parse("not a key".getBytes(StandardCharsets.US_ASCII), "x.pub"))
        .hasMessageContaining("image key x.pub cannot be used");
  }

  @Test
  void attestation_verifiesOverDsse_andOneWhoseSubjectDiffers_isRefused() {
    assertThat(checkAttestation(DIGEST).verified()).isTrue();
    assertThat(checkAttestation(OTHER).problems()).singleElement().asString()
        .contains("its subject is not the image's digest " + DIGEST);
  }

  private CosignArtifacts.Checked checkAttestation(Digest subject) {
    String statement = "{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":\"x\",\"subject\":[{"
        + "\"name\":\"app\",\"digest\":{\"sha256\":\"" + subject.hex() + "\"}}],\"predicate\":{}}";
    byte[] body = statement.getBytes(StandardCharsets.UTF_8);
    byte[] sig = CosignSigner.sign(EC, CosignArtifacts.pae(CosignArtifacts.IN_TOTO, body));
    byte[] envelope = blob(("{\"payloadType\":\"" + CosignArtifacts.IN_TOTO + "\",\"payload\":\""
        + Base64.getEncoder().encodeToString(body) + "\",\"signatures\":[{\"keyid\":\"\",\"sig\":\""
        + Base64.getEncoder().encodeToString(sig) + "\"}]}").getBytes(StandardCharsets.UTF_8));
    byte[] manifest = ("{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"" + CosignArtifacts.DSSE + "\",\"size\":"
        + envelope.length + ",\"digest\":\"" + Digest.of(envelope) + "\"}]}").getBytes(StandardCharsets.UTF_8);
    return CosignArtifacts.check(Artifact.ATTESTATION, IMAGE, DIGEST, manifest, (d, s) -> blobs.get(d),
        List.of(EC_KEY), List.of());
  }
}
