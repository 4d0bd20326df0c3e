package dev.airlock.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * A real OCI registry (Debian's {@code docker-registry}, the CNCF distribution server) run as a local process on a
 * free loopback port with a generated config: plain HTTP, or htpasswd auth over TLS from a throw-away CA. Stopped
 * by PID on {@link #close()}.
 */
public final class RegistryServer implements AutoCloseable {

  public static final String BINARY = System.getProperty("airlock.test.registry", "/usr/bin/docker-registry");

  private final Path dir;
  private final int port;
  private Process process;
  private final String username;
  private final String password;
  private final Path caFile;

  private RegistryServer(Path dir, int port, Process process, String username, String password, Path caFile) {
    this.dir = dir;
    this.port = port;
    this.process = process;
    this.username = username;
    this.password = password;
    this.caFile = caFile;
  }

  /** Is the registry binary installed? Tests that need it are skipped with a message otherwise. */
  public static boolean available() {
    return Files.isExecutable(Path.of(BINARY));
  }

  /** A plain-HTTP registry without auth. */
  public static RegistryServer startPlain() {
    return start(null, null, false);
  }

  /** A registry with htpasswd auth for {@code user}/{@code password}, served over TLS from a fresh CA. */
  public static RegistryServer startSecure(String user, String password) {
    return start(user, password, true);
  }

  /**
   * A plain-HTTP registry that takes tokens from a token service (the distribution token authentication spec):
   * {@code realm} is the service's URL, {@code rootCert} the PEM certificate its tokens are signed with.
   */
  public static RegistryServer startWithTokenAuth(String realm, String service, String issuer, Path rootCert) {
    return start(null, null, false, "auth:\n  token:\n    realm: " + realm + "\n    service: " + service
        + "\n    issuer: " + issuer + "\n    rootcertbundle: " + rootCert + "\n");
  }

  private static RegistryServer start(String user, String password, boolean tls) {
    return start(user, password, tls, null);
  }

  private static RegistryServer start(String user, String password, boolean tls, String auth) {
    try {
      Path dir = Files.createTempDirectory("airlock-registry");
      int port = freePort();
      StringBuilder config = new StringBuilder()
          .append("version: 0.1\n")
          .append("log:\n  level: warn\n  accesslog:\n    disabled: true\n")
          .append("storage:\n  filesystem:\n    rootdirectory: ").append(dir.resolve("data")).append('\n')
          .append("  delete:\n    enabled: true\n")
          .append("http:\n  addr: 127.0.0.1:").append(port).append('\n')
          .append("  secret: ").append(Long.toHexString(new SecureRandom().nextLong())).append('\n');
      Path ca = null;
      if (tls) {
        TestCa.Files3 files = TestCa.write(dir.resolve("tls"));
        ca = files.caCert();
        config.append("  tls:\n    certificate: ").append(files.serverCert()).append('\n')
            .append("    key: ").append(files.serverKey()).append('\n');
      }
      if (user != null) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        String hash = OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 5);
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, user + ":" + hash + "\n");
        config.append("auth:\n  htpasswd:\n    realm: airlock-test\n    path: ").append(htpasswd).append('\n');
      }
      if (auth != null) {
        config.append(auth);
      }
      Path configFile = dir.resolve("config.yml");
      Files.writeString(configFile, config.toString(), StandardCharsets.UTF_8);
      Process p = new ProcessBuilder(BINARY, "serve", configFile.toString())
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("registry.log").toFile())
          .start();
      RegistryServer server = new RegistryServer(dir, port, p, user, password, ca);
      server.awaitListening(Duration.ofSeconds(20));
      return server;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + BINARY + ": " + e.getMessage(), e);
    }
  }

  private void awaitListening(Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("docker-registry exited: " + log());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        sleep(50);
      }
    }
    close();
    throw new IllegalStateException("docker-registry did not listen on port " + port + " in time: " + log());
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("registry.log"));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** {@code 127.0.0.1:PORT}: the registry part of image references. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public boolean tls() {
    return caFile != null;
  }

  public Path caFile() {
    return caFile;
  }

  public String username() {
    return username;
  }

  public String password() {
    return password;
  }

  public Path storageDir() {
    return dir.resolve("data");
  }

  public long pid() {
    return process.pid();
  }

  /** Starts the registry again after {@link #kill()}, on the same port with the same storage. */
  public void restart() {
    try {
      process = new ProcessBuilder(BINARY, "serve", dir.resolve("config.yml").toString())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("registry.log").toFile()))
          .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot restart " + BINARY + ": " + e.getMessage(), e);
    }
    awaitListening(Duration.ofSeconds(20));
  }

  /** Stops the process (SIGKILL) but keeps its storage: for tests of a registry that goes away midway. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // temp dir
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
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
