package dev.airlock.kube;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.io.AtomicFiles;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The cluster an operation works on: a fabric8 client and a kubeconfig file for Helm, both from the same kubeconfig
 * and context, and the kubeconfig user the operation is recorded as.
 */
public final class KubeTarget implements AutoCloseable {

  /** The label every object airlock creates carries, with the value {@value #MANAGER}. */
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "airlock";

  private final KubernetesClient client;
  private final Path helmKubeconfig;
  private final boolean temporary;
  private final String user;
  private final String server;
  private final boolean inside;
  private final boolean owner;
  private final String credentials;

  private KubeTarget(KubernetesClient client, Path helmKubeconfig, boolean temporary, String user, String server,
      boolean inside, boolean owner) {
    this.client = client;
    this.helmKubeconfig = helmKubeconfig;
    this.temporary = temporary;
    this.user = user;
    this.server = server;
    this.inside = inside;
    this.owner = owner;
    this.credentials = user;
  }

  private KubeTarget(KubeTarget of, String who) {
    this.client = of.client;
    this.helmKubeconfig = of.helmKubeconfig;
    this.temporary = false;
    this.user = who;
    this.server = of.server;
    this.inside = of.inside;
    this.owner = false;
    this.credentials = of.credentials;
  }

  /**
   * Connects (lazily: no request is made here) with {@code kubeconfig} (else {@code $KUBECONFIG}, else
   * {@code ~/.kube/config}) and {@code context} (else the current context).
   */
  public static KubeTarget connect(Optional<Path> kubeconfig, Optional<String> context) {
    Path file = kubeconfig.orElseGet(KubeTarget::defaultKubeconfig);
    if (kubeconfig.isEmpty() && context.isEmpty() && !Files.isRegularFile(file) && inCluster()) {
      return inClusterTarget();
    }
    if (!Files.isRegularFile(file)) {
      throw new AirlockException(Kind.BAD_INPUT, "kubeconfig " + file + " does not exist",
          "pass --kubeconfig FILE, or set KUBECONFIG, with access to the target cluster");
    }
    String contents;
    try {
      contents = Files.readString(file);
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read kubeconfig " + file + ": " + e.getMessage(), null, e);
    }
    Config config;
    try {
      config = Config.fromKubeconfig(context.orElse(null), contents, file.toAbsolutePath().toString());
    } catch (RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot use kubeconfig " + file + context.map(c -> " context " + c)
          .orElse("") + ": " + e.getMessage(), context.isPresent() ? "check the context name with 'kubectl config "
          + "get-contexts'" : "check the file", e);
    }
    if (context.isPresent() && (config.getCurrentContext() == null
        || !context.get().equals(config.getCurrentContext().getName()))) {
      throw new AirlockException(Kind.BAD_INPUT, "kubeconfig " + file + " has no context '" + context.get() + "'",
          "list the contexts with 'kubectl config get-contexts --kubeconfig " + file + "'");
    }
    config.setConnectionTimeout(10_000);
    config.setRequestTimeout(30_000);
    config.setRequestRetryBackoffLimit(2);
    String user = config.getCurrentContext() != null && config.getCurrentContext().getContext() != null
        ? config.getCurrentContext().getContext().getUser() : null;
    Path helm = file;
    boolean temporary = false;
    if (context.isPresent()) {
      helm = withCurrentContext(contents, context.get());
      temporary = true;
    }
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    return new KubeTarget(client, helm, temporary, user == null ? "unknown" : user, config.getMasterUrl(), false,
        true);
  }

  /** Inside a pod: the API server from the Service environment and a mounted ServiceAccount token. */
  static boolean inCluster() {
    return System.getenv("KUBERNETES_SERVICE_HOST") != null && Files.isRegularFile(Path.of(SA_DIR, "token"));
  }

  private static final String SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

  /**
   * The pod's ServiceAccount (fabric8 re-reads the projected token as the kubelet rotates it). Helm gets a private
   * kubeconfig naming the token file, so it re-reads it too (the console's upgrades run Helm in the pod).
   */
  private static KubeTarget inClusterTarget() {
    Config config = Config.autoConfigure(null);
    config.setConnectionTimeout(10_000);
    config.setRequestTimeout(30_000);
    config.setRequestRetryBackoffLimit(2);
    String ns = "";
    try {
      ns = Files.readString(Path.of(SA_DIR, "namespace")).trim();
    } catch (IOException e) {
      // the namespace file is optional
    }
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    return new KubeTarget(client, inClusterKubeconfig(config.getMasterUrl()), true, "serviceaccount"
        + (ns.isEmpty() ? "" : " in " + ns), config.getMasterUrl(), true, true);
  }

  private static Path inClusterKubeconfig(String server) {
    String text = "apiVersion: v1\nkind: Config\nclusters:\n- name: in-cluster\n  cluster:\n    server: " + server
        + "\n    certificate-authority: " + SA_DIR + "/ca.crt\nusers:\n- name: serviceaccount\n  user:\n"
        + "    tokenFile: " + SA_DIR + "/token\ncontexts:\n- name: in-cluster\n  context:\n    cluster: in-cluster\n"
        + "    user: serviceaccount\ncurrent-context: in-cluster\n";
    try {
      Path tmp = Files.createTempFile("airlock-kubeconfig", ".yaml");
      AtomicFiles.write(tmp, text, true, true);
      return tmp;
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot write Helm's kubeconfig in the temp dir: " + e.getMessage(),
          "give the pod a writable /tmp (an emptyDir)", e);
    }
  }

  private static Path defaultKubeconfig() {
    String env = System.getenv("KUBECONFIG");
    if (env != null && !env.isBlank()) {
      return Path.of(env.split(java.io.File.pathSeparator)[0]);
    }
    return Path.of(System.getProperty("user.home"), ".kube", "config");
  }

  /** Helm (helm-java) takes no context: a private copy of the kubeconfig with that context made current. */
  private static Path withCurrentContext(String contents, String context) {
    try {
      ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
      ObjectNode doc = (ObjectNode) yaml.readTree(contents);
      doc.put("current-context", context);
      Path tmp = Files.createTempFile("airlock-kubeconfig", ".yaml");
      AtomicFiles.write(tmp, yaml.writeValueAsString(doc), true, true);
      return tmp;
    } catch (IOException | ClassCastException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot read the kubeconfig as YAML: " + e.getMessage(), null, e);
    }
  }

  public KubernetesClient client() {
    return client;
  }

  /** A kubeconfig file for Helm whose current context is the one chosen. */
  public Path helmKubeconfig() {
    return helmKubeconfig;
  }

  /** Whether this is the pod's own ServiceAccount (no kubeconfig): the process runs inside the cluster. */
  public boolean insideCluster() {
    return inside;
  }

  /**
   * The same cluster and credentials, with operations recorded as {@code who} (the console's user, not the
   * server's ServiceAccount). Closing the view leaves this target open.
   */
  public KubeTarget as(String who) {
    return new KubeTarget(this, who);
  }

  /**
   * Whose Kubernetes credentials requests go out with: the kubeconfig user, or the ServiceAccount a console operation
   * runs with for {@link #user()}. Permission messages name this one: it is the one to grant.
   */
  public String credentials() {
    return credentials;
  }

  /**
   * A target over an existing client, for reading (the server's dashboard): it has no kubeconfig for Helm, so Helm
   * operations cannot run through it. Closing it closes the client: the caller keeps it open.
   */
  public static KubeTarget reading(KubernetesClient client, String user) {
    return new KubeTarget(client, null, false, user, client.getConfiguration().getMasterUrl(), false, true);
  }

  /** The kubeconfig user operations are recorded as. */
  public String user() {
    return user;
  }

  public String server() {
    return server;
  }

  /** The error for a failed API request, naming the server and what was being done. */
  public AirlockException failure(String doing, KubernetesClientException e) {
    if (e.getCode() == 401) {
      return new AirlockException(Kind.REMOTE, "the Kubernetes API at " + server + " refused our credentials while "
          + doing, "refresh the kubeconfig user's token or certificate", e);
    }
    if (e.getCode() == 403) {
      return new AirlockException(Kind.REMOTE, "not allowed " + doing + " (Kubernetes API at " + server + "): "
          + e.getStatus().getMessage(), "grant the kubeconfig user '" + credentials + "' that permission", e);
    }
    if (e.getCode() == 0 || e.getCause() instanceof IOException) {
      return new AirlockException(Kind.REMOTE, "cannot reach the Kubernetes API at " + server + " while " + doing
          + ": " + rootMessage(e), "check --kubeconfig/--context and that the API server is reachable from here", e);
    }
    return new AirlockException(Kind.REMOTE, "the Kubernetes API at " + server + " failed while " + doing + ": HTTP "
        + e.getCode() + " " + (e.getStatus() != null ? e.getStatus().getMessage() : e.getMessage()), null, e);
  }

  public static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  @Override
  public void close() {
    if (!owner) {
      return;
    }
    client.close();
    if (temporary) {
      try {
        Files.deleteIfExists(helmKubeconfig);
      } catch (IOException ignored) {
        // a temp file
      }
    }
  }
}
