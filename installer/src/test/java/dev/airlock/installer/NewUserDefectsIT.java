package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.TarIndex;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a new user tripped over (issue 10), each as the user met it, through ./airlock: JSON error events, unknown
 * commands, messages that named a wrong flag or showed parser internals, a truncated bundle that inspected fine, a
 * tampered bundle pushed half-way, silent surprises.
 */
class NewUserDefectsIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static RegistryServer mirror;
  static Path bundle;

  @BeforeAll
  static void setUp() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    Platform.keysAndLicense(dir);
    mirror = RegistryServer.startPlain();
    ExampleImages.seed(mirror, dir.resolve("images"));
    Platform.build(dir, Platform.example(), "platform.airlock", mirror);
    bundle = dir.resolve("platform.airlock");
  }

  @AfterAll
  static void tearDown() {
    if (mirror != null) {
      mirror.close();
    }
  }

  static JsonNode lastJson(Cli.Run r) throws IOException {
    List<String> lines = r.outLines();
    assertThat(lines).as(r.toString()).isNotEmpty();
    return JSON.readTree(lines.get(lines.size() - 1));
  }

  /** A failing command of each family prints the documented error event as its last stdout line. */
  @Test
  void everyFamilysFailure_isAJsonErrorEvent_withOutputJson(@TempDir Path tmp) throws IOException {
    Path tampered = tmp.resolve("tampered.airlock");
    byte[] b = Files.readAllBytes(bundle);
    b[b.length / 2] ^= 0x55;
    Files.write(tampered, b);
    Files.writeString(tmp.resolve("garbage.license"), "not a license at all\n");
    List<Object[]> cases = List.of(
        new Object[] {10, new String[] {"bundle", "verify", tampered.toString(), "--trust-root",
            dir.resolve("root.pub").toString()}},
        new Object[] {2, new String[] {"license", "verify", tmp.resolve("garbage.license").toString(), "--trust-root",
            dir.resolve("root.pub").toString()}},
        new Object[] {2, new String[] {"keys", "create-signing", "--root-key", "missing.key", "--out", "s"}},
        new Object[] {2, new String[] {"bundle", "inspect", "--bogus", bundle.toString()}},
        new Object[] {2, new String[] {"status", "--kubeconfig", "missing-kubeconfig"}});
    for (Object[] c : cases) {
      List<String> args = new ArrayList<>(List.of((String[]) c[1]));
      args.addAll(List.of("--output", "json"));
      Cli.Run r = Cli.run(tmp, args.toArray(String[]::new));
      assertThat(r.exit()).as(r.toString()).isEqualTo((int) c[0]);
      JsonNode e = lastJson(r);
      assertThat(e.path("type").asText()).as(r.toString()).isEqualTo("error");
      assertThat(e.path("exitCode").asInt()).isEqualTo((int) c[0]);
      assertThat(e.path("message").asText()).isNotBlank();
    }
  }

  @Test
  void unknownCommands_exit2_withSuggestions_evenWithHelp() {
    Cli.Run nonsense = Cli.run(dir, "nonsense", "--help");
    assertThat(nonsense.exit()).isEqualTo(2);
    assertThat(nonsense.err()).contains("unknown command 'nonsense' for 'airlock'");
    Cli.Run typo = Cli.run(dir, "instal");
    assertThat(typo.exit()).isEqualTo(2);
    assertThat(typo.err()).contains("did you mean", "airlock install");
    Cli.Run sub = Cli.run(dir, "bundle", "biuld");
    assertThat(sub.exit()).isEqualTo(2);
    assertThat(sub.err()).contains("airlock bundle build");
    assertThat(Cli.run(dir, "bundle", "build", "--help").exit()).isZero();
  }

  @Test
  void unreadableFiles_sayWhatTheyAreNot_withoutParserInternals(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("garbage.license"), "just some words\nand more\n");
    Cli.Run lic = Cli.run(tmp, "license", "verify", "garbage.license", "--trust-root",
        dir.resolve("root.pub").toString());
    assertThat(lic.exit()).isEqualTo(2);
    assertThat(lic.err()).contains("is not a valid license file", "apiVersion, kind, license and signature")
        .doesNotContain("Cannot construct", "dev.airlock", "just some words");
    byte[] random = new byte[4096];
    new java.util.Random(7).nextBytes(random);
    Files.write(tmp.resolve("random.airlock"), random);
    Cli.Run rev = Cli.run(tmp, "bundle", "verify", bundle.toString(), "--trust-root",
        dir.resolve("root.pub").toString(), "--revocations", "random.airlock");
    assertThat(rev.exit()).isEqualTo(2);
    assertThat(rev.err()).contains("is not an airlock revocation list: it is not JSON")
        .doesNotContain("Unexpected character", "StreamReadFeature");
    Cli.Run key = Cli.run(tmp, "bundle", "build", "-f", Platform.example().toString(), "-o", "x.airlock", "--key",
        "nope.key", "--cert", dir.resolve("signing.cert").toString());
    assertThat(key.exit()).as("a missing --key file is bad input, like a missing bundle").isEqualTo(2);
    assertThat(key.err()).contains("nope.key does not exist");
  }

  @Test
  void truncatedBundle_isRefusedByInspect(@TempDir Path tmp) throws IOException {
    Path cut = tmp.resolve("cut.airlock");
    try (var in = Files.newInputStream(bundle)) {
      Files.write(cut, in.readNBytes((int) (Files.size(bundle) * 2 / 3)));
    }
    Cli.Run r = Cli.run(tmp, "bundle", "inspect", cut.toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(10);
    assertThat(r.err()).contains("truncated");
  }

  @Test
  void fixesNameTheFlagsOfTheCommandThatRan(@TempDir Path tmp) throws IOException {
    // a plain-HTTP registry without --insecure-registry
    Cli.Run plain = Cli.run(tmp, "bundle", "build", "-f", Platform.example().toString(), "-o", "p.airlock", "--key",
        dir.resolve("signing.key").toString(), "--cert", dir.resolve("signing.cert").toString(), "--mirror",
        "docker.io=" + mirror.host() + "/hub");
    assertThat(plain.exit()).isEqualTo(11);
    assertThat(plain.err()).contains("plain HTTP", "--insecure-registry " + mirror.host()).doesNotContain("--mirror");
    // push has no --mirror
    Cli.Run push = Cli.run(tmp, "bundle", "push", bundle.toString(), "--registry", "127.0.0.1:1/x",
        "--insecure-registry", "127.0.0.1:1", "--trust-root", dir.resolve("root.pub").toString(), "--retries", "1");
    assertThat(push.exit()).isEqualTo(11);
    assertThat(push.err()).contains("unreachable").doesNotContain("--mirror");
    // the vendor issuing a license is told which flag to change
    Cli.Run grace = Cli.run(tmp, "license", "issue", "--customer", "Acme", "--product", "platform", "--expires",
        LocalDate.now().plusYears(1).toString(), "--seats", "5", "--grace-days", "400", "--key",
        dir.resolve("signing.key").toString(), "--cert", dir.resolve("signing.cert").toString(), "-o", "x.license");
    assertThat(grace.exit()).isEqualTo(2);
    assertThat(grace.err()).contains("--grace-days", "between 0 and 365").doesNotContain("ask the vendor");
    // Helm's advice for its own CLI is not repeated
    Path chart = Files.createDirectories(tmp.resolve("bad/charts/c/templates"));
    Files.writeString(chart.getParent().resolve("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    Files.writeString(chart.resolve("x.yaml"), "kind: ConfigMap\nmetadata:\n  name: {{ .Values.x | required "
        + "\"x is required\" }}\n  broken: [\n");
    Files.writeString(tmp.resolve("bad/bundle.yaml"), "apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bad\n"
        + "version: 1.0.0\ncomponents:\n  - name: c\n    chart: {path: charts/c}\n");
    Cli.Run helm = Cli.run(tmp, "bundle", "build", "-f", tmp.resolve("bad/bundle.yaml").toString(), "-o", "b.airlock",
        "--key", dir.resolve("signing.key").toString(), "--cert", dir.resolve("signing.cert").toString());
    assertThat(helm.exit()).isEqualTo(2);
    assertThat(helm.err()).contains("cannot render chart c").doesNotContain("Use --debug flag");
  }

  @Test
  void tamperedBundle_push_stopsAtTheDamagedBlob_exit10_andTheRegistryNeverHoldsIt(@TempDir Path tmp)
      throws IOException {
    Path tampered = tmp.resolve("tampered.airlock");
    Files.copy(bundle, tampered);
    TarIndex.Entry biggest;
    try (BundleFile f = BundleFile.open(tampered)) {
      biggest = f.index().entries().stream().filter(e -> e.name().startsWith("blobs/"))
          .max(Comparator.comparingLong(TarIndex.Entry::size)).orElseThrow();
    }
    try (RandomAccessFile raf = new RandomAccessFile(tampered.toFile(), "rw")) {
      long at = biggest.offset() + biggest.size() / 2;
      raf.seek(at);
      int v = raf.read();
      raf.seek(at);
      raf.write(v ^ 0x5a);
    }
    String hex = biggest.name().substring(biggest.name().lastIndexOf('/') + 1);
    try (RegistryServer target = RegistryServer.startPlain()) {
      Cli.Run r = Cli.run(tmp, "bundle", "push", tampered.toString(), "--registry", target.host() + "/p",
          "--insecure-registry", target.host(), "--trust-root", dir.resolve("root.pub").toString(), "--output",
          "json");
      assertThat(r.exit()).as(r.toString()).isEqualTo(10);
      JsonNode e = lastJson(r);
      assertThat(e.path("message").asText()).contains("bundle entry " + biggest.name() + " does not match its "
          + "digest", "before the registry accepted it");
      assertThat(e.path("data").path("entry").asText()).isEqualTo(biggest.name());
      assertThat(r.err()).doesNotContain("DIGEST_INVALID");
      try (var files = Files.walk(target.storageDir())) {
        assertThat(files.map(Path::toString)).as("the registry never stored the damaged blob")
            .noneMatch(p -> p.contains("/blobs/sha256/" + hex.substring(0, 2) + "/" + hex));
      }
      Cli.Run good = Cli.run(tmp, "bundle", "push", bundle.toString(), "--registry", target.host() + "/p",
          "--insecure-registry", target.host(), "--trust-root", dir.resolve("root.pub").toString());
      assertThat(good.exit()).as("a good copy completes the push: " + good).isZero();
    }
  }

  @Test
  void silentSurprises_areSaid(@TempDir Path tmp) throws IOException {
    // an existing bundle is not replaced without --force
    Cli.Run again = Cli.run(dir, "bundle", "build", "-f", Platform.example().toString(), "-o", "platform.airlock",
        "--key", "signing.key", "--cert", "signing.cert", "--mirror", "docker.io=" + mirror.host() + "/hub",
        "--insecure-registry", mirror.host());
    assertThat(again.exit()).isEqualTo(2);
    assertThat(again.err()).contains("platform.airlock exists", "--force");
    // amd64-only images asked for arm64; a chart rendering an empty image
    Path chart = Files.createDirectories(tmp.resolve("sp/charts/c/templates"));
    Files.writeString(chart.getParent().resolve("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n");
    Files.writeString(chart.resolve("d.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
        + "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      "
        + "containers:\n        - {name: app, image: \"{{ .Values.image }}\"}\n        - {name: side, image: "
        + "docker.io/library/busybox:1.36}\n");
    Files.writeString(tmp.resolve("sp/bundle.yaml"), "apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: sp\n"
        + "version: 1.0.0\ncomponents:\n  - name: c\n    chart: {path: charts/c}\n");
    Cli.Run warned = Cli.run(tmp, "bundle", "build", "-f", tmp.resolve("sp/bundle.yaml").toString(), "-o",
        "sp.airlock", "--key", dir.resolve("signing.key").toString(), "--cert", dir.resolve("signing.cert").toString(),
        "--mirror", "docker.io=" + mirror.host() + "/hub", "--insecure-registry", mirror.host(), "--platform",
        "linux/arm64");
    assertThat(warned.exit()).as(warned.toString()).isZero();
    assertThat(warned.err()).contains("renders Deployment d with an empty image in container(s) app",
        "image docker.io/library/busybox:1.36 provides linux/amd64 but not linux/arm64");
    // the signed manifest names chart sources relative to the spec
    Cli.Run inspect = Cli.run(tmp, "bundle", "inspect", "sp.airlock", "--output", "json");
    assertThat(lastJson(inspect).path("components").get(0).path("chart").path("source").asText())
        .isEqualTo("charts/c");
  }

  @Test
  void preflight_whenTheApiDoesNotAnswer_failsTheKubernetesCheck_exit3(@TempDir Path tmp) throws IOException {
    Path kubeconfig = tmp.resolve("dead.kubeconfig");
    Files.writeString(kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: "
        + "\"https://127.0.0.1:1\", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: x}\n"
        + "contexts:\n- name: dead\n  context: {cluster: dead, user: u}\ncurrent-context: dead\n");
    try (RegistryServer company = RegistryServer.startPlain()) {
      Cli.Run r = Cli.run(dir, "preflight", "--bundle", "platform.airlock", "--license", "acme.license",
          "--trust-root", "root.pub", "--registry", company.host() + "/p", "--insecure-registry", company.host(),
          "--kubeconfig", kubeconfig.toString(), "--output", "json");
      assertThat(r.exit()).as(r.toString()).isEqualTo(3);
      assertThat(r.out()).contains("\"id\":\"kubernetes-version\",\"status\":\"fail\"");
      assertThat(lastJson(r).path("data").path("check").asText()).contains("kubernetes-version");
    }
  }

  @Test
  void licenseWarning_readsAsASentence(@TempDir Path tmp) {
    String soon = LocalDate.now().plusDays(10).toString();
    Cli.Run issued = Cli.run(dir, "license", "issue", "--customer", "Soon", "--product", "platform", "--expires",
        soon, "--seats", "1", "--key", "signing.key", "--cert", "signing.cert", "-o", tmp.resolve("soon.license")
            .toString());
    assertThat(issued.exit()).as(issued.toString()).isZero();
    Cli.Run v = Cli.run(dir, "license", "verify", tmp.resolve("soon.license").toString(), "--trust-root", "root.pub");
    assertThat(v.exit()).isZero();
    assertThat(v.err()).containsPattern("license lic-[0-9a-f]{32}: expires in \\d+ days");
  }

  static Map<String, String> none() {
    return Map.of();
  }
}
