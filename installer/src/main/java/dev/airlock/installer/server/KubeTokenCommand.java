package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code airlock kube-token}: the exec credential plugin of the kubeconfigs {@code airlock login} writes. */
@Command(name = "kube-token", mixinStandardHelpOptions = true, description = {"Print a short-lived Kubernetes "
    + "token for the session in $AIRLOCK_SESSION, as a client.authentication.k8s.io/v1 ExecCredential. kubectl "
    + "runs it through the kubeconfig from `airlock login`; the token stops working when the session ends."})
public class KubeTokenCommand implements Callable<Integer> {

  @Option(names = "--server", paramLabel = "URL", required = true, description = "the airlock server")
  URI server;

  @Option(names = "--ca", paramLabel = "FILE", description = "trust this PEM CA for the server's TLS certificate")
  Path ca;

  @Override
  public Integer call() {
    String session = System.getenv(SessionKubeconfig.SESSION_ENV);
    if (session == null || session.isBlank()) {
      throw new AirlockException(Kind.BAD_INPUT, SessionKubeconfig.SESSION_ENV + " is not set",
          "kube-token is run by kubectl through the kubeconfig airlock login writes");
    }
    JsonNode credential = ServerClient.expect(new ServerClient(server, ca).send("POST", "/api/v1/kube-token",
        session, null), 200);
    System.out.println(credential.toString());
    return 0;
  }
}
