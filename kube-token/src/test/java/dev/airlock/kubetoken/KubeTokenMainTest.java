package dev.airlock.kubetoken;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin against a real HTTP server on loopback that answers {@code POST /api/v1/kube-token} as the airlock
 * server does (its own clock in the Date header, the refusal JSON on 401), counting the requests that reach it.
 */
class KubeTokenMainTest {

  @TempDir Path dir;
  HttpServer server;
  String url;
  final AtomicInteger requests = new AtomicInteger();
  /** Seconds the next tokens live. */
  volatile long lifetime = 600;
  /** The server's clock minus this machine's, in seconds. */
  volatile long skew = 0;
  volatile int status = 200;
  final AtomicReference<String> lastAuth = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/api/v1/kube-token", x -> {
      int n = requests.incrementAndGet();
      lastAuth.set(x.getRequestHeaders().getFirst("Authorization"));
      Instant now = Instant.now().plusSeconds(skew);
      x.getResponseHeaders().set("Date", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
          now.atZone(java.time.ZoneOffset.UTC)));
      String body = status == 200 ? "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
          + "\"status\":{\"token\":\"token-" + n + "\",\"expirationTimestamp\":\"" + now.plusSeconds(lifetime)
          .truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\"}}"
          : "{\"error\":\"session revoked by an admin\",\"fix\":\"log in again\"}";
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "application/json");
      x.sendResponseHeaders(status, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    server.start();
    url = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  record Run(int code, String out, String err) {}

  /** Each call as from a kubectl process of its own, unless a test says which. */
  final AtomicInteger kubectl = new AtomicInteger(1000);

  Run run(String session, String... args) {
    return runAs(kubectl.incrementAndGet(), session, args);
  }

  Run runAs(long caller, String session, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new KubeTokenMain(Map.of(KubeTokenMain.SESSION_ENV, session, KubeTokenMain.CACHE_ENV,
        dir.resolve("cache").toString()), new PrintStream(out, true), new PrintStream(err, true), caller).run(args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  Run token(String session) {
    return run(session, "--server", url);
  }

  Path cacheFile(String session) {
    return new TokenCache(dir.resolve("cache"), url, session).file();
  }

  @Test
  void aCachedToken_isServedWithoutAServerRequest_untilItNearsItsExpiry() throws Exception {
    Run first = token("as1.alice");
    assertThat(first.code()).isZero();
    assertThat(first.out()).contains("\"token\":\"token-1\"");
    assertThat(lastAuth.get()).isEqualTo("Bearer as1.alice");
    Run second = token("as1.alice");
    assertThat(second.out()).isEqualTo(first.out());
    assertThat(requests).as("served from the cache").hasValue(1);

    Path f = cacheFile("as1.alice");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent()))).isEqualTo("rwx------");
    assertThat(Files.readString(f)).doesNotContain("as1.alice");

    // 10 minutes of life: renewed when less than 60 s are left (the earlier of 60 s and a tenth of it)
    rewriteExpiry(f, System.currentTimeMillis() + 59_000);
    assertThat(token("as1.alice").out()).contains("token-2");
    assertThat(requests).hasValue(2);
    rewriteExpiry(f, System.currentTimeMillis() + 61_000);
    assertThat(token("as1.alice").out()).contains("token-2");
    assertThat(requests).hasValue(2);
  }

  @Test
  void aShortLivedToken_isRenewedAtATenthOfItsLifetimeBeforeExpiry() throws Exception {
    lifetime = 100;
    token("as1.alice");
    Path f = cacheFile("as1.alice");
    rewriteExpiry(f, System.currentTimeMillis() + 11_000);
    token("as1.alice");
    assertThat(requests).hasValue(1);
    rewriteExpiry(f, System.currentTimeMillis() + 9_000);
    token("as1.alice");
    assertThat(requests).hasValue(2);
  }

  /**
   * A server whose clock is ten minutes ahead of this machine's: its expiry is read as a lifetime from its Date
   * header, so the token is cached for that lifetime (local arithmetic would keep it twenty minutes too long).
   * Answered from a raw socket: the JDK's HttpServer writes its own Date header.
   */
  @Test
  void clockSkew_usesTheServersLifetime_notLocalArithmetic() throws Exception {
    AtomicInteger hits = new AtomicInteger();
    try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread t = new Thread(() -> {
        while (!raw.isClosed()) {
          try (java.net.Socket s = raw.accept()) {
            hits.incrementAndGet();
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                StandardCharsets.US_ASCII));
            for (String l = in.readLine(); l != null && !l.isEmpty(); l = in.readLine()) {
              // request headers; the body is empty
            }
            Instant serverNow = Instant.now().plusSeconds(600);
            String body = "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"skewed\",\"expirationTimestamp\":\""
                + serverNow.plusSeconds(300).truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\"}}";
            String head = "HTTP/1.1 200 OK\r\nDate: " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                serverNow.atZone(java.time.ZoneOffset.UTC)) + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length() + "\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write((head + body).getBytes(StandardCharsets.US_ASCII));
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      t.setDaemon(true);
      t.start();
      url = "http://127.0.0.1:" + raw.getLocalPort();
      assertThat(token("as1.alice").out()).contains("skewed");
      assertThat(token("as1.alice").out()).contains("skewed");
      assertThat(hits).hasValue(1);
    }
    String text = Files.readString(cacheFile("as1.alice"));
    long expires = Long.parseLong(text.lines().filter(l -> l.startsWith("expires ")).findFirst().orElseThrow()
        .substring(8));
    assertThat(expires - System.currentTimeMillis()).isBetween(290_000L, 301_000L);
  }

  @Test
  void aDamagedFile_aFileOthersMayRead_andAnotherSessionsFile_areNeverUsed() throws Exception {
    token("as1.alice");
    Path f = cacheFile("as1.alice");
    Files.writeString(f, "airlock-kube-token-cache 1\ngarbage");
    Run r = token("as1.alice");
    assertThat(r.out()).contains("token-2");

    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(token("as1.alice").out()).contains("token-3");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as("rewritten private")
        .isEqualTo("rw-------");

    // Bob's session: another file; and alice's file copied over bob's name is refused by its header.
    assertThat(token("as1.bob").out()).contains("token-4");
    Files.copy(f, cacheFile("as1.bob"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(cacheFile("as1.bob"), PosixFilePermissions.fromString("rw-------"));
    assertThat(token("as1.bob").out()).contains("token-5").doesNotContain("token-3");
    assertThat(requests).hasValue(5);
  }

  @Test
  void aRefusedSession_saysLogInAgain_andDropsItsCache() throws Exception {
    token("as1.alice");
    rewriteExpiry(cacheFile("as1.alice"), System.currentTimeMillis() + 1000);
    status = 401;
    Run r = token("as1.alice");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("the airlock server refused the session: session revoked by an admin",
        "fix: log in again: airlock login --server " + url);
    assertThat(cacheFile("as1.alice")).doesNotExist();
  }

  /**
   * client-go runs the plugin again when the API server refuses its token (a revoked session): the same kubectl
   * asking again is not served the cached token a second time; the server is asked, and its refusal reaches the
   * user with "log in again". Another kubectl is still served from the cache.
   */
  @Test
  void theSameKubectlAskingAgain_isNotServedTheTokenItWasRefused() throws Exception {
    assertThat(runAs(42, "as1.alice", "--server", url).out()).contains("token-1");
    assertThat(runAs(43, "as1.alice", "--server", url).out()).contains("token-1");
    assertThat(requests).hasValue(1);
    assertThat(runAs(42, "as1.alice", "--server", url).out()).as("a new token for kubectl 42").contains("token-2");
    assertThat(requests).hasValue(2);
    status = 401;
    assertThat(runAs(44, "as1.alice", "--server", url).out()).as("a third kubectl: the new cached one")
        .contains("token-2");
    Run refused = runAs(44, "as1.alice", "--server", url);
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("session revoked by an admin", "log in again: airlock login");
    assertThat(cacheFile("as1.alice")).doesNotExist();
  }

  @Test
  void anUnreachableServer_servesAStillValidToken_andOtherwiseNamesTheServerAndTheExpiry() throws Exception {
    token("as1.alice");
    Path f = cacheFile("as1.alice");
    rewriteExpiry(f, System.currentTimeMillis() + 20_000);
    server.stop(0);
    Run r = token("as1.alice");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("token-1");
    assertThat(r.err()).contains("cannot reach the airlock server at " + url, "using the cached token, which "
        + "expires at");
    rewriteExpiry(f, System.currentTimeMillis() - 1000);
    Run expired = token("as1.alice");
    assertThat(expired.code()).isEqualTo(1);
    assertThat(expired.err()).contains("cannot reach the airlock server at " + url, "the cached token expired at",
        "fix: check that the server runs");
  }

  @Test
  void noSession_andBadArguments_sayWhatToDo() {
    Run r = run(" ", "--server", url);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("AIRLOCK_SESSION is not set", "airlock login --server " + url);
    Run bad = run("as1.x", "--sever", url);
    assertThat(bad.err()).contains("unknown argument '--sever'");
    assertThat(requests).hasValue(0);
  }

  @Test
  void aCacheDirectoryThatCannotBeMade_worksWithoutACache() throws Exception {
    Path blocked = dir.resolve("blocked");
    Files.writeString(blocked, "a file where the cache's parent should be");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new KubeTokenMain(Map.of(KubeTokenMain.SESSION_ENV, "as1.alice", KubeTokenMain.CACHE_ENV,
        blocked.resolve("cache").toString()), new PrintStream(out, true), new PrintStream(err, true), 7).run(
        new String[] {"--server", url});
    assertThat(code).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("token-1");
  }

  /**
   * Forty kubectl calls at once through one kubeconfig: forty plugin processes, one server request (they wait on
   * the lock and read what the first stored).
   */
  @Test
  void fortyProcessesAtOnce_makeOneServerRequest() throws Exception {
    String jar = Path.of(KubeTokenMain.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .toString();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> ps = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      // Under a shell of its own, as under a kubectl of its own (the plugin tells its callers apart).
      ProcessBuilder pb = new ProcessBuilder("sh", "-c", "\"$0\" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp \"$1\" "
          + KubeTokenMain.class.getName() + " --server \"$2\"; exit $?", java, jar, url);
      pb.environment().put(KubeTokenMain.SESSION_ENV, "as1.alice");
      pb.environment().put(KubeTokenMain.CACHE_ENV, dir.resolve("cache").toString());
      pb.redirectErrorStream(true);
      ps.add(pb.start());
    }
    for (Process p : ps) {
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out).contains("\"token\":\"token-1\"");
    }
    assertThat(requests).hasValue(1);
  }

  static void rewriteExpiry(Path f, long expires) throws Exception {
    String text = Files.readString(f);
    String changed = text.replaceFirst("(?m)^expires \\d+$", "expires " + expires);
    Files.writeString(f, changed);
  }
}
