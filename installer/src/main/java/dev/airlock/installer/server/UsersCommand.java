package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cluster.ClusterOptions;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import dev.airlock.rbac.UserName;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code airlock users list | revoke}: an admin's view of the platform's users. */
@Command(name = "users", mixinStandardHelpOptions = true, description = "List the platform's users and revoke "
    + "their access. With an admin kubeconfig these act on the cluster directly; with a kubeconfig from `airlock "
    + "login` (an admin's, or the break-glass admin's) they go through the server.",
    subcommands = {UsersCommand.ListUsers.class, UsersCommand.Revoke.class})
public class UsersCommand {

  /** Which way: the cluster (admin kubeconfig) or the server (session kubeconfig). */
  static boolean throughServer(ClusterOptions cluster) {
    Path file = cluster.kubeconfigPath();
    return file != null && SessionKubeconfig.isSession(file);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List users: groups, last login (seats "
      + "count users active in the last 30 days) and open sessions.")
  public static class ListUsers implements Callable<Integer> {
    @Mixin ClusterOptions cluster;
    @Mixin OutputOptions output;

    record Users(List<Map<String, Object>> users, Map<String, Object> seats) {}

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() {
      List<Map<String, Object>> users = new ArrayList<>();
      Map<String, Object> seats;
      if (throughServer(cluster)) {
        SessionKubeconfig.Session s = SessionKubeconfig.read(cluster.kubeconfigPath());
        JsonNode body = ServerClient.expect(new ServerClient(s.server(), s.ca()).send("GET", "/api/v1/users",
            s.credential(), null), 200);
        for (JsonNode u : body.path("users")) {
          users.add(Web.JSON.convertValue(u, Map.class));
        }
        seats = Web.JSON.convertValue(body.path("seats"), Map.class);
      } else {
        try (KubeTarget target = cluster.connect()) {
          UserDirectory.Listing l = UserDirectory.list(target.client(), cluster.namespace, Clock.systemUTC());
          users.addAll(l.users());
          seats = l.seats();
        }
      }
      StringBuilder text = new StringBuilder(String.format("%-28s %-24s %-22s %s%n", "USER", "GROUPS", "LAST LOGIN",
          "SESSIONS"));
      for (Map<String, Object> u : users) {
        text.append(String.format("%-28s %-24s %-22s %s%n", u.get("username"), String.join(",", list(u.get(
            "groups"))), u.get("lastLogin") == null ? "-" : u.get("lastLogin"), u.get("sessions")));
      }
      text.append("seats: ").append(seats.get("used")).append(" used (users active in the last 30 days)")
          .append(seats.get("allowed") == null ? ", no seat limit" : " of " + seats.get("allowed"))
          .append("; license ").append(seats.get("license"));
      new Console(output).result(text.toString(), new Users(users, seats));
      return 0;
    }

    @SuppressWarnings("unchecked")
    private static List<String> list(Object o) {
      return o instanceof List<?> l ? (List<String>) l : List.of();
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "End every session of a user: the server "
      + "refuses them at once, their Kubernetes tokens stop within 10 s (the API server's token cache), and registry "
      + "tokens are never renewed; they must log in again (and a user whose roles are gone cannot).")
  public static class Revoke implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "USER", description = "the user's name")
    String user;

    @Mixin ClusterOptions cluster;
    @Mixin OutputOptions output;

    record Revoked(String user, int sessionsEnded) {}

    @Override
    public Integer call() {
      int ended;
      if (throughServer(cluster)) {
        SessionKubeconfig.Session s = SessionKubeconfig.read(cluster.kubeconfigPath());
        JsonNode body = ServerClient.expect(new ServerClient(s.server(), s.ca()).send("POST", "/api/v1/users/"
            + URLEncoder.encode(user, StandardCharsets.UTF_8).replace("+", "%20") + "/revoke", s.credential(), null),
            200);
        ended = body.path("sessionsEnded").asInt();
      } else {
        try (KubeTarget target = cluster.connect()) {
          ended = new Sessions(target.client(), cluster.namespace, Clock.systemUTC()).revoke(UserName.of(user));
          new AuditLog(target.client(), cluster.namespace, Clock.systemUTC(), null).record(AuditLog.Event.of(
              target.user(), "revoke", user, "success", "cli").with("sessions", ended));
        }
      }
      new Console(output).result("revoked " + user + ": " + ended + " session" + (ended == 1 ? "" : "s") + " ended",
          new Revoked(user, ended));
      return 0;
    }
  }
}
