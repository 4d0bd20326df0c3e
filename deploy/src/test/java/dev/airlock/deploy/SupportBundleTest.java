package dev.airlock.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.deploy.support.Redactor;
import dev.airlock.deploy.support.SupportBundle;
import dev.airlock.event.Event;
import dev.airlock.kube.KubeTarget;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A support bundle of the installed example on the real control plane, with secrets of every kind planted where
 * admins put them — env vars, ConfigMaps, annotations, Helm values, container logs (served by the stand-in kubelet
 * through the API server) — none of which appears anywhere in the unpacked bundle, while ordinary values do.
 */
@KubeTest
class SupportBundleTest {

  @TempDir static Path dir;
  static Fixture fx;
  static Path bundlePath;
  static String namespace;
  final TestCluster cluster;

  /** Every kind of secret the issue names, each a value a byte search can find. */
  static final Map<String, String> PLANTED = new LinkedHashMap<>();

  static {
    PLANTED.put("env password", "hunter2-env-password");
    PLANTED.put("annotation token", "annot-token-7f3c9a");
    PLANTED.put("configmap password", "cm-db-pass-55aa");
    PLANTED.put("connection string", "conn-pass-9911");
    PLANTED.put("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXBsYW50ZWQtaW4tbG9n");
    PLANTED.put("pem key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDplanted");
    PLANTED.put("aws key", "AKIAPLANTEDKEY123456");
    PLANTED.put("bearer", "bearer-planted-0xDEADBEEF");
    PLANTED.put("session", "as1.0123456789abcdef01234567.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ");
    PLANTED.put("helm value", "helm-values-secret-31337");
    PLANTED.put("log password", "log-line-password-424242");
  }

  SupportBundleTest(TestCluster cluster) {
    this.cluster = cluster;
  }

  @BeforeAll
  static void install() throws Exception {
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    fx = new Fixture(dir);
    bundlePath = fx.bundle(Fixture.EXAMPLE.resolve("bundle.yaml"), "platform.airlock");
    namespace = TestCluster.uniqueName("support");
  }

  @AfterAll
  static void tearDown() {
    if (fx != null) {
      fx.close();
    }
  }

  KubeTarget kube(Path kubeconfig) {
    return KubeTarget.connect(Optional.of(kubeconfig), Optional.empty());
  }

  void installWithPlantedSecrets() {
    try (KubeTarget kube = kube(cluster.kubeconfig())) {
      new Deployer(kube, namespace).run(DeployRequest.install(bundlePath, fx.roots).license(fx.license)
          .registry(fx.target(), fx.registryOptions(Fixture.PASSWORD)).waitReady(false)
          .overrides(Map.of("controller", Map.of("adminPassword", PLANTED.get("helm value")))).build());
    }
    var c = cluster.client();
    c.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder().withNewMetadata().withName("app-config")
        .addToAnnotations("example.com/api-token", PLANTED.get("annotation token"))
        .addToAnnotations("example.com/owner", "team-ordinary-value").endMetadata()
        .addToData("application.properties", "db.url=jdbc:postgresql://db:5432/app\ndb.password="
            + PLANTED.get("configmap password") + "\nfeature.flag=ordinary-flag-value\n")
        .addToData("dsn", "postgres://app:" + PLANTED.get("connection string") + "@db.internal:5432/app")
        .addToData("key.pem", "-----BEGIN PRIVATE KEY-----\n" + PLANTED.get("pem key") + "\n-----END PRIVATE KEY-----\n")
        .addToData("aws", "aws_access_key_id=" + PLANTED.get("aws key")).build()).create();
    String logs = "starting worker ordinary-log-line\\nAuthorization: Bearer " + PLANTED.get("bearer")
        + "\\nid_token=" + PLANTED.get("jwt") + "\\nlogin with session " + PLANTED.get("session")
        + "\\nDB_PASSWORD=" + PLANTED.get("log password") + "\\n";
    c.apps().deployments().inNamespace(namespace).resource(new DeploymentBuilder().withNewMetadata()
        .withName("worker").endMetadata().withNewSpec().withReplicas(1).withNewSelector()
        .addToMatchLabels("app", "worker").endSelector().withNewTemplate().withNewMetadata()
        .addToLabels("app", "worker").endMetadata().withNewSpec().addNewContainer().withName("worker")
        .withImage("example.invalid/worker:1").addNewEnv().withName("DB_PASSWORD")
        .withValue(PLANTED.get("env password")).endEnv().addNewEnv().withName("LOG_FORMAT").withValue("json-ordinary")
        .endEnv().addNewEnv().withName("FAKE_LOGS").withValue(logs).endEnv().addNewEnv().withName("FAKE_LOG_BYTES")
        .withValue(String.valueOf(3 * 1024 * 1024)).endEnv().endContainer().endSpec().endTemplate().endSpec().build())
        .create();
    c.apps().deployments().inNamespace(namespace).withName("worker").waitUntilCondition(d -> d.getStatus() != null
        && Integer.valueOf(1).equals(d.getStatus().getReadyReplicas()), 60, java.util.concurrent.TimeUnit.SECONDS);
  }

  static Map<String, byte[]> unpack(Path file) throws Exception {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file));
        TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        out.put(e.getName(), tar.readAllBytes());
      }
    }
    return out;
  }

  SupportBundle.Result collect(Path kubeconfig, Path out, long logCap, List<Event> events) {
    try (KubeTarget kube = kube(kubeconfig)) {
      return SupportBundle.collect(kube, new SupportBundle.Options(namespace, Clock.systemUTC().instant().minus(
          Duration.ofHours(1)), logCap, Redactor.builtIn(), "test"), () -> Map.of(), out, events::add,
          Clock.systemUTC());
    }
  }

  @Test
  void everyPlantedSecretIsGone_ordinaryValuesStay_logsAreCapped_andForbiddenResourcesAreRecorded() throws Exception {
    installWithPlantedSecrets();
    try {
      List<Event> events = new ArrayList<>();
      SupportBundle.Result r = collect(cluster.kubeconfig(), dir.resolve("support.tar.gz"), 1024 * 1024, events);
      assertThat(r.errors()).isEmpty();
      Map<String, byte[]> files = unpack(r.file());
      assertThat(files).containsKeys("airlock/installation.json", "airlock/health.json", "airlock/versions.json",
          "airlock/license.json", "airlock/audit.json", "cluster/nodes.yaml", "namespaces/" + namespace
          + "/pods.yaml", "namespaces/" + namespace + "/configmaps.yaml", "helm/" + namespace
          + "/platform-controller/manifest.yaml", "redaction-report.json", "errors.json", "manifest.json");
      StringBuilder all = new StringBuilder();
      files.values().forEach(b -> all.append(new String(b, StandardCharsets.UTF_8)).append('\n'));
      for (Map.Entry<String, String> planted : PLANTED.entrySet()) {
        assertThat(all.indexOf(planted.getValue())).as("the planted " + planted.getKey() + " is nowhere in the bundle")
            .isEqualTo(-1);
      }
      assertThat(all.toString()).contains("team-ordinary-value", "ordinary-flag-value", "json-ordinary",
          "ordinary-log-line", "jdbc:postgresql://db:5432/app", "db.internal:5432/app");
      String log = new String(files.get(files.keySet().stream().filter(f -> f.startsWith("namespaces/" + namespace
          + "/logs/worker-") && f.endsWith("/worker.log")).findFirst().orElseThrow()), StandardCharsets.UTF_8);
      assertThat(log.length()).as("capped at 1 MiB, the newest kept").isLessThan(1024 * 1024 + 200);
      assertThat(log).startsWith("[airlock: ").contains("older bytes left out");
      String report = new String(files.get("redaction-report.json"), StandardCharsets.UTF_8);
      assertThat(report).contains("secret-env", "pem-private-key", "jwt", "bearer", "airlock-session",
          "aws-access-key", "url-credentials", "secret-value", "secret-annotation").doesNotContain(
          PLANTED.get("env password"));
      assertThat(new String(files.get("airlock/installation.json"), StandardCharsets.UTF_8)).contains("1.4.0");
      assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOf(Event.PhaseFinished.class));

      // A caller who may read pods and their logs here but not nodes, events or ConfigMaps: the rest is collected,
      // and what was refused is named.
      String user = TestCluster.uniqueName("support-reader");
      var c = cluster.client();
      c.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(user).endMetadata()
          .addNewRule().withApiGroups("").withResources("pods", "pods/log", "services", "namespaces",
              "persistentvolumeclaims").withVerbs("get", "list").endRule()
          .addNewRule().withApiGroups("apps", "batch").withResources("*").withVerbs("get", "list").endRule()
          .addNewRule().withApiGroups("").withResources("configmaps").withResourceNames("airlock-state")
          .withVerbs("get").endRule().build()).create();
      c.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(user)
          .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", user).addNewSubject()
          .withKind("User").withName(user).withApiGroup("rbac.authorization.k8s.io").endSubject().build()).create();
      try {
        SupportBundle.Result limited = collect(cluster.kubeconfigFor(user, List.of()), dir.resolve("limited.tar.gz"),
            SupportBundle.DEFAULT_LOG_CAP, new ArrayList<>());
        assertThat(limited.errors()).anySatisfy(e -> assertThat(e).startsWith("nodes:").contains("forbidden"))
            .anySatisfy(e -> assertThat(e).contains("configmaps.yaml").contains("forbidden"));
        Map<String, byte[]> got = unpack(limited.file());
        assertThat(got).containsKeys("namespaces/" + namespace + "/pods.yaml", "errors.json");
        assertThat(new String(got.get("errors.json"), StandardCharsets.UTF_8)).contains("forbidden");
      } finally {
        c.rbac().clusterRoleBindings().withName(user).delete();
        c.rbac().clusterRoles().withName(user).delete();
      }
    } finally {
      cluster.deleteNamespaces(namespace);
    }
  }
}
