package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code airlock whoami}: the session behind a kubeconfig from {@code airlock login}. */
@Command(name = "whoami", mixinStandardHelpOptions = true, description = "Show who the session of a kubeconfig "
    + "from `airlock login` is: user, groups, roles, namespaces, and when the session ends.")
public class WhoamiCommand implements Callable<Integer> {

  @Mixin SessionKubeconfigOption session;

  @Mixin OutputOptions output;

  record Me(String username, List<String> groups, List<String> roles, List<String> namespaces, String expiresAt,
      List<String> platform, Long tokenLifetimeSeconds) {}

  @Override
  public Integer call() {
    SessionKubeconfig.Session s = session.read();
    JsonNode me = ServerClient.expect(new ServerClient(s.server(), s.ca()).send("GET", "/api/v1/me", s.credential(),
        null), 200);
    Me m = new Me(me.path("username").asText(), list(me.path("groups")), list(me.path("roles")),
        list(me.path("namespaces")), me.path("expiresAt").asText(), list(me.path("platform")),
        me.hasNonNull("tokenLifetimeSeconds") ? me.path("tokenLifetimeSeconds").asLong() : null);
    new Console(output).result(m.username() + "\n  groups:      " + String.join(", ", m.groups())
        + "\n  roles:       " + String.join(", ", m.roles()) + "\n  namespaces:  " + String.join(", ", m.namespaces())
        + "\n  session until " + m.expiresAt() + (m.tokenLifetimeSeconds() == null ? "" : "; tokens last "
        + m.tokenLifetimeSeconds() / 60 + " min"), m);
    return 0;
  }

  static List<String> list(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.forEach(x -> out.add(x.asText()));
    return out;
  }
}
