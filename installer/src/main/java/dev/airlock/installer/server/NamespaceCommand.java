package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code airlock namespace create | delete | list}: a developer's extra namespaces, through the server. */
@Command(name = "namespace", mixinStandardHelpOptions = true, description = "A developer's extra namespaces, as "
    + "many as their roles' limits.extraNamespaces allow, named <personal namespace>-<suffix>, with the personal "
    + "namespace's permissions, quota and limits.",
    subcommands = {NamespaceCommand.Create.class, NamespaceCommand.Delete.class, NamespaceCommand.ListNamespaces.class})
public class NamespaceCommand {

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an extra namespace: NAME is "
      + "<personal namespace>-<suffix> (dev-alice-feature). Refused past the roles' extraNamespaces.")
  public static class Create implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "the namespace's name")
    String name;

    @Mixin SessionKubeconfigOption session;
    @Mixin OutputOptions output;

    record Created(String name, String owner, int used, int allowed) {}

    @Override
    public Integer call() {
      JsonNode b = ServerClient.expect(session.send("POST", "/api/v1/namespaces", Map.of("name", name)), 201);
      Created c = new Created(b.path("name").asText(), b.path("owner").asText(), b.path("used").asInt(),
          b.path("allowed").asInt());
      new Console(output).result("created namespace " + c.name() + " (" + c.used() + " of " + c.allowed()
          + " extra namespaces)", c);
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete one of your extra namespaces "
      + "and everything in it. Personal namespaces are never deleted.")
  public static class Delete implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "the namespace's name")
    String name;

    @Mixin SessionKubeconfigOption session;
    @Mixin OutputOptions output;

    record Deleted(String name) {}

    @Override
    public Integer call() {
      ServerClient.expect(session.send("DELETE", "/api/v1/namespaces/" + name, null), 200);
      new Console(output).result("deleted namespace " + name, new Deleted(name));
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List your personal namespace and your "
      + "extra ones, with how many more your roles allow.")
  public static class ListNamespaces implements Callable<Integer> {
    @Mixin SessionKubeconfigOption session;
    @Mixin OutputOptions output;

    record Namespaces(String personal, List<String> extra, int allowed) {}

    @Override
    public Integer call() {
      JsonNode b = ServerClient.expect(session.send("GET", "/api/v1/namespaces", null), 200);
      List<String> extra = new ArrayList<>();
      b.path("extra").forEach(n -> extra.add(n.path("name").asText()));
      Namespaces n = new Namespaces(b.path("personal").asText(), extra, b.path("allowed").asInt());
      new Console(output).result("personal: " + n.personal() + "\nextra (" + extra.size() + " of " + n.allowed()
          + "): " + (extra.isEmpty() ? "none" : String.join(", ", extra)), n);
      return 0;
    }
  }
}
