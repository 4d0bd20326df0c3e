package dev.airlock.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airlock.error.AirlockException;
import dev.airlock.sso.oidc.OidcRelyingParty;
import dev.airlock.sso.saml.IdpMetadata;
import dev.airlock.sso.saml.SamlServiceProvider;
import dev.airlock.testing.idp.BrowserSession;
import dev.airlock.testing.idp.CorpRealm;
import dev.airlock.testing.idp.KeycloakServer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logins through a real Keycloak: its own login form, its tokens and its signed (and encrypted) SAML responses, for
 * every kind of client airlock supports; and the refusals a real IdP can provoke.
 */
@Tag("keycloak")
class KeycloakLoginTest {

  static final URI CALLBACK = URI.create("http://127.0.0.1:8400/sso/oidc/corp/callback");
  static final URI ACS = URI.create("http://127.0.0.1:8400/sso/saml/corp/acs");

  @TempDir static Path dir;
  static KeycloakServer kc;
  static Map<String, String> env = new LinkedHashMap<>();

  @BeforeAll
  static void realm() throws Exception {
    assumeTrue(KeycloakServer.shared().isPresent(), KeycloakServer::whyUnavailable);
    kc = KeycloakServer.shared().get();
    CorpRealm.createWithKeys(kc, dir);
    env.put("AIRLOCK_OIDC_SECRET", CorpRealm.SECRET);
  }

  static SsoConfig config() {
    String issuer = kc.issuer(CorpRealm.NAME).toString();
    return SsoConfig.parse("sso.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp-oidc
            type: oidc
            issuer: %1$s
            clientId: airlock
            clientSecret: {env: AIRLOCK_OIDC_SECRET}
            groupsClaim: groups
          - name: corp-cli
            type: oidc
            issuer: %1$s
            clientId: airlock-cli
          - name: corp-jwt
            type: oidc
            issuer: %1$s
            clientId: airlock-jwt
            privateKey: {file: client.key}
            privateKeyId: %2$s
          - name: corp-saml
            type: saml
            entityId: airlock-sp
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
            groupsAttribute: groups
          - name: corp-saml-response
            type: saml
            entityId: airlock-sp-response
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
            wantAssertionsSigned: false
          - name: corp-saml-strict
            type: saml
            entityId: airlock-sp-response
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
          - name: corp-saml-encrypted
            type: saml
            entityId: airlock-sp-encrypted
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
            spKey: {file: sp.key}
            spCertificate: sp.crt
        roleMappings:
          - {group: devs, roles: [developer]}
          - {group: qa, roles: [viewer]}
          - {group: "/engineering/*", roles: [platform-admin, developer]}
        """.formatted(issuer, CorpRealm.KEY_ID), dir);
  }

  OidcRelyingParty oidc(String name) {
    return new OidcRelyingParty((SsoConfig.Oidc) config().connector(name), Clock.systemUTC(), env::get,
        ReplayCache.inMemory());
  }

  SamlServiceProvider saml(String name, ReplayCache replays) {
    SsoConfig.Saml c = (SsoConfig.Saml) config().connector(name);
    return new SamlServiceProvider(c, IdpMetadata.load(c), replays, Clock.systemUTC(), env::get);
  }

  Identity oidcLogin(OidcRelyingParty rp, String user) {
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    BrowserSession.Handoff h = new BrowserSession().login(start.authorizationUrl(), kc.base(), user,
        CorpRealm.password(user));
    assertThat(h.redirect()).as("Keycloak sends the browser back to the callback").hasHost("127.0.0.1")
        .hasPort(8400).hasPath(CALLBACK.getPath());
    return rp.complete(FormData.parse(h.redirect().getRawQuery()), start.pending());
  }

  @Test
  void oidc_confidentialClient_withSecret_givesUserEmailGroupsAndRoles() {
    Identity id = oidcLogin(oidc("corp-oidc"), "alice");
    assertThat(id.username()).isEqualTo("alice");
    assertThat(id.email()).isEqualTo("alice@corp.example");
    assertThat(id.displayName()).isEqualTo("Alice Liddell");
    assertThat(id.groups()).containsExactly("devs");
    assertThat(id.connector()).isEqualTo("corp-oidc");
    assertThat(id.subject()).isNotBlank().isNotEqualTo("alice");
    assertThat(id.sessionExpires()).isAfter(id.authenticatedAt());
    assertThat(RoleMapping.roles(config().roleMappings(), id)).containsExactly("developer");
  }

  @Test
  void oidc_publicClient_withPkceOnly_nestedGroupsByPath_mapByGlob() {
    Identity id = oidcLogin(oidc("corp-cli"), "carol");
    assertThat(id.groups()).containsExactly("/engineering/platform");
    assertThat(RoleMapping.roles(config().roleMappings(), id)).containsExactly("platform-admin", "developer");
  }

  @Test
  void oidc_privateKeyJwt_andAnUnverifiedEmailIsNoEmail() {
    Identity id = oidcLogin(oidc("corp-jwt"), "bob");
    assertThat(id.username()).isEqualTo("bob");
    assertThat(id.groups()).containsExactly("qa");
    assertThat(id.email()).as("Keycloak says bob's email is not verified").isNull();
    assertThat(RoleMapping.roles(config().roleMappings(), id)).containsExactly("viewer");
  }

  @Test
  void oidc_wrongPkceVerifier_isRefusedByTheIdp() {
    OidcRelyingParty rp = oidc("corp-oidc");
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    BrowserSession.Handoff h = new BrowserSession().login(start.authorizationUrl(), kc.base(), "alice",
        CorpRealm.password("alice"));
    OidcRelyingParty.Pending p = start.pending();
    OidcRelyingParty.Pending forged = new OidcRelyingParty.Pending(p.connector(), p.state(), p.nonce(),
        "x".repeat(43) + "wrong-verifier", p.redirectUri(), p.started());
    assertRefused(() -> rp.complete(FormData.parse(h.redirect().getRawQuery()), forged), OidcRelyingParty.CODE_EXCHANGE);
  }

  @Test
  void oidc_theSameCallbackTwice_isRefused() {
    OidcRelyingParty rp = oidc("corp-oidc");
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    BrowserSession.Handoff h = new BrowserSession().login(start.authorizationUrl(), kc.base(), "alice",
        CorpRealm.password("alice"));
    assertThat(rp.complete(FormData.parse(h.redirect().getRawQuery()), start.pending()).username()).isEqualTo("alice");
    assertRefused(() -> rp.complete(FormData.parse(h.redirect().getRawQuery()), start.pending()), OidcRelyingParty.STATE);
  }

  /** The response Keycloak posted last, decoded. */
  static String lastResponse;

  Identity samlLogin(SamlServiceProvider sp, String user, ReplayCache replays) {
    SamlServiceProvider.Start start = sp.begin(ACS, "relay-1");
    BrowserSession.Handoff h = new BrowserSession().login(start.redirectUrl(), kc.base(), user,
        CorpRealm.password(user));
    assertThat(h.formAction()).as("Keycloak posts the response to our ACS").isEqualTo(ACS);
    assertThat(h.form()).containsEntry("RelayState", "relay-1");
    lastResponse = new String(java.util.Base64.getMimeDecoder().decode(h.form().get("SAMLResponse")),
        StandardCharsets.UTF_8);
    return sp.complete(h.form().get("SAMLResponse"), start.pending(), ACS);
  }

  @Test
  void saml_signedAssertion_givesUserEmailGroupsAndRoles() {
    Identity id = samlLogin(saml("corp-saml", ReplayCache.inMemory()), "alice", null);
    assertThat(id.username()).isEqualTo("alice");
    assertThat(id.subject()).isEqualTo("alice");
    assertThat(id.email()).isEqualTo("alice@corp.example");
    assertThat(id.displayName()).isEqualTo("Alice");
    assertThat(id.groups()).containsExactly("devs");
    assertThat(RoleMapping.roles(config().roleMappings(), id)).containsExactly("developer");
  }

  @Test
  void saml_signedResponseOnly_acceptedWhenTheConnectorAllowsIt_refusedWhenItWantsSignedAssertions() {
    Identity id = samlLogin(saml("corp-saml-response", ReplayCache.inMemory()), "bob", null);
    assertThat(id.groups()).containsExactly("qa");
    assertThat(java.util.regex.Pattern.compile("<(\\w+:)?SignatureValue[ >]").matcher(lastResponse).results().count())
        .as("one signature: the response's").isEqualTo(1);
    assertThat(lastResponse.indexOf("SignatureValue")).as("before the assertion").isLessThan(
        lastResponse.indexOf("Assertion "));
    assertRefused(() -> samlLogin(saml("corp-saml-strict", ReplayCache.inMemory()), "bob", null),
        SamlServiceProvider.UNSIGNED);
  }

  @Test
  void saml_encryptedAssertion_isDecryptedWithTheSpKey() {
    Identity id = samlLogin(saml("corp-saml-encrypted", ReplayCache.inMemory()), "carol", null);
    assertThat(lastResponse).contains("EncryptedAssertion").doesNotContain("carol");
    assertThat(id.username()).isEqualTo("carol");
    assertThat(id.groups()).containsExactly("platform");
  }

  @Test
  void saml_theSameResponseTwice_isRefused() {
    SamlServiceProvider sp = saml("corp-saml", ReplayCache.inMemory());
    SamlServiceProvider.Start start = sp.begin(ACS, null);
    BrowserSession.Handoff h = new BrowserSession().login(start.redirectUrl(), kc.base(), "alice",
        CorpRealm.password("alice"));
    sp.complete(h.form().get("SAMLResponse"), start.pending(), ACS);
    assertRefused(() -> sp.complete(h.form().get("SAMLResponse"), start.pending(), ACS), SamlServiceProvider.REPLAY);
  }

  @Test
  void saml_idpMetadata_fromKeycloak_namesItsEntityItsRedirectEndpointAndCertificate() {
    SsoConfig.Saml c = (SsoConfig.Saml) config().connector("corp-saml");
    IdpMetadata md = IdpMetadata.load(c);
    assertThat(md.entityId()).isEqualTo(kc.issuer(CorpRealm.NAME).toString());
    assertThat(md.singleSignOnUrl().toString()).startsWith(kc.issuer(CorpRealm.NAME) + "/protocol/saml");
    assertThat(md.signingCertificates()).isNotEmpty();
  }

  static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String check) {
    assertThatThrownBy(call).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).isEqualTo(AirlockException.Kind.DENIED);
      assertThat(e.get(LoginRefused.CHECK)).as(e.getMessage()).contains(check);
      assertThat(e.fix()).isPresent();
    });
  }

}
