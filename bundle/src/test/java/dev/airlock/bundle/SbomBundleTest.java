package dev.airlock.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleManifest;
import dev.airlock.bundle.format.Json;
import dev.airlock.bundle.sbom.BundleDiff;
import dev.airlock.bundle.sbom.BundleDiff.Change;
import dev.airlock.bundle.sbom.BundleDiff.What;
import dev.airlock.bundle.sbom.BundleSboms;
import dev.airlock.bundle.sbom.CycloneDx;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.DebianPackages;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.cyclonedx.Version;
import org.cyclonedx.parsers.JsonParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SBOMs end to end against a registry on loopback: an image made of real Debian packages and a jar, a hostile
 * layer, and the diff of two example versions.
 */
class SbomBundleTest {

  static RegistryServer registry;
  @TempDir static Path shared;
  static Fixtures.Keys keys;
  static DebianPackages.Root debian;
  static DebianPackages.Root hostnameOnly;

  @BeforeAll
  static void seed() throws IOException {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    registry = RegistryServer.startPlain();
    Fixtures.seedExample(registry, shared.resolve("images"));
    ExampleImages.seedNext(registry, shared.resolve("images"));
    keys = Fixtures.keys(shared.resolve("keys"));
    debian = DebianPackages.unpack(List.of("hostname", "libc-bin"), shared.resolve("deb-both"));
    hostnameOnly = DebianPackages.unpack(List.of("hostname"), shared.resolve("deb-one"));
    TestImages images = new TestImages(registry, shared.resolve("images"));
    Map<String, Path> v1 = new LinkedHashMap<>(DebianPackages.files(debian.dir()));
    v1.put("/opt/app/widget.jar", widgetJar(shared.resolve("widget-1.jar"), "1.2.3"));
    images.pushFiles("sbom/app:1", v1, "linux/amd64");
    Map<String, Path> v2 = new LinkedHashMap<>(DebianPackages.files(hostnameOnly.dir()));
    v2.put("/opt/app/widget.jar", widgetJar(shared.resolve("widget-2.jar"), "1.3.0"));
    images.pushFiles("sbom/app:2", v2, "linux/amd64");
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void build_imageOfRealDebianPackages_sbomListsExactlyThemAndTheJar(@TempDir Path tmp) throws Exception {
    Path spec = spec(ExampleVariants.v1(Fixtures.EXAMPLE.getParent(), tmp), "sbom/app:1");
    Bundler.Result r = bundler(spec).build(tmp.resolve("p.airlock"));

    // The SBOM entries are under the signature: the whole bundle verifies.
    new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(r.output());
    try (BundleFile f = BundleFile.open(r.output())) {
      BundleSboms sboms = BundleSboms.of(f);
      BundleManifest.Image app = sboms.images(registry.host() + "/sbom/app:1").get(0);
      byte[] doc = sboms.sbom(app).orElseThrow();
      assertThat(new JsonParser().validate(doc, Version.VERSION_16)).isEmpty();
      JsonNode bom = Json.MAPPER.readTree(doc);
      assertThat(bom.path("specVersion").asText()).isEqualTo("1.6");
      assertThat(bom.path("metadata").path("component").path("version").asText()).isEqualTo(app.digest());
      Set<String> found = new HashSet<>();
      for (JsonNode c : bom.path("components")) {
        found.add(c.path("name").asText() + " " + c.path("version").asText() + " " + c.path("purl").asText());
      }
      Set<String> expected = new HashSet<>();
      for (DebianPackages.Package p : debian.packages()) {
        expected.add(p.name() + " " + p.version() + " pkg:deb/debian/" + p.name() + "@"
            + p.version().replace("+", "%2B").replace(":", "%3A") + "?arch=" + p.architecture());
      }
      expected.add("widget 1.2.3 pkg:maven/com.acme/widget@1.2.3");
      assertThat(found).isEqualTo(expected);
      assertThat(debian.packages()).extracting(DebianPackages.Package::name).containsExactly("hostname", "libc-bin");
      // The example's random-content images have no packages, but have an SBOM each.
      assertThat(sboms.manifest().images()).allMatch(i -> i.sbom() != null);
    }
  }

  @Test
  void build_hostileLayer_traversalAndOversizedStatus_areNotedNotFatal(@TempDir Path tmp) throws Exception {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("../../etc/cron.d/evil", "* * * * * root sh".getBytes(StandardCharsets.UTF_8));
    byte[] big = new byte[17 << 20];
    java.util.Arrays.fill(big, (byte) '\n');
    files.put("var/lib/dpkg/status", big);
    pushRaw("sbom/hostile:1", gzipTar(files));
    Path spec = spec(ExampleVariants.v1(Fixtures.EXAMPLE.getParent(), tmp), "sbom/hostile:1");
    List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    Bundler.Result r = bundler(spec).addEventHandler(e -> {
      if (e instanceof dev.airlock.event.Event.Log l) {
        warnings.add(l.message());
      }
    }).build(tmp.resolve("h.airlock"));

    new BundleVerifier(keys.trust(), Clock.systemUTC(), e -> {}).verify(r.output());
    try (BundleFile f = BundleFile.open(r.output())) {
      BundleSboms sboms = BundleSboms.of(f);
      BundleManifest.Image img = sboms.images(registry.host() + "/sbom/hostile:1").get(0);
      byte[] doc = sboms.sbom(img).orElseThrow();
      assertThat(CycloneDx.components(doc, "sbom")).isEmpty();
      List<String> notes = CycloneDx.notes(doc, "sbom");
      assertThat(notes).anyMatch(n -> n.contains("refused entry '../../etc/cron.d/evil'") && n.contains("path traversal"));
      assertThat(notes).anyMatch(n -> n.contains("skipped var/lib/dpkg/status") && n.contains((17 << 20) + " bytes"));
    }
    assertThat(warnings).anyMatch(w -> w.contains("SBOM of image " + registry.host() + "/sbom/hostile:1"));
  }

  @Test
  void diff_betweenTwoExampleVersions_listsComponentsImagesAndPackages(@TempDir Path tmp) {
    Path one = spec(ExampleVariants.v1(Fixtures.EXAMPLE.getParent(), tmp), "sbom/app:1");
    Path two = spec(ExampleVariants.v2(Fixtures.EXAMPLE.getParent(), tmp), "sbom/app:2");
    Path a = bundler(one).build(tmp.resolve("a.airlock")).output();
    Path b = bundler(two).build(tmp.resolve("b.airlock")).output();
    try (BundleFile fa = BundleFile.open(a); BundleFile fb = BundleFile.open(b)) {
      BundleDiff d = BundleDiff.between(fa, fb);
      assertThat(d.from()).isEqualTo("platform 1.4.0");
      assertThat(d.to()).isEqualTo("platform 1.5.0");
      assertThat(d.images()).extracting(Change::name, Change::what).containsExactlyInAnyOrder(
          org.assertj.core.groups.Tuple.tuple("docker.io/library/alpine", What.CHANGED),
          org.assertj.core.groups.Tuple.tuple(registry.host() + "/sbom/app", What.CHANGED));
      Change alpine = d.images().stream().filter(c -> c.name().endsWith("alpine")).findFirst().orElseThrow();
      assertThat(alpine.before()).startsWith("docker.io/library/alpine:3.20@sha256:");
      assertThat(alpine.after()).startsWith("docker.io/library/alpine:3.21@sha256:");
      BundleDiff.ImagePackages app = d.packages().stream().filter(p -> p.image().endsWith("/sbom/app"))
          .findFirst().orElseThrow();
      DebianPackages.Package libc = debian.packages().get(1);
      assertThat(app.changes()).containsExactlyInAnyOrder(
          new Change("deb:libc-bin (" + libc.architecture() + ")", What.REMOVED, libc.version(), null),
          new Change("maven:com.acme:widget", What.CHANGED, "1.2.3", "1.3.0"));
      assertThat(app.notes()).isEmpty();
      // The alpine stand-ins hold no packages: their images differ, their package lists do not.
      assertThat(d.packages()).hasSize(1);
    }
    try (BundleFile fa = BundleFile.open(a)) {
      assertThat(BundleDiff.between(fa, fa).empty()).isTrue();
    }
  }

  private Bundler bundler(Path spec) {
    RegistryOptions opts = RegistryOptions.defaults().withInsecureHosts(Set.of(registry.host()))
        .withRetries(2, Duration.ofMillis(50));
    return Bundler.from(SpecParser.parse(spec).withMirrors(List.of(Mirror.parse("docker.io=" + registry.host()
        + "/hub")))).registries(opts).signWith(keys.signing()).builderVersion("test");
  }

  /** Adds {@code repositoryAndTag} of the test registry to the spec's images. */
  private static Path spec(Path spec, String repositoryAndTag) {
    try {
      String text = Files.readString(spec);
      Files.writeString(spec, text.replace("  - docker.io/library/busybox:1.36\n", "  - docker.io/library/busybox:1.36\n"
          + "  - " + registry.host() + "/" + repositoryAndTag + "\n"));
      return spec;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Pushes a one-layer image whose layer is exactly {@code layer} (names Jib would never write). */
  private static void pushRaw(String repositoryAndTag, byte[] layer) throws IOException {
    TestImages images = new TestImages(registry, shared.resolve("images"));
    String repo = repositoryAndTag.substring(0, repositoryAndTag.indexOf(':'));
    String layerDigest = images.pushBlob(repo, layer);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
        + "\"config\":{}}").getBytes(StandardCharsets.UTF_8);
    String configDigest = images.pushBlob(repo, config);
    String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
        + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
        + "\"digest\":\"" + layerDigest + "\",\"size\":" + layer.length + "}]}";
    images.putManifest(repo, repositoryAndTag.substring(repositoryAndTag.indexOf(':') + 1),
        manifest.getBytes(StandardCharsets.UTF_8), "application/vnd.oci.image.manifest.v1+json");
  }

  private static byte[] gzipTar(Map<String, byte[]> files) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(out); TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        TarArchiveEntry t = new TarArchiveEntry(e.getKey(), true);
        t.setSize(e.getValue().length);
        tar.putArchiveEntry(t);
        tar.write(e.getValue());
        tar.closeArchiveEntry();
      }
    }
    return out.toByteArray();
  }

  /** A jar with Maven metadata, written with java.util.jar. */
  private static Path widgetJar(Path file, String version) throws IOException {
    java.util.jar.Manifest mf = new java.util.jar.Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(file), mf)) {
      jar.putNextEntry(new JarEntry("com/acme/Widget.class"));
      jar.write(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe});
      jar.closeEntry();
      jar.putNextEntry(new JarEntry("META-INF/maven/com.acme/widget/pom.properties"));
      jar.write(("groupId=com.acme\nartifactId=widget\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return file;
  }
}
