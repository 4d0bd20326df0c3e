package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airlock.testing.idp.BrowserSession;
import dev.airlock.testing.idp.CorpRealm;
import dev.airlock.testing.idp.KeycloakServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code airlock sso test} and {@code airlock sso metadata} as a user runs them, against a real Keycloak: the CLI
 * prints the login URL, the "browser" logs in on Keycloak's form and is sent back to the CLI, which prints who
 * logged in and the roles; a refused login exits 13 naming the check.
 */
@Tag("keycloak")
class SsoCliIT {

  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static KeycloakServer kc;

  @BeforeAll
  static void realm() throws Exception {
    assumeTrue(KeycloakServer.shared().isPresent(), KeycloakServer::whyUnavailable);
    kc = KeycloakServer.shared().get();
    CorpRealm.createWithKeys(kc, dir);
    String issuer = kc.issuer(CorpRealm.NAME).toString();
    Files.writeString(dir.resolve("sso.yaml"), """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp-oidc
            type: oidc
            issuer: %1$s
            clientId: airlock
            clientSecret: {env: AIRLOCK_OIDC_SECRET}
            groupsClaim: groups
          - name: corp-saml
            type: saml
            entityId: airlock-sp-encrypted
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
            groupsAttribute: groups
            spKey: {file: sp.key}
            spCertificate: sp.crt
          - name: corp-saml-strict
            type: saml
            entityId: airlock-sp-response
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
        roleMappings:
          - {group: devs, roles: [developer]}
          - {group: qa, roles: [viewer]}
          - {group: platform, roles: [platform-admin]}
        """.formatted(issuer));
  }

  /** Starts {@code sso test}, waits for its login URL event, and returns the process and the URL. */
  record Started(Process process, URI url, Path cwd) {}

  static Started start(Path cwd, String connector) throws Exception {
    Files.copy(dir.resolve("sso.yaml"), cwd.resolve("sso.yaml"));
    Files.copy(dir.resolve("sp.key"), cwd.resolve("sp.key"));
    Files.copy(dir.resolve("sp.crt"), cwd.resolve("sp.crt"));
    Process p = Cli.start(cwd, Map.of("AIRLOCK_OIDC_SECRET", CorpRealm.SECRET), "sso", "test", "--config",
        "sso.yaml", "--connector", connector, "--listen", "127.0.0.1:0", "--no-browser", "--output", "json");
    for (int i = 0; i < 600; i++) {
      if (Files.exists(cwd.resolve(".out"))) {
        for (String line : Files.readAllLines(cwd.resolve(".out"))) {
          JsonNode n = JSON.readTree(line);
          if (n.path("type").asText().equals("login-url")) {
            return new Started(p, URI.create(n.path("url").asText()), cwd);
          }
        }
      }
      assertThat(p.isAlive()).as(Files.readString(cwd.resolve(".err"))).isTrue();
      Thread.sleep(100);
    }
    throw new AssertionError("no login URL: " + Files.readString(cwd.resolve(".err")));
  }

  static Cli.Run finish(Started s) throws Exception {
    assertThat(s.process().waitFor(60, TimeUnit.SECONDS)).as("sso test finishes after the callback").isTrue();
    return new Cli.Run(s.process().exitValue(), Files.readString(s.cwd().resolve(".out")),
        Files.readString(s.cwd().resolve(".err")));
  }

  static JsonNode last(Cli.Run run) throws Exception {
    List<String> lines = run.outLines();
    return JSON.readTree(lines.get(lines.size() - 1));
  }

  @Test
  void oidc_aRealLogin_printsUsernameGroupsAndRoles(@TempDir Path cwd) throws Exception {
    Started s = start(cwd, "corp-oidc");
    BrowserSession browser = new BrowserSession();
    BrowserSession.Handoff h = browser.login(s.url(), kc.base(), "alice", CorpRealm.password("alice"));
    assertThat(h.redirect().getPath()).isEqualTo("/sso/oidc/corp-oidc/callback");
    BrowserSession.Page page = browser.get(h.redirect());
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).contains("Logged in as alice");
    Cli.Run run = finish(s);
    assertThat(run.exit()).as(run.toString()).isZero();
    JsonNode r = last(run);
    assertThat(r.path("type").asText()).isEqualTo("result");
    assertThat(r.path("username").asText()).isEqualTo("alice");
    assertThat(r.path("groups").toString()).isEqualTo("[\"devs\"]");
    assertThat(r.path("roles").toString()).isEqualTo("[\"developer\"]");
    assertThat(r.path("email").asText()).isEqualTo("alice@corp.example");
  }

  @Test
  void saml_anEncryptedLogin_throughTheLocalUrl_printsTheIdentity_asText(@TempDir Path cwd) throws Exception {
    Files.copy(dir.resolve("sso.yaml"), cwd.resolve("sso.yaml"));
    Files.copy(dir.resolve("sp.key"), cwd.resolve("sp.key"));
    Files.copy(dir.resolve("sp.crt"), cwd.resolve("sp.crt"));
    Process p = Cli.start(cwd, Map.of(), "sso", "test", "--config", "sso.yaml", "--connector", "corp-saml",
        "--listen", "127.0.0.1:0", "--no-browser");
    URI local = null;
    for (int i = 0; i < 600 && local == null; i++) {
      String err = Files.exists(cwd.resolve(".err")) ? Files.readString(cwd.resolve(".err")) : "";
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("answers at (http://127\\.0\\.0\\.1:\\d+)/")
          .matcher(err);
      if (m.find()) {
        local = URI.create(m.group(1) + "/");
      }
      Thread.sleep(100);
    }
    assertThat(local).as("sso test printed where it listens").isNotNull();
    BrowserSession browser = new BrowserSession();
    // The short local URL sends the browser on to the IdP.
    BrowserSession.Handoff h = browser.login(local, kc.base(), "carol", CorpRealm.password("carol"));
    assertThat(h.formAction().getPath()).isEqualTo("/sso/saml/corp-saml/acs");
    BrowserSession.Page page = browser.post(h.formAction(), h.form());
    assertThat(page.body()).contains("Logged in as carol");
    Cli.Run run = finish(new Started(p, local, cwd));
    assertThat(run.exit()).as(run.toString()).isZero();
    assertThat(run.out()).contains("login through corp-saml succeeded").containsPattern("username: +carol")
        .containsPattern("groups: +platform").containsPattern("roles: +platform-admin");
  }

  @Test
  void aRefusedLogin_exits13_namingTheCheckAndTheFix(@TempDir Path cwd) throws Exception {
    Started s = start(cwd, "corp-saml-strict");
    BrowserSession browser = new BrowserSession();
    BrowserSession.Handoff h = browser.login(s.url(), kc.base(), "bob", CorpRealm.password("bob"));
    BrowserSession.Page page = browser.post(h.formAction(), h.form());
    assertThat(page.status()).isEqualTo(403);
    assertThat(page.body()).contains("refused");
    Cli.Run run = finish(s);
    assertThat(run.exit()).as(run.toString()).isEqualTo(13);
    JsonNode error = last(run);
    assertThat(error.path("type").asText()).isEqualTo("error");
    assertThat(error.path("data").path("check").asText()).isEqualTo("unsigned");
    assertThat(error.path("fix").asText()).contains("wantAssertionsSigned");
  }

  @Test
  void metadata_forSaml_printsEntityAcsAndCertificate_forOidcSaysTheRedirectUri(@TempDir Path cwd)
      throws Exception {
    Files.copy(dir.resolve("sso.yaml"), cwd.resolve("sso.yaml"));
    Files.copy(dir.resolve("sp.crt"), cwd.resolve("sp.crt"));
    Files.copy(dir.resolve("sp.key"), cwd.resolve("sp.key"));
    Cli.Run md = Cli.run(cwd, "sso", "metadata", "--config", "sso.yaml", "--connector", "corp-saml", "--url",
        "https://airlock.corp.example");
    assertThat(md.exit()).as(md.toString()).isZero();
    assertThat(md.out()).contains("entityID=\"airlock-sp-encrypted\"")
        .contains("Location=\"https://airlock.corp.example/sso/saml/corp-saml/acs\"")
        .contains("use=\"encryption\"").contains("<ds:X509Certificate>");
    Cli.Run oidc = Cli.run(cwd, "sso", "metadata", "--config", "sso.yaml", "--connector", "corp-oidc");
    assertThat(oidc.exit()).isEqualTo(2);
    assertThat(oidc.err()).contains("http://127.0.0.1:8400/sso/oidc/corp-oidc/callback");
    Cli.Run missing = Cli.run(cwd, "sso", "test", "--config", "sso.yaml", "--connector", "nope");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("no connector named 'nope'").contains("corp-oidc, corp-saml");
  }
}
