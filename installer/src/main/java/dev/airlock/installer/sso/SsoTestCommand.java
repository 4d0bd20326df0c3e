package dev.airlock.installer.sso;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.ListenAddress;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.sso.FormData;
import dev.airlock.sso.Identity;
import dev.airlock.sso.ReplayCache;
import dev.airlock.sso.RoleMapping;
import dev.airlock.sso.SsoConfig;
import dev.airlock.sso.oidc.OidcRelyingParty;
import dev.airlock.sso.saml.IdpMetadata;
import dev.airlock.sso.saml.SamlServiceProvider;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code airlock sso test}: one real login through a connector, on loopback, then who the IdP says the user is and
 * which platform roles that gives — or exactly which check refused the login and what to change. Teleport's
 * {@code tctl sso test} is the model.
 */
@Command(name = "test", mixinStandardHelpOptions = true, description = {"Run one real login through a connector and "
    + "print the identity, its groups and the roles they map to; or why the login was refused (exit 13).",
    "Listens on --listen for the IdP's answer: register URL/sso/oidc/CONNECTOR/callback (OIDC) or "
    + "URL/sso/saml/CONNECTOR/acs (SAML) with the IdP, where URL is http://HOST:PORT of --listen. Prints the URL to "
    + "open, and opens a browser when there is one."})
public class SsoTestCommand implements Callable<Integer> {

  static final String DEFAULT_URL = "http://127.0.0.1:8400";

  @Mixin SsoOptions sso;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8400",
      description = "where to receive the IdP's answer (default: ${DEFAULT-VALUE}; port 0 picks a free one, which "
          + "the IdP must then accept)")
  String listen;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m",
      converter = dev.airlock.installer.cli.DurationConverter.class,
      description = "how long to wait for the login (e.g. 90s, 10m, 1h30m; default: ${DEFAULT-VALUE})")
  java.time.Duration timeout;

  @Option(names = "--no-browser", description = "only print the URL, do not try to open a browser")
  boolean noBrowser;

  @Mixin OutputOptions output;

  /** What {@code sso test} prints on success. */
  record Result(String connector, String subject, String username, String email, String displayName,
      List<String> groups, List<String> roles, Instant authenticatedAt, Instant sessionExpires) {}

  /** The login URL event ({@code --output json}). */
  record LoginUrl(String type, String connector, String url, String redirectUri) {}

  @Override
  public Integer call() throws Exception {
    Console console = new Console(output);
    SsoConfig config = sso.read();
    SsoConfig.Connector connector = config.connector(sso.connector);
    InetSocketAddress address = ListenAddress.parse(listen, "127.0.0.1:8400");
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (BindException e) {
      throw new AirlockException(Kind.BAD_INPUT, "cannot listen on " + listen + ": " + e.getMessage(),
          "pick a free port with --listen (the IdP must accept the redirect URI on that port)", e);
    }
    CompletableFuture<Identity> done = new CompletableFuture<>();
    try {
      URI base = URI.create("http://" + hostForUrl(address) + ":" + server.getAddress().getPort());
      URI login = begin(connector, base, server, done);
      server.start();
      URI returnTo = connector instanceof SsoConfig.Oidc ? SsoOptions.callback(base, connector.name())
          : SsoOptions.acs(base, connector.name());
      if (console.json()) {
        console.emit(Console.JSON.valueToTree(new LoginUrl("login-url", connector.name(), login.toString(),
            returnTo.toString())));
      } else {
        System.err.println("Open this URL in a browser to log in through " + connector.name() + ":");
        System.err.println("  " + login);
        System.err.println("(the IdP answers at " + returnTo + "; waiting up to " + dev.airlock.text.Durations.format(timeout) + "; Ctrl-C stops)");
      }
      if (!noBrowser) {
        dev.airlock.installer.cli.Browser.open(login);
      }
      Identity id;
      try {
        id = done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new AirlockException(Kind.REMOTE, "no login arrived at " + returnTo + " within " + dev.airlock.text.Durations.format(timeout),
            "open the URL above and log in; if the IdP showed an error, register " + returnTo + " with it");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof AirlockException a) {
          throw a;
        }
        throw e;
      }
      List<String> roles = RoleMapping.roles(config.roleMappings(), id);
      console.result(text(id, roles), new Result(id.connector(), id.subject(), id.username(), id.email(),
          id.displayName(), id.groups(), roles, id.authenticatedAt(), id.sessionExpires()));
      return 0;
    } finally {
      server.stop(0);
    }
  }

  /** Starts the login and installs the handler that finishes it; returns the URL that starts it in a browser. */
  private URI begin(SsoConfig.Connector connector, URI base, HttpServer server, CompletableFuture<Identity> done) {
    if (connector instanceof SsoConfig.Oidc oidc) {
      OidcRelyingParty rp = new OidcRelyingParty(oidc, Clock.systemUTC());
      URI callback = SsoOptions.callback(base, oidc.name());
      OidcRelyingParty.Start start = rp.begin(callback);
      handle(server, callback.getPath(), "GET", done, x -> rp.complete(FormData.parse(x.getRequestURI().getRawQuery()),
          start.pending()));
      redirect(server, start.authorizationUrl());
      return start.authorizationUrl();
    }
    SsoConfig.Saml saml = (SsoConfig.Saml) connector;
    SamlServiceProvider sp = new SamlServiceProvider(saml, IdpMetadata.load(saml), ReplayCache.inMemory(),
        Clock.systemUTC());
    URI acs = SsoOptions.acs(base, saml.name());
    SamlServiceProvider.Start start = sp.begin(acs, null);
    handle(server, acs.getPath(), "POST", done, x -> {
      Map<String, String> form = FormData.parse(new String(x.getRequestBody().readNBytes(2 << 20), StandardCharsets.UTF_8));
      return sp.complete(form.get("SAMLResponse"), start.pending(), acs);
    });
    redirect(server, start.redirectUrl());
    return start.redirectUrl();
  }

  interface Finish {
    Identity apply(HttpExchange x) throws IOException;
  }

  /** The IdP's answer: finished once; the browser is told the outcome. */
  private static void handle(HttpServer server, String path, String method, CompletableFuture<Identity> done,
      Finish finish) {
    server.createContext(path, x -> {
      try {
        if (!method.equals(x.getRequestMethod())) {
          page(x, 405, "Expected " + method + " from the IdP.");
          return;
        }
        if (done.isDone()) {
          page(x, 409, "This login test is already finished; see the terminal.");
          return;
        }
        try {
          Identity id = finish.apply(x);
          page(x, 200, "Logged in as " + id.username() + ". You can close this tab; the terminal shows the rest.");
          done.complete(id);
        } catch (AirlockException e) {
          page(x, 403, "The login was refused: " + e.getMessage() + e.fix().map(f -> "\nFix: " + f).orElse(""));
          done.completeExceptionally(e);
        } catch (RuntimeException e) {
          page(x, 500, "The login failed: " + e);
          done.completeExceptionally(e);
        }
      } finally {
        x.close();
      }
    });
  }

  /** {@code GET /} sends the browser to the IdP, so the short local URL also starts the login. */
  private static void redirect(HttpServer server, URI to) {
    server.createContext("/", x -> {
      if (!x.getRequestURI().getPath().equals("/")) {
        page(x, 404, "Not found.");
      } else {
        x.getResponseHeaders().set("Location", to.toString());
        x.sendResponseHeaders(302, -1);
      }
      x.close();
    });
  }

  private static void page(HttpExchange x, int status, String text) throws IOException {
    byte[] body = ("<!doctype html><meta charset=utf-8><title>airlock sso test</title><pre>"
        + text.replace("&", "&amp;").replace("<", "&lt;") + "</pre>").getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
    x.getResponseHeaders().set("Cache-Control", "no-store");
    x.getResponseHeaders().set("Referrer-Policy", "no-referrer");
    x.sendResponseHeaders(status, body.length);
    x.getResponseBody().write(body);
  }

  private static String text(Identity id, List<String> roles) {
    StringBuilder sb = new StringBuilder("login through " + id.connector() + " succeeded\n");
    sb.append("  username:       ").append(id.username()).append('\n');
    sb.append("  subject:        ").append(id.subject()).append('\n');
    sb.append("  email:          ").append(id.email() == null ? "(none verified)" : id.email()).append('\n');
    sb.append("  display name:   ").append(id.displayName() == null ? "(none)" : id.displayName()).append('\n');
    sb.append("  groups:         ").append(id.groups().isEmpty() ? "(none)" : String.join(", ", id.groups()))
        .append('\n');
    sb.append("  roles:          ").append(roles.isEmpty() ? "(none: no roleMappings rule matches these groups)"
        : String.join(", ", roles)).append('\n');
    sb.append("  authenticated:  ").append(id.authenticatedAt()).append('\n');
    sb.append("  session until:  ").append(id.sessionExpires());
    return sb.toString();
  }

  private static String hostForUrl(InetSocketAddress a) {
    String h = a.getHostString();
    return h.equals("0.0.0.0") ? "127.0.0.1" : h.contains(":") ? "[" + h + "]" : h;
  }
}
