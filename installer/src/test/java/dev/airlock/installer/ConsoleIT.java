package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.testing.ExampleImages;
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
 * with a revocation, audit, license; a viewer who sees no actions and is refused when posting anyway; forged posts;
 * session expiry. Each page's screenshot goes to {@code target/console-screenshots} (docs/console.md uses them).
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
          platform: [view, install, upgrade, rollback, license, sso, roles, users, audit]
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
      Platform.build(dir, Platform.example(), "platform.airlock", mirror);
    }
    company = RegistryServer.startSecure("admin", "corp-pass");
    Cli.Run install = Cli.run(dir, "corp-pass\n", Map.of(), "install", "--bundle", "platform.airlock", "--license",
        "acme.license", "--trust-root", "root.pub", "--registry", company.host() + "/platform",
        "--registry-username", "admin", "--registry-password-stdin", "--registry-ca", company.caFile().toString(),
        "--kubeconfig", cluster.kubeconfig().toString(), "--namespace", ns, "--yes");
    assertThat(install.exit()).as(install.toString()).isZero();
    // The server as its chart's ServiceAccount, seeded with SSO and roles.
    Path sa = ServerIdentity.create(cluster, ns, dir);
    Files.writeString(dir.resolve("sso.yaml"), CorpRealm.serverSsoConfig(kc));
    Files.writeString(dir.resolve("roles.yaml"), ROLES);
    Path cwd = Files.createDirectories(dir.resolve("server"));
    server = Cli.start(cwd, Map.of("AIRLOCK_OIDC_SECRET", CorpRealm.SECRET), "server", "--kubeconfig", sa.toString(),
        "--namespace", ns, "--listen", "127.0.0.1:0", "--sso-config", dir.resolve("sso.yaml").toString(), "--roles",
        dir.resolve("roles.yaml").toString(), "--output", "json");
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
    new WebDriverWait(alice, Duration.ofSeconds(20)).until(d -> d.findElement(By.id("roles-result")).getText()
        .startsWith("Saved."));
    alice.get(url + "/console/roles");
    assertThat(await(alice, By.id("mappings")).getText()).contains("group auditors → viewer");
    // A broken file is refused with the reason, and nothing is stored.
    WebElement again = alice.findElement(By.name("roles"));
    again.clear();
    again.sendKeys("apiVersion: airlock.dev/v1alpha1\nkind: RoleSet\nroles: nope\n");
    alice.findElement(By.id("save")).click();
    new WebDriverWait(alice, Duration.ofSeconds(20)).until(d -> d.findElement(By.id("roles-result")).getAttribute(
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

  @Test
  @Order(6)
  void audit_showsEachAction_filters_exports_andVerifiesTheChain() throws Exception {
    alice.get(url + "/console/audit");
    assertThat(await(alice, By.id("chain")).getText()).startsWith("The chain is intact");
    String events = alice.findElement(By.id("events")).getText();
    assertThat(events).contains("login", "alice", "bob", "revoke", "roles");
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
  }

  @Test
  @Order(7)
  void anEndedSession_sendsTheBrowserBackToLogin() throws Exception {
    Cli.Run revoke = Cli.run(dir, "users", "revoke", "alice", "--kubeconfig", cluster.kubeconfig().toString(),
        "--namespace", ns);
    assertThat(revoke.exit()).as(revoke.toString()).isZero();
    alice.get(url + "/console/users");
    assertThat(await(alice, By.id("expired")).getText()).contains("Your session has ended");
    assertThat(path(alice)).isEqualTo("/console/login");
    shot(alice, "expired");
  }
}
