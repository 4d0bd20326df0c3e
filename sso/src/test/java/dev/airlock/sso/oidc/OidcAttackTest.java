package dev.airlock.sso.oidc;

import static dev.airlock.sso.oidc.OidcRelyingParty.ALGORITHM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.error.AirlockException;
import dev.airlock.sso.Identity;
import dev.airlock.sso.LoginRefused;
import dev.airlock.sso.MutableClock;
import dev.airlock.sso.ReplayCache;
import dev.airlock.sso.SsoConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OIDC half of the attack catalogue (the OpenID conformance suite's negative tests are the reference), one test
 * per attack, each forged here with the test's own keys against a stand-in provider; and the skew edges to the
 * second. Every refusal names its check.
 */
class OidcAttackTest {

  static final URI CALLBACK = URI.create("http://127.0.0.1:8400/sso/oidc/corp/callback");
  static final Map<String, String> ENV = Map.of("OIDC_SECRET", TestProvider.SECRET);

  MutableClock clock = MutableClock.at("2026-12-01T10:00:00Z");
  TestProvider op;

  @BeforeEach
  void start() {
    op = TestProvider.start(clock);
  }

  @AfterEach
  void stop() {
    op.close();
  }

  SsoConfig.Oidc config(String extra) {
    return (SsoConfig.Oidc) SsoConfig.parse("sso.yaml", """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp
            type: oidc
            issuer: %s
            clientId: airlock
            clientSecret: {env: OIDC_SECRET}
            groupsClaim: groups
        %s""".formatted(op.issuer, extra.indent(4)), Path.of(".")).connector("corp");
  }

  OidcRelyingParty rp(String extra) {
    return new OidcRelyingParty(config(extra), clock, ENV::get, ReplayCache.inMemory());
  }

  OidcRelyingParty rp() {
    return rp("");
  }

  /** One login: begin, the provider's authorization (with {@code callback} edited), then complete. */
  Identity login(OidcRelyingParty rp, UnaryOperator<Map<String, String>> callback) {
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    return rp.complete(callback.apply(new LinkedHashMap<>(op.authorize(start.authorizationUrl()))),
        start.pending());
  }

  Identity login(OidcRelyingParty rp) {
    return login(rp, UnaryOperator.identity());
  }

  /** Makes the provider issue ID tokens with these claims, signed by its key. */
  void claims(Function<TestProvider.Grant, JWTClaimsSet> claims) {
    op.idToken = g -> TestProvider.sign(op.key, claims.apply(g));
  }

  static void refused(ThrowingCallable call, String check) {
    assertThatThrownBy(call).isInstanceOfSatisfying(AirlockException.class, e -> {
      assertThat(e.kind()).as(e.getMessage()).isEqualTo(AirlockException.Kind.DENIED);
      assertThat(e.get(LoginRefused.CHECK)).as(e.getMessage()).contains(check);
      assertThat(e.getMessage()).contains("corp");
      assertThat(e.fix()).isPresent();
    });
  }

  @Test
  void anHonestLogin_passes_andTheRequestUsesPkceS256StateAndNonce() {
    OidcRelyingParty rp = rp();
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    Map<String, String> q = dev.airlock.sso.FormData.parse(start.authorizationUrl().getRawQuery());
    assertThat(q).containsEntry("code_challenge_method", "S256").containsEntry("response_type", "code")
        .containsKeys("state", "nonce", "code_challenge").doesNotContainKey("code_verifier");
    assertThat(q.get("code_challenge")).isNotEqualTo(start.pending().codeVerifier());
    Identity id = rp.complete(op.authorize(start.authorizationUrl()), start.pending());
    assertThat(id.username()).isEqualTo("alice");
    assertThat(id.groups()).containsExactly("devs", "all-staff");
    assertThat(id.email()).isEqualTo("alice@corp.example");
    assertThat(id.authenticatedAt()).isEqualTo(clock.instant());
  }

  // ---- signature and keys

  @Test
  void algNone_isRefused() {
    op.idToken = g -> new PlainJWT(op.claims(g).build()).serialize();
    refused(() -> login(rp()), ALGORITHM);
  }

  @Test
  void hs256_withThePublicKeyAsSecret_isRefused_evenWhenTheConnectorAllowsHs256() throws Exception {
    byte[] publicKey = op.key.toRSAPublicKey().getEncoded();
    op.idToken = g -> hmac(publicKey, op.claims(g).build());
    refused(() -> login(rp()), ALGORITHM);
    // With HS256 allowed, only the client secret is an HMAC key: the public key is not.
    refused(() -> login(rp("algorithms: [RS256, HS256]")), OidcRelyingParty.SIGNATURE);
    op.idToken = g -> hmac(TestProvider.SECRET.repeat(2).getBytes(), op.claims(g).build());
    refused(() -> login(rp("algorithms: [RS256, HS256]")), OidcRelyingParty.SIGNATURE);
  }

  @Test
  void aForeignKey_withTheProvidersKid_isRefused() throws Exception {
    RSAKey foreign = new RSAKeyGenerator(2048).keyID("k1").generate();
    op.idToken = g -> TestProvider.sign(foreign, op.claims(g).build());
    refused(() -> login(rp()), OidcRelyingParty.SIGNATURE);
  }

  @Test
  void anUnknownKid_isRefusedAfterOneFreshFetch_aRotationIsFound() throws Exception {
    OidcRelyingParty rp = rp();
    login(rp); // caches the keys
    assertThat(op.jwksFetches.get()).isEqualTo(1);
    RSAKey rotated = new RSAKeyGenerator(2048).keyID("k2").keyUse(KeyUse.SIGNATURE).generate();
    op.idToken = g -> TestProvider.sign(rotated, op.claims(g).build());
    clock.advance(Duration.ofSeconds(11));
    refused(() -> login(rp), OidcRelyingParty.KEY);
    assertThat(op.jwksFetches.get()).as("one fresh fetch for the unknown kid").isEqualTo(2);
    clock.advance(Duration.ofSeconds(29));
    assertThatThrownBy(() -> login(rp)).hasMessageContaining("fetched again for an unknown kid less than 30 s ago");
    assertThat(op.jwksFetches.get()).as("forged kids cannot make airlock hammer the provider").isEqualTo(2);
    // The provider rotates: publishes k2. The next unknown kid after the interval fetches again and finds it.
    op.published.add(rotated.toPublicJWK());
    clock.advance(Duration.ofSeconds(1));
    assertThat(login(rp).username()).isEqualTo("alice");
    assertThat(op.jwksFetches.get()).isEqualTo(3);
  }

  @Test
  void aKeyPublishedRightAfterTheFirstFetch_isFetched_andTheLoginPasses() throws Exception {
    OidcRelyingParty rp = rp();
    login(rp); // caches the keys: only k1
    assertThat(op.jwksFetches.get()).isEqualTo(1);
    // The provider rotates at once (no time passes): it publishes k2 and signs with it.
    RSAKey rotated = new RSAKeyGenerator(2048).keyID("k2").keyUse(KeyUse.SIGNATURE).generate();
    op.published.add(rotated.toPublicJWK());
    op.idToken = g -> TestProvider.sign(rotated, op.claims(g).build());
    assertThat(login(rp).username()).isEqualTo("alice");
    assertThat(op.jwksFetches.get()).as("the unknown kid reached the provider").isEqualTo(2);
    // Known kids never fetch again.
    assertThat(login(rp).username()).isEqualTo("alice");
    assertThat(op.jwksFetches.get()).isEqualTo(2);
  }

  // ---- claims

  @Test
  void wrongIssuer_isRefused() {
    claims(g -> op.claims(g).issuer("https://evil.example").build());
    refused(() -> login(rp()), OidcRelyingParty.ISSUER);
  }

  @Test
  void anAudienceWithoutUs_isRefused() {
    claims(g -> op.claims(g).audience("another-client").build());
    refused(() -> login(rp()), OidcRelyingParty.AUDIENCE);
  }

  @Test
  void severalAudiences_needOurAzp() {
    claims(g -> op.claims(g).audience(List.of("airlock", "other")).build());
    refused(() -> login(rp()), OidcRelyingParty.AUTHORIZED_PARTY);
    claims(g -> op.claims(g).audience(List.of("airlock", "other")).claim("azp", "other").build());
    refused(() -> login(rp()), OidcRelyingParty.AUTHORIZED_PARTY);
    claims(g -> op.claims(g).audience(List.of("airlock", "other")).claim("azp", "airlock").build());
    assertThat(login(rp()).username()).isEqualTo("alice");
  }

  @Test
  void expiry_isCheckedToTheSecond_withTheConfiguredSkew() {
    // skew 60 s: an ID token that expired 59 s ago passes, 60 s ago does not.
    claims(g -> op.claims(g).expirationTime(Date.from(clock.instant().minusSeconds(59))).build());
    assertThat(login(rp()).username()).isEqualTo("alice");
    claims(g -> op.claims(g).expirationTime(Date.from(clock.instant().minusSeconds(60))).build());
    refused(() -> login(rp()), OidcRelyingParty.EXPIRED);
    claims(g -> op.claims(g).expirationTime(null).build());
    refused(() -> login(rp()), OidcRelyingParty.EXPIRED);
    // skew 0: one second past expiry is too late.
    claims(g -> op.claims(g).expirationTime(Date.from(clock.instant())).build());
    refused(() -> login(rp("clockSkewSeconds: 0")), OidcRelyingParty.EXPIRED);
    claims(g -> op.claims(g).expirationTime(Date.from(clock.instant().plusSeconds(1))).build());
    assertThat(login(rp("clockSkewSeconds: 0")).username()).isEqualTo("alice");
  }

  @Test
  void issuedInTheFuture_isCheckedToTheSecond() {
    claims(g -> op.claims(g).issueTime(Date.from(clock.instant().plusSeconds(60))).build());
    assertThat(login(rp()).username()).isEqualTo("alice");
    claims(g -> op.claims(g).issueTime(Date.from(clock.instant().plusSeconds(61))).build());
    refused(() -> login(rp()), OidcRelyingParty.ISSUED_AT);
    claims(g -> op.claims(g).issueTime(null).build());
    refused(() -> login(rp()), OidcRelyingParty.ISSUED_AT);
  }

  @Test
  void notBefore_isCheckedToTheSecond() {
    claims(g -> op.claims(g).notBeforeTime(Date.from(clock.instant().plusSeconds(60))).build());
    assertThat(login(rp()).username()).isEqualTo("alice");
    claims(g -> op.claims(g).notBeforeTime(Date.from(clock.instant().plusSeconds(61))).build());
    refused(() -> login(rp()), OidcRelyingParty.NOT_BEFORE);
  }

  @Test
  void nonce_missing_wrong_orReplayed_isRefused() {
    claims(g -> op.claims(g).claim("nonce", null).build());
    refused(() -> login(rp()), OidcRelyingParty.NONCE);
    claims(g -> op.claims(g).claim("nonce", "not-this-login").build());
    refused(() -> login(rp()), OidcRelyingParty.NONCE);
    // A token captured from one login, replayed into another: its nonce is the old login's.
    op.idToken = g -> TestProvider.sign(op.key, op.claims(g).build());
    OidcRelyingParty rp = rp();
    OidcRelyingParty.Start first = rp.begin(CALLBACK);
    String captured = op.idToken.apply(new TestProvider.Grant("c", "airlock", CALLBACK, first.pending().nonce(),
        null, null));
    rp.complete(op.authorize(first.authorizationUrl()), first.pending());
    op.idToken = g -> captured;
    refused(() -> login(rp), OidcRelyingParty.NONCE);
    // The same token checked twice for the same nonce: the second use is a replay.
    refused(() -> rp.verify(com.nimbusds.jwt.JWTParser.parse(captured), first.pending().nonce()),
        OidcRelyingParty.NONCE);
  }

  // ---- the flow

  @Test
  void state_missingOrWrong_isRefused_andACallbackIsGoodOnce() {
    refused(() -> login(rp(), q -> {
      q.remove("state");
      return q;
    }), OidcRelyingParty.STATE);
    refused(() -> login(rp(), q -> {
      q.put("state", "forged");
      return q;
    }), OidcRelyingParty.STATE);
    OidcRelyingParty rp = rp();
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    Map<String, String> callback = op.authorize(start.authorizationUrl());
    rp.complete(callback, start.pending());
    refused(() -> rp.complete(callback, start.pending()), OidcRelyingParty.STATE);
  }

  @Test
  void aLoginOlderThanTenMinutes_isRefused() {
    OidcRelyingParty rp = rp();
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    Map<String, String> callback = op.authorize(start.authorizationUrl());
    clock.advance(OidcRelyingParty.LOGIN_TIMEOUT.plusSeconds(1));
    refused(() -> rp.complete(callback, start.pending()), OidcRelyingParty.STATE);
  }

  @Test
  void pkcePlainOnly_isRefusedAtDiscovery_andAWrongVerifierAtTheTokenEndpoint() {
    OidcRelyingParty rp = rp();
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    Map<String, String> callback = op.authorize(start.authorizationUrl());
    OidcRelyingParty.Pending p = start.pending();
    refused(() -> rp.complete(callback, new OidcRelyingParty.Pending(p.connector(), p.state(), p.nonce(),
        new com.nimbusds.oauth2.sdk.pkce.CodeVerifier().getValue(), p.redirectUri(), p.started())),
        OidcRelyingParty.CODE_EXCHANGE);
    op.pkceMethods = List.of("plain");
    refused(() -> rp().begin(CALLBACK), OidcRelyingParty.DISCOVERY);
  }

  @Test
  void idpMixUp_aResponseFromAnotherIssuerOrForAnotherConnector_isRefused() {
    refused(() -> login(rp(), q -> {
      q.put("iss", "https://other-idp.example");
      return q;
    }), OidcRelyingParty.ISS_PARAMETER);
    refused(() -> login(rp(), q -> {
      q.remove("iss");
      return q;
    }), OidcRelyingParty.ISS_PARAMETER);
    OidcRelyingParty rp = rp();
    OidcRelyingParty.Start start = rp.begin(CALLBACK);
    OidcRelyingParty.Pending p = start.pending();
    refused(() -> rp.complete(op.authorize(start.authorizationUrl()), new OidcRelyingParty.Pending("other-connector",
        p.state(), p.nonce(), p.codeVerifier(), p.redirectUri(), p.started())), OidcRelyingParty.CONNECTOR);
  }

  @Test
  void userInfo_ofAnotherSubject_isRefused_ofTheSameIsMerged() {
    op.userInfo = g -> Map.of("sub", "someone-else", "preferred_username", "admin");
    refused(() -> login(rp()), OidcRelyingParty.USERINFO_SUBJECT);
    claims(g -> op.claims(g).claim("groups", null).claim("email", null).build());
    op.userInfo = g -> Map.of("sub", "user-1", "groups", "ops", "email", "a@corp.example", "email_verified", true);
    Identity id = login(rp());
    assertThat(id.groups()).as("a groups claim that is one string").containsExactly("ops");
    assertThat(id.email()).isEqualTo("a@corp.example");
  }

  @Test
  void anUnverifiedEmail_isNoEmail_andGroupFiltersApply() {
    claims(g -> op.claims(g).claim("email_verified", false).build());
    Identity id = login(rp("groupFilter: [\"dev*\"]"));
    assertThat(id.email()).isNull();
    assertThat(id.groups()).containsExactly("devs");
  }

  @Test
  void entraIdsGroupsOverage_isRefused_notTakenAsNoGroups() {
    claims(g -> op.claims(g).claim("groups", null).claim("_claim_names", Map.of("groups", "src1"))
        .claim("_claim_sources", Map.of("src1", Map.of("endpoint", "https://graph.microsoft.com/v1.0/me/getMemberObjects")))
        .build());
    refused(() -> login(rp()), OidcRelyingParty.GROUPS_OVERAGE);
  }

  static String hmac(byte[] secret, JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(), claims);
      jwt.sign(new MACSigner(secret.length >= 32 ? secret : java.util.Arrays.copyOf(secret, 32)));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }
}
