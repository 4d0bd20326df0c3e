// Benchmark (not a test): the airlock server at 100 concurrent users, run by bench/server.sh with the installer's
// test class path and the sso module's test classes (the stand-in OpenID provider). On the local control plane:
//   1. the login callback (state lookup, code exchange and ID-token validation against the stand-in provider, role
//      mapping, seat check, user record, RBAC reconciliation, session Secret, audit event) for 100 new users, all at
//      once; then 100 returning users;
//   2. kube-token (a TokenRequest bound to the session Secret, audited) and a registry token (ES256 JWT, audited),
//      100 concurrent clients, N requests each;
// each as wall-clock p50/p99 seen by the client on loopback (an upper bound of the server's own time), against the
// 50 ms p99 goal; and the JVM's peak resident memory (server and the benchmark's clients together).
import dev.airlock.installer.server.AirlockServer;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.RoleSet;
import dev.airlock.sso.oidc.TestProvider;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class ServerBench {
  static final String NS = "airlock-bench";
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER).build();
  static final Map<String, String> USER_OF_CODE = new ConcurrentHashMap<>();

  public static void main(String[] args) throws Exception {
    boolean kubectlMode = args[0].equals("kubectl");
    int users = kubectlMode ? 1 : Integer.parseInt(args[0]);
    int perUser = kubectlMode ? 1 : Integer.parseInt(args[1]);
    StringBuilder why = new StringBuilder();
    KubeBinaries bins = KubeBinaries.fromEnvironment(why).orElseThrow(() -> new IllegalStateException(why.toString()));
    Path dir = Files.createTempDirectory("server-bench");
    try (LocalControlPlane cp = LocalControlPlane.start(bins); TestProvider op = TestProvider.start(Clock.systemUTC())) {
      op.idToken = g -> TestProvider.sign(op.key, op.claims(g).subject("sub-" + USER_OF_CODE.get(g.code()))
          .claim("preferred_username", USER_OF_CODE.get(g.code())).build());
      op.userInfo = g -> Map.of("sub", "sub-" + USER_OF_CODE.get(g.code()), "preferred_username",
          USER_OF_CODE.get(g.code()), "groups", List.of("devs"));
      KubernetesClient client = cp.client();
      client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
      Files.writeString(dir.resolve("client-secret"), TestProvider.SECRET);
      AirlockServer.storeSsoConfig(client, NS, """
          apiVersion: airlock.dev/v1alpha1
          kind: SSOConfig
          connectors:
            - {name: corp, type: oidc, issuer: %s, clientId: %s, clientSecret: {file: client-secret}}
          """.formatted(op.issuer, TestProvider.CLIENT), dir.resolve("sso.yaml").toString());
      RbacStore store = new RbacStore(client, NS);
      store.ensureCrds();
      store.write(RoleSet.parse("roles.yaml", """
          apiVersion: airlock.dev/v1alpha1
          kind: RoleSet
          roles:
            - name: developer
              allow: [{namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}]
              deny: [{namespaces: ["*"], resources: ["secrets"], verbs: ["*"]}]
              registry: {allow: [{repositories: ["dev-{{user}}/*"], actions: [pull, push]}]}
          mappings:
            - {group: devs, roles: [developer]}
          """), true);
      var config = client.getConfiguration();
      AirlockServer server = AirlockServer.start(client, new AirlockServer.Settings(NS, new InetSocketAddress(
          "127.0.0.1", 0), null, null, config.getMasterUrl(), null, "airlock-registry", Duration.ofMinutes(60), Duration.ofDays(365),
          new dev.airlock.sso.SecretSources(dir, dev.airlock.sso.SecretSources.DEFAULT_ENV)), Clock.systemUTC(), null);
      server.loginLimits(100_000, 100_000, 100_000); // the benchmark's users all log in from this one address
      String base = "http://127.0.0.1:" + server.port();
      if (System.getenv("PROBE") != null) {
        for (int i = 0; i < 3; i++) {
          long a = System.nanoTime();
          for (int k = 0; k < 50; k++) {
            client.secrets().inNamespace(NS).withName("airlock-server-keys").get();
          }
          long b = System.nanoTime();
          for (int k = 0; k < 50; k++) {
            send(HttpRequest.newBuilder(URI.create(base + "/healthz")));
          }
          long c = System.nanoTime();
          dev.airlock.kube.AuditLog log = new dev.airlock.kube.AuditLog(client, NS, Clock.systemUTC(), null);
          for (int k = 0; k < 50; k++) {
            log.record(dev.airlock.kube.AuditLog.Event.of("x", "probe", "y", "ok", null));
          }
          long d = System.nanoTime();
          for (int k = 0; k < 50; k++) {
            rbacRead(store);
          }
          long e = System.nanoTime();
          System.out.printf("GET secret %.1f ms, healthz %.1f ms, audit append %.1f ms, roles read %.1f ms%n",
              (b - a) / 50e6, (c - b) / 50e6, (d - c) / 50e6, (e - d) / 50e6);
        }
      }
      server.publicUrl(URI.create(base));
      if (kubectlMode) {
        kubectlBench(base, op, client, dir, Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
        server.close();
        return;
      }
      ExecutorService pool = Executors.newFixedThreadPool(users);

      List<Long> firstLogins = Collections.synchronizedList(new ArrayList<>());
      List<String> sessions = Collections.synchronizedList(new ArrayList<>());
      long t0 = System.nanoTime();
      run(pool, users, i -> sessions.add(login(base, op, "dev" + i, firstLogins)));
      double firstWall = (System.nanoTime() - t0) / 1e9;
      List<Long> again = Collections.synchronizedList(new ArrayList<>());
      run(pool, users, i -> login(base, op, "dev" + i, again));

      List<Long> kube = Collections.synchronizedList(new ArrayList<>());
      List<Long> registry = Collections.synchronizedList(new ArrayList<>());
      long tokens0 = System.nanoTime();
      run(pool, users, i -> {
        String s = sessions.get(i);
        String user = "dev" + i;
        for (int k = 0; k < perUser; k++) {
          long a = System.nanoTime();
          ok(send(HttpRequest.newBuilder(URI.create(base + "/api/v1/kube-token")).header("Authorization",
              "Bearer " + s).POST(HttpRequest.BodyPublishers.noBody())), 200);
          kube.add(System.nanoTime() - a);
          long b = System.nanoTime();
          String body = ok(send(HttpRequest.newBuilder(URI.create(base + "/registry/token?service=airlock-registry"
              + "&scope=" + URLEncoder.encode("repository:" + user + "/app:pull,push", StandardCharsets.UTF_8)))
              .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + s).getBytes(
                  StandardCharsets.UTF_8)))), 200);
          registry.add(System.nanoTime() - b);
          if (!body.contains("\"token\"")) {
            throw new IllegalStateException("no registry token: " + body);
          }
        }
      });
      double tokenWall = (System.nanoTime() - tokens0) / 1e9;
      pool.shutdown();
      System.out.printf("%d users, %d concurrent; %d kube-token and %d registry-token requests (%d cores)%n", users,
          users, kube.size(), registry.size(), Runtime.getRuntime().availableProcessors());
      report("first login callback (user set up)", firstLogins);
      System.out.printf("   %d first logins in %.1f s%n", users, firstWall);
      report("returning login callback", again);
      report("kube-token", kube);
      report("registry token", registry);
      System.out.printf("   %d token requests in %.1f s: %.0f per second%n", kube.size() + registry.size(), tokenWall,
          (kube.size() + registry.size()) / tokenWall);
      System.out.printf("peak RSS of this JVM (server and %d client threads): %d MB%n", users, peakRssKb() / 1024);
      server.close();
    }
  }

  /**
   * bench/kubectl.sh: kubectl through the kubeconfig airlock login writes (warm token cache) against kubectl with a
   * static token of the same ServiceAccount; the plugin alone, cached, against a bare JVM; the plugin uncached (a
   * server round trip with its TokenRequest); airlock --help against a bare JVM. Interleaved, in one run.
   */
  static void kubectlBench(String base, TestProvider op, KubernetesClient client, Path dir, Path launcher,
      Path kubectl, int runs) throws Exception {
    String session = login(base, op, "dev0", new ArrayList<>());
    var config = client.getConfiguration();
    String ca = config.getCaCertData() != null ? config.getCaCertData() : Base64.getEncoder().encodeToString(
        Files.readAllBytes(Path.of(config.getCaCertFile())));
    String cluster = "clusters:\n- name: c\n  cluster: {server: '" + config.getMasterUrl() + "', "
        + "certificate-authority-data: " + ca + "}\ncontexts:\n- name: c\n  context: {cluster: c, user: u, namespace: "
        + "dev-dev0}\ncurrent-context: c\n";
    Path airlockCfg = dir.resolve("airlock.kubeconfig");
    Files.writeString(airlockCfg, "apiVersion: v1\nkind: Config\n" + cluster + "users:\n- name: u\n  user:\n"
        + "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: " + launcher + "\n"
        + "      args: [kube-token, --server, '" + base + "']\n      env: [{name: AIRLOCK_SESSION, value: '" + session
        + "'}]\n      interactiveMode: Never\n");
    String token = client.serviceAccounts().inNamespace(NS).withName("user-dev0").tokenRequest(
        new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder().withNewSpec()
            .withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();
    Path staticCfg = dir.resolve("static.kubeconfig");
    Files.writeString(staticCfg, "apiVersion: v1\nkind: Config\n" + cluster + "users:\n- name: u\n  user: {token: "
        + token + "}\n");
    Path cache = dir.resolve("kube-cache");
    Path hello = dir.resolve("hello");
    Files.createDirectories(hello);
    Files.writeString(hello.resolve("Hello.java"), "public class Hello { public static void main(String[] a) { "
        + "System.out.println(\"{}\"); } }");
    javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", hello.toString(),
        hello.resolve("Hello.java").toString());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Map<String, String> env = Map.of("AIRLOCK_KUBE_CACHE_DIR", cache.toString(), "AIRLOCK_SESSION", session);
    // Each command under a shell of its own, as kubectl runs a plugin (the same shell cost for every side).
    List<String> kStatic = List.of(kubectl.toString(), "--kubeconfig", staticCfg.toString(), "get", "pods");
    List<String> kAirlock = List.of(kubectl.toString(), "--kubeconfig", airlockCfg.toString(), "get", "pods");
    List<String> plugin = List.of("sh", "-c", "\"$0\" kube-token --server \"$1\"; exit $?", launcher.toString(), base);
    List<String> bare = List.of("sh", "-c", "\"$0\" -cp \"$1\" Hello; exit $?", java, hello.toString());
    List<String> help = List.of("sh", "-c", "\"$0\" --help; exit $?", launcher.toString());
    timed(kAirlock, env); // warm the cache
    long issuedBefore = auditCount(client, "kube-token");
    List<Long> ts = new ArrayList<>();
    List<Long> ta = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      ts.add(timed(kStatic, env));
      ta.add(timed(kAirlock, env));
    }
    long requests = auditCount(client, "kube-token") - issuedBefore;
    List<Long> pc = new ArrayList<>();
    List<Long> hb = new ArrayList<>();
    for (int i = 0; i < runs * 2; i++) {
      pc.add(timed(plugin, env));
      hb.add(timed(bare, env));
    }
    List<Long> pu = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      dev.airlock.io.TempTrees.delete(cache);
      pu.add(timed(plugin, env));
    }
    List<Long> hp = new ArrayList<>();
    List<Long> hb2 = new ArrayList<>();
    for (int i = 0; i < Math.max(5, runs / 2); i++) {
      hp.add(timed(help, env));
      hb2.add(timed(bare, env));
    }
    System.out.printf("kubectl get pods, %d runs each, interleaved (%d cores)%n", runs,
        Runtime.getRuntime().availableProcessors());
    System.out.printf("  static token      p50 %6.1f ms%n", pct(ts, 50));
    System.out.printf("  airlock (cached)  p50 %6.1f ms   ratio %.2f (goal <= 1.3); %d kube-token requests reached "
        + "the server%n", pct(ta, 50), pct(ta, 50) / pct(ts, 50), requests);
    System.out.printf("kube-token alone, cached: p50 %.1f ms p95 %.1f ms; bare JVM (Hello) p50 %.1f ms p95 %.1f ms;"
        + " p95 ratio %.2f (goal <= 1.5)%n", pct(pc, 50), pct(pc, 95), pct(hb, 50), pct(hb, 95),
        pct(pc, 95) / pct(hb, 95));
    System.out.printf("kube-token alone, uncached (server round trip, TokenRequest): p50 %.1f ms (goal <= 300 ms)%n",
        pct(pu, 50));
    System.out.printf("airlock --help: median %.0f ms (goal < 300 ms); bare JVM %.0f ms; ratio %.1f%n", pct(hp, 50),
        pct(hb2, 50), pct(hp, 50) / pct(hb2, 50));
  }

  static long timed(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    long a = System.nanoTime();
    Process p = pb.start();
    int code = p.waitFor();
    long t = System.nanoTime() - a;
    if (code != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " exited " + code);
    }
    return t;
  }

  static double pct(List<Long> nanos, int p) {
    List<Long> s = new ArrayList<>(nanos);
    Collections.sort(s);
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(s.size() * p / 100.0) - 1)) / 1e6;
  }

  static long auditCount(KubernetesClient client, String action) {
    long n = 0;
    for (var cm : client.configMaps().inNamespace(NS).list().getItems()) {
      if (cm.getMetadata().getName().startsWith("airlock-audit-") && cm.getData() != null
          && cm.getData().get("events.jsonl") != null) {
        n += cm.getData().get("events.jsonl").lines().filter(l -> l.contains("\"action\":\"" + action + "\""))
            .count();
      }
    }
    return n;
  }

  static void rbacRead(RbacStore store) {
    store.read();
  }

  interface Task {
    void run(int i) throws Exception;
  }

  static void run(ExecutorService pool, int n, Task t) throws Exception {
    List<Future<?>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      fs.add(pool.submit(() -> {
        t.run(k);
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
  }

  /** One login as the CLI and a browser do it; the callback's time goes into {@code times}. */
  static String login(String base, TestProvider op, String user, List<Long> times) throws Exception {
    String started = ok(send(HttpRequest.newBuilder(URI.create(base + "/api/v1/logins")).header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"connector\":\"corp\"}"))), 201);
    String id = field(started, "id");
    String poll = field(started, "poll");
    HttpResponse<String> redirect = send(HttpRequest.newBuilder(URI.create(base + "/login/" + id)));
    URI authorize = URI.create(redirect.headers().firstValue("Location").orElseThrow());
    Map<String, String> cb = op.authorize(authorize);
    USER_OF_CODE.put(cb.get("code"), user);
    StringBuilder q = new StringBuilder();
    cb.forEach((k, v) -> q.append(q.length() == 0 ? "" : "&").append(k).append('=').append(URLEncoder.encode(v,
        StandardCharsets.UTF_8)));
    long a = System.nanoTime();
    ok(send(HttpRequest.newBuilder(URI.create(base + "/sso/oidc/corp/callback?" + q))), 200);
    times.add(System.nanoTime() - a);
    String done = ok(send(HttpRequest.newBuilder(URI.create(base + "/api/v1/logins/" + id + "?poll=" + poll))), 200);
    return field(done, "session");
  }

  static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String ok(HttpResponse<String> r, int status) {
    if (r.statusCode() != status) {
      throw new IllegalStateException(r.request().uri().getPath() + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("no " + name + " in " + json);
    }
    return m.group(1);
  }

  static void report(String what, List<Long> nanos) {
    List<Long> s = new ArrayList<>(nanos);
    Collections.sort(s);
    double p50 = s.get(s.size() / 2) / 1e6;
    double p99 = s.get(Math.min(s.size() - 1, (int) Math.ceil(s.size() * 0.99) - 1)) / 1e6;
    System.out.printf("%-36s p50 %7.1f ms   p99 %7.1f ms   goal p99 < 50 ms: ratio %.2f%n", what, p50, p99, p99 / 50);
  }

  static long peakRssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
