package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.io.AtomicFiles;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kubeconfig {@code airlock login} writes: the cluster, and a user whose credentials come from
 * {@code airlock kube-token} (an exec credential plugin) with the session in its environment. The file holds the
 * session credential, so it is written 0600; {@link #read} finds the server and the session again for whoami and
 * logout.
 */
final class SessionKubeconfig {

  static final String SESSION_ENV = "AIRLOCK_SESSION";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** What a session kubeconfig says about its session. */
  record Session(URI server, Path ca, String credential, Path file) {}

  private SessionKubeconfig() {}

  static void write(Path file, JsonNode login, URI server, Path ca, String launcher) {
    String user = login.path("username").asText() + "@airlock";
    Map<String, Object> cluster = new LinkedHashMap<>();
    cluster.put("server", login.path("kubernetes").path("server").asText());
    if (login.path("kubernetes").hasNonNull("certificateAuthorityData")) {
      cluster.put("certificate-authority-data", login.path("kubernetes").path("certificateAuthorityData").asText());
    }
    List<String> args = new ArrayList<>(List.of("kube-token", "--server", server.toString()));
    if (ca != null) {
      args.addAll(List.of("--ca", ca.toAbsolutePath().toString()));
    }
    Map<String, Object> exec = new LinkedHashMap<>();
    exec.put("apiVersion", "client.authentication.k8s.io/v1");
    exec.put("command", launcher);
    exec.put("args", args);
    exec.put("env", List.of(Map.of("name", SESSION_ENV, "value", login.path("session").asText())));
    exec.put("interactiveMode", "Never");
    exec.put("provideClusterInfo", false);
    exec.put("installHint", "airlock kube-token comes with the airlock CLI: put airlock on the PATH, or log in "
        + "again with airlock login");
    Map<String, Object> context = new LinkedHashMap<>();
    context.put("cluster", "airlock");
    context.put("user", user);
    if (login.hasNonNull("namespace")) {
      context.put("namespace", login.path("namespace").asText());
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("apiVersion", "v1");
    doc.put("kind", "Config");
    doc.put("clusters", List.of(Map.of("name", "airlock", "cluster", cluster)));
    doc.put("users", List.of(Map.of("name", user, "user", Map.of("exec", exec))));
    doc.put("contexts", List.of(Map.of("name", "airlock", "context", context)));
    doc.put("current-context", "airlock");
    String text;
    try {
      text = YAML.writeValueAsString(doc);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    AtomicFiles.write(file, text, true, true);
  }

  /** Whether {@code file} is a kubeconfig from airlock login (its current user runs airlock kube-token). */
  static boolean isSession(Path file) {
    try {
      read(file);
      return true;
    } catch (AirlockException e) {
      return false;
    }
  }

  /**
   * The kubeconfig {@code airlock login} wrote: {@code file}, else the first of {@code $KUBECONFIG}'s files that
   * is one (login prints {@code export KUBECONFIG=…}), else {@code ~/.kube/airlock}.
   */
  static Session readOrDefault(Path file) {
    return readOrDefault(file, System.getenv("KUBECONFIG"));
  }

  static Session readOrDefault(Path file, String kubeconfigEnv) {
    if (file != null) {
      return read(file);
    }
    Path fallback = Path.of(System.getProperty("user.home"), ".kube", "airlock");
    if (kubeconfigEnv != null && !kubeconfigEnv.isBlank()) {
      List<String> tried = new ArrayList<>();
      for (String part : kubeconfigEnv.split(java.io.File.pathSeparator)) {
        if (part.isBlank()) {
          continue;
        }
        Path p = Path.of(part);
        if (Files.isRegularFile(p) && isSession(p)) {
          return read(p);
        }
        tried.add(part);
      }
      if (!Files.isRegularFile(fallback)) {
        throw new AirlockException(Kind.BAD_INPUT, "KUBECONFIG (" + String.join(", ", tried) + ") names no "
            + "kubeconfig written by airlock login, and " + fallback + " does not exist", "log in first (airlock "
            + "login --server URL), or pass the kubeconfig it wrote with --kubeconfig");
      }
    }
    return read(fallback);
  }

  static Session read(Path file) {
    JsonNode doc;
    try {
      doc = YAML.readTree(Files.readString(file));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new AirlockException(Kind.BAD_INPUT, file + " does not exist", "log in first: airlock login --server "
          + "URL --kubeconfig-out " + file);
    } catch (IOException e) {
      throw new AirlockException(Kind.BAD_INPUT, file + " is not a kubeconfig: " + e.getMessage(), null, e);
    }
    String current = doc.path("current-context").asText();
    String userName = null;
    for (JsonNode c : doc.path("contexts")) {
      if (c.path("name").asText().equals(current)) {
        userName = c.path("context").path("user").asText();
      }
    }
    for (JsonNode u : doc.path("users")) {
      if (!u.path("name").asText().equals(userName)) {
        continue;
      }
      JsonNode exec = u.path("user").path("exec");
      List<String> args = new ArrayList<>();
      exec.path("args").forEach(a -> args.add(a.asText()));
      String credential = null;
      for (JsonNode e : exec.path("env")) {
        if (e.path("name").asText().equals(SESSION_ENV)) {
          credential = e.path("value").asText();
        }
      }
      int s = args.indexOf("--server");
      int ca = args.indexOf("--ca");
      if (args.contains("kube-token") && s >= 0 && s + 1 < args.size() && credential != null) {
        return new Session(URI.create(args.get(s + 1)), ca >= 0 && ca + 1 < args.size() ? Path.of(args.get(ca + 1))
            : null, credential, file);
      }
    }
    throw new AirlockException(Kind.BAD_INPUT, file + " is not a kubeconfig written by airlock login (its current "
        + "user does not run airlock kube-token)", "pass the kubeconfig airlock login wrote (--kubeconfig-out)");
  }
}
