package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.Digest;
import dev.airlock.oci.RegistryClient;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The airlock server as part of the platform: a spec with a {@code server} section gives a bundle whose install puts
 * the server's Deployment, ServiceAccount and RBAC into the cluster, with its image (airlock's own jars) pushed to
 * the company registry; an upgrade built by another airlock moves it, and a rollback moves it back. Checked on the
 * live objects and on the bytes in the registry.
 */
@KubeTest
class ServerPackageIT {

  static final Path APP = Cli.REPO.resolve("installer/target/quarkus-app");
  @TempDir static Path dir;
  static RegistryServer company;
  final TestCluster cluster;

  ServerPackageIT(TestCluster cluster) {
    this.cluster = cluster;
  }

  @BeforeAll
  static void bundles() throws IOException {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    Platform.keysAndLicense(dir);
    // v2 is built by "another airlock": the same application with one more file, so its server image differs.
    Path app2 = dir.resolve("quarkus-app-2");
    try (Stream<Path> walk = Files.walk(APP)) {
      for (Path p : walk.toList()) {
        Path to = app2.resolve(APP.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    Files.writeString(app2.resolve("app/next-airlock.txt"), "a newer airlock");
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      ExampleImages.seedNext(mirror, dir.resolve("images"));
      ExampleImages.seedJreBase(mirror, dir.resolve("images"));
      Platform.build(dir, ExampleVariants.withServer(Platform.example().getParent(), dir.resolve("specs"), "v1"),
          "v1.airlock", mirror);
      Cli.Run v2 = Cli.run(dir, null, Map.of("AIRLOCK_APP_DIR", app2.toString()), "bundle", "build", "-f",
          ExampleVariants.v2WithServer(Platform.example().getParent(), dir.resolve("specs")).toString(), "-o",
          "v2.airlock", "--key", "signing.key", "--cert", "signing.cert", "--mirror", "docker.io=" + mirror.host()
          + "/hub", "--insecure-registry", mirror.host());
      assertThat(v2.exit()).as(v2.toString()).isZero();
    }
    company = RegistryServer.startSecure("admin", "corp-pass");
  }

  @AfterAll
  static void stop() {
    if (company != null) {
      company.close();
    }
  }

  Cli.Run airlock(String ns, String stdin, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--kubeconfig", cluster.kubeconfig().toString(), "--namespace", ns));
    return Cli.run(dir, stdin, Map.of(), all.toArray(String[]::new));
  }

  @Test
  void install_upgrade_rollback_moveTheServer_builtFromAirlocksOwnJars() throws Exception {
    String ns = TestCluster.uniqueName("srvpkg");
    try {
      Cli.Run install = airlock(ns, "corp-pass\n", "install", "--bundle", "v1.airlock", "--license", "acme.license",
          "--trust-root", "root.pub", "--registry", company.host() + "/platform", "--registry-username", "admin",
          "--registry-password-stdin", "--registry-ca", company.caFile().toString(), "--yes");
      assertThat(install.exit()).as(install.toString()).isZero();
      assertThat(install.out()).contains("installed platform 1.4.0 in " + ns + ": 5 releases",
          "break-glass admin password, shown this once");
      assertThat(cluster.client().secrets().inNamespace(ns).withName("airlock-admin").get().getData())
          .containsKey("password-hash");

      // What runs: the server's Deployment as its ServiceAccount, its image in the company registry by digest.
      Container c = serverContainer(ns);
      String v1Image = c.getImage();
      assertThat(v1Image).startsWith(company.host() + "/platform/airlock/server:").contains("@sha256:");
      assertThat(c.getArgs()).contains("server", "--namespace=" + ns, "--listen=0.0.0.0:8443",
          "--upload-dir=/var/lib/airlock/uploads", "--no-console-upgrades");
      // By default the console cannot upgrade: no binding beyond the server's own RBAC.
      assertThat(cluster.client().rbac().clusterRoleBindings().withName("airlock-server-upgrades-" + ns).get())
          .isNull();
      assertThat(cluster.client().services().inNamespace(ns).withName("airlock").get().getSpec()
          .getSessionAffinity()).isEqualTo("ClientIP");
      assertThat(cluster.client().apps().deployments().inNamespace(ns).withName("airlock-server").get().getSpec()
          .getTemplate().getSpec().getServiceAccountName()).isEqualTo("airlock-server");
      assertThat(cluster.client().serviceAccounts().inNamespace(ns).withName("airlock-server").get()).isNotNull();
      assertThat(cluster.client().rbac().roles().inNamespace(ns).withName("airlock-server").get()).isNotNull();
      assertThat(cluster.client().rbac().clusterRoles().withName("airlock-server-" + ns).get().getRules())
          .anySatisfy(r -> assertThat(r.getResources()).contains("namespaces"));
      assertThat(cluster.client().services().inNamespace(ns).withName("airlock").get().getSpec().getPorts().get(0)
          .getPort()).isEqualTo(443);

      // The bytes in the registry: airlock's own quarkus-run.jar, started by the image's entrypoint.
      Map<String, byte[]> files = imageFiles(v1Image);
      assertThat(files.get("opt/airlock/quarkus-run.jar")).isEqualTo(Files.readAllBytes(APP.resolve(
          "quarkus-run.jar")));
      assertThat(files).containsKey("opt/airlock/app/airlock-installer-0.1.0-SNAPSHOT.jar");

      // The server as the installed ServiceAccount, with nothing seeded (a fresh installation): it starts, warns
      // that no connector is configured, refuses SSO logins with that reason, and the admin made at install logs in.
      String password = install.out().lines().filter(l -> l.contains("break-glass admin password")).findFirst()
          .orElseThrow().replaceAll(".*: ", "").trim();
      Path sa = cluster.kubeconfigForServiceAccount(ns, "airlock-server", java.time.Duration.ofMinutes(30),
          dir.resolve("sa-" + ns + ".kubeconfig"));
      Path cwd = Files.createDirectories(dir.resolve("server-" + ns));
      Process server = Cli.start(cwd, Map.of(), "server", "--kubeconfig", sa.toString(), "--namespace", ns,
          "--listen", "127.0.0.1:0", "--output", "json");
      try {
        JsonNode serving = null;
        for (int i = 0; i < 600 && serving == null; i++) {
          for (String line : Files.exists(cwd.resolve(".out")) ? Files.readAllLines(cwd.resolve(".out"))
              : List.<String>of()) {
            if (line.contains("\"type\":\"result\"")) {
              serving = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
            }
          }
          assertThat(server.isAlive()).as(() -> read(cwd.resolve(".err"))).isTrue();
          Thread.sleep(100);
        }
        assertThat(serving).as(() -> read(cwd.resolve(".err"))).isNotNull();
        assertThat(serving.path("adminPassword").isMissingNode() || serving.path("adminPassword").isNull())
            .as("the password is shown by install only").isTrue();
        assertThat(read(cwd.resolve(".out")) + read(cwd.resolve(".err"))).contains("no SSO connector is configured");
        String url = serving.path("url").asText();
        Cli.Run sso = Cli.run(dir, null, Map.of(), "login", "--server", url, "--no-browser", "--kubeconfig-out",
            dir.resolve("dev.kubeconfig").toString());
        assertThat(sso.exit()).isNotZero();
        assertThat(sso.err()).contains("no SSO connector configured yet");
        Cli.Run admin = Cli.run(dir, password + "\n", Map.of(), "login", "--admin", "--server", url,
            "--kubeconfig-out", dir.resolve("admin-" + ns + ".kubeconfig").toString());
        assertThat(admin.exit()).as(admin.toString()).isZero();
        Cli.Run users = Cli.run(dir, "users", "list", "--kubeconfig", dir.resolve("admin-" + ns + ".kubeconfig")
            .toString());
        assertThat(users.exit()).as(users.toString()).isZero();
      } finally {
        server.destroy();
        server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      }

      Cli.Run status = airlock(ns, null, "status", "--output", "json");
      assertThat(status.exit()).as(status.toString()).isZero();
      assertThat(status.out()).contains("airlock-server");

      // An upgrade built by a newer airlock moves the server with the platform; a rollback moves it back.
      // With upgrades: true the console may upgrade: the ServiceAccount is bound to cluster-admin.
      // trustRoot: the vendor's root key for console uploads, mounted from a ConfigMap.
      String rootPem = Files.readString(dir.resolve("root.pub"));
      Files.writeString(dir.resolve("upgrades.yaml"), "airlock-server:\n  upgrades: true\n  trustRoot: |\n"
          + rootPem.lines().map(l -> "    " + l + "\n").collect(java.util.stream.Collectors.joining()));
      Cli.Run up = airlock(ns, null, "upgrade", "--bundle", "v2.airlock", "--trust-root", "root.pub", "--yes",
          "--timeout", "60", "--values", "upgrades.yaml");
      assertThat(up.exit()).as(up.toString()).isZero();
      assertThat(serverContainer(ns).getArgs()).doesNotContain("--no-console-upgrades")
          .contains("--trust-root=/etc/airlock/trust/root.pub");
      assertThat(cluster.client().configMaps().inNamespace(ns).withName("airlock-server-trust").get().getData()
          .get("root.pub")).isEqualTo(rootPem);
      assertThat(cluster.client().rbac().clusterRoleBindings().withName("airlock-server-upgrades-" + ns).get()
          .getRoleRef().getName()).isEqualTo("cluster-admin");
      assertThat(cluster.client().apps().deployments().inNamespace(ns).withName("airlock-server").get().getSpec()
          .getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(330L);
      String v2Image = serverContainer(ns).getImage();
      assertThat(v2Image).isNotEqualTo(v1Image).startsWith(company.host() + "/platform/airlock/server:");
      assertThat(imageFiles(v2Image)).containsKey("opt/airlock/app/next-airlock.txt");

      Cli.Run back = airlock(ns, null, "rollback", "--yes");
      assertThat(back.exit()).as(back.toString()).isZero();
      assertThat(serverContainer(ns).getImage()).isEqualTo(v1Image);
      assertThat(cluster.client().rbac().clusterRoleBindings().withName("airlock-server-upgrades-" + ns).get())
          .as("the rollback takes the binding away with the value").isNull();

      Cli.Run uninstall = airlock(ns, null, "uninstall", "--yes");
      assertThat(uninstall.exit()).as(uninstall.toString()).isZero();
      assertThat(cluster.client().rbac().clusterRoles().withName("airlock-server-" + ns).get()).isNull();
      assertThat(cluster.client().rbac().clusterRoleBindings().withName("airlock-server-" + ns).get()).isNull();
    } finally {
      cluster.deleteNamespaces(ns);
      cluster.client().rbac().clusterRoleBindings().withName("airlock-server-" + ns).delete();
      cluster.client().rbac().clusterRoleBindings().withName("airlock-server-upgrades-" + ns).delete();
      cluster.client().rbac().clusterRoles().withName("airlock-server-" + ns).delete();
    }
  }

  private static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  private Container serverContainer(String ns) {
    Deployment d = cluster.client().apps().deployments().inNamespace(ns).withName("airlock-server").get();
    assertThat(d).as("Deployment airlock-server in " + ns).isNotNull();
    return d.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  /** Every file of the image's layers above the base, read back from the company registry. */
  private static Map<String, byte[]> imageFiles(String image) throws IOException {
    String hostAndRepo = image.substring(0, image.indexOf(':', image.indexOf('/')));
    String host = hostAndRepo.substring(0, hostAndRepo.indexOf('/'));
    String repo = hostAndRepo.substring(host.length() + 1);
    String digest = image.substring(image.indexOf('@') + 1);
    RegistryClient client = new RegistryClient(RegistryOptions.defaults()
        .withCredentials(CredentialStore.of(Map.of(host, new Credentials("admin", "corp-pass"))))
        .withCaFiles(List.of(company.caFile())));
    JsonNode manifest = client.getManifest(host, repo, digest).json();
    JsonNode config;
    try (InputStream in = client.openBlob(host, repo, Digest.parse(manifest.path("config").path("digest")
        .asText()))) {
      config = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
    }
    assertThat(config.path("config").path("Entrypoint").toString()).contains("\"-jar\"",
        "\"/opt/airlock/quarkus-run.jar\"");
    Map<String, byte[]> files = new java.util.HashMap<>();
    for (JsonNode layer : manifest.path("layers")) {
      try (TarArchiveInputStream t = new TarArchiveInputStream(new GZIPInputStream(client.openBlob(host, repo,
          Digest.parse(layer.path("digest").asText()))))) {
        TarArchiveEntry e;
        while ((e = t.getNextEntry()) != null) {
          if (e.isFile() && e.getName().replaceFirst("^/", "").startsWith("opt/airlock/")) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            t.transferTo(b);
            files.put(e.getName().replaceFirst("^/", ""), b.toByteArray());
          }
        }
      } catch (java.util.zip.ZipException notGzip) {
        // the stand-in base's layers are random bytes, not archives
      }
    }
    return files;
  }
}
