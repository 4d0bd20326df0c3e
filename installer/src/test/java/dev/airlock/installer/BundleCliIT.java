package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundle commands end to end, through ./airlock, against a real registry on loopback and skopeo. */
class BundleCliIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Path SKOPEO = Path.of("/usr/bin/skopeo");

  @TempDir static Path dir;
  static RegistryServer registry;
  static Path bundle;

  @BeforeAll
  static void setUp() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    registry = RegistryServer.startPlain();
    ExampleImages.seed(registry, dir.resolve("images"));
    Cli.Run root = Cli.run(dir, "keys", "create-root", "--out", "keys/root");
    assertThat(root.exit()).as(root.toString()).isZero();
    Cli.Run signing = Cli.run(dir, "keys", "create-signing", "--root-key", "keys/root.key", "--out", "keys/signing",
        "--subject", "Example Vendor release key");
    assertThat(signing.exit()).as(signing.toString()).isZero();
    bundle = dir.resolve("platform-1.4.0.airlock");
    Cli.Run build = build(dir, "platform-1.4.0.airlock");
    assertThat(build.exit()).as(build.toString()).isZero();
  }

  @AfterAll
  static void tearDown() {
    if (registry != null) {
      registry.close();
    }
  }

  static Cli.Run build(Path cwd, String out, String... extra) {
    List<String> args = new ArrayList<>(List.of("bundle", "build", "-f",
        Cli.REPO.resolve("examples/platform/bundle.yaml").toString(), "-o", out, "--key",
        dir.resolve("keys/signing.key").toString(), "--cert", dir.resolve("keys/signing.cert").toString(),
        "--mirror", "docker.io=" + registry.host() + "/hub", "--insecure-registry", registry.host()));
    args.addAll(List.of(extra));
    return Cli.run(cwd, args.toArray(String[]::new));
  }

  @Test
  void keys_privateKeysAreOwnerOnly_andNeverOverwritten() throws IOException {
    assertThat(Files.getPosixFilePermissions(dir.resolve("keys/root.key")))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    assertThat(Files.getPosixFilePermissions(dir.resolve("keys/signing.key")))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    String before = Files.readString(dir.resolve("keys/root.key"));
    Cli.Run again = Cli.run(dir, "keys", "create-root", "--out", "keys/root");
    assertThat(again.exit()).isEqualTo(2);
    assertThat(again.err()).contains("keys/root.key already exists");
    assertThat(Files.readString(dir.resolve("keys/root.key"))).isEqualTo(before);
  }

  @Test
  void version_printsVersion() {
    Cli.Run v = Cli.run(dir, "version");
    assertThat(v.exit()).isZero();
    assertThat(v.out()).startsWith("airlock 0.1.0");
  }

  @Test
  void verify_withTrustRoot_succeeds_andJsonResultIsParseable() throws IOException {
    Cli.Run v = Cli.run(dir, "bundle", "verify", bundle.toString(), "--trust-root", "keys/root.pub", "--output",
        "json");
    assertThat(v.exit()).as(v.toString()).isZero();
    List<String> lines = v.outLines();
    JsonNode result = JSON.readTree(lines.get(lines.size() - 1));
    assertThat(result.path("type").asText()).isEqualTo("result");
    assertThat(result.path("valid").asBoolean()).isTrue();
    for (String line : lines) {
      assertThat(JSON.readTree(line).has("type")).isTrue();
    }
  }

  @Test
  void verify_withoutTrustedRoot_exits10_namingTheFix_withoutStackTrace(@TempDir Path tmp) {
    Cli.Run none = Cli.run(dir, "bundle", "verify", bundle.toString());
    assertThat(none.exit()).isEqualTo(10);
    assertThat(none.err()).contains("no trusted root keys").contains("--trust-root");
    assertThat(Cli.run(tmp, "keys", "create-root", "--out", "other").exit()).isZero();
    Cli.Run other = Cli.run(tmp, "bundle", "verify", bundle.toString(), "--trust-root", "other.pub");
    assertThat(other.exit()).isEqualTo(10);
    assertThat(other.err()).contains("which this installer does not trust").contains("--trust-root");
    assertThat(other.err()).doesNotContain("\tat ").doesNotContain("Exception");
  }

  @Test
  void verify_corruptedBundle_exits10_namingTheEntry(@TempDir Path tmp) throws IOException {
    Path bad = tmp.resolve("bad.airlock");
    byte[] b = Files.readAllBytes(bundle);
    b[b.length / 2] ^= 0x55;
    Files.write(bad, b);
    Cli.Run v = Cli.run(tmp, "bundle", "verify", bad.toString(), "--trust-root",
        dir.resolve("keys/root.pub").toString());
    assertThat(v.exit()).as(v.toString()).isEqualTo(10);
    assertThat(v.err()).containsPattern("entry blobs/sha256/[0-9a-f]{64} has the checksum sha256:[0-9a-f]{64}, "
        + "expected");
    assertThat(v.err()).doesNotContain("\tat ");
  }

  @Test
  void inspect_showsComponentsImagesAndSigner() throws IOException {
    Cli.Run text = Cli.run(dir, "bundle", "inspect", bundle.toString());
    assertThat(text.exit()).as(text.toString()).isZero();
    assertThat(text.out()).contains("platform 1.4.0", "Example Vendor release key", ">=1.2.0 <1.4.0",
        "docker.io/library/registry:2.8.3", "linux/amd64,linux/arm64");
    Cli.Run json = Cli.run(dir, "bundle", "inspect", bundle.toString(), "--output", "json");
    JsonNode r = JSON.readTree(json.out());
    assertThat(r.path("images")).hasSize(5);
    assertThat(r.path("components")).hasSize(4);
    assertThat(r.path("signer").asText()).matches("[0-9a-f]{16}");
  }

  @Test
  void badSpec_namesFieldAndLine(@TempDir Path tmp) throws IOException {
    Path spec = tmp.resolve("bundle.yaml");
    Files.writeString(spec, "apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: p\nversion: 1.0\n"
        + "components: []\n");
    Cli.Run r = Cli.run(tmp, "bundle", "build", "-f", spec.toString(), "-o", "x.airlock", "--key",
        dir.resolve("keys/signing.key").toString(), "--cert", dir.resolve("keys/signing.cert").toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("bundle.yaml:4: version: '1.0' is not a semantic version");
    assertThat(tmp.resolve("x.airlock")).doesNotExist();
  }

  @Test
  void badFlag_exits2_withUsageHint() {
    Cli.Run r = Cli.run(dir, "bundle", "inspect");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required parameter").contains("airlock bundle inspect --help");
  }

  @Test
  void ociLayout_isReadableBySkopeo(@TempDir Path tmp) throws Exception {
    assumeTrue(Files.isExecutable(SKOPEO), "skopeo is not installed");
    Process tar = new ProcessBuilder("tar", "-xf", bundle.toString(), "-C", tmp.toString()).inheritIO().start();
    assertThat(tar.waitFor()).isZero();
    for (String ref : ExampleImages.REFS) {
      Process p = new ProcessBuilder(SKOPEO.toString(), "copy", "--all", "oci:" + tmp + ":" + ref,
          "dir:" + tmp.resolve("out-" + ref.replaceAll("[/:]", "_"))).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor()).as(ref + ": " + out).isZero();
    }
  }

  @Test
  void serve_skopeoPullsThroughIt_andRangeRequestsWork(@TempDir Path tmp) throws Exception {
    assumeTrue(Files.isExecutable(SKOPEO), "skopeo is not installed");
    Process serve = Cli.start(tmp, Map.of(), "bundle", "serve", bundle.toString(), "--listen", "127.0.0.1:0",
        "--trust-root", dir.resolve("keys/root.pub").toString(), "--output", "json");
    try {
      String url = null;
      for (int i = 0; i < 300 && url == null; i++) {
        for (String line : Files.readAllLines(tmp.resolve(".out"))) {
          JsonNode n = JSON.readTree(line);
          if (n.path("type").asText().equals("result")) {
            url = n.path("url").asText();
          }
        }
        if (url == null) {
          assertThat(serve.isAlive()).as(Files.readString(tmp.resolve(".err"))).isTrue();
          Thread.sleep(100);
        }
      }
      assertThat(url).isNotNull();
      String host = URI.create(url).getAuthority();
      Process copy = new ProcessBuilder(SKOPEO.toString(), "copy", "--all", "--src-tls-verify=false",
          "docker://" + host + "/library/registry:2.8.3", "oci:" + tmp.resolve("copy") + ":registry")
          .redirectErrorStream(true).start();
      String out = new String(copy.getInputStream().readAllBytes());
      assertThat(copy.waitFor()).as(out).isZero();

      HttpClient http = HttpClient.newHttpClient();
      JsonNode manifest = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url
          + "/v2/docker.io/library/alpine/manifests/3.20")).build(), HttpResponse.BodyHandlers.ofString()).body());
      String layer = manifest.path("layers").get(0).path("digest").asText();
      long size = manifest.path("layers").get(0).path("size").asLong();
      HttpResponse<byte[]> ranged = http.send(HttpRequest.newBuilder(URI.create(url + "/v2/library/alpine/blobs/"
          + layer)).header("Range", "bytes=10-19").build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(ranged.statusCode()).isEqualTo(206);
      assertThat(ranged.body()).hasSize(10);
      assertThat(ranged.headers().firstValue("Content-Range")).hasValue("bytes 10-19/" + size);
      HttpResponse<Void> head = http.send(HttpRequest.newBuilder(URI.create(url + "/v2/library/alpine/blobs/" + layer))
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
      assertThat(head.statusCode()).isEqualTo(200);
      assertThat(head.headers().firstValue("Content-Length")).hasValue(Long.toString(size));
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(url + "/v2/library/alpine/manifests/x"))
          .PUT(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).isEqualTo(405);
      HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create(url
          + "/v2/library/alpine/manifests/9.99")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.body()).contains("MANIFEST_UNKNOWN");
    } finally {
      serve.destroy();
      serve.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Splits the class's bundle into parts of 300 KiB (they end mid-entry and mid-blob) under {@code tmp/parts}. */
  static Path splitBundle(Path tmp) {
    Cli.Run split = Cli.run(tmp, "bundle", "split", bundle.toString(), "--part-size", "300KiB", "-o", "parts",
        "--key", dir.resolve("keys/signing.key").toString(), "--cert", dir.resolve("keys/signing.cert").toString());
    assertThat(split.exit()).as(split.toString()).isZero();
    assertThat(split.out()).contains("platform-1.4.0.airlock.part-001-of-", "platform-1.4.0.airlock.parts");
    return tmp.resolve("parts");
  }

  static Path firstPart(Path parts) throws IOException {
    try (var s = Files.list(parts)) {
      return s.filter(p -> p.getFileName().toString().contains(".part-001-of-")).findFirst().orElseThrow();
    }
  }

  @Test
  void buildWithPartSize_writesSignedParts_thatVerifyInspectAndJoin_andNothingElse(@TempDir Path tmp)
      throws Exception {
    Cli.Run build = build(tmp, "split.airlock", "--part-size", "300KiB");
    assertThat(build.exit()).as(build.toString()).isZero();
    List<String> files;
    try (var s = Files.list(tmp)) {
      // .out, .err and .cache are the test harness's; no scratch of the build or the split is left.
      files = s.map(p -> p.getFileName().toString()).filter(f -> !List.of(".out", ".err", ".cache").contains(f))
          .sorted().toList();
    }
    assertThat(files).contains("split.airlock.parts").doesNotContain("split.airlock")
        .allSatisfy(f -> assertThat(f).startsWith("split.airlock.part"));
    int n = files.size() - 1;
    assertThat(n).isGreaterThanOrEqualTo(3);
    String first = String.format("split.airlock.part-001-of-%03d", n);
    String root = dir.resolve("keys/root.pub").toString();

    Cli.Run verify = Cli.run(tmp, "bundle", "verify", first, "--trust-root", root);
    assertThat(verify.exit()).as(verify.toString()).isZero();
    Cli.Run one = Cli.run(tmp, "bundle", "verify", first, "--part", "2", "--trust-root", root);
    assertThat(one.exit()).as(one.toString()).isZero();
    assertThat(one.out()).contains(String.format("split.airlock.part-002-of-%03d: OK", n));
    Cli.Run inspect = Cli.run(tmp, "bundle", "inspect", tmp.toString());
    assertThat(inspect.exit()).as(inspect.toString()).isZero();
    assertThat(inspect.out()).contains("Parts:        " + n + " of at most 300.0 KiB");

    Path joined = Files.createDirectories(tmp.resolve("joined")).resolve("split.airlock");
    Cli.Run join = Cli.run(tmp, "bundle", "join", first, "-o", joined.toString());
    assertThat(join.exit()).as(join.toString()).isZero();
    java.io.ByteArrayOutputStream concat = new java.io.ByteArrayOutputStream();
    for (String f : files.subList(0, n)) {
      concat.write(Files.readAllBytes(tmp.resolve(f)));
    }
    assertThat(Files.readAllBytes(joined)).isEqualTo(concat.toByteArray());
    Cli.Run verifyJoined = Cli.run(tmp, "bundle", "verify", joined.toString(), "--trust-root", root);
    assertThat(verifyJoined.exit()).as(verifyJoined.toString()).isZero();
  }

  @Test
  void splitAnExistingBundle_thenJoin_givesBackIdenticalBytes(@TempDir Path tmp) throws Exception {
    Path parts = splitBundle(tmp);
    Cli.Run join = Cli.run(tmp, "bundle", "join", parts.toString(), "-o", "back.airlock");
    assertThat(join.exit()).as(join.toString()).isZero();
    assertThat(Files.readAllBytes(tmp.resolve("back.airlock"))).isEqualTo(Files.readAllBytes(bundle));
  }

  @Test
  void badPartSets_areRefusedByNameBeforeUse(@TempDir Path tmp) throws Exception {
    Path parts = splitBundle(tmp);
    Path first = firstPart(parts);
    String count = first.getFileName().toString().replaceAll(".*-of-", "");
    String root = dir.resolve("keys/root.pub").toString();
    Path third = parts.resolve("platform-1.4.0.airlock.part-003-of-" + count);
    Path moved = Files.move(third, tmp.resolve("elsewhere"));
    Cli.Run missing = Cli.run(tmp, "bundle", "verify", first.toString(), "--trust-root", root);
    assertThat(missing.exit()).as(missing.toString()).isEqualTo(2);
    assertThat(missing.err()).contains("part 3 of " + Integer.parseInt(count) + " is missing: expected "
        + "platform-1.4.0.airlock.part-003-of-" + count + ", 307,200 bytes").contains("fix:")
        .doesNotContain("Exception");
    Files.move(moved, third);
    Files.copy(parts.resolve("platform-1.4.0.airlock.part-002-of-" + count), third,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Cli.Run twice = Cli.run(tmp, "bundle", "push", first.toString(), "--registry", registry.host() + "/never",
        "--insecure-registry", registry.host(), "--trust-root", root);
    assertThat(twice.exit()).as(twice.toString()).isEqualTo(10);
    assertThat(twice.err()).contains("holds the bytes of part 2", "two copies of one part");
  }

  @Test
  void serveFromParts_skopeoInspectsAndCopies(@TempDir Path tmp) throws Exception {
    assumeTrue(Files.isExecutable(SKOPEO), "skopeo is not installed");
    Path first = firstPart(splitBundle(tmp));
    Process serve = Cli.start(tmp, Map.of(), "bundle", "serve", first.toString(), "--listen", "127.0.0.1:0",
        "--trust-root", dir.resolve("keys/root.pub").toString(), "--output", "json");
    try {
      String url = null;
      for (int i = 0; i < 300 && url == null; i++) {
        for (String line : Files.readAllLines(tmp.resolve(".out"))) {
          JsonNode n = JSON.readTree(line);
          if (n.path("type").asText().equals("result")) {
            url = n.path("url").asText();
          }
        }
        if (url == null) {
          assertThat(serve.isAlive()).as(Files.readString(tmp.resolve(".err"))).isTrue();
          Thread.sleep(100);
        }
      }
      assertThat(url).isNotNull();
      String host = URI.create(url).getAuthority();
      Process inspect = new ProcessBuilder(SKOPEO.toString(), "inspect", "--tls-verify=false",
          "docker://" + host + "/library/nginx:1.27-alpine").redirectErrorStream(true).start();
      String info = new String(inspect.getInputStream().readAllBytes());
      assertThat(inspect.waitFor()).as(info).isZero();
      assertThat(JSON.readTree(info).path("Layers")).hasSize(3);
      for (String ref : List.of("library/registry:2.8.3", "library/nginx:1.27-alpine", "moby/buildkit:v0.16.0")) {
        Process copy = new ProcessBuilder(SKOPEO.toString(), "copy", "--all", "--src-tls-verify=false",
            "docker://" + host + "/" + ref, "oci:" + tmp.resolve("copy") + ":" + ref.replace('/', '_'))
            .redirectErrorStream(true).start();
        String out = new String(copy.getInputStream().readAllBytes());
        assertThat(copy.waitFor()).as(out).isZero();
      }
    } finally {
      serve.destroy();
      serve.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void pushFromParts_landsTheSameImagesAsFromTheFile(@TempDir Path tmp) throws Exception {
    Path first = firstPart(splitBundle(tmp));
    try (RegistryServer target = RegistryServer.startPlain()) {
      Cli.Run push = Cli.run(tmp, "bundle", "push", first.toString(), "--registry", target.host() + "/platform",
          "--insecure-registry", target.host(), "--trust-root", dir.resolve("keys/root.pub").toString(),
          "--output", "json");
      assertThat(push.exit()).as(push.toString()).isZero();
      JsonNode result = JSON.readTree(push.outLines().get(push.outLines().size() - 1));
      assertThat(result.path("images")).hasSize(5);
      assertThat(result.path("blobsUploaded").asInt()).isPositive();
      if (Files.isExecutable(SKOPEO)) {
        Process copy = new ProcessBuilder(SKOPEO.toString(), "copy", "--all", "--src-tls-verify=false",
            "docker://" + target.host() + "/platform/library/nginx:1.27-alpine", "oci:" + tmp.resolve("copy")
            + ":nginx").redirectErrorStream(true).start();
        String out = new String(copy.getInputStream().readAllBytes());
        assertThat(copy.waitFor()).as(out).isZero();
      }
    }
  }

  @Test
  void wrongRegistryPassword_exits11_withClearMessage(@TempDir Path tmp) {
    try (RegistryServer secure = RegistryServer.startSecure("vendor", "right-password")) {
      Cli.Run r = Cli.run(tmp, "wrong-password\n", Map.of(), "bundle", "build", "-f",
          Cli.REPO.resolve("examples/platform/bundle.yaml").toString(), "-o", "x.airlock",
          "--key", dir.resolve("keys/signing.key").toString(), "--cert", dir.resolve("keys/signing.cert").toString(),
          "--mirror", "docker.io=" + secure.host() + "/hub", "--registry-ca", secure.caFile().toString(),
          "--registry-username", "vendor", "--registry-password-stdin");
      assertThat(r.exit()).as(r.toString()).isEqualTo(11);
      assertThat(r.err()).contains("refused the credentials of user 'vendor'").contains("fix:");
      assertThat(tmp.resolve("x.airlock")).doesNotExist();
    }
  }

  @Test
  void dockerConfigCredentials_inlineAuthsAndCredentialHelpers_work(@TempDir Path tmp) throws Exception {
    try (RegistryServer secure = RegistryServer.startSecure("vendor", "helper-pass")) {
      ExampleImages.seed(secure, tmp.resolve("images"));
      String[] build = {"bundle", "build", "-f", Cli.REPO.resolve("examples/platform/bundle.yaml").toString(),
          "-o", "x.airlock", "--key", dir.resolve("keys/signing.key").toString(), "--cert",
          dir.resolve("keys/signing.cert").toString(), "--mirror", "docker.io=" + secure.host() + "/hub",
          "--registry-ca", secure.caFile().toString()};
      // 1. inline auths, as 'docker login' writes them
      Path inline = Files.createDirectories(tmp.resolve("inline"));
      String auth = java.util.Base64.getEncoder().encodeToString("vendor:helper-pass".getBytes());
      Files.writeString(inline.resolve("config.json"), "{\"auths\":{\"" + secure.host() + "\":{\"auth\":\""
          + auth + "\"}}}");
      Cli.Run r1 = Cli.run(tmp, null, Map.of("DOCKER_CONFIG", inline.toString()), build);
      assertThat(r1.exit()).as(r1.toString()).isZero();
      // 2. a credential helper program, found on PATH as docker-credential-NAME
      Path bin = Files.createDirectories(tmp.resolve("bin"));
      Path helper = bin.resolve("docker-credential-airlocktest");
      Files.writeString(helper, "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"" + secure.host()
          + "\" ] && echo '{\"Username\":\"vendor\",\"Secret\":\"helper-pass\"}' && exit 0\n"
          + "echo 'credentials not found' >&2; exit 1\n");
      helper.toFile().setExecutable(true);
      Path helped = Files.createDirectories(tmp.resolve("helped"));
      Files.writeString(helped.resolve("config.json"), "{\"credHelpers\":{\"" + secure.host()
          + "\":\"airlocktest\"}}");
      Files.deleteIfExists(tmp.resolve("x.airlock"));
      Cli.Run r2 = Cli.run(tmp, null, Map.of("DOCKER_CONFIG", helped.toString(), "PATH",
          bin + ":" + System.getenv("PATH")), build);
      assertThat(r2.exit()).as(r2.toString()).isZero();
      assertThat(tmp.resolve("x.airlock")).isRegularFile();
    }
  }

  @Test
  void push_intoACorporateRegistry_thenRerunIsANoOp_andUntrustedBundlesPushNothing(@TempDir Path tmp)
      throws IOException {
    try (RegistryServer corp = RegistryServer.startSecure("admin", "corp-pass")) {
      String[] push = {"bundle", "push", bundle.toString(), "--registry", corp.host() + "/platform",
          "--registry-username", "admin", "--registry-password-stdin", "--registry-ca", corp.caFile().toString(),
          "--trust-root", dir.resolve("keys/root.pub").toString(), "--output", "json"};
      Cli.Run first = Cli.run(tmp, "corp-pass\n", Map.of(), push);
      assertThat(first.exit()).as(first.toString()).isZero();
      List<String> lines = first.outLines();
      JsonNode result = JSON.readTree(lines.get(lines.size() - 1));
      assertThat(result.path("blobsUploaded").asInt()).isPositive();
      assertThat(result.path("images")).hasSize(5);
      assertThat(result.path("images").get(0).path("target").asText()).startsWith(corp.host() + "/platform/");

      Cli.Run again = Cli.run(tmp, "corp-pass\n", Map.of(), push);
      assertThat(again.exit()).as(again.toString()).isZero();
      JsonNode second = JSON.readTree(again.outLines().get(again.outLines().size() - 1));
      assertThat(second.path("blobsUploaded").asInt()).isZero();
      assertThat(second.path("manifestsPut").asInt()).isZero();

      try (RegistryServer fresh = RegistryServer.startPlain()) {
        Cli.Run untrusted = Cli.run(tmp, "bundle", "push", bundle.toString(), "--registry", fresh.host(),
            "--insecure-registry", fresh.host());
        assertThat(untrusted.exit()).isEqualTo(10);
        assertThat(fresh.storageDir()).satisfiesAnyOf(d -> assertThat(d).doesNotExist(),
            d -> assertThat(Files.walk(d).filter(Files::isRegularFile).count()).isZero());
      }
    }
  }

  @Test
  void unreachableRegistry_exits11_namingTheRegistry(@TempDir Path tmp) {
    int closed = RegistryServer.freePort();
    Cli.Run r = Cli.run(tmp, "bundle", "build", "-f", Cli.REPO.resolve("examples/platform/bundle.yaml").toString(),
        "-o", "x.airlock", "--key", dir.resolve("keys/signing.key").toString(), "--cert",
        dir.resolve("keys/signing.cert").toString(), "--mirror", "docker.io=127.0.0.1:" + closed + "/hub",
        "--insecure-registry", "127.0.0.1:" + closed, "--retries", "2");
    assertThat(r.exit()).as(r.toString()).isEqualTo(11);
    assertThat(r.err()).contains("registry 127.0.0.1:" + closed + " is unreachable (connection refused)");
    assertThat(tmp.resolve("x.airlock")).doesNotExist();
  }

  @Test
  void deltaFromTheSameContent_leavesOutEveryLayer_andSaysSo() {
    Cli.Run delta = build(dir, "delta.airlock", "--delta-from", bundle.toString());
    assertThat(delta.exit()).as(delta.toString()).isZero();
    assertThat(delta.out()).contains("a delta of platform 1.4.0");
    Cli.Run inspect = Cli.run(dir, "bundle", "inspect", "delta.airlock");
    assertThat(inspect.out()).contains("Delta of:     platform 1.4.0").contains("which the target registry must "
        + "already hold");
    Cli.Run verify = Cli.run(dir, "bundle", "verify", "delta.airlock", "--trust-root", "keys/root.pub");
    assertThat(verify.exit()).as(verify.toString()).isZero();
  }

  @Test
  void rerun_reusesTheCache() {
    Cli.Run again = build(dir, "again.airlock");
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(again.out()).contains("0 B downloaded");
    assertThat(Set.of(again.out().split(" "))).isNotEmpty();
  }
}
