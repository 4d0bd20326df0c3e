package dev.airlock.sso;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.yaml.YamlMap;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The SSO configuration ({@code apiVersion: airlock.dev/v1alpha1}, {@code kind: SSOConfig}): the connectors users
 * log in through, and how their groups map to platform roles. Secrets are referenced, never inline. Every error
 * names the file, the line and the field.
 */
public record SsoConfig(List<Connector> connectors, List<RoleMapping> roleMappings) {

  public static final String API_VERSION = "airlock.dev/v1alpha1";
  public static final String KIND = "SSOConfig";
  static final String DOCS = "docs/sso.md";
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  /** ID-token signature algorithms accepted by default: asymmetric only, never {@code none} or HMAC. */
  public static final List<String> DEFAULT_ALGORITHMS = List.of("RS256", "RS384", "RS512", "PS256", "PS384",
      "PS512", "ES256", "ES384", "ES512", "EdDSA");

  static final List<String> OIDC_FIELDS = List.of("name", "type", "displayName", "issuer", "clientId",
      "clientSecret", "clientAuth", "privateKey", "privateKeyId", "scopes", "usernameClaim", "emailClaim",
      "displayNameClaim", "groupsClaim", "groupFilter", "algorithms", "userInfo", "clockSkewSeconds", "sessionHours",
      "caFile");
  static final List<String> SAML_FIELDS = List.of("name", "type", "displayName", "entityId", "idpMetadata",
      "usernameAttribute", "emailAttribute", "displayNameAttribute", "groupsAttribute", "groupFilter",
      "wantAssertionsSigned", "allowIdpInitiated", "spKey", "spCertificate", "clockSkewSeconds", "sessionHours",
      "caFile");

  public SsoConfig {
    connectors = List.copyOf(connectors);
    roleMappings = List.copyOf(roleMappings);
  }

  /** What every connector shares. */
  public sealed interface Connector permits Oidc, Saml {
    String name();

    String displayName();

    /** Only groups matching one of these globs are kept (default: all). */
    List<String> groupFilter();

    Duration clockSkew();

    Duration session();
  }

  /**
   * An OpenID Connect provider.
   *
   * @param clientSecret the client secret; null for a public client or private_key_jwt
   * @param clientAuth {@code client_secret_basic}, {@code client_secret_post}, {@code private_key_jwt} or
   *     {@code none}
   * @param caFile extra CA the IdP's TLS certificate chains to, or null
   */
  public record Oidc(String name, String displayName, URI issuer, String clientId, SecretRef clientSecret,
      String clientAuth, SecretRef privateKey, String privateKeyId, List<String> scopes, String usernameClaim,
      String emailClaim, String displayNameClaim, String groupsClaim, List<String> groupFilter,
      List<String> algorithms, boolean userInfo, Duration clockSkew, Duration session, Path caFile)
      implements Connector {
    public Oidc {
      scopes = List.copyOf(scopes);
      groupFilter = List.copyOf(groupFilter);
      algorithms = List.copyOf(algorithms);
    }
  }

  /**
   * A SAML 2.0 identity provider, airlock being the service provider {@code entityId}.
   *
   * @param idpMetadataUrl where to fetch the IdP's metadata, or null
   * @param idpMetadataFile the IdP's metadata file, or null
   * @param usernameAttribute the attribute holding the username; null for the NameID
   * @param spKey the SP's private key, to decrypt encrypted assertions (and sign requests), or null
   * @param spCertificate its certificate, published in the SP metadata, or null
   */
  public record Saml(String name, String displayName, String entityId, URI idpMetadataUrl, Path idpMetadataFile,
      String usernameAttribute, String emailAttribute, String displayNameAttribute, String groupsAttribute,
      List<String> groupFilter, boolean wantAssertionsSigned, boolean allowIdpInitiated, SecretRef spKey,
      Path spCertificate, Duration clockSkew, Duration session, Path caFile) implements Connector {
    public Saml {
      groupFilter = List.copyOf(groupFilter);
    }
  }

  public Connector connector(String name) {
    return connectors.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() ->
        new AirlockException(Kind.BAD_INPUT, "no connector named '" + name + "' in the SSO config",
            "the connectors are: " + String.join(", ", connectors.stream().map(Connector::name).toList())));
  }

  public static SsoConfig read(Path file) {
    YamlMap top = YamlMap.read(file, DOCS);
    Path base = file.toAbsolutePath().getParent();
    return parse(top, base);
  }

  public static SsoConfig parse(String source, String text, Path base) {
    return parse(YamlMap.parse(source, text, DOCS), base);
  }

  private static SsoConfig parse(YamlMap top, Path base) {
    top.allow("apiVersion", "kind", "connectors", "roleMappings");
    if (!API_VERSION.equals(top.requiredString("apiVersion"))) {
      throw top.error("apiVersion", "is '" + top.requiredString("apiVersion") + "'; this airlock reads "
          + API_VERSION);
    }
    if (!KIND.equals(top.requiredString("kind"))) {
      throw top.error("kind", "is '" + top.requiredString("kind") + "', expected " + KIND);
    }
    List<Connector> connectors = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (YamlMap c : top.maps("connectors")) {
      if (!c.has("type")) {
        List<String> any = new ArrayList<>(OIDC_FIELDS);
        any.addAll(SAML_FIELDS);
        c.allow(any.toArray(String[]::new)); // a misspelt field is named before the missing type
      }
      Connector conn = switch (c.requiredString("type")) {
        case "oidc" -> oidc(c, base);
        case "saml" -> saml(c, base);
        default -> throw c.error("type", "is '" + c.requiredString("type") + "'; it is oidc or saml");
      };
      if (!names.add(conn.name())) {
        throw c.error("name", "'" + conn.name() + "' names two connectors");
      }
      connectors.add(conn);
    }
    if (connectors.isEmpty()) {
      throw top.error("connectors", "must list at least one connector");
    }
    return new SsoConfig(connectors, mappings(top, "roleMappings"));
  }

  /**
   * Parses a list of {@code {group|user: ..., roles: [...]}} or {@code {claim: NAME, value: V, roles: [...]}}
   * (shared with the RBAC file).
   */
  public static List<RoleMapping> mappings(YamlMap top, String key) {
    List<RoleMapping> out = new ArrayList<>();
    for (YamlMap m : top.maps(key)) {
      m.allow("group", "user", "claim", "value", "roles");
      Optional<String> group = m.string("group");
      Optional<String> user = m.string("user");
      Optional<String> claim = m.string("claim");
      int whom = (group.isPresent() ? 1 : 0) + (user.isPresent() ? 1 : 0) + (claim.isPresent() ? 1 : 0);
      if (whom != 1) {
        throw m.error("group", "or user or claim: exactly one of them names who the rule is for");
      }
      if (claim.isPresent() != m.has("value")) {
        throw m.error(claim.isPresent() ? "claim" : "value", "and value go together: {claim: department, value: "
            + "eng, roles: [...]}");
      }
      List<String> roles = m.strings("roles");
      if (roles.isEmpty()) {
        throw m.error("roles", "must name at least one role");
      }
      out.add(new RoleMapping(group.orElse(null), user.orElse(null), claim.orElse(null),
          m.string("value").orElse(null), roles));
    }
    return out;
  }

  private static String name(YamlMap c) {
    String name = c.requiredString("name");
    if (!NAME.matcher(name).matches()) {
      throw c.error("name", "'" + name + "' must be a DNS label (lower-case letters, digits, '-')");
    }
    return name;
  }

  private static Oidc oidc(YamlMap c, Path base) {
    c.allow(OIDC_FIELDS.toArray(String[]::new));
    String name = name(c);
    URI issuer = uri(c, "issuer");
    SecretRef secret = secret(c, "clientSecret", base);
    SecretRef key = secret(c, "privateKey", base);
    String auth = c.string("clientAuth").orElse(key != null ? "private_key_jwt" : secret != null
        ? "client_secret_basic" : "none");
    switch (auth) {
      case "client_secret_basic", "client_secret_post" -> {
        if (secret == null) {
          throw c.error("clientSecret", "is required for clientAuth " + auth);
        }
      }
      case "private_key_jwt" -> {
        if (key == null) {
          throw c.error("privateKey", "is required for clientAuth private_key_jwt");
        }
      }
      case "none" -> {
        // a public client: PKCE alone
      }
      default -> throw c.error("clientAuth", "is '" + auth + "'; it is client_secret_basic, client_secret_post, "
          + "private_key_jwt or none");
    }
    List<String> algorithms = c.has("algorithms") ? c.strings("algorithms") : DEFAULT_ALGORITHMS;
    for (String a : algorithms) {
      if (a.equalsIgnoreCase("none")) {
        throw c.error("algorithms", "must not allow 'none': an unsigned ID token proves nothing");
      }
      if (a.startsWith("HS") && secret == null) {
        throw c.error("algorithms", "allows " + a + ", which needs a client secret as the key");
      }
    }
    List<String> scopes = c.has("scopes") ? c.strings("scopes") : List.of("openid", "profile", "email");
    if (!scopes.contains("openid")) {
      throw c.error("scopes", "must include openid");
    }
    return new Oidc(name, c.string("displayName").orElse(name), issuer, c.requiredString("clientId"), secret, auth,
        key, c.string("privateKeyId").orElse(null), scopes, c.string("usernameClaim").orElse("preferred_username"),
        c.string("emailClaim").orElse("email"), c.string("displayNameClaim").orElse("name"),
        c.string("groupsClaim").orElse("groups"), c.has("groupFilter") ? c.strings("groupFilter") : List.of("*"),
        algorithms, c.bool("userInfo").orElse(true), skew(c), session(c),
        c.string("caFile").map(base::resolve).orElse(null));
  }

  private static Saml saml(YamlMap c, Path base) {
    c.allow(SAML_FIELDS.toArray(String[]::new));
    String name = name(c);
    YamlMap md = c.map("idpMetadata");
    md.allow("url", "file");
    if (md.has("url") == md.has("file")) {
      throw c.error("idpMetadata", "needs exactly one of url or file");
    }
    URI url = md.has("url") ? uri(md, "url") : null;
    SecretRef spKey = secret(c, "spKey", base);
    Path spCert = c.string("spCertificate").map(base::resolve).orElse(null);
    if ((spKey == null) != (spCert == null)) {
      throw c.error(spKey == null ? "spKey" : "spCertificate", "goes with " + (spKey == null ? "spCertificate"
          : "spKey") + ": give both (encrypted assertions need the key; the IdP needs the certificate)");
    }
    return new Saml(name, c.string("displayName").orElse(name), c.requiredString("entityId"), url,
        md.string("file").map(base::resolve).orElse(null), c.string("usernameAttribute").orElse(null),
        c.string("emailAttribute").orElse("email"), c.string("displayNameAttribute").orElse("displayName"),
        c.string("groupsAttribute").orElse("groups"), c.has("groupFilter") ? c.strings("groupFilter")
        : List.of("*"), c.bool("wantAssertionsSigned").orElse(true), c.bool("allowIdpInitiated").orElse(false),
        spKey, spCert, skew(c), session(c), c.string("caFile").map(base::resolve).orElse(null));
  }

  private static URI uri(YamlMap m, String key) {
    String v = m.requiredString(key);
    try {
      URI u = URI.create(v);
      if (u.getScheme() == null || !(u.getScheme().equals("https") || u.getScheme().equals("http"))
          || u.getHost() == null) {
        throw m.error(key, "'" + v + "' is not an http(s) URL");
      }
      if (u.getScheme().equals("http") && !isLoopback(u.getHost())) {
        throw m.error(key, "'" + v + "' is plain HTTP to another host: tokens and assertions would travel in clear");
      }
      return u;
    } catch (IllegalArgumentException e) {
      throw m.error(key, "'" + v + "' is not a URL");
    }
  }

  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1");
  }

  private static SecretRef secret(YamlMap c, String key, Path base) {
    if (!c.has(key)) {
      return null;
    }
    if (!c.isMap(key)) {
      throw c.error(key, "must name where the secret is, {env: NAME} or {file: PATH}, never hold the secret itself "
          + "(a config file is copied, committed and shown on screens)");
    }
    return secret(c.map(key), base);
  }

  private static SecretRef secret(YamlMap m, Path base) {
    m.allow("env", "file");
    if (m.has("env") == m.has("file")) {
      throw m.error("env", "or file: a secret is {env: NAME} or {file: PATH}, never the value itself");
    }
    return new SecretRef(m.string("env").orElse(null), m.string("file").map(base::resolve).orElse(null));
  }

  private static Duration skew(YamlMap c) {
    long s = c.number("clockSkewSeconds").orElse(60L);
    if (s < 0 || s > 300) {
      throw c.error("clockSkewSeconds", "must be between 0 and 300");
    }
    return Duration.ofSeconds(s);
  }

  private static Duration session(YamlMap c) {
    long h = c.number("sessionHours").orElse(8L);
    if (h < 1 || h > 24 * 7) {
      throw c.error("sessionHours", "must be between 1 and 168");
    }
    return Duration.ofHours(h);
  }
}
