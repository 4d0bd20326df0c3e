// Benchmark (not a test): time to verify one license after warm-up, against the JDK's own Ed25519 verification of
// the same signed bytes as a peer. Run by bench/license-verify.sh with the license module's class path.
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseIssuer;
import dev.airlock.license.LicenseVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Base64;
import java.util.List;

public class LicenseVerify {
  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("bench-license");
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "bench", Duration.ofDays(365),
        Instant.now());
    SigningKey key = SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert"));
    TrustedRoots roots = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
    LicenseFile file = LicenseIssuer.issue(new LicenseIssuer.Terms("Acme Corp", "platform",
        LocalDate.now().plusYears(1), 30, LocalDate.now().plusMonths(6), 250, 3,
        List.of("airgap", "custom-roles", "sso-oidc", "sso-saml"), "stable", 0), key, Instant.now());
    byte[] yaml = file.toYaml().getBytes(StandardCharsets.UTF_8);
    LicenseVerifier verifier = new LicenseVerifier(roots);
    Instant now = Instant.now().plusSeconds(1);

    // Peer: the JDK's Ed25519 verifying the license signature alone (one signature, no parsing, no chain).
    byte[] message = file.license().signedBytes();
    byte[] sig = Base64.getDecoder().decode(file.signature().value());
    String pem = key.key().publicKey().toPem().replaceAll("-----[A-Z ]+-----|\\s", "");
    PublicKey jdkKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
        Base64.getDecoder().decode(pem)));

    int warm = 20_000;
    int n = 50_000;
    for (int i = 0; i < warm; i++) {
      verifier.verify(LicenseFile.parse(yaml, "bench"), now);
      jdk(jdkKey, message, sig);
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      verifier.verify(LicenseFile.parse(yaml, "bench"), now);
    }
    long t1 = System.nanoTime();
    LicenseFile parsed = LicenseFile.parse(yaml, "bench");
    for (int i = 0; i < n; i++) {
      verifier.verify(parsed, now);
    }
    long t2 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      if (!jdk(jdkKey, message, sig)) {
        throw new AssertionError("peer failed");
      }
    }
    long t3 = System.nanoTime();
    double full = (t1 - t0) / 1e3 / n;
    double verifyOnly = (t2 - t1) / 1e3 / n;
    double peer = (t3 - t2) / 1e3 / n;
    System.out.printf("airlock parse + verify (chain: certificate + license): %7.1f us per license%n", full);
    System.out.printf("airlock verify of a parsed license (2 signatures):     %7.1f us per license%n", verifyOnly);
    System.out.printf("peer: JDK Ed25519 verify of the license signature:     %7.1f us per signature%n", peer);
    System.out.printf("ratio airlock verify / peer: %.2f (two signatures against one)%n", verifyOnly / peer);
  }

  static boolean jdk(PublicKey key, byte[] message, byte[] sig) throws Exception {
    Signature s = Signature.getInstance("Ed25519");
    s.initVerify(key);
    s.update(message);
    return s.verify(sig);
  }
}
