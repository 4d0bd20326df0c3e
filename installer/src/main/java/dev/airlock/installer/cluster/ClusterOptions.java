package dev.airlock.installer.cluster;

import dev.airlock.kube.KubeTarget;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Which cluster and which installation: {@code --kubeconfig}, {@code --context}, {@code --namespace}. */
public class ClusterOptions {

  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "kubeconfig of the target cluster (default: $KUBECONFIG, else ~/.kube/config)")
  Path kubeconfig;

  @Option(names = "--context", paramLabel = "NAME", description = "kubeconfig context (default: the current one)")
  String context;

  @Option(names = {"-n", "--namespace"}, paramLabel = "NS", defaultValue = "airlock-system",
      description = "namespace that holds the installation record (default: ${DEFAULT-VALUE})")
  public String namespace = "airlock-system";

  /** The kubeconfig given with --kubeconfig, else $KUBECONFIG's first file, else null (the default one). */
  public Path kubeconfigPath() {
    if (kubeconfig != null) {
      return kubeconfig;
    }
    String env = System.getenv("KUBECONFIG");
    return env == null || env.isBlank() ? null : Path.of(env.split(java.io.File.pathSeparator)[0]);
  }

  public KubeTarget connect() {
    return KubeTarget.connect(Optional.ofNullable(kubeconfig), Optional.ofNullable(context));
  }
}
