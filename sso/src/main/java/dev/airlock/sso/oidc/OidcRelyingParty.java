package dev.airlock.sso.oidc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenErrorResponse;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.ClientSecretPost;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.UserInfoRequest;
import com.nimbusds.openid.connect.sdk.UserInfoResponse;
import com.nimbusds.openid.connect.sdk.claims.UserInfo;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.sso.Identity;
import dev.airlock.sso.LoginRefused;
import dev.airlock.sso.ReplayCache;
import dev.airlock.sso.SsoConfig;
import dev.airlock.text.Glob;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.net.ssl.SSLSocketFactory;

/**
 * An OpenID Connect relying party for one connector: discovery, the authorization code flow with PKCE (S256 only),
 * state and nonce, and an ID token checked claim by claim, each check named when it refuses. Nimbus does the OAuth
 * and JOSE work; the order and the refusals are airlock's.
 */
public final class OidcRelyingParty {

  /** Check names, as {@link LoginRefused} reports them. */
  public static final String STATE = "state";
  public static final String IDP_ERROR = "idp-error";
  public static final String ISS_PARAMETER = "iss-parameter";
  public static final String CODE_EXCHANGE = "code-exchange";
  public static final String ALGORITHM = "algorithm";
  public static final String SIGNATURE = "signature";
  public static final String KEY = "key";
  public static final String ISSUER = "issuer";
  public static final String AUDIENCE = "audience";
  public static final String AUTHORIZED_PARTY = "azp";
  public static final String EXPIRED = "exp";
  public static final String ISSUED_AT = "iat";
  public static final String NOT_BEFORE = "nbf";
  public static final String NONCE = "nonce";
  public static final String SUBJECT = "sub";
  public static final String USERINFO_SUBJECT = "userinfo-sub";
  public static final String CONNECTOR = "connector";
  public static final String DISCOVERY = "discovery";
  /**
   * Set on a discovery failure where nothing answered as an OpenID provider (no connection, another HTTP status,
   * not a discovery document): a server tells its users only that, not what answered (its network's ports).
   */
  public static final String NO_PROVIDER = "no-provider";
  public static final String GROUPS_OVERAGE = "groups-overage";
  /** The IdP refused to refresh a session: it ended there (logged out, disabled, idle or too old). */
  public static final String REFRESH = "refresh";

  private final SsoConfig.Oidc config;
  private final Clock clock;
  private final SSLSocketFactory tls;
  private final Function<String, String> environment;
  private final ReplayCache replays;
  private volatile OIDCProviderMetadata metadata;
  private volatile CachedJwks jwks;

  /** How long a started login may take until its callback. */
  public static final Duration LOGIN_TIMEOUT = Duration.ofMinutes(10);

  public OidcRelyingParty(SsoConfig.Oidc config, Clock clock) {
    this(config, clock, System::getenv, ReplayCache.inMemory());
  }

  /**
   * @param environment where {@code {env: ...}} secrets come from (the process environment, or a test's)
   * @param replays where used states and nonces are remembered (shared by every replica of a server)
   */
  public OidcRelyingParty(SsoConfig.Oidc config, Clock clock, Function<String, String> environment,
      ReplayCache replays) {
    this.config = config;
    this.clock = clock;
    this.environment = environment;
    this.replays = replays;
    this.tls = config.caFile() == null ? null : Tls.socketFactory(config.caFile());
  }

  public SsoConfig.Oidc config() {
    return config;
  }

  /**
   * What a login in progress must remember until the callback: kept by the caller (a signed cookie, a CLI's
   * memory), never by the IdP.
   */
  public record Pending(String connector, String state, String nonce, String codeVerifier, URI redirectUri,
      Instant started) {}

  /** The URL to send the browser to, and what the callback must match. */
  public record Start(URI authorizationUrl, Pending pending) {}

  /** The provider's metadata, fetched once (discovery) and checked against the configured issuer. */
  public OIDCProviderMetadata metadata() {
    OIDCProviderMetadata m = metadata;
    if (m != null) {
      return m;
    }
    URI well = URI.create(config.issuer().toString().replaceAll("/+$", "") + "/.well-known/openid-configuration");
    try {
      HTTPResponse r = send(new HTTPRequest(HTTPRequest.Method.GET, well));
      if (r.getStatusCode() != 200) {
        throw LoginRefused.because(config.name(), DISCOVERY, "the provider's discovery document " + well
            + " answered HTTP " + r.getStatusCode(), "check the connector's issuer URL").with(NO_PROVIDER, "true");
      }
      m = OIDCProviderMetadata.parse(r.getBody());
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "cannot reach the OIDC provider of connector " + config.name() + " at "
          + well + ": " + e.getMessage(), "check the issuer URL and that the IdP is reachable from here"
          + (config.caFile() == null ? " (a company CA: set caFile)" : ""), e).with("connector", config.name())
          .with(NO_PROVIDER, "true");
    } catch (ParseException e) {
      throw LoginRefused.because(config.name(), DISCOVERY, well + " is not an OpenID provider discovery document",
          "check the connector's issuer URL", e).with(NO_PROVIDER, "true");
    }
    if (!m.getIssuer().getValue().equals(config.issuer().toString())) {
      throw LoginRefused.because(config.name(), DISCOVERY, "the provider calls itself '" + m.getIssuer().getValue()
          + "', the connector expects '" + config.issuer() + "'", "set issuer to exactly the provider's issuer");
    }
    if (m.getCodeChallengeMethods() != null && !m.getCodeChallengeMethods().contains(CodeChallengeMethod.S256)) {
      throw LoginRefused.because(config.name(), DISCOVERY, "the provider offers PKCE only as "
          + m.getCodeChallengeMethods() + "; airlock uses S256 only", "enable PKCE S256 in the IdP");
    }
    metadata = m;
    jwks = new CachedJwks(m.getJWKSetURI(), this::send, clock);
    return m;
  }

  /** Starts a login: the authorization URL (code flow, PKCE S256, state, nonce) and what to remember. */
  public Start begin(URI redirectUri) {
    OIDCProviderMetadata m = metadata();
    State state = new State();
    Nonce nonce = new Nonce();
    CodeVerifier verifier = new CodeVerifier();
    AuthenticationRequest req = new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
        new Scope(config.scopes().toArray(String[]::new)), new ClientID(config.clientId()), redirectUri)
        .endpointURI(m.getAuthorizationEndpointURI()).state(state).nonce(nonce)
        .codeChallenge(verifier, CodeChallengeMethod.S256).build();
    return new Start(req.toURI(), new Pending(config.name(), state.getValue(), nonce.getValue(), verifier.getValue(),
        redirectUri, clock.instant()));
  }

  /**
   * Finishes a login from the callback's query parameters: checks state (and the RFC 9207 {@code iss} parameter),
   * exchanges the code with the PKCE verifier, checks the ID token, merges UserInfo when its subject is the token's,
   * and returns who logged in.
   */
  /**
   * A completed login: who, and the refresh token the IdP issued (null if none), with which {@link #refresh} asks
   * the IdP again later.
   */
  public record Login(Identity identity, String refreshToken) {
    @Override
    public String toString() {
      return "Login[" + identity + ", refreshToken=" + (refreshToken == null ? "none" : "(hidden)") + "]";
    }
  }

  public Identity complete(Map<String, String> params, Pending pending) {
    return completeLogin(params, pending).identity();
  }

  /**
   * Asks the IdP for the user's current identity with a refresh token, as at login: a new ID token checked in full
   * (its subject must be {@code subject}), UserInfo when configured. A refusal from the IdP ({@code invalid_grant}:
   * the user logged out, was disabled, or the IdP session is idle or too old) is a {@link LoginRefused} with check
   * {@value #REFRESH}; an unreachable IdP is a {@code REMOTE} error.
   */
  public Login refresh(String refreshToken, String subject) {
    OIDCProviderMetadata m = metadata();
    TokenResponse resp = tokenRequest(m, new RefreshTokenGrant(new RefreshToken(refreshToken)), REFRESH);
    if (!resp.indicatesSuccess()) {
      ErrorObject err = ((TokenErrorResponse) resp).getErrorObject();
      if (!OAuth2Error.INVALID_GRANT.getCode().equals(err.getCode())) {
        throw new AirlockException(Kind.REMOTE, "the IdP of connector " + config.name() + " failed a refresh: "
            + err.getCode() + (err.getDescription() == null ? "" : " (" + err.getDescription() + ")"),
            "check the client's configuration in the IdP");
      }
      throw LoginRefused.because(config.name(), REFRESH, "the IdP ended the session (" + err.getCode()
          + (err.getDescription() == null ? "" : ": " + err.getDescription()) + ")", "log in again");
    }
    OIDCTokenResponse tokens = (OIDCTokenResponse) resp.toSuccessResponse();
    JWT idToken = tokens.getOIDCTokens().getIDToken();
    if (idToken == null) {
      throw LoginRefused.because(config.name(), REFRESH, "the IdP's refresh answer has no ID token, so the user's "
          + "groups cannot be checked again", "let the client receive ID tokens on refresh (it is the default of "
          + "Keycloak, Okta and Entra ID)");
    }
    JWTClaimsSet claims = verify(idToken, null);
    if (!subject.equals(claims.getSubject())) {
      throw LoginRefused.because(config.name(), SUBJECT, "the refreshed ID token is for subject '"
          + claims.getSubject() + "', the session's is '" + subject + "'", "log in again");
    }
    Map<String, Object> all = claimsWithUserInfo(m, claims, tokens);
    RefreshToken next = tokens.getOIDCTokens().getRefreshToken();
    return new Login(identity(claims, all), next != null ? next.getValue() : refreshToken);
  }

  /** {@link #complete}, keeping the refresh token. */
  public Login completeLogin(Map<String, String> params, Pending pending) {
    if (!pending.connector().equals(config.name())) {
      throw LoginRefused.because(config.name(), CONNECTOR, "the login was started with connector "
          + pending.connector(), "start the login again");
    }
    OIDCProviderMetadata m = metadata();
    if (params.get("iss") != null && !params.get("iss").equals(m.getIssuer().getValue())) {
      throw LoginRefused.because(config.name(), ISS_PARAMETER, "the response comes from issuer '" + params.get("iss")
          + "', not '" + m.getIssuer().getValue() + "' (an IdP mix-up)", "start the login again");
    }
    if (params.get("iss") == null && m.supportsAuthorizationResponseIssuerParam()) {
      throw LoginRefused.because(config.name(), ISS_PARAMETER, "the provider promises an iss parameter in its "
          + "responses and this one has none", "start the login again");
    }
    if (params.get("state") == null || !params.get("state").equals(pending.state())) {
      throw LoginRefused.because(config.name(), STATE, params.get("state") == null ? "the response has no state"
          : "the response's state does not match the login this browser started", "start the login again from "
          + "airlock (a response replayed or forged by another site is refused)");
    }
    Instant now = clock.instant();
    if (pending.started().plus(LOGIN_TIMEOUT).isBefore(now)) {
      throw LoginRefused.because(config.name(), STATE, "the login was started at " + pending.started() + ", more "
          + "than " + LOGIN_TIMEOUT.toMinutes() + " minutes ago", "start the login again");
    }
    if (!replays.firstUse("oidc-state:" + config.name() + ":" + pending.state(), pending.started()
        .plus(LOGIN_TIMEOUT), now)) {
      throw LoginRefused.because(config.name(), STATE, "this login was already completed once (a replayed "
          + "response)", "start the login again");
    }
    if (params.get("error") != null) {
      throw LoginRefused.because(config.name(), IDP_ERROR, "the IdP answered " + params.get("error")
          + (params.get("error_description") == null ? "" : ": " + params.get("error_description")),
          "see the IdP's log for the user and client " + config.clientId());
    }
    String code = params.get("code");
    if (code == null || code.isBlank()) {
      throw LoginRefused.because(config.name(), CODE_EXCHANGE, "the response has no authorization code",
          "start the login again");
    }
    OIDCTokenResponse tokens = exchange(m, code, pending);
    JWT idToken = tokens.getOIDCTokens().getIDToken();
    JWTClaimsSet claims = verify(idToken, pending.nonce());
    Map<String, Object> all = claimsWithUserInfo(m, claims, tokens);
    var refresh = tokens.getOIDCTokens().getRefreshToken();
    return new Login(identity(claims, all), refresh == null ? null : refresh.getValue());
  }

  /** The ID token's claims, with UserInfo's added when configured (its subject must be the token's). */
  private Map<String, Object> claimsWithUserInfo(OIDCProviderMetadata m, JWTClaimsSet claims,
      OIDCTokenResponse tokens) {
    Map<String, Object> all = new java.util.LinkedHashMap<>(claims.getClaims());
    BearerAccessToken access = tokens.getOIDCTokens().getBearerAccessToken();
    if (config.userInfo() && m.getUserInfoEndpointURI() != null && access != null) {
      UserInfo info = userInfo(m, access);
      if (!info.getSubject().getValue().equals(claims.getSubject())) {
        throw LoginRefused.because(config.name(), USERINFO_SUBJECT, "UserInfo describes subject '"
            + info.getSubject().getValue() + "', the ID token '" + claims.getSubject() + "'",
            "the IdP answered for another user: report it to the IdP's administrators");
      }
      info.toJSONObject().forEach(all::putIfAbsent);
    }
    return all;
  }

  private OIDCTokenResponse exchange(OIDCProviderMetadata m, String code, Pending pending) {
    AuthorizationCodeGrant grant = new AuthorizationCodeGrant(new AuthorizationCode(code), pending.redirectUri(),
        new CodeVerifier(pending.codeVerifier()));
    TokenResponse resp = tokenRequest(m, grant, CODE_EXCHANGE);
    if (!resp.indicatesSuccess()) {
      ErrorObject err = ((TokenErrorResponse) resp).getErrorObject();
      throw LoginRefused.because(config.name(), CODE_EXCHANGE, "the IdP refused the code: " + err.getCode()
          + (err.getDescription() == null ? "" : " (" + err.getDescription() + ")"), "check the client's "
          + "credentials and redirect URI in the IdP; a code is good for one use, with its PKCE verifier");
    }
    return (OIDCTokenResponse) resp.toSuccessResponse();
  }

  /** One request to the token endpoint with the client's authentication; {@code check} names a refusal. */
  private TokenResponse tokenRequest(OIDCProviderMetadata m, com.nimbusds.oauth2.sdk.AuthorizationGrant grant,
      String check) {
    ClientAuthentication auth = clientAuthentication(m);
    TokenRequest req = auth == null ? new TokenRequest(m.getTokenEndpointURI(), new ClientID(config.clientId()), grant)
        : new TokenRequest(m.getTokenEndpointURI(), auth, grant);
    try {
      return OIDCTokenResponseParser.parse(send(req.toHTTPRequest()));
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "cannot reach the token endpoint of connector " + config.name() + ": "
          + e.getMessage(), "check that the IdP is reachable from here", e);
    } catch (ParseException e) {
      throw LoginRefused.because(config.name(), check, "the token endpoint's answer is not an OIDC token response",
          "check the IdP", e);
    }
  }

  private ClientAuthentication clientAuthentication(OIDCProviderMetadata m) {
    ClientID id = new ClientID(config.clientId());
    return switch (config.clientAuth()) {
      case "client_secret_basic" -> new ClientSecretBasic(id, new Secret(config.clientSecret().resolve(environment)));
      case "client_secret_post" -> new ClientSecretPost(id, new Secret(config.clientSecret().resolve(environment)));
      case "private_key_jwt" -> {
        PrivateKey key = Keys.privateKey(config.privateKey().resolve(environment), config.name());
        JWSAlgorithm alg = key.getAlgorithm().equals("EC") ? JWSAlgorithm.ES256 : JWSAlgorithm.RS256;
        try {
          yield new PrivateKeyJWT(id, m.getTokenEndpointURI(), alg, key, config.privateKeyId(), null);
        } catch (JOSEException e) {
          throw new AirlockException(Kind.BAD_INPUT, "cannot sign the client assertion of connector "
              + config.name() + ": " + e.getMessage(), "check privateKey", e);
        }
      }
      default -> null;
    };
  }

  private UserInfo userInfo(OIDCProviderMetadata m, BearerAccessToken access) {
    try {
      UserInfoResponse r = UserInfoResponse.parse(send(new UserInfoRequest(m.getUserInfoEndpointURI(), access)
          .toHTTPRequest()));
      if (!r.indicatesSuccess()) {
        throw LoginRefused.because(config.name(), USERINFO_SUBJECT, "the UserInfo endpoint refused the access "
            + "token: " + r.toErrorResponse().getErrorObject().getCode(), "check the client's scopes in the IdP");
      }
      return r.toSuccessResponse().getUserInfo();
    } catch (IOException e) {
      throw new AirlockException(Kind.REMOTE, "cannot reach the UserInfo endpoint of connector " + config.name()
          + ": " + e.getMessage(), "check that the IdP is reachable, or set userInfo: false", e);
    } catch (ParseException e) {
      throw LoginRefused.because(config.name(), USERINFO_SUBJECT, "the UserInfo answer is not valid",
          "set userInfo: false if the IdP's UserInfo endpoint is broken", e);
    }
  }

  /**
   * Checks an ID token, each check named: parsed as a signed JWT (never {@code none}), the algorithm on the
   * allow-list, the signature by the provider's key for its {@code kid} (the JWKS is fetched again for an unknown
   * {@code kid}, at most once per 30 s), then iss, aud, azp, exp, iat, nbf (within the clock skew), nonce and sub.
   */
  public JWTClaimsSet verify(JWT token, String expectedNonce) {
    metadata();
    if (token instanceof PlainJWT) {
      throw LoginRefused.because(config.name(), ALGORITHM, "the ID token is unsigned (alg none)",
          "configure the IdP to sign ID tokens with " + config.algorithms().get(0));
    }
    if (!(token instanceof SignedJWT jwt)) {
      throw LoginRefused.because(config.name(), ALGORITHM, "the ID token is encrypted, which airlock does not "
          + "read", "turn ID token encryption off for this client in the IdP");
    }
    JWSHeader header = jwt.getHeader();
    String alg = header.getAlgorithm().getName();
    if (!config.algorithms().contains(alg)) {
      throw LoginRefused.because(config.name(), ALGORITHM, "the ID token is signed with " + alg + ", which the "
          + "connector does not accept (" + String.join(", ", config.algorithms()) + ")", "sign with one of those in "
          + "the IdP, or add the algorithm to the connector's algorithms");
    }
    JWSVerifier verifier = verifier(header);
    boolean valid;
    try {
      valid = jwt.verify(verifier);
    } catch (JOSEException e) {
      throw LoginRefused.because(config.name(), SIGNATURE, "the ID token's signature cannot be checked: "
          + e.getMessage(), "check the IdP's signing keys", e);
    }
    if (!valid) {
      throw LoginRefused.because(config.name(), SIGNATURE, "the ID token's signature is not the provider's",
          "the token was altered or signed by someone else; start the login again");
    }
    JWTClaimsSet c;
    try {
      c = jwt.getJWTClaimsSet();
    } catch (java.text.ParseException e) {
      throw LoginRefused.because(config.name(), SIGNATURE, "the ID token's claims are not JSON", "check the IdP", e);
    }
    checkClaims(c, expectedNonce);
    if (expectedNonce != null && !replays.firstUse("oidc-nonce:" + config.name() + ":" + expectedNonce,
        c.getExpirationTime().toInstant().plus(config.clockSkew()), clock.instant())) {
      throw LoginRefused.because(config.name(), NONCE, "the ID token's nonce was already used by a completed login "
          + "(a replayed token)", "start the login again");
    }
    return c;
  }

  private JWSVerifier verifier(JWSHeader header) {
    JWSAlgorithm alg = header.getAlgorithm();
    try {
      if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
        // Only the client secret is an HMAC key here; a provider's public key never is.
        return new MACVerifier(config.clientSecret().resolve(environment));
      }
      CachedJwks.Lookup found = jwks.find(header.getKeyID(), alg);
      JWK key = found.key().orElseThrow(() -> LoginRefused.because(config.name(), KEY,
          "the provider has no " + alg + " key with kid '" + header.getKeyID() + "' (" + (found.fetchedAgain()
          ? "also after fetching its keys again" : "its keys were fetched again for an unknown kid less than "
          + CachedJwks.REFETCH_INTERVAL.toSeconds() + " s ago") + ")", "the token is signed by a key the provider "
          + "does not publish; start the login again" + (found.fetchedAgain() ? "" : " in "
          + CachedJwks.REFETCH_INTERVAL.toSeconds() + " s if the provider has just rotated its keys")));
      if (JWSAlgorithm.Family.RSA.contains(alg) && key instanceof RSAKey rsa) {
        return new RSASSAVerifier(rsa);
      }
      if (JWSAlgorithm.Family.EC.contains(alg) && key instanceof ECKey ec) {
        return new ECDSAVerifier(ec);
      }
      if (alg.equals(JWSAlgorithm.EdDSA) && key instanceof OctetKeyPair okp) {
        return new Ed25519Verifier(okp);
      }
    } catch (JOSEException e) {
      throw LoginRefused.because(config.name(), KEY, "the provider's key for " + alg + " is unusable: "
          + e.getMessage(), "check the IdP's signing keys", e);
    }
    throw LoginRefused.because(config.name(), KEY, "the key with kid '" + header.getKeyID() + "' does not fit "
        + alg, "check the IdP's signing keys");
  }

  private void checkClaims(JWTClaimsSet c, String expectedNonce) {
    Instant now = clock.instant();
    Duration skew = config.clockSkew();
    String n = config.name();
    if (!config.issuer().toString().equals(c.getIssuer())) {
      throw LoginRefused.because(n, ISSUER, "the ID token's issuer is '" + c.getIssuer() + "', the connector "
          + "expects '" + config.issuer() + "'", "set issuer to the IdP's issuer");
    }
    List<String> aud = c.getAudience() == null ? List.of() : c.getAudience();
    if (!aud.contains(config.clientId())) {
      throw LoginRefused.because(n, AUDIENCE, "the ID token is for " + aud + ", not for client '" + config.clientId()
          + "'", "set clientId to the client the IdP issues tokens for");
    }
    Object azp = c.getClaim("azp");
    if (aud.size() > 1 && azp == null || azp != null && !config.clientId().equals(String.valueOf(azp))) {
      throw LoginRefused.because(n, AUTHORIZED_PARTY, "the ID token names several audiences " + aud + " and its "
          + "authorized party is " + (azp == null ? "missing" : "'" + azp + "'") + ", not '" + config.clientId()
          + "'", "the token was issued to another client; start the login again");
    }
    Date exp = c.getExpirationTime();
    if (exp == null || !exp.toInstant().plus(skew).isAfter(now)) {
      throw LoginRefused.because(n, EXPIRED, exp == null ? "the ID token has no expiry" : "the ID token expired at "
          + exp.toInstant() + " (now " + now + ", allowed skew " + skew.toSeconds() + " s)", "check this machine's "
          + "clock, then start the login again");
    }
    Date iat = c.getIssueTime();
    if (iat == null || iat.toInstant().minus(skew).isAfter(now)) {
      throw LoginRefused.because(n, ISSUED_AT, iat == null ? "the ID token has no issue time" : "the ID token is "
          + "issued in the future (" + iat.toInstant() + ", now " + now + ")", "check the clocks of this machine "
          + "and the IdP (NTP)");
    }
    Date nbf = c.getNotBeforeTime();
    if (nbf != null && nbf.toInstant().minus(skew).isAfter(now)) {
      throw LoginRefused.because(n, NOT_BEFORE, "the ID token is not valid before " + nbf.toInstant() + " (now "
          + now + ")", "check the clocks of this machine and the IdP (NTP)");
    }
    Object nonce = c.getClaim("nonce");
    if (expectedNonce != null && (nonce == null || !expectedNonce.equals(String.valueOf(nonce)))) {
      throw LoginRefused.because(n, NONCE, nonce == null ? "the ID token has no nonce" : "the ID token's nonce "
          + "is not this login's (a replayed token)", "start the login again");
    }
    if (c.getSubject() == null || c.getSubject().isBlank()) {
      throw LoginRefused.because(n, SUBJECT, "the ID token names no subject", "check the IdP");
    }
  }

  private Identity identity(JWTClaimsSet c, Map<String, Object> all) {
    String username = string(all.get(config.usernameClaim()));
    if (username == null) {
      username = c.getSubject();
    }
    String email = string(all.get(config.emailClaim()));
    if (email != null && Boolean.FALSE.equals(all.get("email_verified"))) {
      // An address the IdP has not verified is not an identity.
      email = null;
    }
    List<String> groups = new ArrayList<>();
    Object g = all.get(config.groupsClaim());
    if (g == null && all.get("_claim_names") instanceof Map<?, ?> names && names.containsKey(config.groupsClaim())) {
      // Entra ID leaves groups out of a token when the user is in more than 200 (the "overage" claim) and points
      // to Microsoft Graph instead, which airlock does not call: without the groups no role would be right.
      throw LoginRefused.because(config.name(), GROUPS_OVERAGE, "the IdP left the " + config.groupsClaim()
          + " claim out and points to another source instead (the user is in too many groups, e.g. more than 200 "
          + "in Entra ID)", "emit only the groups assigned to the application (Entra ID: token configuration, "
          + "groups claim, 'Groups assigned to the application'), or use app roles");
    }
    if (g instanceof List<?> list) {
      list.forEach(x -> groups.add(String.valueOf(x)));
    } else if (g instanceof String s && !s.isBlank()) {
      groups.add(s);
    }
    List<Glob> filter = config.groupFilter().stream().map(Glob::of).toList();
    groups.removeIf(x -> filter.stream().noneMatch(f -> f.matches(x)));
    Instant now = clock.instant();
    Object authTime = all.get("auth_time");
    Instant authenticated = authTime instanceof Number num ? Instant.ofEpochSecond(num.longValue())
        : authTime instanceof Date d ? d.toInstant() : now;
    Map<String, List<String>> attributes = new java.util.TreeMap<>();
    all.forEach((k, v) -> {
      if (v instanceof String str) {
        attributes.put(k, List.of(str));
      } else if (v instanceof List<?> l && l.stream().allMatch(x -> x instanceof String)) {
        attributes.put(k, l.stream().map(String::valueOf).toList());
      }
    });
    return new Identity(config.name(), c.getSubject(), username, email, string(all.get(config.displayNameClaim())),
        groups, authenticated, now.plus(config.session()), attributes);
  }

  private static String string(Object o) {
    return o == null ? null : String.valueOf(o);
  }

  /** Sends a Nimbus request with the connector's TLS trust and timeouts. */
  HTTPResponse send(HTTPRequest r) throws IOException {
    r.setConnectTimeout(10_000);
    r.setReadTimeout(30_000);
    if (tls != null) {
      r.setSSLSocketFactory(tls);
    }
    return r.send();
  }

  /** For tests: the allowed algorithms as Nimbus values. */
  Set<JWSAlgorithm> algorithms() {
    return Set.copyOf(config.algorithms().stream().map(JWSAlgorithm::parse).toList());
  }

  static URL url(URI u) {
    try {
      return u.toURL();
    } catch (java.net.MalformedURLException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
