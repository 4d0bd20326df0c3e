package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.ExampleVariants;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.idp.CorpRealm;
import dev.airlock.testing.idp.KeycloakServer;
import dev.airlock.testing.kube.KubeClusterExtension;
import dev.airlock.testing.kube.KubeTest;
import dev.airlock.testing.kube.TestCluster;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin console in a real browser (Debian's chromium, headless, through chromedriver) against the server on the
 * real control plane with a real Keycloak and an installed platform: SSO login into the dashboard, history, users
 * with a revocation, audit, license; upgrades by upload (resumed, checked, followed live, rolled back), a rollback by
 * hand, a license upload, an SSO connector added and tested; a viewer who sees no actions and is refused when
 * posting anyway; forged posts; session expiry and revocation. Each page's screenshot goes to
 * {@code target/console-screenshots} (docs/console.md uses them).
 */
@KubeTest
@Tag("keycloak")
@Tag("browser")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SHOTS = Path.of("target", "console-screenshots");
  static final String ROLES = """
      apiVersion: airlock.dev/v1alpha1
      kind: RoleSet
      roles:
        - name: console-admin
          allow:
            - {namespaces: ["dev-{{user}}"], resources: ["*"], verbs: ["*"]}
          platform: [view, install, upgrade, rollback, license, sso, roles, users, audit, support]
        - name: viewer
          allow:
            - {namespaces: ["dev-{{user}}"], resources: ["pods"], verbs: [get, list]}
          platform: [view]
      mappings:
        - {group: devs, roles: [console-admin]}
        - {group: qa, roles: [viewer]}
      """;

  @TempDir static Path dir;
  static TestCluster cluster;
  static KeycloakServer kc;
  static String ns;
  static RegistryServer company;
  static Process server;
  static String url;
  static WebDriver alice;
  static WebDriver bob;
  static List<Path> profiles = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    assumeTrue(browserAvailable(), ConsoleIT::whyNoBrowser);
    assumeTrue(KeycloakServer.shared().isPresent(), KeycloakServer::whyUnavailable);
    assumeTrue(RegistryServer.available(), "docker-registry is not installed (apt-get install docker-registry)");
    kc = KeycloakServer.shared().get();
    cluster = KubeClusterExtension.shared().orElseThrow();
    CorpRealm.createWithKeys(kc, dir);
    ns = TestCluster.uniqueName("console");
    // An installed platform for the dashboard and the history.
    Platform.keysAndLicense(dir);
    try (RegistryServer mirror = RegistryServer.startPlain()) {
      ExampleImages.seed(mirror, dir.resolve("images"));
      ExampleImages.seedNext(mirror, dir.resolve("images-next"));
      Platform.build(dir, Platform.example(), "platform.airlock", mirror);
      // The bundles the console upgrades to: 1.5.0, and a 1.6.0 whose UI chart cannot be applied.
      Platform.build(dir, ExampleVariants.v2(Platform.example().getParent(), dir.resolve("specs")), "v2.airlock",
          mirror);
      Platform.build(dir, ExampleVariants.v3Broken(Platform.example().getParent(), dir.resolve("specs")),
          "v3-broken.airlock", mirror);
    }
    // The vendor's next license for the same customer (issued later: a higher sequence), and a forged copy of it.
    Cli.Run lic = Cli.run(dir, "license", "issue", "--customer", "Acme Corp", "--product", "platform", "--expires",
        java.time.LocalDate.now().plusYears(2).toString(), "--seats", "80", "--key",
        "signing.key", "--cert", "signing.cert", "-o", "acme-2.license");
    assertThat(lic.exit()).as(lic.toString()).isZero();
    Files.writeString(dir.resolve("forged.license"), Files.readString(dir.resolve("acme-2.license"))
        .replace("seats: 80", "seats: 800"));
    company = RegistryServer.startSecure("admin", "corp-pass");
    Cli.Run install = Cli.run(dir, "corp-pass\n", Map.of(), "install", "--bundle", "platform.airlock", "--license",
        "acme.license", "--trust-root", "root.pub", "--registry", company.host() + "/platform",
        "--registry-username", "admin", "--registry-password-stdin", "--registry-ca", company.caFile().toString(),
        "--kubeconfig", cluster.kubeconfig().toString(), "--namespace", ns, "--yes");
    assertThat(install.exit()).as(install.toString()).isZero();
    // The server as its chart's ServiceAccount, seeded with SSO and roles.
    Path sa = ServerIdentity.create(cluster, ns, dir, true);
    Files.writeString(dir.resolve("sso.yaml"), CorpRealm.serverSsoConfig(kc));
    Files.writeString(dir.resolve("roles.yaml"), ROLES);
    Path cwd = Files.createDirectories(dir.resolve("server"));
    server = Cli.start(cwd, Map.of("AIRLOCK_OIDC_SECRET", CorpRealm.SECRET), "server", "--kubeconfig", sa.toString(),
        "--namespace", ns, "--listen", "127.0.0.1:0", "--sso-config", dir.resolve("sso.yaml").toString(), "--roles",
        dir.resolve("roles.yaml").toString(), "--trust-root", dir.resolve("root.pub").toString(), "--upload-dir",
        dir.resolve("uploads").toString(), "--output", "json");
    url = ServerIT.awaitLine(cwd, server, "result", 60).path("url").asText();
    Files.createDirectories(SHOTS);
    alice = browser();
    bob = browser();
  }

  @AfterAll
  static void tearDown() throws Exception {
    for (WebDriver d : new WebDriver[] {alice, bob}) {
      if (d != null) {
        d.quit();
      }
    }
    if (server != null) {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
    if (company != null) {
      company.close();
    }
    if (cluster != null && ns != null) {
      cluster.deleteNamespaces(ns, "dev-alice", "dev-bob");
      ServerIdentity.delete(cluster, ns);
    }
    for (Path p : profiles) {
      dev.airlock.io.TempTrees.delete(p);
    }
  }

  static boolean browserAvailable() {
    boolean there = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!there && "1".equals(System.getenv("AIRLOCK_REQUIRE_BROWSER"))) {
      throw new IllegalStateException(whyNoBrowser());
    }
    return there;
  }

  static String whyNoBrowser() {
    return "the console tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)";
  }

  /** A fresh headless chromium with its own profile, kept off the internet. */
  static WebDriver browser() throws Exception {
    Path profile = Files.createTempDirectory("airlock-chromium");
    profiles.add(profile);
    ChromeOptions o = new ChromeOptions();
    o.setBinary(CHROMIUM.toFile());
    o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--user-data-dir=" + profile, "--window-size=1280,900", "--disable-dev-shm-usage");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    ChromeDriver d = new ChromeDriver(service, o);
    d.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
    return d;
  }

  static void shot(WebDriver d, String name) throws Exception {
    Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));
  }

  static WebElement await(WebDriver d, By by) {
    try {
      return new WebDriverWait(d, Duration.ofSeconds(30)).until(ExpectedConditions.presenceOfElementLocated(by));
    } catch (org.openqa.selenium.TimeoutException e) {
      String text = d.findElement(By.tagName("body")).getText();
      throw new AssertionError("no " + by + " at " + d.getCurrentUrl() + "; the page says:\n"
          + text.substring(0, Math.min(2000, text.length())) + "\nthe server's log:\n" + serverLog(), e);
    }
  }

  /** Keycloak's login form, as a person fills it in. */
  static void keycloakLogin(WebDriver d, String user) {
    await(d, By.id("username")).sendKeys(user);
    d.findElement(By.id("password")).sendKeys(CorpRealm.password(user));
    d.findElement(By.id("kc-login")).click();
  }

  static String serverLog() {
    try {
      String log = Files.readString(dir.resolve("server/.err"));
      return log.substring(Math.max(0, log.length() - 4000));
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  static String path(WebDriver d) {
    return java.net.URI.create(d.getCurrentUrl()).getPath();
  }

  /** A POST from this page's own origin with this session's cookies, as a script on the page would send it. */
  static long postFromPage(WebDriver d, String path, String body) {
    Object status = ((JavascriptExecutor) d).executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "fetch(arguments[0], {method: 'POST', redirect: 'manual', headers: {'Content-Type':"
        + " 'application/x-www-form-urlencoded'}, body: arguments[1]}).then(r => done(r.status))"
        + ".catch(e => done(-1));", path, body);
    return ((Number) status).longValue();
  }

  @Test
  @Order(1)
  void anonymous_isSentToLogin_whichListsTheConnectors() throws Exception {
    alice.get(url + "/console");
    await(alice, By.id("connector-corp-oidc"));
    assertThat(path(alice)).isEqualTo("/console/login");
    assertThat(alice.findElement(By.id("connector-corp-saml")).getAttribute("href"))
        .endsWith("/console/login?connector=corp-saml");
    shot(alice, "login");
  }

  @Test
  @Order(2)
  void aliceLogsInThroughOidc_andLandsOnTheDashboard_withTheInstalledVersion() throws Exception {
    alice.findElement(By.id("connector-corp-oidc")).click();
    keycloakLogin(alice, "alice");
    await(alice, By.id("installed-version"));
    assertThat(path(alice)).isEqualTo("/console");
    assertThat(alice.findElement(By.id("installed-version")).getText()).isEqualTo("platform 1.4.0");
    assertThat(alice.findElement(By.id("who")).getText()).isEqualTo("alice");
    assertThat(alice.findElements(By.cssSelector("#components tbody tr"))).hasSize(4);
    assertThat(alice.findElement(By.id("license-state")).getText()).isEqualTo("valid");
    shot(alice, "dashboard");

    alice.get(url + "/console/history");
    WebElement op = await(alice, By.cssSelector("#history tbody tr a"));
    assertThat(alice.findElement(By.id("history")).getText()).contains("install", "- → 1.4.0", "succeeded");
    op.click();
    await(alice, By.id("plan"));
    assertThat(alice.getPageSource()).contains("release/controller", "push");
    shot(alice, "history");

    alice.get(url + "/console/license");
    assertThat(await(alice, By.id("license")).getText()).contains("Acme Corp", "platform");
    shot(alice, "license");
  }

  @Test
  @Order(3)
  void bobThroughSaml_isAViewer_seesNoActions_andIsRefusedWhenPostingAnyway() throws Exception {
    bob.get(url + "/console/login?connector=corp-saml");
    keycloakLogin(bob, "bob");
    await(bob, By.id("installed-version"));
    assertThat(bob.findElement(By.id("who")).getText()).isEqualTo("bob");
    bob.get(url + "/console/users");
    await(bob, By.id("users"));
    assertThat(bob.findElements(By.cssSelector("button.danger"))).as("no revoke buttons for a viewer").isEmpty();
    assertThat(bob.findElements(By.linkText("Audit"))).isEmpty();
    String csrf = bob.findElement(By.name("csrf")).getAttribute("value");
    assertThat(postFromPage(bob, "/console/users/alice/revoke", "csrf=" + csrf)).isEqualTo(403);
    bob.get(url + "/console/audit");
    assertThat(bob.getPageSource()).contains("lacks the platform permission 'audit'");
  }

  @Test
  @Order(4)
  void forgedPosts_areRefused_andRevokeWorksFromTheConsole() throws Exception {
    alice.get(url + "/console/users");
    await(alice, By.id("revoke-bob"));
    // A form without the session's token, from the console's own origin.
    assertThat(postFromPage(alice, "/console/users/bob/revoke", "csrf=forged")).isEqualTo(403);
    assertThat(postFromPage(alice, "/console/users/bob/revoke", "")).isEqualTo(403);
    // A page on another origin of the same host (same site: the cookie goes along) submits a form to the console.
    HttpServer evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    evil.createContext("/", x -> {
      byte[] page = ("<!doctype html><form id=f method=post action='" + url + "/console/users/bob/revoke'>"
          + "<input name=csrf value=guess></form><script>document.getElementById('f').submit()</script>")
          .getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "text/html");
      x.sendResponseHeaders(200, page.length);
      x.getResponseBody().write(page);
      x.close();
    });
    evil.start();
    try {
      alice.get("http://127.0.0.1:" + evil.getAddress().getPort() + "/");
      new WebDriverWait(alice, Duration.ofSeconds(20)).until(d -> d.getCurrentUrl().startsWith(url));
      assertThat(alice.getPageSource()).contains("Refused");
    } finally {
      evil.stop(0);
    }
    // Bob is still logged in.
    bob.get(url + "/console");
    await(bob, By.id("installed-version"));

    alice.get(url + "/console/users");
    alice.findElement(By.id("revoke-bob")).click();
    new WebDriverWait(alice, Duration.ofSeconds(10)).until(ExpectedConditions.alertIsPresent()).accept();
    assertThat(await(alice, By.id("done")).getText()).contains("Revoked bob: 1 session(s) ended.");
    shot(alice, "users");
    // Bob's next page is the login page, saying why.
    bob.get(url + "/console");
    assertThat(await(bob, By.id("expired")).getText()).contains("Your session has ended");
  }

  @Test
  @Order(5)
  void roles_explainAndEdit_previewThenSave_andAViewerCannotEdit() throws Exception {
    alice.get(url + "/console/roles?user=bob&groups=qa&verb=list&resource=pods&namespace=dev-bob");
    WebElement decision = await(alice, By.id("decision"));
    assertThat(decision.getText()).contains("ALLOWED", "viewer");
    alice.get(url + "/console/roles?user=bob&groups=qa&verb=delete&resource=pods&namespace=dev-bob");
    assertThat(await(alice, By.id("decision")).getText()).contains("DENIED");
    WebElement text = alice.findElement(By.name("roles"));
    String roles = text.getAttribute("value");
    assertThat(roles).contains("kind: RoleSet", "console-admin");
    text.clear();
    text.sendKeys(roles.stripTrailing() + "\n  - {group: auditors, roles: [viewer]}\n");
    alice.findElement(By.id("preview")).click();
    assertThat(await(alice, By.id("roles-result")).getText()).contains("Valid. Saving would make");
    shot(alice, "roles");
    alice.findElement(By.id("save")).click();
    // htmx swaps the result in: an element read while it is replaced is read again.
    new WebDriverWait(alice, Duration.ofSeconds(20)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .until(d -> d.findElement(By.id("roles-result")).getText().startsWith("Saved."));
    alice.get(url + "/console/roles");
    assertThat(await(alice, By.id("mappings")).getText()).contains("group auditors → viewer");
    // A broken file is refused with the reason, and nothing is stored.
    WebElement again = alice.findElement(By.name("roles"));
    again.clear();
    again.sendKeys("apiVersion: airlock.dev/v1alpha1\nkind: RoleSet\nroles: nope\n");
    alice.findElement(By.id("save")).click();
    new WebDriverWait(alice, Duration.ofSeconds(20)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .until(d -> d.findElement(By.id("roles-result")).getAttribute(
        "class").contains("warn"));
    assertThat(cluster.client().configMaps().inNamespace(ns).withName("airlock-roles-source").get().getData()
        .get("roles.yaml")).contains("auditors");

    bob.get(url + "/console/login?connector=corp-saml");
    await(bob, By.id("installed-version"));
    bob.get(url + "/console/roles");
    await(bob, By.id("explain"));
    assertThat(bob.findElements(By.name("roles"))).as("no editor for a viewer").isEmpty();
    String csrf = bob.findElement(By.name("csrf")).getAttribute("value");
    assertThat(postFromPage(bob, "/console/roles", "csrf=" + csrf + "&op=save&roles=x")).isEqualTo(403);
  }

  /** Chooses {@code bundle} on the upgrade page and waits for its review (verified, checked, the plan). */
  static void uploadForReview(WebDriver d, String bundle) {
    d.get(url + "/console/upgrade");
    await(d, By.id("bundle-file")).sendKeys(dir.resolve(bundle).toAbsolutePath().toString());
    d.findElement(By.id("upload-start")).click();
    try {
      new WebDriverWait(d, Duration.ofSeconds(180)).until(x -> path(x).startsWith("/console/upgrade/review/")
          && !x.findElements(By.cssSelector("#review-title, #review-error")).isEmpty());
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("no review at " + d.getCurrentUrl() + ": " + d.findElement(By.tagName("body"))
          .getText() + "\nthe server's log:\n" + serverLog(), e);
    }
  }

  /** Confirms the reviewed plan with {@code timeout} seconds per release; waits for the live page's end. */
  static String confirmAndFollow(WebDriver d, String button, int timeout) {
    WebElement t = d.findElement(By.name("timeout"));
    t.clear();
    t.sendKeys(Integer.toString(timeout));
    d.findElement(By.id(button)).click();
    new WebDriverWait(d, Duration.ofSeconds(30)).until(x -> path(x).startsWith("/console/operations/"));
    // The page follows the operation through server-sent events: the steps appear and change without a reload.
    try {
      new WebDriverWait(d, Duration.ofSeconds(240)).until(x -> !x.findElements(By.id("op-done")).isEmpty());
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("the operation did not end: " + d.findElement(By.tagName("body")).getText()
          + "\nthe server's log:\n" + serverLog(), e);
    }
    return d.findElement(By.id("op-done")).getText();
  }

  static int controllerReplicas() {
    return cluster.client().apps().deployments().inNamespace(ns).withName("platform-controller").get().getSpec()
        .getReplicas();
  }

  @Test
  @Order(6)
  void upgradeByUpload_resumes_isVerifiedAndChecked_thenConfirmed_andFollowedLiveToTheEnd() throws Exception {
    alice.get(url + "/console/upgrade");
    WebElement form = await(alice, By.id("upload"));
    String csrf = form.getAttribute("data-csrf");
    String cookie = "airlock_session=" + alice.manage().getCookieNamed("airlock_session").getValue();
    Path v2 = dir.resolve("v2.airlock");
    long size = Files.size(v2);
    long modified = Files.getLastModifiedTime(v2).toMillis();
    // An upload that was cut off after its first MiB (as a dropped connection leaves it), sent as the page sends it.
    // HTTP/1.1 as a browser speaks to it (no h2c upgrade attempt on a fresh connection).
    var http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    var begin = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/console/upgrade/uploads"))
        .header("Cookie", cookie).header("X-Airlock-CSRF", csrf).header("Content-Type",
            "application/x-www-form-urlencoded").POST(java.net.http.HttpRequest.BodyPublishers.ofString("name="
            + v2.getFileName() + "&size=" + size + "&modified=" + modified)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(begin.statusCode()).as(begin.body()).isEqualTo(200);
    String id = JSON.readTree(begin.body()).path("id").asText();
    byte[] first = java.util.Arrays.copyOf(Files.readAllBytes(v2), 1 << 20);
    var chunk = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/console/upgrade/uploads/"
        + id + "?offset=0")).header("Cookie", cookie).header("X-Airlock-CSRF", csrf).PUT(java.net.http.HttpRequest
        .BodyPublishers.ofByteArray(first)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(JSON.readTree(chunk.body()).path("offset").asLong()).isEqualTo(1 << 20);
    // A chunk at the wrong offset is answered with the server's offset and written nowhere.
    var wrong = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/console/upgrade/uploads/"
        + id + "?offset=0")).header("Cookie", cookie).header("X-Airlock-CSRF", csrf).PUT(java.net.http.HttpRequest
        .BodyPublishers.ofByteArray(first)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(wrong.statusCode()).isEqualTo(409);
    assertThat(JSON.readTree(wrong.body()).path("offset").asLong()).isEqualTo(1 << 20);
    // A chunk without the session's form token is refused.
    var forged = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url
        + "/console/upgrade/uploads/" + id + "?offset=" + (1 << 20))).header("Cookie", cookie).PUT(
        java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[10])).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(forged.statusCode()).isEqualTo(403);

    // Choosing the same file in the page carries on where the upload stopped.
    uploadForReview(alice, "v2.airlock");
    assertThat(alice.findElement(By.id("review-title")).getText()).isEqualTo("Ready: platform 1.4.0 → 1.5.0");
    assertThat(alice.findElements(By.cssSelector("#checks tbody tr"))).isNotEmpty();
    // The Kubernetes permissions checked are the server's (its ServiceAccount runs it), not alice's.
    assertThat(alice.findElement(By.id("checks")).getText()).contains("permissions granted to '")
        .doesNotContain("granted to 'alice'");
    assertThat(alice.findElement(By.id("plan-steps")).getText()).contains("release/controller");
    shot(alice, "upgrade-review");
    String done = confirmAndFollow(alice, "start-upgrade", 120);
    assertThat(done).as(serverLog()).startsWith("Done").contains("1.5.0");
    assertThat(alice.findElement(By.id("op-steps")).getText()).contains("release/controller", "done");
    String log = alice.findElement(By.id("op-log")).getText();
    assertThat(log).contains("Verifying bundle", "release/controller");
    assertThat(log.split("Verifying bundle", -1)).as("each line once: " + log).hasSize(2);
    shot(alice, "upgrade-progress");
    // What the admin would check: the live Deployment, and the dashboard.
    assertThat(controllerReplicas()).isEqualTo(2);
    alice.get(url + "/console");
    assertThat(await(alice, By.id("installed-version")).getText()).isEqualTo("platform 1.5.0");
    // The two versions compare by chart and image.
    alice.get(url + "/console/history?a=1.4.0&b=1.5.0");
    assertThat(await(alice, By.id("diff-charts")).getText()).contains("controller");
    assertThat(alice.findElements(By.cssSelector("#diff-images tbody tr"))).isNotEmpty();
    shot(alice, "history-diff");
    // The uploaded bundle is removed once installed.
    try (var left = Files.list(dir.resolve("uploads"))) {
      assertThat(left.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(id))).isEmpty();
    }
  }

  @Test
  @Order(7)
  void aCorruptBundle_isRefusedAtItsCheck_andABrokenUpgradeRollsBackLive_thenARollbackByHand() throws Exception {
    // The installed version again: nothing to do, and nothing to confirm.
    uploadForReview(alice, "v2.airlock");
    assertThat(alice.findElement(By.id("review-error")).getText()).contains("1.5.0");
    assertThat(alice.findElements(By.id("start-upgrade"))).isEmpty();

    byte[] bundle = Files.readAllBytes(dir.resolve("v3-broken.airlock"));
    for (int i = bundle.length / 4; i < bundle.length; i += 1 << 16) {
      bundle[i] ^= 0x5a; // damage past the signed head: the blobs' checksums catch it
    }
    Files.write(dir.resolve("corrupt.airlock"), bundle);
    uploadForReview(alice, "corrupt.airlock");
    assertThat(alice.findElement(By.id("review-error")).getText()).contains("bundle corrupt.airlock is not valid",
        "copy the bundle again");
    assertThat(alice.findElements(By.id("start-upgrade"))).isEmpty();

    uploadForReview(alice, "v3-broken.airlock");
    assertThat(alice.findElement(By.id("review-title")).getText()).isEqualTo("Ready: platform 1.5.0 → 1.6.0");
    String done = confirmAndFollow(alice, "start-upgrade", 60);
    assertThat(done).contains("rolled back");
    assertThat(alice.findElement(By.id("op-steps")).getText()).contains("undo/release/controller", "rolled-back");
    shot(alice, "upgrade-rollback");
    assertThat(controllerReplicas()).as("the live controller is back at 1.5.0's").isEqualTo(2);

    alice.get(url + "/console/upgrade");
    new org.openqa.selenium.support.ui.Select(await(alice, By.id("rollback-to"))).selectByValue("1.4.0");
    alice.findElement(By.id("rollback-plan")).click();
    assertThat(await(alice, By.id("rollback-title")).getText()).contains("1.4.0");
    String back = confirmAndFollow(alice, "start-rollback", 120);
    assertThat(back).startsWith("Done");
    assertThat(controllerReplicas()).isEqualTo(1);
    alice.get(url + "/console");
    assertThat(await(alice, By.id("installed-version")).getText()).isEqualTo("platform 1.4.0");

    // History: an earlier operation keeps its steps.
    alice.get(url + "/console/history");
    String history = await(alice, By.id("history")).getText();
    assertThat(history).contains("1.4.0 → 1.5.0", "1.5.0 → 1.6.0", "rolled-back", "1.5.0 → 1.4.0");
    alice.findElement(By.xpath("//table[@id='history']//tr[td[3][normalize-space()='1.4.0 → 1.5.0']]//a")).click();
    assertThat(await(alice, By.id("steps")).getText()).contains("release/controller", "done");
  }

  @Test
  @Order(8)
  void aViewer_seesNoUpgradeLicenseOrSsoActions_andIsRefusedWhenPostingAnyway() throws Exception {
    bob.get(url + "/console/upgrade");
    await(bob, By.id("installed-version"));
    assertThat(bob.findElements(By.id("bundle-file"))).isEmpty();
    assertThat(bob.findElements(By.id("rollback-to"))).isEmpty();
    bob.get(url + "/console/license");
    await(bob, By.id("license"));
    assertThat(bob.findElements(By.id("license-file"))).isEmpty();
    String csrf = bob.findElement(By.name("csrf")).getAttribute("value");
    assertThat(postFromPage(bob, "/console/upgrade/uploads", "csrf=" + csrf + "&name=x&size=10")).isEqualTo(403);
    assertThat(postFromPage(bob, "/console/rollback", "csrf=" + csrf + "&to=1.4.0")).isEqualTo(403);
    assertThat(postFromPage(bob, "/console/license", "csrf=" + csrf)).isEqualTo(403);
    assertThat(bob.findElements(By.linkText("SSO"))).isEmpty();
    bob.get(url + "/console/sso");
    assertThat(bob.getPageSource()).contains("lacks the platform permission 'sso'");
  }

  @Test
  @Order(9)
  void aNewLicenseIsUploaded_afterTheCliChecks_andAForgedOneIsRefused() throws Exception {
    alice.get(url + "/console/license");
    await(alice, By.id("license-file")).sendKeys(dir.resolve("forged.license").toAbsolutePath().toString());
    alice.findElement(By.id("license-upload")).click();
    assertThat(await(alice, By.id("license-error")).getText()).containsIgnoringCase("signature");
    assertThat(alice.findElement(By.id("license")).getText()).contains("50");

    alice.findElement(By.id("license-file")).sendKeys(dir.resolve("acme-2.license").toAbsolutePath().toString());
    alice.findElement(By.id("license-upload")).click();
    assertThat(await(alice, By.id("done")).getText()).contains("Stored license");
    assertThat(alice.findElement(By.id("license")).getText()).contains("used of 80");
    shot(alice, "license");
    String stored = new String(java.util.Base64.getDecoder().decode(cluster.client().secrets().inNamespace(ns)
        .withName("airlock-license").get().getData().get("license.yaml")), StandardCharsets.UTF_8);
    assertThat(stored).contains("seats: 80");
    // The same file again: nothing to store, and the page says so.
    await(alice, By.id("license-file")).sendKeys(dir.resolve("acme-2.license").toAbsolutePath().toString());
    alice.findElement(By.id("license-upload")).click();
    // The page is replaced by the answer's page: wait for its notice, not the one before.
    new WebDriverWait(alice, Duration.ofSeconds(20)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .ignoring(org.openqa.selenium.NoSuchElementException.class).until(d -> d.findElement(By.id("done")).getText()
        .contains("is the stored one already: nothing changed"));
  }

  @Test
  @Order(10)
  void aConnectorIsAdded_checked_andTestedInANewTab_andSamlMetadataDownloads() throws Exception {
    alice.get(url + "/console/sso");
    await(alice, By.id("connector-corp-oidc"));
    alice.findElement(By.id("add-oidc")).click();
    WebElement yaml = await(alice, By.id("connector-yaml"));
    // An IdP that cannot be reached is refused, and nothing is stored.
    yaml.clear();
    yaml.sendKeys("name: corp-oidc2\ntype: oidc\nissuer: http://127.0.0.1:9/realms/nowhere\nclientId: x\n");
    alice.findElement(By.id("sso-save")).click();
    assertThat(await(alice, By.id("sso-error")).getText()).contains("corp-oidc2", "cannot be used");
    assertThat(cluster.client().configMaps().inNamespace(ns).withName("airlock-sso").get().getData()
        .get("sso.yaml")).doesNotContain("corp-oidc2");
    yaml = alice.findElement(By.id("connector-yaml"));
    yaml.clear();
    yaml.sendKeys("name: corp-oidc2\ntype: oidc\ndisplayName: Second OIDC\nissuer: "
        + kc.issuer(CorpRealm.NAME) + "\nclientId: " + CorpRealm.CONFIDENTIAL
        + "\nclientSecret: {env: AIRLOCK_OIDC_SECRET}\n");
    alice.findElement(By.id("sso-save")).click();
    assertThat(await(alice, By.id("done")).getText()).contains("Added corp-oidc2.");
    assertThat(alice.findElement(By.id("connector-corp-oidc2")).getText()).contains("OIDC", "Second OIDC");
    shot(alice, "sso");

    String console = alice.getWindowHandle();
    alice.findElement(By.id("test-corp-oidc2")).click();
    new WebDriverWait(alice, Duration.ofSeconds(10)).until(d -> d.getWindowHandles().size() == 2);
    for (String h : alice.getWindowHandles()) {
      if (!h.equals(console)) {
        alice.switchTo().window(h);
      }
    }
    // Keycloak may still know alice from her console login; otherwise she logs in again.
    new WebDriverWait(alice, Duration.ofSeconds(30)).until(d -> !d.findElements(By.id("tested-username")).isEmpty()
        || !d.findElements(By.id("username")).isEmpty());
    if (alice.findElements(By.id("tested-username")).isEmpty()) {
      keycloakLogin(alice, "alice");
    }
    assertThat(await(alice, By.id("tested-username")).getText()).isEqualTo("alice");
    assertThat(alice.findElement(By.id("tested-groups")).getText()).contains("devs");
    assertThat(alice.findElement(By.id("tested-roles")).getText()).contains("console-admin");
    shot(alice, "sso-test");
    alice.close();
    alice.switchTo().window(console);

    Object metadata = ((JavascriptExecutor) alice).executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "fetch('/sso/saml/corp-saml/metadata').then(r => r.text()).then(done);");
    assertThat(String.valueOf(metadata)).contains("EntityDescriptor", url + "/sso/saml/corp-saml/acs");
  }

  @Test
  @Order(11)
  void audit_showsEachAction_filters_exports_andVerifiesTheChain() throws Exception {
    alice.get(url + "/console/audit");
    assertThat(await(alice, By.id("chain")).getText()).startsWith("The chain is intact");
    String events = alice.findElement(By.id("events")).getText();
    assertThat(events).contains("login", "alice", "bob", "revoke", "roles", "upgrade", "rollback", "license",
        "sso-config", "sso-test");
    shot(alice, "audit");
    alice.findElement(By.name("action")).sendKeys("revoke");
    alice.findElement(By.cssSelector(".filters button")).click();
    new WebDriverWait(alice, Duration.ofSeconds(10)).until(d -> d.findElements(By.cssSelector("#events tbody tr"))
        .size() == 1);
    List<WebElement> rows = alice.findElements(By.cssSelector("#events tbody tr"));
    assertThat(rows.get(0).getText()).contains("alice", "revoke", "bob");
    String href = alice.findElement(By.id("export")).getAttribute("href");
    Object exported = ((JavascriptExecutor) alice).executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "fetch(arguments[0]).then(r => r.text()).then(done);", href);
    JsonNode line = JSON.readTree(String.valueOf(exported).lines().findFirst().orElseThrow());
    assertThat(line.path("action").asText()).isEqualTo("revoke");
    assertThat(line.path("hash").asText()).hasSize(64);

    // A support bundle from the console: collected by the server, downloaded, its usage report verifies.
    alice.get(url + "/console/support");
    await(alice, By.id("download"));
    shot(alice, "support");
    Object b64 = ((JavascriptExecutor) alice).executeAsyncScript("const done = arguments[arguments.length - 1];"
        + "fetch('/console/support/download?since=2h').then(r => r.arrayBuffer()).then(buf => {"
        + "  const bytes = new Uint8Array(buf); let s = '';"
        + "  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));"
        + "  done(btoa(s)); });");
    Path support = dir.resolve("console-support.tar.gz");
    Files.write(support, java.util.Base64.getDecoder().decode(String.valueOf(b64)));
    Cli.Run inspect = Cli.run(dir, "support-bundle", "inspect", support.toString());
    assertThat(inspect.exit()).as(inspect.toString()).isZero();
    assertThat(inspect.out()).contains("airlock/installation.json", "airlock/usage-report.json",
        "redaction-report.json");
    Cli.Run verified = Cli.run(dir, "usage", "verify", support.toString());
    assertThat(verified.exit()).as(verified.toString()).isZero();
    assertThat(verified.out()).contains("signature valid", "every figure follows from");
  }

  @Test
  @Order(12)
  void anEndedSession_sendsTheBrowserBackToLogin() throws Exception {
    // Expiry: bob's session reaches its end (its recorded end moved into the past, as time would move it).
    bob.get(url + "/console");
    await(bob, By.id("installed-version"));
    for (var secret : cluster.client().secrets().inNamespace(ns).withLabel("airlock.dev/user", "bob").list()
        .getItems()) {
      secret.getData().put("expires", java.util.Base64.getEncoder().encodeToString(java.time.Instant.now()
          .minusSeconds(60).toString().getBytes(StandardCharsets.UTF_8)));
      cluster.client().secrets().inNamespace(ns).resource(secret).update();
    }
    bob.get(url + "/console/history");
    assertThat(await(bob, By.id("expired")).getText()).contains("Your session has ended");
    assertThat(path(bob)).isEqualTo("/console/login");

    // Revocation from the CLI.
    Cli.Run revoke = Cli.run(dir, "users", "revoke", "alice", "--kubeconfig", cluster.kubeconfig().toString(),
        "--namespace", ns);
    assertThat(revoke.exit()).as(revoke.toString()).isZero();
    alice.get(url + "/console/users");
    assertThat(await(alice, By.id("expired")).getText()).contains("Your session has ended");
    assertThat(path(alice)).isEqualTo("/console/login");
    shot(alice, "expired");
  }
}
