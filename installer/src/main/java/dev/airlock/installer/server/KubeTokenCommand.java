package dev.airlock.installer.server;

import dev.airlock.kubetoken.KubeTokenMain;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code airlock kube-token} run through the whole CLI: the same plugin as the launcher's fast entry point
 * ({@link KubeTokenMain}, which kubeconfigs normally reach without starting the CLI; ADR 18).
 */
@Command(name = "kube-token", mixinStandardHelpOptions = true, description = {"Print a short-lived Kubernetes "
    + "token for the session in $AIRLOCK_SESSION, as a client.authentication.k8s.io/v1 ExecCredential. kubectl "
    + "runs it through the kubeconfig from `airlock login`; the token stops working when the session ends.",
    "Tokens are cached per server and session in ~/.kube/cache/airlock (0700; $AIRLOCK_KUBE_CACHE_DIR elsewhere) "
        + "until shortly before they expire; parallel calls wait for one server request. The launcher runs this "
        + "without starting the CLI."})
public class KubeTokenCommand implements Callable<Integer> {

  @Option(names = "--server", paramLabel = "URL", required = true, description = "the airlock server")
  String server;

  @Option(names = "--ca", paramLabel = "FILE", description = "trust this PEM CA for the server's TLS certificate")
  String ca;

  @Override
  public Integer call() {
    List<String> args = new ArrayList<>(List.of("--server", server));
    if (ca != null) {
      args.addAll(List.of("--ca", ca));
    }
    return new KubeTokenMain(System.getenv(), System.out, System.err).run(args.toArray(String[]::new));
  }
}
