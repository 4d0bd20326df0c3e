package dev.airlock.testing.idp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A real Keycloak on loopback, the IdP of the SSO tier: the distribution zip from Maven Central
 * ({@code org.keycloak:keycloak-quarkus-dist}, copied by the build to {@value #ZIP_PROPERTY}), unpacked once into a
 * cache, started in dev mode on free ports with its own H2 database per run, with a bootstrap admin whose token
 * creates realms through the admin REST API. Keycloak needs Java 21+: the JDK comes from {@value #JAVA_ENV} or the
 * newest JDK under {@code /usr/lib/jvm}. One server per test JVM ({@link #shared}); stopped when the JVM exits.
 */
public final class KeycloakServer implements AutoCloseable {

  public static final String ZIP_PROPERTY = "airlock.keycloak.zip";
  public static final String JAVA_ENV = "AIRLOCK_KEYCLOAK_JAVA_HOME";
  /** Set to 1 (CI does) to fail, not skip, the IdP tier when Keycloak cannot run. */
  public static final String REQUIRE_ENV = "AIRLOCK_REQUIRE_KEYCLOAK";
  static final String ADMIN = "admin";
  static final String ADMIN_PASSWORD = "admin-" + Long.toHexString(Double.doubleToLongBits(Math.random()));
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final Object LOCK = new Object();
  private static KeycloakServer shared;
  private static String unavailable;

  private final Process process;
  private final Path dir;
  private final URI base;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private KeycloakServer(Process process, Path dir, URI base) {
    this.process = process;
    this.dir = dir;
    this.base = base;
  }

  /** The server of this JVM, started on first use; empty (with {@link #whyUnavailable()}) when it cannot run. */
  public static Optional<KeycloakServer> shared() {
    synchronized (LOCK) {
      if (shared == null && unavailable == null) {
        StringBuilder why = new StringBuilder();
        Optional<Path> zip = zip(why);
        Optional<Path> java = zip.isPresent() ? javaHome(why) : Optional.empty();
        if (java.isPresent()) {
          shared = start(zip.get(), java.get());
          KeycloakServer s = shared;
          Runtime.getRuntime().addShutdownHook(new Thread(s::close, "keycloak-stop"));
        } else {
          unavailable = why.toString();
        }
      }
      if (shared == null && "1".equals(System.getenv(REQUIRE_ENV))) {
        throw new IllegalStateException(REQUIRE_ENV + "=1 and Keycloak cannot run: " + unavailable);
      }
      return Optional.ofNullable(shared);
    }
  }

  public static String whyUnavailable() {
    return unavailable;
  }

  /** {@code http://127.0.0.1:PORT}. */
  public URI base() {
    return base;
  }

  /** The issuer URL of {@code realm}. */
  public URI issuer(String realm) {
    return base.resolve("/realms/" + realm);
  }

  static Optional<Path> zip(StringBuilder why) {
    String p = System.getProperty(ZIP_PROPERTY);
    if (p != null && Files.isRegularFile(Path.of(p))) {
      return Optional.of(Path.of(p));
    }
    Path m2 = Path.of(System.getProperty("user.home"), ".m2", "repository", "org", "keycloak",
        "keycloak-quarkus-dist");
    if (Files.isDirectory(m2)) {
      try (Stream<Path> s = Files.walk(m2, 2)) {
        Optional<Path> any = s.filter(f -> f.getFileName().toString().endsWith(".zip")).max(Comparator.naturalOrder());
        if (any.isPresent()) {
          return any;
        }
      } catch (IOException e) {
        // fall through to the reason
      }
    }
    why.append("the Keycloak distribution is missing (" + ZIP_PROPERTY + "=" + p + "); the sso module's build "
        + "copies org.keycloak:keycloak-quarkus-dist:zip there: run the tests through Maven");
    return Optional.empty();
  }

  /** A JDK of version 21 or later for Keycloak. */
  static Optional<Path> javaHome(StringBuilder why) {
    String env = System.getenv(JAVA_ENV);
    if (env != null && !env.isBlank()) {
      return Optional.of(Path.of(env));
    }
    Optional<Path> best = Optional.empty();
    int bestVersion = 0;
    for (String candidate : List.of(System.getProperty("java.home"), "/usr/lib/jvm")) {
      Path c = Path.of(candidate);
      List<Path> homes;
      try (Stream<Path> s = Files.isDirectory(c.resolve("bin")) ? Stream.of(c) : Files.list(c)) {
        homes = s.toList();
      } catch (IOException e) {
        continue;
      }
      for (Path h : homes) {
        int v = version(h);
        if (v > bestVersion && Files.isExecutable(h.resolve("bin/java"))) {
          bestVersion = v;
          best = Optional.of(h);
        }
      }
    }
    if (bestVersion >= 21) {
      return best;
    }
    why.append("Keycloak needs Java 21 or later and none was found (newest: " + bestVersion + "); install one "
        + "under /usr/lib/jvm or set " + JAVA_ENV);
    return Optional.empty();
  }

  private static int version(Path home) {
    try {
      for (String line : Files.readAllLines(home.resolve("release"))) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          String major = v.startsWith("1.") ? v.substring(2) : v;
          return Integer.parseInt(major.split("[.+-]")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not a JDK
    }
    return 0;
  }

  /** Unpacks (once) and starts Keycloak; waits until it answers (first run: also its build, ~1 min). */
  static KeycloakServer start(Path zip, Path javaHome) {
    long t0 = System.nanoTime();
    Path home = unpacked(zip);
    Path dir;
    try {
      dir = Files.createTempDirectory("airlock-keycloak");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int port = freePort();
    int management = freePort();
    Path log = dir.resolve("keycloak.log");
    ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/kc.sh").toString(), "start-dev",
        "--http-host=127.0.0.1", "--http-port=" + port, "--http-management-port=" + management, "--db=dev-file",
        "--db-url=jdbc:h2:file:" + dir.resolve("db") + "/keycloakdb;NON_KEYWORDS=VALUE", "--log-level=warn")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("JAVA_HOME", javaHome.toString());
    pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN);
    pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
    pb.environment().remove("JAVA_OPTS");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start Keycloak from " + home, e);
    }
    KeycloakServer kc = new KeycloakServer(p, dir, URI.create("http://127.0.0.1:" + port));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    while (true) {
      try {
        HttpResponse<Void> r = kc.http.send(HttpRequest.newBuilder(kc.issuer("master")
            .resolve("/realms/master/.well-known/openid-configuration")).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          break;
        }
      } catch (IOException e) {
        // not yet listening
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kc.close();
        throw new IllegalStateException("interrupted while starting Keycloak", e);
      }
      if (!p.isAlive() || System.nanoTime() > deadline) {
        String tail = tail(log);
        kc.close();
        throw new IllegalStateException("Keycloak did not start" + (p.isAlive() ? " in 240 s" : " (exit "
            + p.exitValue() + ")") + ":\n" + tail);
      }
      sleep(250);
    }
    System.err.printf("[keycloak] %s ready in %.1f s (Java %s, files in %s)%n", kc.base,
        (System.nanoTime() - t0) / 1e9, javaHome, dir);
    return kc;
  }

  /** The distribution unpacked under {@code ~/.cache/airlock/test-keycloak}, once per zip. */
  static Path unpacked(Path zip) {
    String name = zip.getFileName().toString().replaceAll("\\.zip$", "");
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "airlock", "test-keycloak");
    Path target = cache.resolve(name);
    if (Files.isExecutable(target.resolve("bin/kc.sh"))) {
      return target;
    }
    try {
      Files.createDirectories(cache);
      Path tmp = Files.createTempDirectory(cache, name + ".partial");
      try (ZipFile z = new ZipFile(zip.toFile())) {
        for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
          ZipEntry e = en.nextElement();
          String entry = e.getName();
          int slash = entry.indexOf('/');
          String rel = slash < 0 ? entry : entry.substring(slash + 1);
          if (rel.isEmpty()) {
            continue;
          }
          Path out = tmp.resolve(rel).normalize();
          if (!out.startsWith(tmp)) {
            throw new IOException("zip entry outside the target: " + entry);
          }
          if (e.isDirectory()) {
            Files.createDirectories(out);
          } else {
            Files.createDirectories(out.getParent());
            try (InputStream in = z.getInputStream(e)) {
              Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            }
            if (rel.startsWith("bin/") && rel.endsWith(".sh")) {
              out.toFile().setExecutable(true);
            }
          }
        }
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException
          | java.nio.file.DirectoryNotEmptyException e) {
        deleteTree(tmp);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack " + zip + " into " + cache, e);
    }
  }

  /** A token of the bootstrap admin, for the admin REST API. */
  public String adminToken() {
    JsonNode r = form(base.resolve("/realms/master/protocol/openid-connect/token"), Map.of("grant_type", "password",
        "client_id", "admin-cli", "username", ADMIN, "password", ADMIN_PASSWORD), null);
    return r.path("access_token").asText();
  }

  /** Creates a realm from its JSON representation (a realm with that name is replaced). */
  public void createRealm(Map<String, Object> realm) {
    String token = adminToken();
    String name = String.valueOf(realm.get("realm"));
    send(HttpRequest.newBuilder(base.resolve("/admin/realms/" + name)).DELETE(), token, 204, 404);
    try {
      send(HttpRequest.newBuilder(base.resolve("/admin/realms")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(realm))), token, 201);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** GET on the admin API (a path under {@code /admin/realms/}). */
  public JsonNode admin(String path) {
    return send(HttpRequest.newBuilder(base.resolve("/admin/realms/" + path)).GET(), adminToken(), 200);
  }

  /** PUT on the admin API. */
  public void adminPut(String path, Object body) {
    try {
      send(HttpRequest.newBuilder(base.resolve("/admin/realms/" + path)).header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))), adminToken(), 204);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** DELETE on the admin API. */
  public void adminDelete(String path) {
    send(HttpRequest.newBuilder(base.resolve("/admin/realms/" + path)).DELETE(), adminToken(), 204);
  }

  private JsonNode form(URI uri, Map<String, String> fields, String token) {
    StringBuilder body = new StringBuilder();
    fields.forEach((k, v) -> body.append(body.length() == 0 ? "" : "&").append(k).append('=')
        .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return send(HttpRequest.newBuilder(uri).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())), token, 200);
  }

  private JsonNode send(HttpRequest.Builder b, String token, int... ok) {
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      for (int code : ok) {
        if (r.statusCode() == code) {
          return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        }
      }
      throw new IllegalStateException("Keycloak answered " + r.statusCode() + " to " + r.request().method() + " "
          + r.uri() + ": " + r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    deleteTree(dir);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
