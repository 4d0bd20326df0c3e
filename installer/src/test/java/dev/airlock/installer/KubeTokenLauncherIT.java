package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What kubectl starts through an airlock kubeconfig ({@code ./airlock kube-token}): a fresh cached token is printed
 * by the launcher without a JVM; otherwise the plugin's own jar runs, not the CLI: its class-loading log holds no
 * Quarkus, picocli, Jackson or CDI class, and its classes come from the class-data-sharing archive made at package
 * time. The launcher refuses the same files the plugin refuses.
 */
class KubeTokenLauncherIT {

  @TempDir Path dir;

  /** Runs {@code ./airlock kube-token} as kubectl does: from a process of its own (here a shell). */
  static String asKubectl(Map<String, String> env, String url) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", "\"$0\" kube-token --server \"$1\"; exit $?",
        Cli.LAUNCHER.toString(), url);
    pb.environment().putAll(env);
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void aCachedCall_startsNoJvm_andARenewalLoadsNoCliClass_fromTheCdsArchive() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/api/v1/kube-token", x -> {
      requests.incrementAndGet();
      byte[] b = ("{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":"
          + "{\"token\":\"t-" + requests.get() + "\",\"expirationTimestamp\":\"" + Instant.now().plusSeconds(600)
          .truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\"}}").getBytes(StandardCharsets.UTF_8);
      x.sendResponseHeaders(200, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort();
      Path log = dir.resolve("classes.log");
      Path java = dir.resolve("java");
      // The launcher runs $JAVA: this one logs every class the plugin's JVM loads, and where from (its option goes
      // after the launcher's -Xlog:disable, just before -cp).
      Files.writeString(java, "#!/bin/bash\nargs=()\nfor a in \"$@\"; do\n  [ \"$a\" = -cp ] && args+=("
          + "\"-Xlog:class+load=info:file=" + log + "\")\n  args+=(\"$a\")\ndone\nexec \""
          + Path.of(System.getProperty("java.home"), "bin", "java") + "\" \"${args[@]}\"\n");
      Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
      Map<String, String> env = Map.of("AIRLOCK_SESSION", "as1.it", "AIRLOCK_KUBE_CACHE_DIR",
          dir.resolve("cache").toString(), "JAVA", java.toString());
      // A miss: the plugin's JVM asks the server. It loads no class of the CLI, and its own from the CDS archive.
      String first = asKubectl(env, url);
      assertThat(first).contains("\"token\":\"t-1\"");
      List<String> lines = Files.readAllLines(log);
      assertThat(lines).isNotEmpty();
      assertThat(lines).noneMatch(l -> l.contains(" io.quarkus.") || l.contains(" picocli.")
          || l.contains(" com.fasterxml.") || l.contains(" jakarta.") || l.contains(" io.fabric8.")
          || l.contains(" dev.airlock.installer."));
      assertThat(lines).filteredOn(l -> l.contains(" dev.airlock.kubetoken.KubeTokenMain "))
          .singleElement().satisfies(l -> assertThat(l).as("from the CDS archive").contains("shared objects file"));

      // A hit: the launcher prints it without starting a JVM at all.
      Files.delete(log);
      assertThat(asKubectl(env, url)).isEqualTo(first);
      assertThat(log).as("no JVM started").doesNotExist();
      assertThat(requests).hasValue(1);

      // The launcher's checks are the plugin's: a file others may read, another session's file, a damaged one, and
      // the same kubectl asking twice all go to the plugin, which asks the server.
      Path file;
      try (var files = Files.list(dir.resolve("cache"))) {
        file = files.filter(f -> f.toString().endsWith(".json")).findFirst().orElseThrow();
      }
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(asKubectl(env, url)).contains("t-2");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
      assertThat(asKubectl(env, url)).contains("t-2");
      assertThat(requests).hasValue(2);
      Files.writeString(file, Files.readString(file).replaceFirst("(?m)^session [0-9a-f]+$", "session " + "0".repeat(
          64)));
      assertThat(asKubectl(env, url)).contains("t-3");
      Files.writeString(file, Files.readString(file).replaceFirst("(?m)^lifetime \\d+$", "lifetime x"));
      assertThat(asKubectl(env, url)).contains("t-4");
      assertThat(requests).hasValue(4);
      // One shell asking twice, as kubectl does after the API server refused its token: the second goes to the server.
      ProcessBuilder twice = new ProcessBuilder("sh", "-c", "\"$0\" kube-token --server \"$1\" >/dev/null && \"$0\" "
          + "kube-token --server \"$1\"", Cli.LAUNCHER.toString(), url);
      twice.environment().putAll(env);
      Process p = twice.start();
      assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("t-5");
      assertThat(p.waitFor()).isZero();
      assertThat(requests).hasValue(5);
    } finally {
      server.stop(0);
    }
  }
}
