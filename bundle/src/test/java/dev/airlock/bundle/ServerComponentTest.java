package dev.airlock.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.spec.BundleSpec;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.error.AirlockException;
import dev.airlock.oci.Digest;
import dev.airlock.oci.ImageReference;
import dev.airlock.oci.Platform;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The airlock server component a spec's {@code server} section adds: an image built by Jib from airlock's application
 * directory on the JRE base (pulled through the mirror), and airlock's own chart, in the signed bundle.
 */
class ServerComponentTest {

  static RegistryServer registry;
  @TempDir static Path shared;
  static Fixtures.Keys keys;
  static Path app;
  static byte[] runJar;

  @BeforeAll
  static void seed() throws IOException {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    registry = RegistryServer.startPlain();
    Fixtures.seedExample(registry, shared.resolve("images"));
    ExampleImages.seedJreBase(registry, shared.resolve("images"));
    keys = Fixtures.keys(shared.resolve("keys"));
    // A stand-in for installer/target/quarkus-app: the layout is what matters.
    app = shared.resolve("quarkus-app");
    runJar = "not really a jar, but these exact bytes".getBytes(StandardCharsets.UTF_8);
    Files.createDirectories(app.resolve("lib/main"));
    Files.createDirectories(app.resolve("lib/boot"));
    Files.createDirectories(app.resolve("app"));
    Files.createDirectories(app.resolve("quarkus"));
    Files.write(app.resolve("quarkus-run.jar"), runJar);
    Files.write(app.resolve("lib/main/dep.jar"), new byte[50_000]);
    Files.write(app.resolve("lib/boot/boot.jar"), new byte[10_000]);
    Files.writeString(app.resolve("app/airlock-installer.jar"), "application classes");
    Files.writeString(app.resolve("quarkus/quarkus-application.dat"), "quarkus");
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  private BundleSpec spec(String version) {
    BundleSpec s = SpecParser.parse(Fixtures.EXAMPLE)
        .withMirrors(List.of(Mirror.parse("docker.io=" + registry.host() + "/hub")));
    return new BundleSpec(s.name(), s.version(), s.description(), s.upgradesFrom(), s.kubernetes(), s.requirements(),
        s.mirrors(), s.platforms(), s.components(), s.images(), s.revocations(), s.specFile(),
        Optional.of(new BundleSpec.ServerSpec(ImageReference.parse(ExampleImages.JRE_BASE),
            Platform.parse("linux/amd64"), null)));
  }

  private Bundler bundler(BundleSpec spec, Path appDir, String version) {
    RegistryOptions opts = RegistryOptions.defaults().withInsecureHosts(Set.of(registry.host()))
        .withRetries(2, Duration.ofMillis(50));
    return Bundler.from(spec).registries(opts).signWith(keys.signing()).builderVersion(version)
        .serverApplication(appDir);
  }

  @Test
  void serverSection_addsTheComponent_imageFromAirlocksJarsOnTheBase(@TempDir Path tmp) throws IOException {
    Bundler.Result r = bundler(spec("1.4.0"), app, "2.3.0").build(tmp.resolve("b.airlock"));

    BundleManifest m = new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(r.output()).manifest();
    BundleManifest.Component server = m.components().stream().filter(c -> c.name().equals("airlock-server"))
        .findFirst().orElseThrow();
    assertThat(server.releaseName()).isEqualTo("airlock-server");
    assertThat(server.chart().name()).isEqualTo("airlock-server");
    assertThat(server.chart().version()).isEqualTo("2.3.0");
    assertThat(server.chart().source()).isEqualTo("airlock 2.3.0 (built in)");
    assertThat(server.images()).containsExactly("airlock.dev/airlock/server:2.3.0");
    BundleManifest.Image image = m.images().stream().filter(i -> i.ref().equals("airlock.dev/airlock/server:2.3.0"))
        .findFirst().orElseThrow();
    assertThat(image.platforms()).containsExactly("linux/amd64");

    try (BundleFile f = BundleFile.open(r.output())) {
      JsonNode manifest = Json.MAPPER.readTree(f.readAll(f.index().get(BundleLayout.blobPath(
          Digest.parse(image.digest())))));
      JsonNode config = Json.MAPPER.readTree(f.readAll(f.index().get(BundleLayout.blobPath(
          Digest.parse(manifest.path("config").path("digest").asText())))));
      assertThat(config.path("config").path("Entrypoint").toString())
          .isEqualTo("[\"java\",\"-XX:+UseSerialGC\",\"-XX:MaxRAMPercentage=70\",\"-jar\","
              + "\"/opt/airlock/quarkus-run.jar\"]");
      assertThat(config.path("config").path("User").asText()).isEqualTo("65532:65532");
      assertThat(config.path("architecture").asText()).isEqualTo("amd64");
      // The base's two layers, then dependencies, then the application.
      JsonNode layers = manifest.path("layers");
      assertThat(layers).hasSize(4);
      Map<String, byte[]> appLayer = files(f, layers.get(3));
      assertThat(appLayer.get("opt/airlock/quarkus-run.jar")).isEqualTo(runJar);
      assertThat(appLayer).containsKey("opt/airlock/app/airlock-installer.jar").doesNotContainKey(
          "opt/airlock/lib/main/dep.jar");
      assertThat(files(f, layers.get(2))).containsOnlyKeys("opt/airlock/lib/boot/boot.jar",
          "opt/airlock/lib/main/dep.jar");
      // The chart carries the image and the ServiceAccount's RBAC.
      byte[] chart = f.readAll(f.index().get(server.chart().path()));
      Map<String, byte[]> chartFiles = untar(new GZIPInputStream(new java.io.ByteArrayInputStream(chart)));
      assertThat(new String(chartFiles.get("airlock-server/values.yaml"), StandardCharsets.UTF_8))
          .contains("image: \"airlock.dev/airlock/server:2.3.0\"");
      assertThat(chartFiles).containsKeys("airlock-server/templates/rbac.yaml",
          "airlock-server/templates/deployment.yaml");
    }

    // The same jars on the same base make the same image: an upgrade whose airlock did not change moves nothing.
    Bundler.Result again = bundler(spec("1.4.1"), app, "2.3.0").build(tmp.resolve("c.airlock"));
    assertThat(again.manifest().images().stream().filter(i -> i.ref().contains("airlock/server")).findFirst()
        .orElseThrow().digest()).isEqualTo(image.digest());
  }

  @Test
  void serverSection_withoutAirlocksApplication_failsBeforeWritingAnything(@TempDir Path tmp) {
    assertThatThrownBy(() -> bundler(spec("1.4.0"), tmp.resolve("nowhere"), "2.3.0").build(tmp.resolve("b.airlock")))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("application directory (quarkus-app")
        .satisfies(e -> assertThat(((AirlockException) e).fix()).hasValueSatisfying(
            fix -> assertThat(fix).contains("AIRLOCK_APP_DIR")));
    assertThat(tmp.resolve("b.airlock")).doesNotExist();
  }

  @Test
  void serverSection_baseThatCannotBePulled_namesTheBaseAndTheFix(@TempDir Path tmp) {
    BundleSpec s = spec("1.4.0");
    BundleSpec missing = new BundleSpec(s.name(), s.version(), s.description(), s.upgradesFrom(), s.kubernetes(),
        s.requirements(), s.mirrors(), s.platforms(), s.components(), s.images(), s.revocations(), s.specFile(),
        Optional.of(new BundleSpec.ServerSpec(ImageReference.parse("docker.io/library/no-such-jre:17"),
            Platform.parse("linux/amd64"), null)));
    assertThatThrownBy(() -> bundler(missing, app, "2.3.0").build(tmp.resolve("b.airlock")))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("cannot build the airlock server image on " + registry.host()
            + "/hub/library/no-such-jre:17");
    assertThat(tmp.resolve("b.airlock")).doesNotExist();
  }

  @Test
  void specParser_readsTheServerSection(@TempDir Path tmp) throws IOException {
    Path spec = tmp.resolve("bundle.yaml");
    Files.writeString(spec, Files.readString(Fixtures.EXAMPLE).replace("charts/", Fixtures.EXAMPLE.getParent()
        .resolve("charts").toString() + "/").replace("values/ui.yaml", Fixtures.EXAMPLE.getParent()
        .resolve("values/ui.yaml").toString())
        + "server:\n  baseImage: docker.io/library/eclipse-temurin:17-jre\n  platform: linux/arm64\n");
    BundleSpec.ServerSpec s = SpecParser.parse(spec).server().orElseThrow();
    assertThat(s.baseImage().toString()).isEqualTo("docker.io/library/eclipse-temurin:17-jre");
    assertThat(s.platform().toString()).isEqualTo("linux/arm64");

    Files.writeString(spec, Files.readString(spec).replace("baseImage", "base"));
    assertThatThrownBy(() -> SpecParser.parse(spec)).isInstanceOf(AirlockException.class)
        .hasMessageContaining("server");
  }

  private static Map<String, byte[]> files(BundleFile f, JsonNode layer) throws IOException {
    byte[] blob = f.readAll(f.index().get(BundleLayout.blobPath(Digest.parse(layer.path("digest").asText()))));
    return untar(new GZIPInputStream(new java.io.ByteArrayInputStream(blob)));
  }

  private static Map<String, byte[]> untar(InputStream in) throws IOException {
    Map<String, byte[]> out = new HashMap<>();
    try (TarArchiveInputStream t = new TarArchiveInputStream(in)) {
      TarArchiveEntry e;
      while ((e = t.getNextEntry()) != null) {
        if (e.isFile()) {
          ByteArrayOutputStream b = new ByteArrayOutputStream();
          t.transferTo(b);
          out.put(e.getName().replaceFirst("^/", ""), b.toByteArray());
        }
      }
    }
    return out;
  }
}
