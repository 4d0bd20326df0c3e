package dev.airlock.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.error.AirlockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyChainTest {

  static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
  static final byte[] MSG = "payload".getBytes(StandardCharsets.UTF_8);

  @Test
  void rootCertifiesSigningKey_andSignatureVerifies(@TempDir Path dir) {
    KeyFiles.Written root = KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.Written signing = KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "vendor",
        Duration.ofDays(30), NOW);
    SigningKey key = SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert"));
    TrustedRoots roots = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
    byte[] sig = key.sign(MSG, NOW);
    roots.verify(MSG, sig, key.certificate(), NOW, "the payload");
    assertThat(key.certificate().issuer()).isEqualTo(root.keyId().value());
    assertThat(key.certificate().keyId()).isEqualTo(signing.keyId().value());
    assertThat(key.certificate().notBefore()).isEqualTo(NOW.minus(KeyFiles.CLOCK_SKEW));
  }

  @Test
  void pemFiles_areStandardAndRoundTrip(@TempDir Path dir) throws Exception {
    KeyFiles.createRoot(dir.resolve("root"));
    assertThat(Files.readString(dir.resolve("root.key"))).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(Files.readString(dir.resolve("root.pub"))).startsWith("-----BEGIN PUBLIC KEY-----");
    Ed25519.PrivateKey k = Ed25519.readPrivateKey(dir.resolve("root.key"));
    assertThat(k.id()).isEqualTo(Ed25519.readPublicKey(dir.resolve("root.pub")).id());
  }

  @Test
  void wrongFileKinds_giveClearErrors(@TempDir Path dir) throws Exception {
    KeyFiles.createRoot(dir.resolve("root"));
    assertThatThrownBy(() -> Ed25519.readPrivateKey(dir.resolve("root.pub")))
        .isInstanceOf(AirlockException.class).hasMessageContaining("does not hold a PEM 'PRIVATE KEY' block");
    Files.writeString(dir.resolve("junk.cert"), "{\"version\":1}");
    assertThatThrownBy(() -> SigningCertificate.read(dir.resolve("junk.cert")))
        .isInstanceOf(AirlockException.class).hasMessageContaining("not a complete airlock signing certificate");
    Files.writeString(dir.resolve("extra.cert"), "{\"version\":1,\"surprise\":true}");
    assertThatThrownBy(() -> SigningCertificate.read(dir.resolve("extra.cert")))
        .isInstanceOf(AirlockException.class).hasMessageContaining("surprise");
  }

  @Test
  void mismatchedKeyAndCertificate_areRefused(@TempDir Path dir) {
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("a"), "a", Duration.ofDays(1), NOW);
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("b"), "b", Duration.ofDays(1), NOW);
    assertThatThrownBy(() -> SigningKey.load(dir.resolve("a.key"), dir.resolve("b.cert")))
        .isInstanceOf(AirlockException.class).hasMessageContaining("does not match the certificate");
  }

  @Test
  void expiredNotYetValidAndRevoked_areRefused(@TempDir Path dir) {
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("s"), "s", Duration.ofDays(10), NOW);
    SigningKey key = SigningKey.load(dir.resolve("s.key"), dir.resolve("s.cert"));
    TrustedRoots roots = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
    byte[] sig = key.sign(MSG, NOW);
    assertThatThrownBy(() -> roots.verify(MSG, sig, key.certificate(), NOW.plus(Duration.ofDays(11)), "x"))
        .hasMessageContaining("expired at");
    assertThatThrownBy(() -> roots.verify(MSG, sig, key.certificate(), NOW.minus(Duration.ofDays(1)), "x"))
        .hasMessageContaining("is not valid before").hasMessageContaining("clock");
    TrustedRoots revoking = roots.withRevoked(Set.of(key.key().id()));
    assertThatThrownBy(() -> revoking.verify(MSG, sig, key.certificate(), NOW, "x"))
        .hasMessageContaining("has been revoked");
    assertThatThrownBy(() -> key.sign(MSG, NOW.plus(Duration.ofDays(11))))
        .hasMessageContaining("not now");
  }

  @Test
  void everyCertificateFieldIsCoveredByTheRootSignature(@TempDir Path dir) {
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("s"), "subject", Duration.ofDays(10), NOW);
    SigningCertificate c = SigningCertificate.read(dir.resolve("s.cert"));
    TrustedRoots roots = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
    Ed25519.PrivateKey other = Ed25519.generate();
    List<SigningCertificate> tampered = List.of(
        new SigningCertificate(c.version(), c.keyId(), c.publicKey(), c.issuer(), c.notBefore().minusSeconds(1),
            c.notAfter(), c.subject(), c.signature()),
        new SigningCertificate(c.version(), c.keyId(), c.publicKey(), c.issuer(), c.notBefore(),
            c.notAfter().plusSeconds(1), c.subject(), c.signature()),
        new SigningCertificate(c.version(), c.keyId(), c.publicKey(), c.issuer(), c.notBefore(), c.notAfter(),
            "someone else", c.signature()),
        new SigningCertificate(c.version(), other.id().value(), java.util.Base64.getEncoder().encodeToString(
            other.publicKey().raw()), c.issuer(), c.notBefore(), c.notAfter(), c.subject(), c.signature()));
    for (SigningCertificate t : tampered) {
      assertThatThrownBy(() -> roots.verifyCertificate(t, NOW))
          .isInstanceOf(AirlockException.class).hasMessageContaining("does not carry a valid signature of root key");
    }
    roots.verifyCertificate(c, NOW);
  }

  @Test
  void failedCreation_leavesNoPartialKeySet(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("not-a-dir"), "x");
    java.util.Map<Path, String> files = new java.util.LinkedHashMap<>();
    files.put(dir.resolve("s.key"), "secret");
    files.put(dir.resolve("s.pub"), "public");
    files.put(dir.resolve("not-a-dir/s.cert"), "cert");
    assertThatThrownBy(() -> KeyFiles.writeAll(files, dir.resolve("s.key")))
        .isInstanceOf(AirlockException.class).hasMessageContaining("s.cert");
    assertThat(dir.resolve("s.key")).doesNotExist();
    assertThat(dir.resolve("s.pub")).doesNotExist();
  }

  @Test
  void keysAreNeverOverwritten(@TempDir Path dir) throws Exception {
    KeyFiles.createRoot(dir.resolve("root"));
    String before = Files.readString(dir.resolve("root.key"));
    assertThatThrownBy(() -> KeyFiles.createRoot(dir.resolve("root"))).hasMessageContaining("already exists");
    assertThat(Files.readString(dir.resolve("root.key"))).isEqualTo(before);
  }
}
