package dev.airlock.installer.server;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --kubeconfig} of the commands that act through a session from {@code airlock login}. */
public class SessionKubeconfigOption {

  @Option(names = "--kubeconfig", paramLabel = "FILE", description = "the kubeconfig airlock login wrote (default: "
      + "the first file of $KUBECONFIG that airlock login wrote, else ~/.kube/airlock)")
  Path kubeconfig;

  SessionKubeconfig.Session read() {
    return SessionKubeconfig.readOrDefault(kubeconfig);
  }

  /** Sends a request with the session as its bearer credential. */
  ServerClient.Answer send(String method, String path, Object body) {
    SessionKubeconfig.Session s = read();
    return new ServerClient(s.server(), s.ca()).send(method, path, s.credential(), body);
  }
}
