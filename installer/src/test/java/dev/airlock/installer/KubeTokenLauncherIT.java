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
 * What kubectl starts through an airlock kubeconfig ({@code ./airlock kube-token}): the plugin's own jar, not the
 * CLI. The class-loading log of a cached call holds no Quarkus, picocli, Jackson or CDI class, and the plugin's
 * classes come from the class-data-sharing archive made at package time.
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
  void aCachedCall_loadsNoCliClass_andStartsFromTheCdsArchive() throws Exception {
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
      String first = asKubectl(env, url);
      assertThat(first).contains("\"token\":\"t-1\"");
      Files.deleteIfExists(log);
      String cached = asKubectl(env, url);
      assertThat(cached).isEqualTo(first);
      assertThat(requests).hasValue(1);

      List<String> lines = Files.readAllLines(log);
      assertThat(lines).isNotEmpty();
      assertThat(lines).noneMatch(l -> l.contains(" io.quarkus.") || l.contains(" picocli.")
          || l.contains(" com.fasterxml.") || l.contains(" jakarta.") || l.contains(" io.fabric8.")
          || l.contains(" dev.airlock.installer."));
      assertThat(lines).filteredOn(l -> l.contains(" dev.airlock.kubetoken.KubeTokenMain "))
          .singleElement().satisfies(l -> assertThat(l).as("from the CDS archive").contains("shared objects file"));
    } finally {
      server.stop(0);
    }
  }
}
