package dev.airlock.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.event.Event;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.KeyId;
import dev.airlock.keys.RevocationList;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.Digest;
import dev.airlock.oci.MediaTypes;
import dev.airlock.oci.Platform;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import dev.airlock.testing.TestImages.Layer;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundlerTest {

  static RegistryServer registry;
  @TempDir static Path shared;
  static Fixtures.Keys keys;

  @BeforeAll
  static void seed() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    registry = RegistryServer.startPlain();
    Fixtures.seedExample(registry, shared.resolve("images"));
    keys = Fixtures.keys(shared.resolve("keys"));
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  private Bundler bundler(RegistryServer from, Path cache) {
    BundleSpec spec = SpecParser.parse(Fixtures.EXAMPLE)
        .withMirrors(List.of(Mirror.parse("docker.io=" + from.host() + "/hub")));
    RegistryOptions opts = RegistryOptions.defaults().withInsecureHosts(Set.of(from.host()))
        .withRetries(2, Duration.ofMillis(50));
    return Bundler.from(spec).registries(opts).signWith(keys.signing()).cacheDir(cache).builderVersion("test");
  }

  @Test
  void build_thenVerifyAndInspect_roundTrip(@TempDir Path tmp) {
    Bundler.Result result = bundler(registry, tmp.resolve("cache")).build(tmp.resolve("platform.airlock"));

    assertThat(result.output()).exists();
    assertThat(tmp.resolve("platform.airlock")).isRegularFile();
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".partial"));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    BundleVerifier.Verified v = new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {})
        .verify(result.output());
    BundleManifest m = v.manifest();
    assertThat(m.name()).isEqualTo("platform");
    assertThat(m.version()).isEqualTo("1.4.0");
    assertThat(m.upgradesFrom()).isEqualTo(">=1.2.0 <1.4.0");
    assertThat(m.components()).extracting(BundleManifest.Component::name)
        .containsExactly("registry", "buildkit", "controller", "ui");
    assertThat(m.images()).extracting(BundleManifest.Image::ref).containsExactlyInAnyOrder(
        "docker.io/library/alpine:3.20", "docker.io/library/busybox:1.36", "docker.io/library/registry:2.8.3",
        "docker.io/moby/buildkit:v0.16.0", "docker.io/library/nginx:1.27-alpine");
    BundleManifest.Component controller = m.components().get(2);
    assertThat(controller.images()).containsExactlyInAnyOrder("docker.io/library/busybox:1.36",
        "docker.io/library/alpine:3.20");
    assertThat(v.signerKeyId()).isEqualTo(keys.signing().certificate().keyId());
    assertThat(v.rootKeyId()).isEqualTo(keys.root().id().value());

    try (BundleFile f = BundleFile.open(result.output())) {
      // Metadata first.
      assertThat(f.index().entries().subList(0, 3)).extracting(TarIndex.Entry::name)
          .containsExactlyElementsOf(BundleLayout.HEAD);
      assertThat(f.index().entries()).extracting(TarIndex.Entry::name)
          .contains("charts/ui/platform-ui-1.4.0.tgz", "values/ui/0-ui.yaml", "oci-layout", "index.json");
    }
  }

  @Test
  void build_storesSharedLayerOnce_andKeepsMultiArchWhole(@TempDir Path tmp) {
    Bundler.Result result = bundler(registry, tmp.resolve("cache")).build(tmp.resolve("b.airlock"));
    BundleManifest m = result.manifest();
    // BASE (300 kB) is in all five images (six platform manifests) but stored once.
    assertThat(m.totals().imageBytes() - m.totals().uniqueBytes()).isGreaterThan(4L * Fixtures.BASE.size());
    BundleManifest.Image reg = m.images().stream().filter(i -> i.ref().contains("registry")).findFirst().orElseThrow();
    assertThat(reg.platforms()).containsExactly("linux/amd64", "linux/arm64");
    assertThat(reg.mediaType()).isEqualTo("application/vnd.oci.image.index.v1+json");
    BundleManifest.Image alpine = m.images().stream().filter(i -> i.ref().contains("alpine:")).findFirst()
        .orElseThrow();
    assertThat(alpine.platforms()).containsExactly("linux/amd64");
    // Every distinct blob appears exactly once in the file (TarIndex refuses duplicates).
    try (BundleFile f = BundleFile.open(result.output())) {
      long blobs = f.index().entries().stream().filter(e -> BundleLayout.isBlob(e.name())).count();
      assertThat(blobs).isEqualTo(m.totals().blobs());
    }
  }

  @Test
  void build_withPlatformFilter_keepsOnlyThosePlatforms(@TempDir Path tmp) {
    Bundler.Result result = bundler(registry, tmp.resolve("cache"))
        .platforms(List.of(Platform.parse("linux/amd64"))).build(tmp.resolve("amd64.airlock"));
    BundleManifest.Image reg = result.manifest().images().stream().filter(i -> i.ref().contains("registry"))
        .findFirst().orElseThrow();
    assertThat(reg.platforms()).containsExactly("linux/amd64");
    Bundler.Result all = bundler(registry, tmp.resolve("cache")).build(tmp.resolve("all.airlock"));
    // The arm64 layers (90 kB + 70 kB) are gone.
    assertThat(all.manifest().totals().uniqueBytes() - result.manifest().totals().uniqueBytes())
        .isGreaterThanOrEqualTo(160_000);
    new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(result.output());
  }

  @Test
  void bundleShipsARevocationList_verifiedWithTheRoot_andRefusedWhenItRevokesItsOwnSigner(@TempDir Path tmp)
      throws Exception {
    Ed25519.PrivateKey root = Ed25519.readPrivateKey(keys.dir().resolve("root.key"));
    RevocationList other = RevocationList.revoke(null, Set.of(new KeyId("0123456789abcdef")), root,
        java.time.Instant.now());
    Path list = tmp.resolve("revoked.json");
    Files.writeString(list, other.toJson());
    Bundler.Result r = withRevocations(list, tmp.resolve("cache")).build(tmp.resolve("r.airlock"));
    assertThat(r.manifest().revocations()).isEqualTo(BundleLayout.REVOCATIONS);
    BundleVerifier.Verified v = new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(r.output());
    assertThat(v.revocations().revoked()).containsExactly("0123456789abcdef");

    RevocationList self = RevocationList.revoke(other, Set.of(new KeyId(keys.signing().certificate().keyId())), root,
        java.time.Instant.now());
    Files.writeString(list, self.toJson());
    Bundler.Result bad = withRevocations(list, tmp.resolve("cache")).build(tmp.resolve("self.airlock"));
    assertThatThrownBy(() -> new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(bad.output()))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("has been revoked");
  }

  private Bundler withRevocations(Path list, Path cache) {
    BundleSpec s = SpecParser.parse(Fixtures.EXAMPLE)
        .withMirrors(List.of(Mirror.parse("docker.io=" + registry.host() + "/hub")));
    BundleSpec withList = new BundleSpec(s.name(), s.version(), s.description(), s.upgradesFrom(), s.kubernetes(),
        s.requirements(), s.mirrors(), s.platforms(), s.components(), s.images(), java.util.Optional.of(list),
        s.specFile());
    return Bundler.from(withList).registries(RegistryOptions.defaults().withInsecureHosts(Set.of(registry.host())))
        .signWith(keys.signing()).cacheDir(cache);
  }

  @Test
  void ociChart_isPulledFromTheRegistry_throughTheMirror(@TempDir Path tmp) throws Exception {
    // Package the example's UI chart and push it as a Helm OCI artifact, under the mirror prefix.
    Charts.Packaged ui = Charts.prepare(new dev.airlock.bundle.spec.ChartSource.Directory(
        Fixtures.EXAMPLE.getParent().resolve("charts/ui")), tmp, null, r -> r);
    byte[] chart = Files.readAllBytes(ui.tgz());
    byte[] config = "{\"name\":\"platform-ui\",\"version\":\"1.4.0\"}".getBytes();
    RegistryClient client = new RegistryClient(RegistryOptions.defaults().withInsecureHosts(Set.of(registry.host())));
    String repo = "hub/charts/platform-ui";
    client.pushBlob(registry.host(), repo, Digest.of(chart), chart.length, () -> new ByteArrayInputStream(chart),
        null);
    client.pushBlob(registry.host(), repo, Digest.of(config), config.length, () -> new ByteArrayInputStream(config),
        null);
    String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        + "\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\",\"digest\":\""
        + Digest.of(config) + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":\""
        + MediaTypes.HELM_CHART_CONTENT + "\",\"digest\":\"" + Digest.of(chart) + "\",\"size\":" + chart.length
        + "}]}";
    client.putManifest(registry.host(), repo, "1.4.0", manifest.getBytes(), MediaTypes.OCI_MANIFEST);

    BundleSpec s = SpecParser.parse(Fixtures.EXAMPLE)
        .withMirrors(List.of(Mirror.parse("docker.io=" + registry.host() + "/hub"),
            Mirror.parse("charts.example.com=" + registry.host() + "/hub")));
    List<BundleSpec.ComponentSpec> components = new java.util.ArrayList<>(s.components());
    BundleSpec.ComponentSpec old = components.get(3);
    components.set(3, new BundleSpec.ComponentSpec(old.name(), old.required(),
        new dev.airlock.bundle.spec.ChartSource.Oci("charts.example.com", "charts/platform-ui", "1.4.0"),
        old.values(), old.namespace(), old.releaseName(), old.dependsOn(), old.images()));
    BundleSpec withOci = new BundleSpec(s.name(), s.version(), s.description(), s.upgradesFrom(), s.kubernetes(),
        s.requirements(), s.mirrors(), s.platforms(), components, s.images(), s.revocations(), s.specFile());
    Bundler.Result r = Bundler.from(withOci).registries(RegistryOptions.defaults()
        .withInsecureHosts(Set.of(registry.host()))).signWith(keys.signing()).build(tmp.resolve("oci.airlock"));
    BundleManifest.Component c = r.manifest().components().get(3);
    assertThat(c.chart().source()).isEqualTo("oci://charts.example.com/charts/platform-ui:1.4.0");
    assertThat(c.chart().digest()).isEqualTo(Digest.of(chart).toString());
    assertThat(c.images()).containsExactly("docker.io/library/nginx:1.27-alpine");
    new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(r.output());
  }

  @Test
  void rerun_reusesCachedBlobs(@TempDir Path tmp) {
    Path cache = tmp.resolve("cache");
    Bundler.Result first = bundler(registry, cache).build(tmp.resolve("one.airlock"));
    Bundler.Result second = bundler(registry, cache).build(tmp.resolve("two.airlock"));
    assertThat(first.blobsDownloaded()).isGreaterThan(0);
    assertThat(second.blobsDownloaded()).isZero();
    assertThat(second.blobsReused()).isEqualTo(first.blobsDownloaded());
  }

  @Test
  void sourceRegistryStoppedHalfway_givesClearError_noOutput_andRerunResumes(@TempDir Path tmp) {
    try (RegistryServer doomed = RegistryServer.startPlain()) {
      Fixtures.seedExample(doomed, tmp.resolve("images"));
      new TestImages(doomed, tmp.resolve("images")).push("hub/library/alpine:3.20",
          List.of(Fixtures.BASE, new Layer(99, 40_000_000)), "linux/amd64");
      AtomicBoolean killed = new AtomicBoolean();
      Path out = tmp.resolve("never.airlock");
      java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
      assertThatThrownBy(() -> bundler(doomed, null).parallelism(1).addEventHandler(e -> {
        // The 40 MB layer comes first (largest first); stop the registry once it is done and more is under way.
        if (e instanceof Event.Progress p && p.phase().equals(Bundler.PHASE_DOWNLOAD)
            && seen.addAndGet(p.delta()) > 40_100_000 && killed.compareAndSet(false, true)) {
          doomed.kill();
        }
      }).build(out))
          .isInstanceOf(AirlockException.class)
          .hasMessageContaining(doomed.host())
          .hasMessageContaining("unreachable");
      assertThat(killed).isTrue();
      assertThat(out).doesNotExist();

      // Back up: the re-run resumes the partial file instead of starting over, and produces a valid bundle.
      doomed.restart();
      Bundler.Result r = bundler(doomed, null).build(out);
      assertThat(out).isRegularFile();
      assertThat(r.blobsReused()).isPositive();
      assertThat(r.blobsDownloaded()).isPositive();
      try (var files = Files.list(tmp)) {
        assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".partial"));
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(out);
    }
  }

  @Test
  void authAndTlsRegistry_works_andWrongPasswordFailsClearly(@TempDir Path tmp) {
    try (RegistryServer secure = RegistryServer.startSecure("vendor", "s3cret-pass")) {
      Fixtures.seedExample(secure, tmp.resolve("images"));
      BundleSpec spec = SpecParser.parse(Fixtures.EXAMPLE)
          .withMirrors(List.of(Mirror.parse("docker.io=" + secure.host() + "/hub")));
      RegistryOptions ok = RegistryOptions.defaults().withCaFiles(List.of(secure.caFile()))
          .withCredentials(CredentialStore.of(Map.of(secure.host(), new Credentials("vendor", "s3cret-pass"))));
      Bundler.Result r = Bundler.from(spec).registries(ok).signWith(keys.signing()).cacheDir(tmp.resolve("c"))
          .build(tmp.resolve("secure.airlock"));
      assertThat(r.manifest().images()).hasSize(5);

      RegistryOptions wrong = ok.withCredentials(CredentialStore.of(Map.of(secure.host(),
          new Credentials("vendor", "wrong"))));
      assertThatThrownBy(() -> Bundler.from(spec).registries(wrong).signWith(keys.signing())
          .cacheDir(tmp.resolve("c2")).build(tmp.resolve("wrong.airlock")))
          .isInstanceOf(AirlockException.class)
          .hasMessageContaining("refused the credentials of user 'vendor'")
          .hasMessageContaining(secure.host());

      RegistryOptions noCa = ok.withCaFiles(List.of());
      assertThatThrownBy(() -> Bundler.from(spec).registries(noCa).signWith(keys.signing())
          .cacheDir(tmp.resolve("c3")).build(tmp.resolve("noca.airlock")))
          .isInstanceOf(AirlockException.class)
          .hasMessageContaining("TLS handshake")
          .satisfies(e -> assertThat(((AirlockException) e).fix()).hasValueSatisfying(
              f -> assertThat(f).contains("--registry-ca")));
    }
  }
}
