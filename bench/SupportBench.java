// Benchmark (not a test): airlock support-bundle on 500 pods across 20 namespaces of the local control plane (the
// stand-in kubelet serves each container's log through the API server), against kubectl get of the same resources
// in the same run. Run by bench/support.sh with the deploy module's test class path.
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.deploy.support.Redactor;
import dev.airlock.deploy.support.SupportBundle;
import dev.airlock.kube.KubeTarget;
import dev.airlock.testing.kube.KubeBinaries;
import dev.airlock.testing.kube.LocalControlPlane;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class SupportBench {
  public static void main(String[] args) throws Exception {
    int namespaces = Integer.parseInt(args[1]);
    int pods = Integer.parseInt(args[2]);
    Path kubectl = Path.of(args[0]);
    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    Path dir = Files.createTempDirectory("support-bench");
    try (LocalControlPlane cp = LocalControlPlane.start(bins)) {
      KubernetesClient c = cp.client();
      // A stand-in node holds 110 pods, as a real one does by default: more nodes for more pods.
      dev.airlock.testing.Pki pki = dev.airlock.testing.Pki.create("bench");
      List<dev.airlock.testing.kube.StandInKubelet> nodes = new ArrayList<>();
      for (int n = 1; n * 110 < pods + 20; n++) {
        nodes.add(dev.airlock.testing.kube.StandInKubelet.start(c, "bench-node-" + n, pki.server("bench-node-" + n,
            List.of("127.0.0.1"))));
      }
      String home = "platform";
      List<Map<String, Object>> components = new ArrayList<>();
      List<String> all = new ArrayList<>();
      for (int n = 0; n < namespaces; n++) {
        String ns = n == 0 ? home : "platform-" + n;
        all.add(ns);
        c.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
        components.add(Map.of("name", "c" + n, "namespace", ns, "release", "r" + n, "revision", 1, "chart", "c",
            "chartVersion", "1.0.0", "renderedDigest", "sha256:0"));
      }
      Map<String, Object> installation = new LinkedHashMap<>();
      installation.put("product", "platform");
      installation.put("version", "1.0.0");
      installation.put("bundleDigest", "sha256:0");
      installation.put("registry", "registry.invalid");
      installation.put("namespace", home);
      installation.put("installedAt", Instant.now().toString());
      installation.put("status", "installed");
      installation.put("components", components);
      c.configMaps().inNamespace(home).resource(new ConfigMapBuilder().withNewMetadata().withName("airlock-state")
          .endMetadata().addToData("state.json", new ObjectMapper().writeValueAsString(Map.of("installation",
              installation))).build()).create();
      for (int i = 0; i < pods; i++) {
        String ns = all.get(i % namespaces);
        c.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("p" + i).endMetadata()
            .withNewSpec().addNewContainer().withName("app").withImage("example.invalid/app:1").addNewEnv()
            .withName("FAKE_LOG_BYTES").withValue("20000").endEnv().endContainer().endSpec().build()).create();
      }
      long t0 = System.currentTimeMillis();
      while (c.pods().inAnyNamespace().list().getItems().stream().filter(p -> p.getStatus() != null
          && "Running".equals(p.getStatus().getPhase())).count() < pods) {
        if (System.currentTimeMillis() - t0 > 300_000) {
          throw new IllegalStateException("the pods did not start");
        }
        Thread.sleep(500);
      }
      Path kubeconfig = cp.kubeconfig();
      long k0 = System.nanoTime();
      for (String ns : all) {
        Process p = new ProcessBuilder(kubectl.toString(), "--kubeconfig", kubeconfig.toString(), "-n", ns, "get",
            "deployments,statefulsets,daemonsets,jobs,services,persistentvolumeclaims,configmaps,events,pods", "-o",
            "yaml").redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
        if (p.waitFor() != 0) {
          throw new IllegalStateException("kubectl failed");
        }
      }
      double kubectlSeconds = (System.nanoTime() - k0) / 1e9;
      long s0 = System.nanoTime();
      SupportBundle.Result r;
      try (KubeTarget kube = KubeTarget.connect(java.util.Optional.of(kubeconfig), java.util.Optional.empty())) {
        r = SupportBundle.collect(kube, new SupportBundle.Options(home, Instant.now().minus(Duration.ofHours(24)),
            SupportBundle.DEFAULT_LOG_CAP, Redactor.builtIn(), "bench"), Map::of, dir.resolve("support.tar.gz"),
            e -> { }, Clock.systemUTC());
      }
      double supportSeconds = (System.nanoTime() - s0) / 1e9;
      System.out.printf("%d pods in %d namespaces (%d cores)%n", pods, namespaces,
          Runtime.getRuntime().availableProcessors());
      System.out.printf("kubectl get of the same resources (%d calls): %.1f s%n", namespaces, kubectlSeconds);
      System.out.printf("support bundle (the same resources, %d container logs, redaction, tar.gz): %.1f s "
          + "(goal <= 30 s); %.1f x kubectl get; %d files, %d bytes, %d not collected%n", pods, supportSeconds,
          supportSeconds / kubectlSeconds, r.files(), r.bytes(), r.errors().size());
      nodes.forEach(dev.airlock.testing.kube.StandInKubelet::close);
    }
  }
}
