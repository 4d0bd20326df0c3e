package dev.airlock.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Credentials from a Docker {@code config.json}: inline {@code auths}, per-registry {@code credHelpers} and the
 * default {@code credsStore}, run as {@code docker-credential-<name> get} exactly as the Docker CLI does.
 */
public final class DockerConfigCredentials implements CredentialStore {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final JsonNode config;

  private DockerConfigCredentials(Path file, JsonNode config) {
    this.file = file;
    this.config = config;
  }

  /** The file named by DOCKER_CONFIG, else ~/.docker/config.json; an absent file yields no credentials. */
  public static CredentialStore fromDefaultLocation() {
    String dir = System.getenv("DOCKER_CONFIG");
    Path path = dir != null ? Path.of(dir, "config.json") : Path.of(System.getProperty("user.home"), ".docker",
        "config.json");
    return Files.isRegularFile(path) ? load(path) : CredentialStore.none();
  }

  public static DockerConfigCredentials load(Path file) {
    try {
      return new DockerConfigCredentials(file, JSON.readTree(file.toFile()));
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read Docker config " + file + ": " + e.getMessage(),
          "fix the file or point DOCKER_CONFIG at another directory", e);
    }
  }

  @Override
  public Optional<Credentials> lookup(String host) {
    String helper = config.path("credHelpers").path(host).asText(null);
    if (helper == null && host.equals(ImageReference.DOCKER_HUB)) {
      helper = config.path("credHelpers").path("index.docker.io").asText(null);
    }
    if (helper != null) {
      return runHelper(helper, host);
    }
    JsonNode auths = config.path("auths");
    for (String key : keysFor(host)) {
      JsonNode entry = auths.get(key);
      if (entry != null) {
        Optional<Credentials> inline = inline(entry, key);
        if (inline.isPresent()) {
          return inline;
        }
      }
    }
    String store = config.path("credsStore").asText(null);
    if (store != null && !store.isEmpty()) {
      return runHelper(store, host.equals(ImageReference.DOCKER_HUB) ? "https://index.docker.io/v1/" : host);
    }
    return Optional.empty();
  }

  private static String[] keysFor(String host) {
    if (host.equals(ImageReference.DOCKER_HUB)) {
      return new String[] {"https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"};
    }
    return new String[] {host, "https://" + host, "http://" + host, "https://" + host + "/v1/"};
  }

  private Optional<Credentials> inline(JsonNode entry, String key) {
    String auth = entry.path("auth").asText("");
    if (!auth.isEmpty()) {
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new AirlockException(Kind.BAD_INPUT, "the 'auth' of " + key + " in " + file + " is not base64",
            "log in again with 'docker login'");
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        throw new AirlockException(Kind.BAD_INPUT, "the 'auth' of " + key + " in " + file
            + " is not user:password", "log in again with 'docker login'");
      }
      return Optional.of(new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1)));
    }
    if (entry.hasNonNull("username") && entry.hasNonNull("password")) {
      return Optional.of(new Credentials(entry.get("username").asText(), entry.get("password").asText()));
    }
    if (entry.hasNonNull("identitytoken")) {
      return Optional.of(new Credentials("<token>", entry.get("identitytoken").asText()));
    }
    return Optional.empty();
  }

  private Optional<Credentials> runHelper(String helper, String serverUrl) {
    String program = "docker-credential-" + helper;
    try {
      Process p = new ProcessBuilder(program, "get").redirectError(ProcessBuilder.Redirect.DISCARD).start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(serverUrl.getBytes(StandardCharsets.UTF_8));
      }
      byte[] out;
      try (InputStream o = p.getInputStream()) {
        out = o.readNBytes(1 << 20);
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AirlockException(Kind.REMOTE, program + " did not answer within 30 s", null);
      }
      if (p.exitValue() != 0) {
        // Helpers exit non-zero with "credentials not found in native keychain": no credentials.
        return Optional.empty();
      }
      JsonNode node = JSON.readTree(out);
      return Optional.of(new Credentials(node.path("Username").asText(), node.path("Secret").asText()));
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, file + " names credential helper '" + helper + "' but "
          + program + " cannot be run: " + e.getMessage(), "install " + program + " or remove it from " + file, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirlockException(Kind.REMOTE, "interrupted while running " + program, null, e);
    }
  }
}
