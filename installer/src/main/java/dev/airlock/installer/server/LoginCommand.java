package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock login}: SSO through the server, then a kubeconfig for the developer's namespace. */
@Command(name = "login", mixinStandardHelpOptions = true, description = {"Log in to an airlock server through the "
    + "company's SSO and write a kubeconfig whose credentials are short-lived tokens from `airlock kube-token`.",
    "Prints the URL to open (and opens a browser when there is one), and a code to enter at the server's /device "
    + "page from any other device; waits for the login to finish, then writes --kubeconfig-out (0600: it holds the session). --admin logs the break-glass admin in with the password from "
    + "standard input."})
public class LoginCommand implements Callable<Integer> {

  @Option(names = "--server", paramLabel = "URL", required = true, description = "the airlock server")
  URI server;

  @Option(names = "--connector", paramLabel = "NAME", description = "the SSO connector (default: the server's only "
      + "one)")
  String connector;

  @Option(names = "--kubeconfig-out", paramLabel = "FILE", description = "where to write the kubeconfig (default: "
      + "~/.kube/airlock)")
  Path out;

  @Option(names = "--ca", paramLabel = "FILE", description = "trust this PEM CA for the server's TLS certificate")
  Path ca;

  @Option(names = "--no-browser", description = "only print the URL, do not try to open a browser")
  boolean noBrowser;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m",
      converter = dev.airlock.installer.cli.DurationConverter.class,
      description = "how long to wait for the login (e.g. 90s, 10m, 1h30m; default: ${DEFAULT-VALUE})")
  java.time.Duration timeout;

  @Option(names = "--admin", description = "log in as the break-glass admin (password on standard input; works "
      + "without the IdP)")
  boolean admin;

  @Mixin OutputOptions output;

  record LoggedIn(String username, List<String> groups, List<String> roles, String namespace, String expiresAt,
      String kubeconfig) {}

  @Override
  public Integer call() throws Exception {
    Console console = new Console(output);
    ServerClient client = new ServerClient(server, ca);
    JsonNode result;
    if (admin) {
      String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      if (password == null || password.isBlank()) {
        throw new AirlockException(Kind.BAD_INPUT, "--admin reads the password from standard input, and it was "
            + "empty", "echo \"$PASSWORD\" | airlock login --admin --server URL");
      }
      result = ServerClient.expect(client.send("POST", "/api/v1/admin/login", null, Map.of("password",
          password.strip())), 201);
    } else {
      result = sso(console, client);
    }
    Path file = out != null ? out : Path.of(System.getProperty("user.home"), ".kube", "airlock");
    String launcher = System.getenv("AIRLOCK_LAUNCHER") != null ? System.getenv("AIRLOCK_LAUNCHER") : "airlock";
    SessionKubeconfig.write(file, result, client.server(), ca, launcher);
    List<String> groups = new ArrayList<>();
    result.path("groups").forEach(g -> groups.add(g.asText()));
    List<String> roles = new ArrayList<>();
    result.path("roles").forEach(g -> roles.add(g.asText()));
    String ns = result.path("namespace").asText(null);
    String where = ns != null ? "; kubectl starts in namespace " + ns : roles.contains("break-glass-admin") ? ""
        : "; your roles let you list pods in no namespace yet, so the kubeconfig names none (pass -n NAMESPACE)";
    console.result("logged in as " + result.path("username").asText() + " (roles: " + String.join(", ", roles)
        + ")" + where + "; session until " + dev.airlock.text.Times.format(java.time.Instant.parse(
        result.path("expiresAt").asText())) + "\nkubeconfig written to " + file + " (export KUBECONFIG=" + file
        + ")",
        new LoggedIn(result.path("username").asText(), groups, roles, ns, result.path("expiresAt").asText(),
            file.toString()));
    return 0;
  }

  private JsonNode sso(Console console, ServerClient client) throws IOException, InterruptedException {
    Map<String, String> body = connector == null ? Map.of() : Map.of("connector", connector);
    JsonNode start = ServerClient.expect(client.send("POST", "/api/v1/logins", null, body), 201);
    String url = start.path("url").asText();
    String device = start.path("verificationUrl").asText();
    String code = start.path("userCode").asText();
    if (console.json()) {
      console.emit(Console.JSON.createObjectNode().put("type", "login-url").put("url", url)
          .put("connector", start.path("connector").asText()).put("verificationUrl", device).put("userCode", code));
    } else {
      System.err.println("To log in through " + start.path("connector").asText() + ", open this URL in a browser:");
      System.err.println("  " + url);
      System.err.println("or, on any other device, open " + device + " and enter the code  " + code);
      System.err.println("(waiting up to " + dev.airlock.text.Durations.format(timeout) + "; Ctrl-C stops)");
    }
    if (!noBrowser) {
      dev.airlock.installer.cli.Browser.open(URI.create(url));
    }
    String path = "/api/v1/logins/" + start.path("id").asText() + "?poll=" + start.path("poll").asText();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      ServerClient.Answer a = client.send("GET", path, null, null);
      if (a.status() == 200) {
        if ("failed".equals(a.body().path("state").asText())) {
          Kind kind = "seat".equals(a.body().path("check").asText()) ? Kind.LICENSE : Kind.DENIED;
          AirlockException e = new AirlockException(kind, "the login was refused: " + a.body().path("error")
              .asText(), a.body().path("fix").asText(null));
          if (a.body().hasNonNull("check")) {
            e = e.with(AirlockException.CHECK, a.body().path("check").asText());
          }
          throw e;
        }
        return a.body();
      }
      ServerClient.expect(a, 202);
      Thread.sleep(500);
    }
    throw new AirlockException(Kind.REMOTE, "the login did not finish within " + dev.airlock.text.Durations.format(timeout),
        "open the URL and log in; if the IdP showed an error, ask an admin to check the connector");
  }
}
