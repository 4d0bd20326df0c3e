package dev.airlock.testing.kube;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Chooses the Kubernetes tier once per test JVM and injects it as a {@link TestCluster} parameter:
 * <ol>
 *   <li>{@value #E2E_ENV}: an existing cluster, used as is;</li>
 *   <li>{@link KubeBinaries#ENV}: the {@link LocalControlPlane} with the stand-in kubelet (what CI runs);</li>
 *   <li>a Docker engine: k3s through Testcontainers (contributors' laptops);</li>
 *   <li>else the tests are skipped with a reason that says how to enable them.</li>
 * </ol>
 * The cluster is stopped when the JVM's tests are done.
 */
public final class KubeClusterExtension implements ExecutionCondition, ParameterResolver {

  public static final String E2E_ENV = "AIRLOCK_E2E_KUBECONFIG";

  private static final Object LOCK = new Object();
  private static TestCluster cluster;
  private static String unavailable;

  /** The shared cluster, started on first use; empty (with {@link #whyUnavailable()}) when no tier is available. */
  public static Optional<TestCluster> shared() {
    synchronized (LOCK) {
      if (cluster == null && unavailable == null) {
        StringBuilder why = new StringBuilder();
        cluster = choose(why);
        if (cluster == null) {
          unavailable = why.toString();
        } else {
          TestCluster c = cluster;
          Runtime.getRuntime().addShutdownHook(new Thread(c::close, "test-cluster-stop"));
        }
      }
      return Optional.ofNullable(cluster);
    }
  }

  public static String whyUnavailable() {
    return unavailable;
  }

  private static TestCluster choose(StringBuilder why) {
    String e2e = System.getenv(E2E_ENV);
    if (e2e != null && !e2e.isBlank()) {
      return new ExternalCluster(Path.of(e2e), "existing cluster (" + E2E_ENV + "=" + e2e + ")");
    }
    StringBuilder binWhy = new StringBuilder();
    Optional<KubeBinaries> bins = KubeBinaries.fromEnvironment(binWhy);
    if (bins.isPresent()) {
      return LocalControlPlane.start(bins.get());
    }
    StringBuilder k3sWhy = new StringBuilder();
    Optional<TestCluster> k3s = K3sCluster.startIfDocker(k3sWhy);
    if (k3s.isPresent()) {
      return k3s.get();
    }
    why.append("no Kubernetes test cluster: ").append(binWhy).append("; ").append(k3sWhy).append(". Set ")
        .append(KubeBinaries.ENV).append("=../shared/k8s with etcd installed (docs/testing.md), or ")
        .append(E2E_ENV).append(" to a throw-away cluster's kubeconfig");
    return null;
  }

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (shared().isPresent()) {
      return ConditionEvaluationResult.enabled("on " + cluster.tier());
    }
    return ConditionEvaluationResult.disabled(unavailable);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == TestCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return shared().orElseThrow(() -> new IllegalStateException(unavailable));
  }

  /** For tests that name the method they run in messages. */
  static String name(ExtensionContext e) {
    return e.getTestMethod().map(Method::getName).orElse(e.getDisplayName());
  }
}
