package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bundle sbom} and {@code bundle diff} through ./airlock, over two example versions built by it. */
class SbomCliIT {

  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static RegistryServer registry;
  static Path v1;
  static Path v2;
  static String app;

  @BeforeAll
  static void setUp() throws IOException {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    registry = RegistryServer.startPlain();
    ExampleImages.seed(registry, dir.resolve("images"));
    ExampleImages.seedNext(registry, dir.resolve("images"));
    TestImages images = new TestImages(registry, dir.resolve("images"));
    images.pushFiles("acme/app:1", Map.of("/opt/app/widget.jar", jar(dir.resolve("w1.jar"), "1.2.3")),
        "linux/amd64");
    images.pushFiles("acme/app:2", Map.of("/opt/app/widget.jar", jar(dir.resolve("w2.jar"), "1.3.0"),
        "/opt/app/extra.jar", jarOf(dir.resolve("extra.jar"), "org.example", "extra", "0.1")), "linux/amd64");
    app = registry.host() + "/acme/app";
    assertThat(Cli.run(dir, "keys", "create-root", "--out", "keys/root").exit()).isZero();
    assertThat(Cli.run(dir, "keys", "create-signing", "--root-key", "keys/root.key", "--out", "keys/signing",
        "--subject", "Example Vendor release key").exit()).isZero();
    v1 = build(withImage(ExampleVariants.v1(Cli.REPO.resolve("examples/platform"), dir), app + ":1"), "v1.airlock");
    v2 = build(withImage(ExampleVariants.v2(Cli.REPO.resolve("examples/platform"), dir), app + ":2"), "v2.airlock");
  }

  @AfterAll
  static void tearDown() {
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void sbom_image_printsItsCycloneDxDocument() throws IOException {
    Cli.Run r = Cli.run(dir, "bundle", "sbom", v1.toString(), "--image", app + ":1");
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode bom = JSON.readTree(r.out());
    assertThat(bom.path("bomFormat").asText()).isEqualTo("CycloneDX");
    assertThat(bom.path("specVersion").asText()).isEqualTo("1.6");
    assertThat(bom.path("components")).hasSize(1);
    assertThat(bom.path("components").get(0).path("purl").asText()).isEqualTo("pkg:maven/com.acme/widget@1.2.3");
  }

  @Test
  void sbom_everyImage_textAndJson() throws IOException {
    Cli.Run text = Cli.run(dir, "bundle", "sbom", v2.toString());
    assertThat(text.exit()).as(text.toString()).isZero();
    assertThat(text.out()).contains(app + ":2", "2 packages", "pkg:maven/org.example/extra@0.1",
        "docker.io/library/registry:2.8.3");
    Cli.Run json = Cli.run(dir, "bundle", "sbom", v2.toString(), "--output", "json");
    JsonNode r = JSON.readTree(json.out());
    assertThat(r.path("images")).hasSize(6);
    assertThat(r.path("images").findValues("specVersion")).hasSize(6);
  }

  @Test
  void sbom_unknownImage_namesTheImagesItHas() {
    Cli.Run r = Cli.run(dir, "bundle", "sbom", v1.toString(), "--image", "docker.io/library/postgres:16");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("holds no image docker.io/library/postgres:16")
        .contains("docker.io/library/busybox:1.36").doesNotContain("\tat ");
  }

  @Test
  void sbom_tamperedSbomEntry_isRefused_andVerifyFails(@TempDir Path tmp) throws IOException {
    Path bad = tmp.resolve("bad.airlock");
    Files.copy(v1, bad);
    TarIndex.Entry e;
    try (BundleFile f = BundleFile.open(bad)) {
      e = f.index().entries().stream().filter(x -> x.name().startsWith("airlock/sbom/")).findFirst().orElseThrow();
    }
    try (RandomAccessFile raf = new RandomAccessFile(bad.toFile(), "rw")) {
      raf.seek(e.offset() + 10);
      int b = raf.read();
      raf.seek(e.offset() + 10);
      raf.write(b == ' ' ? '\t' : ' ');
    }
    Cli.Run r = Cli.run(tmp, "bundle", "sbom", bad.toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(10);
    assertThat(r.err()).contains("but the checksum list says").contains("airlock bundle verify");
    Cli.Run v = Cli.run(tmp, "bundle", "verify", bad.toString(), "--trust-root", dir.resolve("keys/root.pub")
        .toString());
    assertThat(v.exit()).isEqualTo(10);
    assertThat(v.err()).contains(e.name());
  }

  @Test
  void diff_twoExampleVersions_textAndJson() throws IOException {
    Cli.Run text = Cli.run(dir, "bundle", "diff", v1.toString(), v2.toString());
    assertThat(text.exit()).as(text.toString()).isZero();
    assertThat(text.out()).contains("platform 1.4.0 -> platform 1.5.0",
        "~ docker.io/library/alpine  docker.io/library/alpine:3.20@sha256:",
        "-> docker.io/library/alpine:3.21@sha256:", "~ maven:com.acme:widget  1.2.3 -> 1.3.0",
        "+ maven:org.example:extra  0.1");
    Cli.Run json = Cli.run(dir, "bundle", "diff", v1.toString(), v2.toString(), "--output", "json");
    assertThat(json.exit()).as(json.toString()).isZero();
    JsonNode r = JSON.readTree(json.out());
    assertThat(r.path("type").asText()).isEqualTo("result");
    assertThat(r.path("images").findValuesAsText("name")).containsExactlyInAnyOrder("docker.io/library/alpine", app);
    JsonNode pkgs = r.path("packages").get(0);
    assertThat(pkgs.path("image").asText()).isEqualTo(app);
    assertThat(pkgs.path("changes").findValuesAsText("what")).containsExactly("changed", "added");
  }

  static Path build(Path spec, String out) {
    List<String> args = new ArrayList<>(List.of("bundle", "build", "-f", spec.toString(), "-o", out, "--key",
        dir.resolve("keys/signing.key").toString(), "--cert", dir.resolve("keys/signing.cert").toString(),
        "--mirror", "docker.io=" + registry.host() + "/hub", "--insecure-registry", registry.host()));
    Cli.Run r = Cli.run(dir, args.toArray(String[]::new));
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.err()).contains("==> cataloguing");
    return dir.resolve(out);
  }

  static Path withImage(Path spec, String ref) throws IOException {
    Files.writeString(spec, Files.readString(spec).replace("  - docker.io/library/busybox:1.36\n",
        "  - docker.io/library/busybox:1.36\n  - " + ref + "\n"));
    return spec;
  }

  static Path jar(Path file, String version) throws IOException {
    return jarOf(file, "com.acme", "widget", version);
  }

  static Path jarOf(Path file, String group, String artifact, String version) throws IOException {
    java.util.jar.Manifest mf = new java.util.jar.Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(file), mf)) {
      j.putNextEntry(new JarEntry("META-INF/maven/" + group + "/" + artifact + "/pom.properties"));
      j.write(("groupId=" + group + "\nartifactId=" + artifact + "\nversion=" + version + "\n")
          .getBytes(StandardCharsets.UTF_8));
      j.closeEntry();
    }
    return file;
  }
}
