package dev.airlock.testing.kube;

import dev.airlock.testing.Pki;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Kubernetes control plane on loopback: Debian's etcd and the upstream kube-apiserver, kube-controller-manager
 * and kube-scheduler ({@link KubeBinaries}), on free ports, with certificates made here, plus a {@link StandInKubelet}
 * that runs the pods. Clients authenticate with client certificates, so {@link #kubeconfigFor} can act as any user
 * and groups. {@link #close()} stops exactly the processes it started and deletes its files.
 */
public final class LocalControlPlane implements TestCluster {

  /** A documentation address (RFC 5737): never contacted, but not loopback, which kube-apiserver refuses to advertise. */
  static final String ADVERTISE = "192.0.2.1";
  static final String SERVICE_RANGE = "10.96.0.0/16";

  private final Path dir;
  private final Pki pki;
  private final String server;
  private final List<Process> processes = new ArrayList<>();
  private final Thread reaper;
  private Path adminKubeconfig;
  private KubernetesClient client;
  private StandInKubelet kubelet;

  private LocalControlPlane(Path dir, Pki pki, String server) {
    this.dir = dir;
    this.pki = pki;
    this.server = server;
    this.reaper = new Thread(this::stopProcesses, "local-control-plane-reaper");
  }

  /** Starts etcd, the API server, the controller-manager, the scheduler and the stand-in kubelet; waits until usable. */
  public static LocalControlPlane start(KubeBinaries bins) {
    long t0 = System.nanoTime();
    Path dir;
    try {
      Path shm = Path.of("/dev/shm");
      dir = Files.isWritable(shm) ? Files.createTempDirectory(shm, "airlock-k8s")
          : Files.createTempDirectory("airlock-k8s");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int apiPort = freePort();
    Pki pki = Pki.create("airlock local control plane CA");
    LocalControlPlane cp = new LocalControlPlane(dir, pki, "https://127.0.0.1:" + apiPort);
    Runtime.getRuntime().addShutdownHook(cp.reaper);
    try {
      cp.boot(bins, apiPort);
      System.err.printf("[local control plane] %s ready in %.1f s (files in %s)%n", cp.server,
          (System.nanoTime() - t0) / 1e9, dir);
      return cp;
    } catch (RuntimeException | IOException | GeneralSecurityException e) {
      String logs = cp.logTails();
      cp.close();
      throw new IllegalStateException("the local control plane did not start: " + e.getMessage() + "\n" + logs, e);
    }
  }

  private void boot(KubeBinaries bins, int apiPort) throws IOException, GeneralSecurityException {
    Path pkiDir = Files.createDirectories(dir.resolve("pki"));
    Path ca = write(pkiDir.resolve("ca.crt"), pki.caPem());
    Path caKey = write(pkiDir.resolve("ca.key"), pki.ca().keyPem());
    Pki.Issued serving = pki.server("kube-apiserver", List.of("127.0.0.1", "localhost", "kubernetes",
        "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.96.0.1",
        ADVERTISE));
    Path servingCert = write(pkiDir.resolve("apiserver.crt"), serving.certPem());
    Path servingKey = write(pkiDir.resolve("apiserver.key"), serving.keyPem());
    KeyPair sa = Pki.ecKeys();
    Path saPub = write(pkiDir.resolve("sa.pub"), Pki.pem(sa.getPublic()));
    Path saKey = write(pkiDir.resolve("sa.key"), Pki.keyPem(sa));

    int etcdPort = freePort();
    int peerPort = freePort();
    start("etcd", List.of(bins.etcd().toString(), "--name", "default", "--data-dir", dir.resolve("etcd").toString(),
        "--listen-client-urls", "http://127.0.0.1:" + etcdPort, "--advertise-client-urls",
        "http://127.0.0.1:" + etcdPort, "--listen-peer-urls", "http://127.0.0.1:" + peerPort,
        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPort, "--initial-cluster",
        "default=http://127.0.0.1:" + peerPort, "--log-level", "warn"), Map.of());

    start("kube-apiserver", List.of(bins.path("kube-apiserver").toString(),
        "--etcd-servers=http://127.0.0.1:" + etcdPort,
        "--bind-address=127.0.0.1", "--secure-port=" + apiPort, "--advertise-address=" + ADVERTISE,
        "--cert-dir=" + dir.resolve("apiserver-certs"),
        "--tls-cert-file=" + servingCert, "--tls-private-key-file=" + servingKey, "--client-ca-file=" + ca,
        "--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saKey,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-cluster-ip-range=" + SERVICE_RANGE, "--authorization-mode=Node,RBAC",
        "--allow-privileged=true", "--profiling=false", "--kubelet-preferred-address-types=InternalIP", "--v=0"),
        Map.of("POD_NAMESPACE", "kube-system", "POD_NAME", "kube-apiserver"));

    adminKubeconfig = kubeconfigFor("airlock-admin", List.of("system:masters"));
    Path cmConfig = kubeconfig("system:kube-controller-manager", List.of(), "controller-manager");
    Path schedConfig = kubeconfig("system:kube-scheduler", List.of(), "scheduler");
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(adminKubeconfig)))
        .build();
    waitFor("the API server to answer", 60, () -> {
      client.namespaces().withName("default").get();
      return true;
    });

    start("kube-controller-manager", List.of(bins.path("kube-controller-manager").toString(),
        "--kubeconfig=" + cmConfig, "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
        "--use-service-account-credentials=true", "--service-account-private-key-file=" + saKey,
        "--root-ca-file=" + ca, "--cluster-signing-cert-file=" + ca, "--cluster-signing-key-file=" + caKey,
        "--controllers=*,bootstrap-signer-controller,token-cleaner-controller,"
            + "-service-ca-certificate-publisher-controller",
        "--feature-gates=WatchListClient=false", "--concurrent-gc-syncs=5",
        // The default client rate limit (20 QPS) makes 50 Deployments take half a minute to roll out here.
        "--kube-api-qps=500", "--kube-api-burst=1000", "--v=0"), Map.of());
    start("kube-scheduler", List.of(bins.path("kube-scheduler").toString(), "--kubeconfig=" + schedConfig,
        "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false", "--kube-api-qps=500",
        "--kube-api-burst=1000", "--v=0"), Map.of());

    kubelet = StandInKubelet.start(client, "stand-in-node", pki.server("stand-in-node", List.of("127.0.0.1")));
    waitFor("the default ServiceAccount", 60, () -> client.serviceAccounts().inNamespace("default")
        .withName("default").get() != null);
  }

  private Path write(Path file, String text) throws IOException {
    Files.writeString(file, text);
    return file;
  }

  private void start(String name, List<String> cmd, Map<String, String> env) throws IOException {
    Path log = dir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    processes.add(p);
    try {
      if (p.waitFor(300, TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " exited at once with " + p.exitValue());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  interface Probe {
    boolean ok() throws Exception;
  }

  private void waitFor(String what, int seconds, Probe probe) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new IllegalStateException("a control plane process exited (" + p.info().command().orElse("?")
              + ", exit " + p.exitValue() + ") while waiting for " + what);
        }
      }
      try {
        if (probe.ok()) {
          return;
        }
      } catch (Exception e) {
        last = e;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new IllegalStateException("timed out after " + seconds + " s waiting for " + what
        + (last == null ? "" : ": " + last));
  }

  /** A kubeconfig authenticating as {@code user} in {@code groups} with a client certificate from the cluster CA. */
  @Override
  public Path kubeconfigFor(String user, List<String> groups) {
    return kubeconfig(user, groups, "user-" + user.replaceAll("[^A-Za-z0-9._-]", "_"));
  }

  private Path kubeconfig(String user, List<String> groups, String fileName) {
    Pki.Issued cert = pki.client(user, groups);
    Base64.Encoder b64 = Base64.getEncoder();
    String yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: " + server
        + "\n    certificate-authority-data: " + b64.encodeToString(pki.caPem().getBytes(StandardCharsets.UTF_8))
        + "\nusers:\n- name: " + user + "\n  user:\n    client-certificate-data: "
        + b64.encodeToString(cert.certPem().getBytes(StandardCharsets.UTF_8)) + "\n    client-key-data: "
        + b64.encodeToString(cert.keyPem().getBytes(StandardCharsets.UTF_8)) + "\ncontexts:\n- name: local\n"
        + "  context:\n    cluster: local\n    user: " + user + "\ncurrent-context: local\n";
    try {
      Path file = Files.createDirectories(dir.resolve("kubeconfigs")).resolve(fileName + ".kubeconfig");
      Files.writeString(file, yaml);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Path kubeconfig() {
    return adminKubeconfig;
  }

  @Override
  public KubernetesClient client() {
    return client;
  }

  @Override
  public String tier() {
    return "local control plane (kube-apiserver " + server + ", stand-in kubelet)";
  }

  @Override
  public boolean standInKubelet() {
    return true;
  }

  public String server() {
    return server;
  }

  public StandInKubelet kubelet() {
    return kubelet;
  }

  /** The last lines of each component's log, for failure messages. */
  public String logTails() {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> logs = Files.list(dir)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        sb.append("--- ").append(log.getFileName()).append('\n');
        lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> sb.append(l).append('\n'));
      }
    } catch (IOException | UncheckedIOException e) {
      sb.append("(logs unreadable: ").append(e.getMessage()).append(")");
    }
    return sb.toString();
  }

  private synchronized void stopProcesses() {
    List<Process> reversed = new ArrayList<>(processes);
    java.util.Collections.reverse(reversed);
    for (Process p : reversed) {
      p.destroy();
    }
    for (Process p : reversed) {
      try {
        // kube-apiserver drains open watches for up to ~20 s; a test cluster need not wait for that.
        if (!p.waitFor(3, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    processes.clear();
  }

  @Override
  public void close() {
    if (kubelet != null) {
      kubelet.close();
    }
    if (client != null) {
      client.close();
    }
    stopProcesses();
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // temp files
    }
  }

  /**
   * Runs a control plane until killed (SIGTERM stops what it started): for benchmarks and manual trials. Writes the
   * admin kubeconfig to the path given as the first argument once the cluster is usable.
   */
  public static void main(String[] args) throws Exception {
    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    LocalControlPlane cp = start(bins);
    Path out = Path.of(args[0]);
    Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
    Files.copy(cp.kubeconfig(), tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Thread.currentThread().join();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
