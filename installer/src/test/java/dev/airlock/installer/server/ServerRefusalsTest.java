package dev.airlock.installer.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.RoleSet;
import dev.airlock.sso.SecretSources;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile user tried against the server (issue 20), each against the server in this JVM on a loopback port
 * with its state on the local control plane: login starts that store Secrets without a login, registry scopes that
 * are not repository names, text planted in console URLs, connector files and variables the server must not read,
 * and issuers that would tell which internal ports answer.
 */
@KubeTest
class ServerRefusalsTest {

  final TestCluster cluster;
  final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
  String ns;
  HttpServer provider;
  AirlockServer server;
  @TempDir Path secrets;

  ServerRefusalsTest(TestCluster cluster) {
    this.cluster = cluster;
  }

  @BeforeEach
  void start() throws Exception {
    ns = cluster.createNamespace("srv");
    provider = discoveryOnly();
    AirlockServer.storeSsoConfig(cluster.client(), ns, """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp
            type: oidc
            displayName: Corp Login
            issuer: %s
            clientId: airlock
            clientSecret: {env: AIRLOCK_OIDC_SECRET}
        """.formatted(issuer()), "sso.yaml");
    server = AirlockServer.start(cluster.client(), new AirlockServer.Settings(ns, new InetSocketAddress("127.0.0.1",
        0), null, null, "https://k8s.example:6443", null, "airlock-registry", Duration.ofMinutes(60),
        Duration.ofDays(365), new SecretSources(secrets, SecretSources.DEFAULT_ENV)), clock, null);
    server.publicUrl(URI.create("http://127.0.0.1:" + server.port()));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    provider.stop(0);
    cluster.deleteNamespaces(ns);
  }

  // ---- login starts (item 3)

  @Test
  void hundredUnauthenticatedLoginStarts_fromOneAddress_storeTenSecrets_andTheRestAre429() throws Exception {
    Map<Integer, Integer> statuses = new LinkedHashMap<>();
    Answer last = null;
    long t0 = System.nanoTime();
    for (int i = 0; i < 100; i++) {
      Answer a = http("127.0.0.1", "POST", "/api/v1/logins", Map.of("Content-Type", "application/json"),
          "{\"connector\":\"corp\"}");
      statuses.merge(a.status(), 1, Integer::sum);
      if (a.status() == 429) {
        last = a;
      }
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("100 login starts from one address: " + statuses + " in " + ms + " ms");
    assertThat(statuses).containsExactly(Map.entry(201, 10), Map.entry(429, 90));
    assertThat(loginSecrets()).isEqualTo(10);
    assertThat(last.json().path("error").asText()).contains("too many logins started from 127.0.0.1")
        .contains("at most 10 a minute");
    assertThat(last.json().path("fix").asText()).contains("wait");
    assertThat(last.headers()).containsEntry("retry-after", "6"); // a new start every 6 s
    // A minute later the address may start logins again.
    clock.advance(Duration.ofSeconds(61));
    assertThat(http("127.0.0.1", "POST", "/api/v1/logins", Map.of(), "{\"connector\":\"corp\"}").status())
        .isEqualTo(201);
  }

  @Test
  void loginStarts_areLimitedInTotal_acrossClientAddresses() throws Exception {
    server.loginLimits(3, 5, 1000);
    for (int i = 0; i < 3; i++) {
      assertThat(startLogin("127.0.0.1").status()).isEqualTo(201);
    }
    assertThat(startLogin("127.0.0.1").json().path("error").asText()).contains("from 127.0.0.1");
    assertThat(startLogin("127.0.0.2").status()).isEqualTo(201);
    assertThat(startLogin("127.0.0.2").status()).isEqualTo(201);
    Answer third = startLogin("127.0.0.3");
    assertThat(third.status()).isEqualTo(429);
    assertThat(third.json().path("error").asText()).contains("this server is starting too many logins (at most 5");
    assertThat(loginSecrets()).isEqualTo(5);
  }

  @Test
  void pendingLogins_areCapped_andExpiredOnesAreSweptToMakeRoom() throws Exception {
    server.loginLimits(100, 100, 4);
    for (int i = 0; i < 4; i++) {
      assertThat(startLogin("127.0.0.1").status()).isEqualTo(201);
    }
    Answer full = startLogin("127.0.0.1");
    assertThat(full.status()).isEqualTo(429);
    assertThat(full.json().path("error").asText()).contains("4 logins are in progress, the most this server keeps (4)");
    assertThat(full.json().path("fix").asText()).contains("expires 10 minutes after it starts");
    assertThat(loginSecrets()).isEqualTo(4);
    // The four expire: the next start deletes them and gets in.
    clock.advance(Logins.LIFETIME.plusSeconds(1));
    assertThat(startLogin("127.0.0.1").status()).isEqualTo(201);
    assertThat(loginSecrets()).isEqualTo(1);
  }

  // ---- registry token service (item 10)

  @Test
  void registryScopes_thatAreNotRepositoryNames_areRefused_andTheAuditSaysWhatWasGranted() throws Exception {
    RbacStore store = new RbacStore(cluster.client(), ns);
    store.ensureCrds();
    store.write(RoleSet.parse("roles.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: RoleSet
        roles:
          - name: developer
            allow: [{namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}]
            registry:
              allow: [{repositories: ["dev-{{user}}/*"], actions: [pull, push]}]
        mappings:
          - {group: devs, roles: [developer]}
        """), true);
    String credential = server.sessions().create("alice", List.of("devs"), "corp", clock.instant().plus(
        Duration.ofHours(1)), false).credential();
    Map<String, String> basic = Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString(("alice:"
        + credential).getBytes(StandardCharsets.UTF_8)));
    for (String name : List.of("dev-alice/../dev-bob/app", "dev-alice/*", "dev-alice/App", "dev-alice//app",
        "dev-alice/app/")) {
      Answer a = http("127.0.0.1", "GET", "/registry/token?service=airlock-registry&scope=" + enc("repository:" + name
          + ":push"), basic, null);
      assertThat(a.status()).as(name).isEqualTo(400);
      assertThat(a.json().path("error").asText()).as(name).contains("scope repository:" + name + ":push")
          .contains("not a repository name");
    }
    Answer granted = http("127.0.0.1", "GET", "/registry/token?service=airlock-registry&scope=" + enc(
        "repository:dev-alice/app:pull,push"), basic, null);
    assertThat(granted.status()).isEqualTo(200);
    Answer none = http("127.0.0.1", "GET", "/registry/token?service=airlock-registry&scope=" + enc(
        "repository:dev-bob/app:push"), basic, null);
    assertThat(none.status()).isEqualTo(200);
    List<Map<String, Object>> events = server.audit().read(null).events().stream().filter(e -> "registry-token"
        .equals(e.get("action"))).toList();
    assertThat(events).hasSize(2);
    assertThat(events.get(0)).containsEntry("target", "repository:dev-alice/app:pull,push")
        .containsEntry("result", "issued");
    assertThat(String.valueOf(events.get(0))).contains("actions=[pull, push]");
    assertThat(events.get(1)).containsEntry("target", "repository:dev-bob/app:push").containsEntry("result",
        "refused");
    assertThat(String.valueOf(events.get(1))).contains("actions=[]");
  }

  // ---- console texts (item 11)

  @Test
  void consolePages_showOnlyMessagesTheServerWrote_notTextFromTheUrl() throws Exception {
    String planted = "Your session expired. Call IT at +1 555 0100";
    Answer login = http("127.0.0.1", "GET", "/console/login?error=" + enc(planted), Map.of(), null);
    assertThat(login.status()).isEqualTo(200);
    assertThat(login.body()).doesNotContain("Call IT").doesNotContain("id=\"error\"");
    Answer sealed = http("127.0.0.1", "GET", "/console/login?error=" + server.sealFlash("The login through corp "
        + "failed."), Map.of(), null);
    assertThat(sealed.body()).contains("The login through corp failed.");

    String admin = server.sessions().create("admin", List.of(), "break-glass", clock.instant().plus(Duration.ofHours(1)),
        true).credential();
    Map<String, String> cookie = Map.of("Cookie", ConsolePages.COOKIE + "=" + admin);
    Answer users = http("127.0.0.1", "GET", "/console/users?done=" + enc(planted), cookie, null);
    assertThat(users.status()).isEqualTo(200);
    assertThat(users.body()).doesNotContain("Call IT");
    // A revocation's own message still reaches the page, through the redirect the server wrote.
    Map<String, String> post = new LinkedHashMap<>(cookie);
    post.put("Content-Type", "application/x-www-form-urlencoded");
    Answer revoked = http("127.0.0.1", "POST", "/console/users/bob/revoke", post, "csrf=" + ConsolePages.csrf(admin));
    assertThat(revoked.status()).isEqualTo(302);
    String location = revoked.headers().get("location");
    assertThat(http("127.0.0.1", "GET", location, cookie, null).body()).contains("Revoked bob: 0 session(s) ended.");
  }

  @Test
  void chunksAtTheWrongOffset_orWithoutTheFormToken_areAnswered_notReset_onOneConnection() throws Exception {
    String admin = server.sessions().create("admin", List.of(), "break-glass", clock.instant().plus(Duration.ofHours(1)),
        true).credential();
    var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    server.consoleOperations(dev.airlock.kube.KubeTarget.reading(cluster.client(), "test"),
        dev.airlock.keys.TrustedRoots.of(List.of()), secrets.resolve("uploads"));
    String base = "http://127.0.0.1:" + server.port();
    String csrf = ConsolePages.csrf(admin);
    var begin = http.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/console/upgrade/uploads"))
        .header("Cookie", ConsolePages.COOKIE + "=" + admin).header("X-Airlock-CSRF", csrf).header("Content-Type",
            "application/x-www-form-urlencoded").POST(java.net.http.HttpRequest.BodyPublishers.ofString(
            "name=x.airlock&size=" + (3 << 20) + "&modified=1")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(begin.statusCode()).as(begin.body()).isEqualTo(200);
    String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(begin.body()).path("id").asText();
    for (int i = 0; i < 2; i++) {
      var chunk = http.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/console/upgrade/uploads/" + id
          + "?offset=0")).header("Cookie", ConsolePages.COOKIE + "=" + admin).header("X-Airlock-CSRF", csrf).PUT(
          java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[1 << 20])).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(chunk.statusCode()).as(chunk.body()).isEqualTo(i == 0 ? 200 : 409);
    }
    var forged = http.send(java.net.http.HttpRequest.newBuilder(URI.create(base + "/console/upgrade/uploads/" + id
        + "?offset=" + (1 << 20))).header("Cookie", ConsolePages.COOKIE + "=" + admin).PUT(java.net.http.HttpRequest
        .BodyPublishers.ofByteArray(new byte[10])).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(forged.statusCode()).isEqualTo(403);
    var r = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
        + "/console/upgrade/uploads/0123456789abcdef01234567?offset=0")).header("Cookie", ConsolePages.COOKIE + "="
        + admin).PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[10])).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("token does not match");
  }

  @Test
  void theLoginPage_showsTheConnectorsDisplayName() throws Exception {
    Answer login = http("127.0.0.1", "GET", "/console/login", Map.of(), null);
    assertThat(login.body()).contains(">Corp Login</a>").contains("href=\"/console/login?connector=corp\"");
  }

  @Test
  void aBrowserMeetingTheLoginLimit_getsARefusalPage_notJson() throws Exception {
    server.loginLimits(1, 100, 1000);
    // What a browser's navigation sends, and what a bare client sends: both are a page on a console path.
    assertThat(http("127.0.0.1", "GET", "/console/login?connector=corp", Map.of(), null).status()).isEqualTo(302);
    for (String accept : List.of("text/html,application/xhtml+xml,*/*;q=0.8", "*/*")) {
      Answer a = http("127.0.0.1", "GET", "/console/login?connector=corp", Map.of("Accept", accept), null);
      assertThat(a.status()).as(accept).isEqualTo(429);
      assertThat(a.headers().get("content-type")).as(accept).startsWith("text/html");
      assertThat(a.body()).as(accept).contains("<title>Too many attempts</title>").contains("too many logins started "
          + "from 127.0.0.1");
    }
    // The API still answers JSON.
    Answer api = startLogin("127.0.0.1");
    assertThat(api.status()).isEqualTo(429);
    assertThat(api.headers().get("content-type")).startsWith("application/json");
  }

  // ---- connector secrets and issuers (item 4)

  @Test
  void theConsole_storesOnlyConnectorsWhoseSecretsTheServerMayRead() throws Exception {
    Files.writeString(secrets.resolve("client-secret"), "s3cret\n");
    Path outside = Files.writeString(Files.createTempFile("outside", ".txt"), "not for the issuer");
    Files.createSymbolicLink(secrets.resolve("link-out"), outside);
    String admin = server.sessions().create("admin", List.of(), "break-glass", clock.instant().plus(Duration.ofHours(1)),
        true).credential();
    Map<String, String> refused = new LinkedHashMap<>();
    refused.put("{file: /etc/hostname}", "outside the server's secrets directory");
    refused.put("{file: " + outside + "}", "outside the server's secrets directory");
    refused.put("{file: ../" + outside.getFileName() + "}", "outside the server's secrets directory");
    refused.put("{file: link-out}", "outside the server's secrets directory");
    refused.put("{file: nonexistent}", "cannot be read (NoSuchFileException)");
    refused.put("{env: HOME}", "environment variable HOME, which this server does not read secrets from");
    refused.put("{env: AIRLOCK_SSO_UNSET_IN_THIS_TEST}", "is not set");
    for (var e : refused.entrySet()) {
      Answer a = saveConnector(admin, "name: corp2\ntype: oidc\nissuer: " + issuer() + "\nclientId: airlock\n"
          + "clientSecret: " + e.getKey() + "\n");
      assertThat(a.status()).as(e.getKey()).isEqualTo(422);
      assertThat(unescape(a.body())).as(e.getKey()).contains(e.getValue());
    }
    assertThat(server.ssoText()).doesNotContain("corp2");

    Answer stored = saveConnector(admin, "name: corp2\ntype: oidc\nissuer: " + issuer() + "\nclientId: airlock\n"
        + "clientSecret: {file: client-secret}\n");
    assertThat(stored.status()).as(stored.body()).isEqualTo(302);
    assertThat(server.ssoText()).contains("corp2");
  }

  @Test
  void anIssuerThatIsNotAnOpenIdProvider_isRefusedWithoutSayingWhatAnswered() throws Exception {
    String admin = server.sessions().create("admin", List.of(), "break-glass", clock.instant().plus(Duration.ofHours(1)),
        true).credential();
    Files.writeString(secrets.resolve("client-secret"), "s3cret\n");
    int closed;
    try (var s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort(); // nothing listens there once closed
    }
    // A closed port, a port that answers HTTP 404, and one that answers something else than a discovery document.
    for (String issuer : List.of("http://127.0.0.1:" + closed, issuer() + "/nothing-here", issuer() + "/not-json")) {
      Answer a = saveConnector(admin, "name: probe\ntype: oidc\nissuer: " + issuer + "\nclientId: airlock\n"
          + "clientSecret: {file: client-secret}\n");
      String text = unescape(a.body());
      assertThat(a.status()).as(issuer).isEqualTo(422);
      assertThat(text).as(issuer).contains("the issuer " + issuer + " of connector probe did not answer as an "
          + "OpenID provider");
      assertThat(text.toLowerCase(Locale.ROOT)).as(issuer).doesNotContain("refused").doesNotContain("http 404")
          .doesNotContain("connection");
    }
  }

  // ---- the server's own certificate (item 6)

  @Test
  void theSelfSignedCertificate_isAKubernetesTlsSecret_andAnOpaqueOneFromAnEarlierAirlockIsRead() throws Exception {
    var target = dev.airlock.kube.KubeTarget.reading(cluster.client(), "test");
    var made = ServerTls.fromSecretOrNew(target, ns, List.of("0.0.0.0"));
    var stored = cluster.client().secrets().inNamespace(ns).withName(ServerTls.SECRET).get();
    assertThat(stored.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(stored.getData()).containsOnlyKeys("tls.crt", "tls.key");
    assertThat(ServerTls.fromSecretOrNew(target, ns, List.of("0.0.0.0")).certificate())
        .isEqualTo(made.certificate());

    String old = cluster.createNamespace("srv-old");
    try {
      var earlier = dev.airlock.testing.Pki.create("earlier").server("airlock", List.of("airlock"));
      cluster.client().secrets().inNamespace(old).resource(dev.airlock.kube.Secrets.opaque(old, ServerTls.SECRET,
          Map.of("tls.crt", earlier.certPem(), "tls.key", earlier.keyPem()))).create();
      assertThat(ServerTls.fromSecretOrNew(target, old, List.of("0.0.0.0")).certificate())
          .isEqualTo(earlier.certificate());
      assertThat(cluster.client().secrets().inNamespace(old).withName(ServerTls.SECRET).get().getType())
          .isEqualTo("Opaque");
    } finally {
      cluster.deleteNamespaces(old);
    }
  }

  // ---- helpers

  /** A stand-in provider that serves only a discovery document (enough to start logins), and a path that is not. */
  private static HttpServer discoveryOnly() throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    String issuer = "http://127.0.0.1:" + s.getAddress().getPort();
    s.createContext("/.well-known/openid-configuration", x -> {
      byte[] b = ("{\"issuer\":\"" + issuer + "\",\"authorization_endpoint\":\"" + issuer + "/auth\","
          + "\"token_endpoint\":\"" + issuer + "/token\",\"jwks_uri\":\"" + issuer + "/jwks\","
          + "\"response_types_supported\":[\"code\"],\"subject_types_supported\":[\"public\"],"
          + "\"id_token_signing_alg_values_supported\":[\"RS256\"],\"code_challenge_methods_supported\":[\"S256\"]}")
          .getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "application/json");
      x.sendResponseHeaders(200, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    s.createContext("/not-json/.well-known/openid-configuration", x -> {
      byte[] b = "<html>an internal admin page</html>".getBytes(StandardCharsets.UTF_8);
      x.sendResponseHeaders(200, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    s.start();
    return s;
  }

  private String issuer() {
    return "http://127.0.0.1:" + provider.getAddress().getPort();
  }

  private Answer saveConnector(String admin, String yaml) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Cookie", ConsolePages.COOKIE + "=" + admin);
    h.put("Content-Type", "application/x-www-form-urlencoded");
    return http("127.0.0.1", "POST", "/console/sso/edit", h, "csrf=" + ConsolePages.csrf(admin) + "&original=&connector="
        + enc(yaml));
  }

  private Answer startLogin(String from) throws IOException {
    return http(from, "POST", "/api/v1/logins", Map.of("Content-Type", "application/json"),
        "{\"connector\":\"corp\"}");
  }

  private int loginSecrets() {
    return cluster.client().secrets().inNamespace(ns).withLabel(Logins.LABEL, "true").list().getItems().size();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String unescape(String html) {
    return html.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">")
        .replace("&amp;", "&");
  }

  record Answer(int status, Map<String, String> headers, String body) {
    JsonNode json() throws IOException {
      return Web.JSON.readTree(body);
    }
  }

  /**
   * One HTTP/1.1 request from the loopback address {@code from} (every 127.0.0.0/8 address is this host's, so the
   * server sees several clients), over a fresh connection.
   */
  private Answer http(String from, String method, String target, Map<String, String> headers, String body)
      throws IOException {
    try (Socket s = new Socket(InetAddress.getByName("127.0.0.1"), server.port(), InetAddress.getByName(from), 0)) {
      byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      StringBuilder req = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.port()
          + "\r\nConnection: close\r\n");
      headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      req.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.write(payload);
      out.flush();
      return parse(s.getInputStream());
    }
  }

  static Answer parse(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    String text = all.toString(StandardCharsets.UTF_8);
    int end = text.indexOf("\r\n\r\n");
    String[] lines = text.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> h = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      h.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
    }
    String rest = text.substring(end + 4);
    if ("chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
      StringBuilder b = new StringBuilder();
      List<String> parts = new ArrayList<>(List.of(rest.split("\r\n", -1)));
      for (int i = 0; i + 1 < parts.size(); i += 2) {
        int n = Integer.parseInt(parts.get(i).strip(), 16);
        if (n == 0) {
          break;
        }
        b.append(parts.get(i + 1));
      }
      rest = b.toString();
    }
    return new Answer(status, h, rest);
  }

  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
