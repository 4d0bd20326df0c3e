package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestCa;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bundle serve} as clients meet it: a TLS client on the plain port is told at once (not left to time out),
 * skopeo with {@code --tls-verify=false} falls back to HTTP in a moment, HTTPS with a given or a generated
 * certificate, and SIGTERM stops it.
 */
class ServeIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Path SKOPEO = Path.of("/usr/bin/skopeo");
  @TempDir static Path dir;
  static Path bundle;

  @BeforeAll
  static void bundle() {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    assumeTrue(Files.isExecutable(SKOPEO), "skopeo is not installed (apt-get install skopeo)");
    Platform.keysAndLicense(dir);
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      Platform.build(dir, Platform.example(), "platform.airlock", mirror);
    }
    bundle = dir.resolve("platform.airlock");
  }

  /** A running serve and the URL it printed. */
  record Serving(Process process, String url, Path cwd) implements AutoCloseable {
    String host() {
      return URI.create(url).getAuthority();
    }

    @Override
    public void close() throws Exception {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  static Serving serve(Path cwd, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("bundle", "serve", bundle.toString(), "--listen", "127.0.0.1:0",
        "--trust-root", dir.resolve("root.pub").toString(), "--output", "json"));
    args.addAll(List.of(extra));
    Process p = Cli.start(cwd, Map.of(), args.toArray(String[]::new));
    for (int i = 0; i < 300; i++) {
      for (String line : Files.readAllLines(cwd.resolve(".out"))) {
        JsonNode n = JSON.readTree(line);
        if (n.path("type").asText().equals("result")) {
          return new Serving(p, n.path("url").asText(), cwd);
        }
      }
      assertThat(p.isAlive()).as(Files.readString(cwd.resolve(".err"))).isTrue();
      Thread.sleep(100);
    }
    throw new AssertionError("serve did not start: " + Files.readString(cwd.resolve(".err")));
  }

  static String skopeoInspect(String image, String... flags) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(SKOPEO.toString(), "inspect"));
    cmd.addAll(List.of(flags));
    cmd.add(image);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void plainServe_answersATlsClientAtOnce_andSkopeoFallsBackToHttp_withoutWaiting(@TempDir Path tmp)
      throws Exception {
    try (Serving s = serve(tmp)) {
      assertThat(s.url()).startsWith("http://");
      URI u = URI.create(s.url());
      SSLContext trustAll = SSLContext.getInstance("TLS");
      trustAll.init(null, new TrustManager[] {new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] c, String a) {}

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      }}, null);
      long t0 = System.nanoTime();
      try (SSLSocket socket = (SSLSocket) trustAll.getSocketFactory().createSocket()) {
        socket.connect(new InetSocketAddress(u.getHost(), u.getPort()), 2000);
        socket.setSoTimeout(5000);
        assertThatThrownBy(socket::startHandshake).isInstanceOf(java.io.IOException.class);
      }
      assertThat((System.nanoTime() - t0) / 1e9).as("seconds for the TLS client to be told").isLessThan(1.0);

      t0 = System.nanoTime();
      String out = skopeoInspect("docker://" + s.host() + "/library/nginx:1.27-alpine", "--tls-verify=false");
      assertThat(out).contains("\"Digest\": \"sha256:");
      assertThat((System.nanoTime() - t0) / 1e9).as("seconds for skopeo's HTTPS-then-HTTP inspect").isLessThan(3.0);

      long t1 = System.nanoTime();
      new ProcessBuilder("kill", "-TERM", Long.toString(s.process().pid())).start().waitFor();
      assertThat(s.process().waitFor(5, TimeUnit.SECONDS)).isTrue();
      assertThat((System.nanoTime() - t1) / 1e9).as("seconds from SIGTERM to exit").isLessThan(2.5);
      assertThat(s.process().exitValue()).isEqualTo(143);
      assertThat(Files.readString(tmp.resolve(".err"))).contains("stopped by SIGTERM");
    }
  }

  @Test
  void tlsServe_withACertificateAndKey_servesHttpsAndPlainHttpOnOnePort(@TempDir Path tmp) throws Exception {
    TestCa.Files3 tls = TestCa.write(tmp.resolve("tls"));
    try (Serving s = serve(tmp, "--tls-cert", tls.serverCert().toString(), "--tls-key", tls.serverKey().toString())) {
      assertThat(s.url()).startsWith("https://");
      Path certDir = Files.createDirectories(tmp.resolve("certs"));
      Files.copy(tls.caCert(), certDir.resolve("ca.crt"));
      assertThat(skopeoInspect("docker://" + s.host() + "/library/nginx:1.27-alpine", "--cert-dir",
          certDir.toString())).contains("\"Digest\": \"sha256:");
      var http = java.net.http.HttpClient.newHttpClient();
      var plain = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://" + s.host() + "/v2/")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(plain.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void selfSignedServe_writesItsCertificate_forClientsToTrust(@TempDir Path tmp) throws Exception {
    Path cert = tmp.resolve("certs/ca.crt");
    Files.createDirectories(cert.getParent());
    try (Serving s = serve(tmp, "--tls-self-signed", "--tls-cert-out", cert.toString())) {
      assertThat(s.url()).startsWith("https://");
      assertThat(Files.readString(tmp.resolve(".out"))).contains("\"fingerprint\"");
      assertThat(skopeoInspect("docker://" + s.host() + "/library/busybox:1.36", "--cert-dir",
          cert.getParent().toString())).contains("\"Digest\": \"sha256:");
    }
  }

  @Test
  void halfATlsPair_isRefused(@TempDir Path tmp) {
    Cli.Run r = Cli.run(tmp, "bundle", "serve", bundle.toString(), "--tls-cert", "x.pem", "--trust-root",
        dir.resolve("root.pub").toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--tls-cert and --tls-key go together");
  }
}
