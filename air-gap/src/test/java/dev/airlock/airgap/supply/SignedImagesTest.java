package dev.airlock.airgap.supply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.airgap.push.ImagePusher;
import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.bundle.supply.CosignArtifacts;
import dev.airlock.bundle.supply.CosignKey;
import dev.airlock.error.AirlockException;
import dev.airlock.event.Event;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.CosignSigner;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import dev.airlock.testing.TestImages.Layer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image signatures end to end against real registries on loopback: cosign-format signatures (made by the tests'
 * signer) found at build, carried, checked again offline by verify, and pushed beside their images.
 */
class SignedImagesTest {

  @TempDir static Path dir;
  static RegistryServer source;
  static TestImages images;
  static KeyPair vendor = CosignSigner.ecdsaP256();
  static KeyPair stranger = CosignSigner.ed25519();
  static SigningKey signing;
  static TrustedRoots trust;
  static TestImages.Pushed signed;
  static TestImages.Pushed unsigned;
  static TestImages.Pushed strangers;

  @BeforeAll
  static void seed() throws IOException {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    source = RegistryServer.startPlain();
    images = new TestImages(source, dir.resolve("images"));
    signed = images.push("acme/app:1.0", List.of(new Layer(1, 4096)), "linux/amd64");
    CosignSigner.sign(images, source.host(), "acme/app", signed.digest(), vendor);
    CosignSigner.attest(images, "acme/app", signed.digest(), signed.digest(), vendor);
    unsigned = images.push("acme/plain:1.0", List.of(new Layer(2, 4096)), "linux/amd64");
    strangers = images.push("acme/other:1.0", List.of(new Layer(3, 4096)), "linux/amd64");
    CosignSigner.sign(images, source.host(), "acme/other", strangers.digest(), stranger);
    Files.writeString(dir.resolve("cosign.pub"), CosignSigner.publicPem(vendor));
    Files.createDirectories(dir.resolve("chart"));
    Files.writeString(dir.resolve("chart/Chart.yaml"), "apiVersion: v2\nname: app\nversion: 1.0.0\n");
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "t", Duration.ofDays(2),
        Instant.now().minus(Duration.ofMinutes(1)));
    signing = SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert"));
    trust = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
  }

  @AfterAll
  static void stop() {
    if (source != null) {
      source.close();
    }
  }

  private Path spec(String name, String policy, TestImages.Pushed... imgs) throws IOException {
    StringBuilder s = new StringBuilder("apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: signed\nversion: 1.0.0\n"
        + "components:\n  - name: app\n    chart: {path: chart}\nimages:\n");
    for (TestImages.Pushed p : imgs) {
      s.append("  - ").append(p.reference()).append('\n');
    }
    s.append("imagePolicy:\n").append(policy);
    Path p = dir.resolve(name + ".yaml");
    Files.writeString(p, s.toString());
    return p;
  }

  private Bundler bundler(Path spec, List<String> warnings) {
    return Bundler.from(SpecParser.parse(spec)).signWith(signing).builderVersion("test")
        .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(source.host())))
        .addEventHandler(e -> {
          if (e instanceof Event.Log l && l.level() == Event.Level.WARN) {
            warnings.add(l.message());
          }
        });
  }

  @Test
  void required_signedImage_carriesSignatureAndAttestation_verifiedOffline_andPushedBesideTheImage(@TempDir Path t)
      throws IOException {
    Path out = bundler(spec("good", "  signatures: required\n  keys: [cosign.pub]\n", signed), new ArrayList<>())
        .build(t.resolve("signed.airlock")).output();
    // Offline: the source registry is gone before verify and push.
    source.kill();
    try {
      BundleVerifier.Verified v = new BundleVerifier(trust, Clock.systemUTC(), e -> {}).verify(out);
      assertThat(v.signedImages()).isEqualTo(1);
      BundleManifest.Image img = v.manifest().images().get(0);
      assertThat(img.signatures()).extracting(BundleManifest.Signature::tag).containsExactly(
          "sha256-" + Digest.parse(signed.digest()).hex() + ".sig", "sha256-" + Digest.parse(signed.digest()).hex()
              + ".att");
      CosignKey key = CosignKey.parse(CosignSigner.publicPem(vendor).getBytes(), "cosign.pub");
      assertThat(img.signatures().get(0).keys()).containsExactly(key.fingerprint());
      assertThat(v.manifest().imagePolicy().keys()).singleElement()
          .satisfies(k -> assertThat(k.fingerprint()).isEqualTo(key.fingerprint()));

      try (RegistryServer target = RegistryServer.startPlain(); BundleFile bundle = BundleFile.open(out)) {
        RegistryOptions opts = RegistryOptions.defaults().withInsecureHosts(Set.of(target.host()));
        ImagePusher.Result r = ImagePusher.from(bundle).to(RegistryTarget.parse(target.host() + "/corp"))
            .registries(opts).push();
        assertThat(r.images()).hasSize(1);
        RegistryClient client = new RegistryClient(opts);
        Digest digest = Digest.parse(signed.digest());
        for (CosignArtifacts.Artifact kind : CosignArtifacts.Artifact.values()) {
          // What cosign verify --key reads: the tag beside the image, its layers, checked with the vendor's key.
          RegistryClient.Manifest m = client.getManifest(target.host(), "corp/acme/app",
              kind.tagFor(digest));
          CosignArtifacts.Checked c = CosignArtifacts.check(kind, "app", digest, m.bytes(), (d, size) -> {
            try (InputStream in = client.openBlob(target.host(), "corp/acme/app", d)) {
              return in.readAllBytes();
            } catch (IOException e) {
              throw new AssertionError(e);
            }
          }, List.of(key), List.of());
          assertThat(c.verified()).as(kind.word()).isTrue();
        }
      }
    } finally {
      source.restart();
    }
  }

  @Test
  void required_unsignedImage_isRefusedAtBuild_namingTheImageAndTheKey(@TempDir Path t) throws IOException {
    Path spec = spec("unsigned", "  signatures: required\n  keys: [cosign.pub]\n", unsigned);
    assertThatThrownBy(() -> bundler(spec, new ArrayList<>()).build(t.resolve("x.airlock")))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("image " + unsigned.reference())
        .hasMessageContaining("has no cosign signature")
        .hasMessageContaining("key cosign.pub (ecdsa-p256");
    assertThat(t.resolve("x.airlock")).doesNotExist();
  }

  @Test
  void required_signatureByAnotherKey_isRefusedAtBuild_namingTheImageAndTheKey(@TempDir Path t) throws IOException {
    Path spec = spec("stranger", "  signatures: required\n  keys: [cosign.pub]\n", strangers);
    assertThatThrownBy(() -> bundler(spec, new ArrayList<>()).build(t.resolve("x.airlock")))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("image " + strangers.reference())
        .hasMessageContaining("does not verify with key cosign.pub (ecdsa-p256");
  }

  @Test
  void optional_leavesOutASignatureByAnotherKey_withAWarning_andBuildsUnsignedImages(@TempDir Path t)
      throws IOException {
    List<String> warnings = new ArrayList<>();
    Path out = bundler(spec("optional", "  signatures: optional\n  keys: [cosign.pub]\n", strangers, unsigned,
        signed), warnings).build(t.resolve("o.airlock")).output();
    assertThat(warnings).anyMatch(w -> w.contains(strangers.reference()) && w.contains("left out"));
    BundleVerifier.Verified v = new BundleVerifier(trust, Clock.systemUTC(), e -> {}).verify(out);
    assertThat(v.signedImages()).isEqualTo(1);
    assertThat(v.manifest().images()).filteredOn(i -> i.ref().equals(strangers.reference()))
        .singleElement().satisfies(i -> assertThat(i.signatures()).isEmpty());
  }
}
