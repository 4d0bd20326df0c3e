package dev.airlock.airgap.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.DeltaBase;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** v1 full bundle, v2 delta of it with one new image: built, verified, refused where its base is missing, pushed. */
class DeltaBundleTest {

  static final Path EXAMPLE = Path.of(System.getProperty("airlock.repo.root", "..")).toAbsolutePath().normalize()
      .resolve("examples/platform/bundle.yaml");
  static final TestImages.Layer NEW_LAYER = new TestImages.Layer(77, 500_000);
  @TempDir static Path dir;
  static RegistryServer source;
  static SigningKey key;
  static TrustedRoots roots;
  static Path v1;
  static Path v2;

  @BeforeAll
  static void build() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "t", Duration.ofDays(2), Instant.now());
    key = SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert"));
    roots = TrustedRoots.of(List.of(Ed25519.readPublicKey(dir.resolve("root.pub"))));
    source = RegistryServer.startPlain();
    ExampleImages.seed(source, dir.resolve("images"));
    new TestImages(source, dir.resolve("images")).push("hub/library/extra:1", List.of(ExampleImages.BASE, NEW_LAYER),
        "linux/amd64");
    BundleSpec base = SpecParser.parse(EXAMPLE).withMirrors(List.of(Mirror.parse("docker.io=" + source.host()
        + "/hub")));
    v1 = bundler(base).build(dir.resolve("v1.airlock")).output();
    List<ImageReference> images = new ArrayList<>(base.images());
    images.add(ImageReference.parse("docker.io/library/extra:1"));
    BundleSpec next = new BundleSpec(base.name(), dev.airlock.version.SemVer.parse("1.5.0"), base.description(),
        base.upgradesFrom(), base.kubernetes(), base.requirements(), base.mirrors(), base.platforms(),
        base.components(), images, Optional.empty(), base.specFile());
    v2 = bundler(next).deltaFrom(DeltaBase.read(v1)).build(dir.resolve("v2-delta.airlock")).output();
  }

  @AfterAll
  static void stop() {
    if (source != null) {
      source.close();
    }
  }

  static Bundler bundler(BundleSpec spec) {
    return Bundler.from(spec).registries(RegistryOptions.defaults().withInsecureHosts(Set.of(source.host())))
        .signWith(key);
  }

  @Test
  void delta_carriesOnlyWhatIsNew_andVerifies() throws Exception {
    BundleVerifier.Verified v = new BundleVerifier(roots, Clock.systemUTC(), e -> {}).verify(v2);
    BundleManifest m = v.manifest();
    assertThat(m.delta()).isNotNull();
    assertThat(m.delta().base()).contains("platform 1.4.0");
    assertThat(m.delta().omitted()).isNotEmpty();
    assertThat(m.images()).hasSize(6);
    long full = Files.size(v1);
    // Only the new layer and its config, plus the manifests (which always stay), are stored; no old config.
    assertThat(m.totals().uniqueBytes()).isBetween((long) NEW_LAYER.size(), (long) NEW_LAYER.size() + 60_000);
    List<String> baseConfigs = new ArrayList<>();
    try (BundleFile base = BundleFile.open(v1)) {
      for (BundleManifest.Image img : base.readHead().manifest().images()) {
        for (String b : img.blobs()) {
          var e = base.index().get(dev.airlock.bundle.format.BundleLayout.blobPath(dev.airlock.oci.Digest.parse(b)));
          if (e.size() < 64 * 1024) {
            String text = new String(base.readAll(e), java.nio.charset.StandardCharsets.UTF_8);
            if (text.contains("\"rootfs\"")) {
              baseConfigs.add(b);
            }
          }
        }
      }
    }
    assertThat(baseConfigs).hasSizeGreaterThanOrEqualTo(5);
    assertThat(m.delta().omitted()).as("the base's configs are left out like its layers").containsAll(baseConfigs);
    assertThat(Files.size(v2)).isLessThan(full);
  }

  @Test
  void delta_intoARegistryWithoutItsBase_isRefusedBeforeAnyChange() throws Exception {
    try (RegistryServer empty = RegistryServer.startPlain(); BundleFile delta = BundleFile.open(v2)) {
      assertThatThrownBy(() -> ImagePusher.from(delta).to(RegistryTarget.parse(empty.host() + "/p"))
          .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(empty.host()))).push())
          .isInstanceOf(AirlockException.class)
          .hasMessageContaining("this is a delta bundle of platform 1.4.0")
          .hasMessageContaining("lacks")
          .hasMessageContaining("sha256:")
          .hasMessageContaining("Nothing was pushed");
      assertThat(!Files.exists(empty.storageDir())
          || Files.walk(empty.storageDir()).noneMatch(Files::isRegularFile)).isTrue();
    }
  }

  @Test
  void delta_afterItsBase_pushesOnlyTheNewBlobs() {
    try (RegistryServer target = RegistryServer.startPlain(); BundleFile full = BundleFile.open(v1);
        BundleFile delta = BundleFile.open(v2)) {
      RegistryOptions opts = RegistryOptions.defaults().withInsecureHosts(Set.of(target.host()));
      RegistryTarget to = RegistryTarget.parse(target.host() + "/p");
      ImagePusher.from(full).to(to).registries(opts).push();
      ImagePusher.Result r = ImagePusher.from(delta).to(to).registries(opts).push();
      // The new layer and the new image's config; the shared base layer is mounted, not sent.
      assertThat(r.blobsUploaded()).isEqualTo(2);
      assertThat(r.blobsMounted()).isEqualTo(1);
      assertThat(r.bytesUploaded()).isLessThan(NEW_LAYER.size() + 10_000L);
      RegistryClient client = new RegistryClient(opts);
      assertThat(client.manifestDigest(target.host(), "p/library/extra", "1")).isPresent();
    }
  }

  @Test
  void inventoryFile_isADeltaBase(@TempDir Path tmp) throws Exception {
    try (BundleFile full = BundleFile.open(v1)) {
      StringBuilder json = new StringBuilder("{\"blobs\":[");
      List<String> all = full.readHead().manifest().images().stream().flatMap(i -> i.blobs().stream()).toList();
      for (int i = 0; i < all.size(); i++) {
        json.append(i == 0 ? "" : ",").append('"').append(all.get(i)).append('"');
      }
      Path inv = tmp.resolve("inventory.json");
      Files.writeString(inv, json.append("]}").toString());
      DeltaBase base = DeltaBase.read(inv);
      assertThat(base.blobs()).hasSize((int) all.stream().distinct().count());
      assertThat(base.description()).isEqualTo("inventory inventory.json");
      Files.writeString(inv, "{\"nothing\":1}");
      assertThatThrownBy(() -> DeltaBase.read(inv)).hasMessageContaining("neither a bundle nor an inventory");
    }
  }
}
