package dev.airlock.installer.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.airgap.serve.ServeTls;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server's HTTPS port, spoken to in HTTPS and in plain HTTP (issue 20, item 6). */
class WebTlsTest {

  ServeTls.Material tls;
  Web web;

  @BeforeEach
  void start() throws Exception {
    tls = ServeTls.selfSigned(List.of("localhost", "127.0.0.1"));
    web = new Web(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls.context(), null);
    web.on("GET", "/healthz", r -> Web.Response.json(Map.of("status", "ok")));
    web.on("POST", "/echo", r -> Web.Response.json(Map.of("size", r.body().length)));
    web.start();
  }

  @AfterEach
  void stop() {
    web.close();
  }

  @Test
  void plainHttpOnTheTlsPort_getsA400SayingToUseHttps_notAnEmptyReply() throws Exception {
    for (int i = 0; i < 3; i++) { // each connection on its own, and the port keeps serving
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), web.port())) {
        OutputStream out = s.getOutputStream();
        out.write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + web.port() + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n")
            .endsWith("\r\n\r\nthis airlock server speaks HTTPS on this port: use https://, not http://\n");
      }
    }
    assertThat(https().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + web.port() + "/healthz"))
        .build(), HttpResponse.BodyHandlers.ofString()).body()).contains("\"ok\"");
  }

  @Test
  void httpsStillWorks_withBodiesAndKeptAliveConnections() throws Exception {
    HttpClient client = https();
    byte[] body = new byte[(3 << 20) / 2];
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + web.port()
          + "/echo")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("\"size\":" + body.length);
    }
  }

  @Test
  void theStartLine_saysTheSchemeTheAddressThePortAndTheCertificate() {
    assertThat(ServerCommand.serving(new InetSocketAddress("0.0.0.0", 8443), 8443, "self-signed, kept in Secret "
        + "ns/airlock-server-tls", URI.create("http://airlock.corp.example"))).isEqualTo("airlock server: HTTPS on "
        + "0.0.0.0:8443 (every interface), certificate self-signed, kept in Secret ns/airlock-server-tls; users "
        + "reach it at http://airlock.corp.example");
    assertThat(ServerCommand.serving(new InetSocketAddress("127.0.0.1", 0), 41234, null, URI.create(
        "http://127.0.0.1:41234"))).isEqualTo("airlock server: plain HTTP on 127.0.0.1:41234; users reach it at "
        + "http://127.0.0.1:41234");
  }

  private HttpClient https() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("server", tls.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ctx).build();
  }
}
