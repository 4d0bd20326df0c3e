package dev.airlock.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.error.AirlockException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a misbehaving server on a real loopback socket. */
class RegistryClientTest {

  HttpServer server;
  String host;
  final byte[] blob = new byte[3 * 1024 * 1024];
  Digest digest;
  final AtomicInteger blobRequests = new AtomicInteger();
  final AtomicInteger rangeRequests = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    new Random(7).nextBytes(blob);
    digest = Digest.of(blob);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.start();
    host = "127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private RegistryClient client() {
    return new RegistryClient(RegistryOptions.defaults().withInsecureHosts(Set.of(host))
        .withRetries(4, Duration.ofMillis(10)));
  }

  @Test
  void retriesOn503_thenSucceeds(@TempDir Path tmp) throws IOException {
    server.createContext("/v2/app/blobs/", ex -> {
      if (blobRequests.incrementAndGet() < 3) {
        send(ex, 503, new byte[0]);
      } else {
        send(ex, 200, blob);
      }
    });
    client().downloadBlob(host, "app", digest, blob.length, tmp.resolve("b"), n -> {});
    assertThat(blobRequests).hasValue(3);
    assertThat(Files.readAllBytes(tmp.resolve("b"))).isEqualTo(blob);
  }

  @Test
  void droppedConnection_resumesWithRange(@TempDir Path tmp) throws IOException {
    server.createContext("/v2/app/blobs/", ex -> {
      String range = ex.getRequestHeaders().getFirst("Range");
      if (blobRequests.incrementAndGet() == 1) {
        // Promise everything, send a third, then drop the connection.
        ex.sendResponseHeaders(200, blob.length);
        OutputStream out = ex.getResponseBody();
        out.write(blob, 0, blob.length / 3);
        out.flush();
        ex.getHttpContext().getServer();
        ex.close();
        return;
      }
      long from = Long.parseLong(range.replaceAll("bytes=(\\d+)-", "$1"));
      rangeRequests.incrementAndGet();
      ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (blob.length - 1) + "/" + blob.length);
      ex.sendResponseHeaders(206, blob.length - from);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(blob, (int) from, (int) (blob.length - from));
      }
    });
    AtomicInteger progressed = new AtomicInteger();
    client().downloadBlob(host, "app", digest, blob.length, tmp.resolve("b"), n -> progressed.addAndGet((int) n));
    assertThat(rangeRequests).hasValue(1);
    assertThat(Files.readAllBytes(tmp.resolve("b"))).isEqualTo(blob);
    assertThat(progressed).hasValue(blob.length);
  }

  @Test
  void wrongContent_isRefusedWithBothDigests(@TempDir Path tmp) {
    byte[] other = blob.clone();
    other[0] ^= 1;
    server.createContext("/v2/app/blobs/", ex -> send(ex, 200, other));
    assertThatThrownBy(() -> client().downloadBlob(host, "app", digest, blob.length, tmp.resolve("b"), n -> {}))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("blob " + digest)
        .hasMessageContaining("has the digest " + Digest.of(other));
  }

  @Test
  void bearerTokenFlow_usesCredentialsForTheToken(@TempDir Path tmp) {
    AtomicInteger tokens = new AtomicInteger();
    server.createContext("/token", ex -> {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      String query = ex.getRequestURI().getRawQuery();
      if (auth == null || !query.contains("scope=repository%3Aapp%3Apull") || !query.contains("service=test")) {
        send(ex, 401, new byte[0]);
        return;
      }
      tokens.incrementAndGet();
      send(ex, 200, "{\"token\":\"T0K3N\"}".getBytes());
    });
    server.createContext("/v2/app/blobs/", ex -> {
      if (!"Bearer T0K3N".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://" + host + "/token\",service=\"test\","
            + "scope=\"repository:app:pull\"");
        send(ex, 401, new byte[0]);
        return;
      }
      send(ex, 200, blob);
    });
    RegistryClient c = new RegistryClient(RegistryOptions.defaults().withInsecureHosts(Set.of(host))
        .withCredentials(CredentialStore.of(Map.of(host, new Credentials("u", "p")))));
    c.downloadBlob(host, "app", digest, blob.length, tmp.resolve("1"), n -> {});
    c.downloadBlob(host, "app", digest, blob.length, tmp.resolve("2"), n -> {});
    assertThat(tokens).as("the token is cached per scope").hasValue(1);
  }

  @Test
  void bearerWithoutCredentials_asksForThem(@TempDir Path tmp) {
    server.createContext("/token", ex -> send(ex, 401, new byte[0]));
    server.createContext("/v2/app/manifests/", ex -> {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://" + host + "/token\"");
      send(ex, 401, new byte[0]);
    });
    assertThatThrownBy(() -> client().getManifest(host, "app", "1.0"))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("requires credentials")
        .satisfies(e -> assertThat(((AirlockException) e).fix()).hasValueSatisfying(
            f -> assertThat(f).contains("--registry-username")));
  }

  @Test
  void persistent500_namesTheRegistryAndStatus() {
    server.createContext("/v2/app/manifests/", ex -> send(ex, 500, "{\"errors\":[{\"code\":\"BOOM\"}]}".getBytes()));
    assertThatThrownBy(() -> client().getManifest(host, "app", "1.0"))
        .isInstanceOf(AirlockException.class)
        .hasMessageContaining("registry " + host + " answered HTTP 500")
        .hasMessageContaining("BOOM");
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
    ex.close();
  }
}
