package dev.airlock.sso.oidc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.pkce.CodeChallenge;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.sso.FormData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import net.minidev.json.JSONObject;

/**
 * A stand-in OpenID provider on loopback for the attack catalogue and the benchmark: discovery, JWKS, an
 * authorization step without a login page ({@link #authorize}), a token endpoint that checks the code, the redirect
 * URI, the client secret and the PKCE verifier as a real one does, and UserInfo. What it signs is up to the test
 * ({@link #idToken}), so forged tokens come from the test's own keys.
 */
public final class TestProvider implements AutoCloseable {

  public static final String CLIENT = "airlock";
  public static final String SECRET = "s3cret-of-the-client-0123456789abcdef";

  /** What the authorization step remembered for a code. */
  public record Grant(String code, String clientId, URI redirectUri, String nonce, String challenge,
      String challengeMethod) {}

  private final HttpServer server;
  public final String issuer;
  public final RSAKey key;
  private final Clock clock;
  public final List<JWK> published = new ArrayList<>();
  public final AtomicInteger jwksFetches = new AtomicInteger();
  private final Map<String, Grant> grants = new ConcurrentHashMap<>();
  public volatile List<String> pkceMethods = List.of("S256");
  public volatile boolean issParameter = true;
  /** The ID token for a grant: by default {@link #sign} of {@link #claims}. */
  public volatile Function<Grant, String> idToken;
  /** Nanoseconds the provider spent answering, by code (token and UserInfo requests), for the benchmark. */
  public final Map<String, Long> handlerNanos = new ConcurrentHashMap<>();
  /** The UserInfo answer for a grant. */
  public volatile Function<Grant, Map<String, Object>> userInfo;

  private TestProvider(Clock clock) throws IOException, JOSEException {
    this.clock = clock;
    this.key = new RSAKeyGenerator(2048).keyID("k1").keyUse(KeyUse.SIGNATURE).generate();
    published.add(key.toPublicJWK());
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
    server.setExecutor(Executors.newFixedThreadPool(128));
    issuer = "http://127.0.0.1:" + server.getAddress().getPort();
    idToken = g -> sign(key, claims(g).build());
    userInfo = g -> Map.of("sub", "user-1", "preferred_username", "alice", "email", "alice@corp.example",
        "email_verified", true);
    server.createContext("/.well-known/openid-configuration", x -> json(x, 200, discovery()));
    server.createContext("/jwks", x -> {
      jwksFetches.incrementAndGet();
      json(x, 200, new JWKSet(new ArrayList<>(published)).toJSONObject(true));
    });
    server.createContext("/token", this::token);
    server.createContext("/userinfo", this::userInfoEndpoint);
    server.start();
  }

  public static TestProvider start(Clock clock) {
    try {
      return new TestProvider(clock);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private Map<String, Object> discovery() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("issuer", issuer);
    d.put("authorization_endpoint", issuer + "/authorize");
    d.put("token_endpoint", issuer + "/token");
    d.put("userinfo_endpoint", issuer + "/userinfo");
    d.put("jwks_uri", issuer + "/jwks");
    d.put("response_types_supported", List.of("code"));
    d.put("subject_types_supported", List.of("public"));
    d.put("id_token_signing_alg_values_supported", List.of("RS256"));
    d.put("code_challenge_methods_supported", pkceMethods);
    d.put("authorization_response_iss_parameter_supported", issParameter);
    return d;
  }

  /** The claims of an honest ID token for {@code g}. */
  public JWTClaimsSet.Builder claims(Grant g) {
    Instant now = clock.instant();
    return new JWTClaimsSet.Builder().issuer(issuer).subject("user-1").audience(g.clientId())
        .expirationTime(Date.from(now.plusSeconds(300))).issueTime(Date.from(now)).claim("nonce", g.nonce())
        .claim("auth_time", now.getEpochSecond()).claim("preferred_username", "alice")
        .claim("email", "alice@corp.example").claim("email_verified", true).claim("name", "Alice Liddell")
        .claim("groups", List.of("devs", "all-staff"));
  }

  public static String sign(RSAKey with, JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(with.getKeyID()).build(), claims);
      jwt.sign(new RSASSASigner(with));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * What the provider does when the browser arrives with {@code authorizationUrl} and the user logs in: remembers a
   * grant and returns the callback's query parameters ({@code code}, {@code state}, {@code iss}).
   */
  public Map<String, String> authorize(URI authorizationUrl) {
    Map<String, String> q = FormData.parse(authorizationUrl.getRawQuery());
    String code = UUID.randomUUID().toString();
    grants.put(code, new Grant(code, q.get("client_id"), URI.create(q.get("redirect_uri")), q.get("nonce"),
        q.get("code_challenge"), q.get("code_challenge_method")));
    Map<String, String> callback = new LinkedHashMap<>();
    callback.put("code", code);
    callback.put("state", q.get("state"));
    callback.put("iss", issuer);
    return callback;
  }

  private void token(HttpExchange x) throws IOException {
    long t0 = System.nanoTime();
    Map<String, String> form = FormData.parse(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
    String auth = x.getRequestHeaders().getFirst("Authorization");
    String expected = "Basic " + Base64.getEncoder().encodeToString((CLIENT + ":" + SECRET).getBytes(
        StandardCharsets.UTF_8));
    if (!expected.equals(auth)) {
      json(x, 401, Map.of("error", "invalid_client"));
      return;
    }
    Grant g = grants.remove(form.getOrDefault("code", ""));
    if (g == null || !g.redirectUri().toString().equals(form.get("redirect_uri"))) {
      json(x, 400, Map.of("error", "invalid_grant", "error_description", "unknown code or redirect_uri"));
      return;
    }
    String verifier = form.get("code_verifier");
    if (verifier == null || !"S256".equals(g.challengeMethod()) || !CodeChallenge.compute(CodeChallengeMethod.S256,
        new CodeVerifier(verifier)).getValue().equals(g.challenge())) {
      json(x, 400, Map.of("error", "invalid_grant", "error_description", "PKCE verification failed"));
      return;
    }
    grants.put("at-" + g.code(), g);
    json(x, 200, Map.of("access_token", "at-" + g.code(), "token_type", "Bearer", "expires_in", 300, "id_token",
        idToken.apply(g)));
    handlerNanos.merge(g.code(), System.nanoTime() - t0, Long::sum);
  }

  private void userInfoEndpoint(HttpExchange x) throws IOException {
    long t0 = System.nanoTime();
    String auth = x.getRequestHeaders().getFirst("Authorization");
    Grant g = auth == null ? null : grants.get(auth.replaceFirst("^Bearer ", ""));
    if (g == null) {
      json(x, 401, Map.of("error", "invalid_token"));
      return;
    }
    json(x, 200, userInfo.apply(g));
    handlerNanos.merge(g.code(), System.nanoTime() - t0, Long::sum);
  }

  private static void json(HttpExchange x, int status, Map<String, ?> body) throws IOException {
    byte[] b = new JSONObject(body).toJSONString().getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().set("Content-Type", "application/json");
    x.sendResponseHeaders(status, b.length);
    x.getResponseBody().write(b);
    x.close();
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
