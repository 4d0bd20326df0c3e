package dev.airlock.airgap.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagePusherTest {

  static final Path EXAMPLE = Path.of(System.getProperty("airlock.repo.root", "..")).toAbsolutePath().normalize()
      .resolve("examples/platform/bundle.yaml");
  @TempDir static Path dir;
  static Path bundlePath;
  static BundleFile bundle;

  @BeforeAll
  static void buildBundle() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "t", Duration.ofDays(2), Instant.now());
    try (RegistryServer source = RegistryServer.startPlain()) {
      ExampleImages.seed(source, dir.resolve("images"));
      bundlePath = Bundler.from(SpecParser.parse(EXAMPLE).withMirrors(List.of(Mirror.parse("docker.io="
              + source.host() + "/hub"))))
          .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(source.host())))
          .signWith(SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert")))
          .build(dir.resolve("platform.airlock")).output();
    }
    bundle = BundleFile.open(bundlePath);
  }

  @AfterAll
  static void close() {
    if (bundle != null) {
      bundle.close();
    }
  }

  static RegistryOptions secure(RegistryServer r, String password) {
    return RegistryOptions.defaults().withCaFiles(List.of(r.caFile()))
        .withCredentials(CredentialStore.of(Map.of(r.host(), new Credentials(r.username(), password))));
  }

  @Test
  void push_intoAnEmptySecureRegistry_byDigestAndTag_thenRerunChangesNothing() throws Exception {
    try (RegistryServer target = RegistryServer.startSecure("admin", "corp-pass")) {
      RegistryTarget to = RegistryTarget.parse(target.host() + "/platform");
      ImagePusher.Result first = ImagePusher.from(bundle).to(to).registries(secure(target, "corp-pass")).push();

      int distinctBlobs = 0;
      assertThat(first.images()).hasSize(ExampleImages.REFS.size());
      RegistryClient client = new RegistryClient(secure(target, "corp-pass"));
      for (ImagePusher.Pushed p : first.images()) {
        ImageReference ref = ImageReference.parse(p.target());
        assertThat(ref.repository()).startsWith("platform/");
        assertThat(client.manifestDigest(ref.registry(), ref.repository(), ref.tag())).hasValue(
            Digest.parse(p.digest()));
        assertThat(client.getManifest(ref.registry(), ref.repository(), p.digest()).digest().toString())
            .isEqualTo(p.digest());
      }
      assertThat(first.images()).extracting(ImagePusher.Pushed::target)
          .anyMatch(t -> t.startsWith(target.host() + "/platform/library/registry:2.8.3@sha256:"));
      // The shared base layer is uploaded once and mounted into the other repositories.
      assertThat(first.blobsMounted()).isGreaterThanOrEqualTo(4);
      assertThat(first.blobsUploaded() + first.blobsMounted()).isGreaterThan(first.blobsUploaded());

      ImagePusher.Result again = ImagePusher.from(bundle).to(to).registries(secure(target, "corp-pass")).push();
      assertThat(again.blobsUploaded()).isZero();
      assertThat(again.blobsMounted()).isZero();
      assertThat(again.manifestsPut()).isZero();
      assertThat(again.blobsPresent()).isEqualTo(first.blobsUploaded() + first.blobsMounted());

      if (Files.isExecutable(Path.of("/usr/bin/skopeo"))) {
        // A peer reads what we pushed: skopeo copies the multi-arch image out, verifying every digest.
        Path certs = Files.createDirectories(dir.resolve("certs-" + target.port()));
        Files.copy(target.caFile(), certs.resolve("ca.crt"));
        Process p = new ProcessBuilder("/usr/bin/skopeo", "copy", "--all", "--src-cert-dir", certs.toString(),
            "--src-creds", "admin:corp-pass", "docker://" + target.host() + "/platform/library/registry:2.8.3",
            "oci:" + dir.resolve("copied-" + target.port()) + ":registry").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(out).isZero();
      }
    }
  }

  @Test
  void chunkedUploads_work() {
    try (RegistryServer target = RegistryServer.startPlain()) {
      ImagePusher.Result r = ImagePusher.from(bundle).to(RegistryTarget.parse(target.host() + "/chunked"))
          .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(target.host())))
          .chunkSize(64 * 1024).parallelism(2).push();
      assertThat(r.blobsUploaded()).isPositive();
      RegistryClient client = new RegistryClient(RegistryOptions.defaults().withInsecureHosts(Set.of(target.host())));
      for (ImagePusher.Pushed p : r.images()) {
        ImageReference ref = ImageReference.parse(p.target());
        assertThat(client.manifestDigest(ref.registry(), ref.repository(), p.digest())).isPresent();
      }
    }
  }

  @Test
  void wrongPassword_failsClearly_namingRegistryAndUser() {
    try (RegistryServer target = RegistryServer.startSecure("admin", "corp-pass")) {
      assertThatThrownBy(() -> ImagePusher.from(bundle).to(RegistryTarget.parse(target.host() + "/platform"))
          .registries(secure(target, "wrong")).push())
          .isInstanceOf(AirlockException.class)
          .hasMessageContaining("registry " + target.host() + " refused the credentials of user 'admin'");
    }
  }

  @Test
  void targets_parseAndMapRepositories() {
    RegistryTarget t = RegistryTarget.parse("registry.corp:5000/platform/");
    assertThat(t.registry()).isEqualTo("registry.corp:5000");
    assertThat(t.repositoryFor(ImageReference.parse("nginx:1"))).isEqualTo("platform/library/nginx");
    assertThat(RegistryTarget.parse("registry.corp").repositoryFor(ImageReference.parse("ghcr.io/a/b:1")))
        .isEqualTo("a/b");
    assertThatThrownBy(() -> RegistryTarget.parse("https://registry.corp")).hasMessageContaining("is a URL");
  }
}
