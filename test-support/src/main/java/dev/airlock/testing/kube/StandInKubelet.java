package dev.airlock.testing.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A kubelet stand-in for a control plane without a container runtime: it registers one Ready node (renewing its
 * Lease) and plays the pods the scheduler binds to it, with conventions tests use:
 * <ul>
 *   <li>a long-running pod becomes Running and Ready; a container env {@code FAKE_READY=false} keeps it Running but
 *   never Ready;</li>
 *   <li>a pod with {@code restartPolicy} Never or OnFailure (a Job's) goes Succeeded after
 *   {@code FAKE_RUN_SECONDS} (default 1; {@code forever} never ends), or Failed with the exit code in
 *   {@code FAKE_EXIT};</li>
 *   <li>pods being deleted are finalized at once, so namespaces and uninstalls finish.</li>
 * </ul>
 * It also provisions volumes for claims of its default StorageClass {@value #STORAGE_CLASS}, so StatefulSets with
 * {@code volumeClaimTemplates} run.
 */
public final class StandInKubelet implements AutoCloseable {

  public static final String STORAGE_CLASS = "standard";
  public static final String PROVISIONER = "airlock.dev/stand-in";
  public static final String CPU = "8";
  public static final String MEMORY = "16Gi";

  private final KubernetesClient client;
  private final String node;
  private final ScheduledExecutorService work;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final Set<String> started = ConcurrentHashMap.newKeySet();
  private final AtomicInteger ips = new AtomicInteger(10);

  private StandInKubelet(KubernetesClient client, String node) {
    this.client = client;
    this.node = node;
    this.work = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "stand-in-kubelet");
      t.setDaemon(true);
      return t;
    });
  }

  public static StandInKubelet start(KubernetesClient client, String node) {
    return start(client, node, null);
  }

  /**
   * Starts the stand-in; with {@code serving} (a certificate for 127.0.0.1) it also answers the kubelet API's log
   * endpoint, so {@code kubectl logs} and the API's {@code pods/log} work through the API server.
   */
  public static StandInKubelet start(KubernetesClient client, String node, dev.airlock.testing.Pki.Issued serving) {
    StandInKubelet k = new StandInKubelet(client, node);
    if (serving != null) {
      k.serveLogs(serving);
    }
    k.register();
    k.storageClass();
    k.work.scheduleAtFixedRate(k::heartbeat, 10, 10, TimeUnit.SECONDS);
    k.informers.add(client.pods().inAnyNamespace().withField("spec.nodeName", node).inform(k.handler(k::pod)));
    k.informers.add(client.persistentVolumeClaims().inAnyNamespace().inform(k.handler(k::claim)));
    k.informers.add(client.persistentVolumes().inform(k.handler(k::volume)));
    return k;
  }

  public String nodeName() {
    return node;
  }

  private <T> ResourceEventHandler<T> handler(java.util.function.Consumer<T> onChange) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        work.execute(() -> safely(() -> onChange.accept(obj)));
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        work.execute(() -> safely(() -> onChange.accept(newObj)));
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        // nothing to clean up
      }
    };
  }

  private static void safely(Runnable r) {
    try {
      r.run();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404 && e.getCode() != 409) {
        System.err.println("[stand-in kubelet] " + e.getMessage());
      }
    } catch (RuntimeException e) {
      System.err.println("[stand-in kubelet] " + e);
    }
  }

  private static String now() {
    return DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
  }

  private List<NodeCondition> conditions() {
    String t = now();
    List<NodeCondition> out = new ArrayList<>();
    for (String type : List.of("MemoryPressure", "DiskPressure", "PIDPressure")) {
      out.add(new NodeConditionBuilder().withType(type).withStatus("False").withReason("KubeletHas" + "No" + type)
          .withLastHeartbeatTime(t).withLastTransitionTime(t).build());
    }
    out.add(new NodeConditionBuilder().withType("Ready").withStatus("True").withReason("KubeletReady")
        .withMessage("stand-in kubelet is posting ready status").withLastHeartbeatTime(t)
        .withLastTransitionTime(t).build());
    return out;
  }

  private void register() {
    Map<String, Quantity> resources = Map.of("cpu", new Quantity(CPU), "memory", new Quantity(MEMORY), "pods",
        new Quantity("110"), "ephemeral-storage", new Quantity("100Gi"));
    Node n = new NodeBuilder().withNewMetadata().withName(node).addToLabels("kubernetes.io/hostname", node)
        .addToLabels("kubernetes.io/os", "linux").addToLabels("kubernetes.io/arch", "amd64")
        .addToLabels("airlock.dev/stand-in", "true").endMetadata()
        .withNewStatus().withCapacity(resources).withAllocatable(resources).withConditions(conditions())
        .addNewAddress().withType("InternalIP").withAddress("127.0.0.1").endAddress()
        .addNewAddress().withType("Hostname").withAddress(node).endAddress()
        .withNewNodeInfo().withKubeletVersion("v1.32.13").withKubeProxyVersion("v1.32.13")
        .withContainerRuntimeVersion("stand-in://1").withOperatingSystem("linux").withArchitecture("amd64")
        .withOsImage("airlock stand-in").withKernelVersion("n/a").withMachineID("stand-in").withSystemUUID(node)
        .withBootID("stand-in").endNodeInfo().withNewDaemonEndpoints().withNewKubeletEndpoint().withPort(
            logs == null ? 10250 : logs.getAddress().getPort()).endKubeletEndpoint().endDaemonEndpoints().endStatus()
        .build();
    client.nodes().resource(n).create();
    ZonedDateTime t = ZonedDateTime.now(ZoneOffset.UTC);
    client.leases().inNamespace("kube-node-lease").resource(new LeaseBuilder().withNewMetadata().withName(node)
        .withNamespace("kube-node-lease").endMetadata().withNewSpec().withHolderIdentity(node)
        .withLeaseDurationSeconds(40).withRenewTime(t).withAcquireTime(t).endSpec().build()).create();
  }

  private void storageClass() {
    client.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata()
        .withName(STORAGE_CLASS).addToAnnotations("storageclass.kubernetes.io/is-default-class", "true")
        .endMetadata().withProvisioner(PROVISIONER).withReclaimPolicy("Delete")
        .withVolumeBindingMode("Immediate").build()).createOr(c -> c.update());
  }

  private void heartbeat() {
    safely(() -> {
      client.leases().inNamespace("kube-node-lease").withName(node).edit(l -> {
        l.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC));
        return l;
      });
      client.nodes().withName(node).editStatus(n -> {
        n.getStatus().setConditions(conditions());
        return n;
      });
    });
  }

  private void pod(Pod pod) {
    String ns = pod.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    String uid = pod.getMetadata().getUid();
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      client.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete();
      started.remove(uid);
      return;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase) || !started.add(uid)) {
      return;
    }
    boolean job = "Never".equals(pod.getSpec().getRestartPolicy())
        || "OnFailure".equals(pod.getSpec().getRestartPolicy());
    boolean ready = !job && !"false".equals(env(pod, "FAKE_READY").orElse("true"));
    setStatus(pod, "Running", ready, null);
    if (job) {
      String run = env(pod, "FAKE_RUN_SECONDS").orElse("1");
      if (!run.equals("forever")) {
        int exit = Integer.parseInt(env(pod, "FAKE_EXIT").orElse("0"));
        work.schedule(() -> safely(() -> finish(ns, name, uid, exit)), (long) (Double.parseDouble(run) * 1000),
            TimeUnit.MILLISECONDS);
      }
    }
  }

  private void finish(String ns, String name, String uid, int exit) {
    Pod current = client.pods().inNamespace(ns).withName(name).get();
    if (current == null || !uid.equals(current.getMetadata().getUid())) {
      return;
    }
    setStatus(current, exit == 0 ? "Succeeded" : "Failed", false, exit);
  }

  private static Optional<String> env(Pod pod, String name) {
    for (Container c : pod.getSpec().getContainers()) {
      if (c.getEnv() != null) {
        for (EnvVar e : c.getEnv()) {
          if (name.equals(e.getName()) && e.getValue() != null) {
            return Optional.of(e.getValue());
          }
        }
      }
    }
    return Optional.empty();
  }

  private void setStatus(Pod pod, String phase, boolean ready, Integer exit) {
    String t = now();
    String ip = "10.244.0." + (ips.getAndIncrement() % 250 + 2);
    boolean running = exit == null;
    List<PodCondition> conditions = new ArrayList<>();
    conditions.add(condition("PodReadyToStartContainers", running, t));
    conditions.add(condition("Initialized", true, t));
    conditions.add(condition("ContainersReady", ready, t));
    conditions.add(condition("Ready", ready, t));
    conditions.add(condition("PodScheduled", true, t));
    List<ContainerStatus> containers = new ArrayList<>();
    for (Container c : pod.getSpec().getContainers()) {
      containers.add(containerStatus(pod, c, running, ready, exit == null ? 0 : exit, t));
    }
    List<ContainerStatus> inits = new ArrayList<>();
    if (pod.getSpec().getInitContainers() != null) {
      for (Container c : pod.getSpec().getInitContainers()) {
        inits.add(containerStatus(pod, c, false, true, 0, t));
      }
    }
    client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
        .editStatus(p -> {
          PodStatus s = p.getStatus() == null ? new PodStatus() : p.getStatus();
          s.setPhase(phase);
          s.setConditions(conditions);
          s.setContainerStatuses(containers);
          s.setInitContainerStatuses(inits);
          s.setHostIP("127.0.0.1");
          if (s.getPodIP() == null) {
            s.setPodIP(ip);
          }
          if (s.getStartTime() == null) {
            s.setStartTime(t);
          }
          p.setStatus(s);
          return p;
        });
  }

  private static PodCondition condition(String type, boolean status, String t) {
    return new PodConditionBuilder().withType(type).withStatus(status ? "True" : "False").withLastTransitionTime(t)
        .build();
  }

  private static ContainerStatus containerStatus(Pod pod, Container c, boolean running, boolean ready, int exit,
      String t) {
    ContainerStatusBuilder b = new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage())
        .withImageID(c.getImage()).withContainerID("stand-in://" + pod.getMetadata().getUid() + "/" + c.getName())
        .withReady(ready).withStarted(running).withRestartCount(0);
    if (running) {
      b.withNewState().withNewRunning().withStartedAt(t).endRunning().endState();
    } else {
      b.withNewState().withNewTerminated().withExitCode(exit).withReason(exit == 0 ? "Completed" : "Error")
          .withStartedAt(t).withFinishedAt(t).endTerminated().endState();
    }
    return b.build();
  }

  /** Provisions a volume for a pending claim of the stand-in's StorageClass. */
  private void claim(PersistentVolumeClaim pvc) {
    if (pvc.getMetadata().getDeletionTimestamp() != null || pvc.getStatus() == null
        || !"Pending".equals(pvc.getStatus().getPhase()) || pvc.getSpec().getVolumeName() != null) {
      return;
    }
    String cls = pvc.getSpec().getStorageClassName();
    if (!STORAGE_CLASS.equals(cls)) {
      return;
    }
    Quantity size = pvc.getSpec().getResources() != null && pvc.getSpec().getResources().getRequests() != null
        ? pvc.getSpec().getResources().getRequests().get("storage") : null;
    PersistentVolume pv = new PersistentVolumeBuilder().withNewMetadata().withName("pvc-"
        + pvc.getMetadata().getUid()).addToAnnotations("pv.kubernetes.io/provisioned-by", PROVISIONER)
        .endMetadata().withNewSpec().withCapacity(Map.of("storage", size == null ? new Quantity("1Gi") : size))
        .withAccessModes(pvc.getSpec().getAccessModes()).withStorageClassName(cls)
        .withPersistentVolumeReclaimPolicy("Delete").withNewHostPath().withPath("/tmp/airlock-stand-in/"
            + pvc.getMetadata().getUid()).endHostPath()
        .withNewClaimRef().withNamespace(pvc.getMetadata().getNamespace()).withName(pvc.getMetadata().getName())
        .withUid(pvc.getMetadata().getUid()).withApiVersion("v1").withKind("PersistentVolumeClaim").endClaimRef()
        .endSpec().build();
    if (client.persistentVolumes().withName(pv.getMetadata().getName()).get() == null) {
      client.persistentVolumes().resource(pv).create();
    }
  }

  /** Deletes a volume it provisioned once its claim is gone (reclaim policy Delete). */
  private void volume(PersistentVolume pv) {
    Map<String, String> a = pv.getMetadata().getAnnotations();
    String phase = pv.getStatus() == null ? null : pv.getStatus().getPhase();
    if (a != null && PROVISIONER.equals(a.get("pv.kubernetes.io/provisioned-by"))
        && ("Released".equals(phase) || "Failed".equals(phase))) {
      client.persistentVolumes().withName(pv.getMetadata().getName()).delete();
    }
  }

  /** Sets whether the stand-in's StorageClass is the cluster default (for preflight scenarios). */
  public void defaultStorageClass(boolean isDefault) {
    client.storage().v1().storageClasses().withName(STORAGE_CLASS).edit(c -> {
      c.getMetadata().getAnnotations().put("storageclass.kubernetes.io/is-default-class", String.valueOf(isDefault));
      return c;
    });
  }

  private com.sun.net.httpserver.HttpsServer logs;

  /**
   * The kubelet API's {@code GET /containerLogs/NS/POD/CONTAINER} (with {@code tailLines} and {@code limitBytes}),
   * answered from the container's env: {@code FAKE_LOGS} (its text; {@code \n} is a line break) followed by
   * {@code FAKE_LOG_BYTES} bytes of numbered lines, as a chatty process would write them. The API server connects
   * with its own credentials and without checking this certificate (no --kubelet-certificate-authority).
   */
  private void serveLogs(dev.airlock.testing.Pki.Issued serving) {
    try {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pw = "stand-in".toCharArray();
      ks.setKeyEntry("kubelet", serving.key(), pw, new java.security.cert.Certificate[] {serving.certificate()});
      javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
          javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
      tls.init(kmf.getKeyManagers(), null, null);
      logs = com.sun.net.httpserver.HttpsServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
      logs.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
      logs.createContext("/containerLogs/", x -> {
        try (x) {
          String[] parts = x.getRequestURI().getPath().split("/");
          Map<String, String> q = new java.util.HashMap<>();
          String query = x.getRequestURI().getRawQuery();
          for (String kv : query == null ? new String[0] : query.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
              q.put(kv.substring(0, eq), java.net.URLDecoder.decode(kv.substring(eq + 1),
                  java.nio.charset.StandardCharsets.UTF_8));
            }
          }
          byte[] body = parts.length == 5 ? logOf(parts[2], parts[3], parts[4], q) : null;
          if (body == null) {
            x.sendResponseHeaders(404, -1);
            return;
          }
          x.getResponseHeaders().set("Content-Type", "text/plain");
          x.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
          x.getResponseBody().write(body);
        }
      });
      logs.start();
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot serve the stand-in kubelet's log endpoint", e);
    }
  }

  private byte[] logOf(String ns, String podName, String container, Map<String, String> q) {
    Pod pod = client.pods().inNamespace(ns).withName(podName).get();
    Container c = pod == null ? null : java.util.stream.Stream.concat(pod.getSpec().getContainers().stream(),
        pod.getSpec().getInitContainers() == null ? java.util.stream.Stream.empty()
            : pod.getSpec().getInitContainers().stream()).filter(x -> x.getName().equals(container)).findFirst()
        .orElse(null);
    if (c == null) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    long generated = 0;
    for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
      if ("FAKE_LOGS".equals(e.getName()) && e.getValue() != null) {
        text.append(e.getValue().replace("\\n", "\n"));
        if (text.length() > 0 && text.charAt(text.length() - 1) != '\n') {
          text.append('\n');
        }
      }
      if ("FAKE_LOG_BYTES".equals(e.getName()) && e.getValue() != null) {
        generated = Long.parseLong(e.getValue());
      }
    }
    for (long n = 1; generated > 0; n++) {
      String line = "line " + n + " of a chatty container, padded to look like a real log line ............\n";
      text.append(line);
      generated -= line.length();
    }
    String out = text.toString();
    if (q.containsKey("tailLines")) {
      List<String> lines = out.lines().toList();
      int tail = Integer.parseInt(q.get("tailLines"));
      out = lines.subList(Math.max(0, lines.size() - tail), lines.size()).stream().map(l -> l + "\n")
          .collect(java.util.stream.Collectors.joining());
    }
    byte[] bytes = out.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (q.containsKey("limitBytes")) {
      bytes = java.util.Arrays.copyOf(bytes, (int) Math.min(bytes.length, Long.parseLong(q.get("limitBytes"))));
    }
    return bytes;
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
    work.shutdownNow();
    if (logs != null) {
      logs.stop(0);
    }
  }

  /** The lease of the node, for tests that check the heartbeat. */
  Lease lease() {
    return client.leases().inNamespace("kube-node-lease").withName(node).get();
  }
}
