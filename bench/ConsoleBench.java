// Benchmark (not a test): how long the console's pages take on the server with a large installation behind them —
// 1,000 operations in the installation record and 10,000 audit events (50 segments) — against the 200 ms goal.
// Run by bench/console.sh. The server runs in this JVM on the local control plane; the client is on loopback.
import dev.airlock.deploy.State;
import dev.airlock.deploy.StateStore;
import dev.airlock.installer.server.AdminPassword;
import dev.airlock.installer.server.AirlockServer;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import dev.airlock.testing.kube.KubeBinaries;
import dev.airlock.testing.kube.LocalControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

public class ConsoleBench {
  static final String NS = "airlock-console-bench";
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER).build();

  public static void main(String[] args) throws Exception {
    int operations = Integer.parseInt(args[0]);
    int events = Integer.parseInt(args[1]);
    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    try (LocalControlPlane cp = LocalControlPlane.start(bins)) {
      KubernetesClient client = cp.client();
      client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
      long s0 = System.nanoTime();
      AuditLog log = new AuditLog(client, NS, Clock.systemUTC(), null);
      String[] actions = {"login", "kube-token", "registry-token", "namespace-create", "revoke", "logout"};
      for (int i = 0; i < events; i++) {
        log.record(AuditLog.Event.of("user" + (i % 60), actions[i % actions.length], "target-" + i, "success",
            "10.0.0." + (i % 250)));
      }
      List<State.Operation> history = new ArrayList<>();
      Instant t = Instant.parse("2025-01-01T00:00:00Z");
      for (int i = 0; i < operations; i++) {
        t = t.plus(Duration.ofHours(7));
        history.add(new State.Operation("upgrade-" + i, i == 0 ? "install" : "upgrade", i == 0 ? null : "1." + (i - 1)
            + ".0", "1." + i + ".0", "sha256:" + "a".repeat(64), "ci-bot", t, t.plusSeconds(90), i % 17 == 0
            ? "rolled-back" : "succeeded", i % 17 == 0 ? "release/ui failed" : null, List.of(), Map.of()));
      }
      // The installed version and the 10 earlier ones kept for rollback: 4 components, 20 images each.
      List<State.Installation> kept = new ArrayList<>();
      for (int v = operations - 11; v < operations; v++) {
        List<State.Component> components = new ArrayList<>();
        for (String c : List.of("registry", "buildkit", "controller", "ui")) {
          components.add(new State.Component(c, NS, "platform-" + c, v, "platform-" + c, "1." + v + ".0",
              "sha256:" + "c".repeat(64)));
        }
        Map<String, String> images = new java.util.TreeMap<>();
        for (int i = 0; i < 20; i++) {
          images.put("docker.io/vendor/image-" + i + ":1." + (i % 3 == 0 ? v : 0), "registry.corp/platform/vendor/"
              + "image-" + i + "@sha256:" + String.format("%064x", (long) v * 100 + (i % 3 == 0 ? v : 0) + i));
        }
        kept.add(new State.Installation("platform", "1." + v + ".0", "sha256:" + "b".repeat(64), "lic-1",
            "registry.corp/platform", NS, "ci-bot", t, "installed", null, components, images, List.of(), false, null));
      }
      State.Installation inst = kept.remove(kept.size() - 1);
      new StateStore(KubeTarget.reading(client, "bench"), NS).save(new State(inst, history.get(history.size() - 1),
          history, kept), "platform");
      System.out.printf("seeded %d operations and %d audit events in %.1f s%n", operations, events,
          (System.nanoTime() - s0) / 1e9);

      String password = AdminPassword.ensure(client, NS);
      var config = client.getConfiguration();
      AirlockServer server = AirlockServer.start(client, new AirlockServer.Settings(NS, new InetSocketAddress(
          "127.0.0.1", 0), null, null, config.getMasterUrl(), null, "airlock-registry", Duration.ofMinutes(60),
          Duration.ofDays(365)), Clock.systemUTC(), null);
      String base = "http://127.0.0.1:" + server.port();
      server.publicUrl(URI.create(base));
      HttpResponse<String> login = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/console/login/admin"))
          .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
              "password=" + URLEncoder.encode(password, StandardCharsets.UTF_8))).build(),
          HttpResponse.BodyHandlers.ofString());
      String cookie = login.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
      List<String> pages = List.of("/console", "/console/history", "/console/history?op=upgrade-" + (operations - 1),
          "/console/history?a=1." + (operations - 2) + ".0&b=1." + (operations - 1) + ".0", "/console/audit",
          "/console/audit?action=revoke", "/console/users", "/console/roles", "/console/upgrade", "/console/license",
          "/console/sso");
      // Warm up every page first (the JIT, the server's caches), so no page pays for the one measured before it.
      for (int round = 0; round < 10; round++) {
        for (String page : pages) {
          HTTP.send(HttpRequest.newBuilder(URI.create(base + page)).header("Cookie", cookie).build(),
              HttpResponse.BodyHandlers.discarding());
        }
      }
      System.out.printf("%-40s %8s %8s %8s %10s%n", "page", "p50 ms", "p95 ms", "max ms", "p95/200ms");
      for (String page : pages) {
        List<Long> times = new ArrayList<>();
        int bytes = 0;
        for (int i = 0; i < 25; i++) {
          long a = System.nanoTime();
          HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + page)).header("Cookie", cookie)
              .build(), HttpResponse.BodyHandlers.ofString());
          long ns = System.nanoTime() - a;
          if (r.statusCode() != 200) {
            throw new IllegalStateException(page + " answered " + r.statusCode() + ": " + r.body());
          }
          bytes = r.body().length();
          if (i >= 5) {
            times.add(ns);
          }
        }
        Collections.sort(times);
        double p50 = times.get(times.size() / 2) / 1e6;
        double p95 = times.get((int) Math.ceil(times.size() * 0.95) - 1) / 1e6;
        System.out.printf("%-40s %8.1f %8.1f %8.1f %10.2f   (%d kB)%n", page, p50, p95,
            times.get(times.size() - 1) / 1e6, p95 / 200, bytes / 1024);
      }
      server.close();
    }
  }
}
