package dev.airlock.installer.server;

import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock logout}: ends the session of a kubeconfig; its tokens stop working within seconds. */
@Command(name = "logout", mixinStandardHelpOptions = true, description = "End the session of a kubeconfig from "
    + "`airlock login`: the server deletes it and refuses it from then on, and the Kubernetes API server refuses "
    + "every token issued for it within 10 s (it caches a good token check that long). The session's cached "
    + "kube-token (~/.kube/cache/airlock) is deleted.")
public class LogoutCommand implements Callable<Integer> {

  @Mixin SessionKubeconfigOption session;

  @Mixin OutputOptions output;

  record LoggedOut(String kubeconfig) {}

  @Override
  public Integer call() {
    SessionKubeconfig.Session s = session.read();
    // The cached token goes first: even when the server cannot be reached, this machine stops using the session.
    dev.airlock.kubetoken.TokenCache.forget(dev.airlock.kubetoken.TokenCache.defaultDir(System.getenv(
        "AIRLOCK_KUBE_CACHE_DIR")), s.server(), s.credential());
    ServerClient.expect(new ServerClient(s.server(), s.ca()).send("DELETE", "/api/v1/session", s.credential(),
        null), 204);
    new Console(output).result("logged out; the session of " + s.file() + " has ended", new LoggedOut(s.file().toString()));
    return 0;
  }
}
