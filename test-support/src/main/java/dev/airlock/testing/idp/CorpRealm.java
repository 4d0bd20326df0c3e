package dev.airlock.testing.idp;

import java.math.BigInteger;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The realm of the SSO tier, created in a {@link KeycloakServer}: users in nested groups and one client per way
 * airlock logs in.
 *
 * <ul>
 *   <li>users: {@code alice} in {@code devs} (verified email), {@code bob} in {@code qa} (unverified email),
 *       {@code carol} in {@code engineering/platform}; the password of each is {@link #password}</li>
 *   <li>OIDC {@value #CONFIDENTIAL} (client secret {@value #SECRET}, PKCE S256, group names),
 *       {@value #PUBLIC} (public, PKCE S256, full group paths), {@value #KEY_JWT} (private_key_jwt with the
 *       caller's RSA key, kid {@value #KEY_ID})</li>
 *   <li>SAML {@value #SAML_ASSERTION} (signs assertions), {@value #SAML_RESPONSE} (signs only the response),
 *       {@value #SAML_ENCRYPTED} (signs and encrypts assertions to the caller's certificate); each sends
 *       {@code groups} and {@code email} attributes and the username as NameID</li>
 * </ul>
 */
public final class CorpRealm {

  public static final String NAME = "corp";
  public static final String CONFIDENTIAL = "airlock";
  public static final String SECRET = "airlock-client-secret";
  public static final String PUBLIC = "airlock-cli";
  public static final String KEY_JWT = "airlock-jwt";
  public static final String KEY_ID = "airlock-jwt-1";
  public static final String SAML_ASSERTION = "airlock-sp";
  public static final String SAML_RESPONSE = "airlock-sp-response";
  public static final String SAML_ENCRYPTED = "airlock-sp-encrypted";
  /** Loopback redirect and ACS URLs on any port. */
  static final List<String> LOOPBACK = List.of("http://127.0.0.1:*");

  private CorpRealm() {}

  public static String password(String user) {
    return user + "-Passw0rd";
  }

  /**
   * Creates the realm with fresh keys, written into {@code dir}: {@code client.key} (PKCS#8, for the
   * {@value #KEY_JWT} client), {@code sp.key} and {@code sp.crt} (the SP's encryption key and certificate).
   */
  /**
   * The {@code sso.yaml} an airlock server uses with this realm: {@code corp-oidc} (the confidential client, its
   * secret from {@code AIRLOCK_OIDC_SECRET}) and {@code corp-saml} (metadata from the realm's descriptor).
   */
  public static String serverSsoConfig(KeycloakServer kc) {
    return """
        apiVersion: airlock.dev/v1alpha1
        kind: SSOConfig
        connectors:
          - name: corp-oidc
            type: oidc
            issuer: %1$s
            clientId: %2$s
            clientSecret: {env: AIRLOCK_OIDC_SECRET}
          - name: corp-saml
            type: saml
            entityId: %3$s
            idpMetadata: {url: %1$s/protocol/saml/descriptor}
        """.formatted(kc.issuer(NAME), CONFIDENTIAL, SAML_ASSERTION);
  }

  public static void createWithKeys(KeycloakServer kc, java.nio.file.Path dir) {
    dev.airlock.testing.Pki.Issued client = dev.airlock.testing.Pki.selfSignedRsa("airlock-jwt");
    dev.airlock.testing.Pki.Issued sp = dev.airlock.testing.Pki.selfSignedRsa("airlock-sp");
    create(kc, (RSAPublicKey) client.keys().getPublic(), sp.certificate());
    try {
      java.nio.file.Files.writeString(dir.resolve("client.key"), dev.airlock.testing.Pki.pkcs8Pem(client.key()));
      java.nio.file.Files.writeString(dir.resolve("sp.key"), dev.airlock.testing.Pki.pkcs8Pem(sp.key()));
      java.nio.file.Files.writeString(dir.resolve("sp.crt"), sp.certPem());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Creates (or re-creates) the realm. */
  public static void create(KeycloakServer kc, RSAPublicKey clientKey, X509Certificate spEncryptionCert) {
    kc.createRealm(representation(clientKey, spEncryptionCert));
  }

  static Map<String, Object> representation(RSAPublicKey clientKey, X509Certificate spCert) {
    Map<String, Object> realm = new LinkedHashMap<>();
    realm.put("realm", NAME);
    realm.put("enabled", true);
    realm.put("sslRequired", "none");
    realm.put("groups", List.of(Map.of("name", "devs"), Map.of("name", "qa"),
        Map.of("name", "engineering", "subGroups", List.of(Map.of("name", "platform")))));
    realm.put("users", List.of(user("alice", "Alice", "Liddell", true, "/devs"),
        user("bob", "Bob", "Builder", false, "/qa"), user("carol", "Carol", "Danvers", true, "/engineering/platform")));
    List<Object> clients = new ArrayList<>();
    clients.add(oidc(CONFIDENTIAL, false, false, Map.of("secret", SECRET)));
    clients.add(oidc(PUBLIC, true, true, Map.of()));
    clients.add(oidc(KEY_JWT, false, false, Map.of("clientAuthenticatorType", "client-jwt")));
    @SuppressWarnings("unchecked")
    Map<String, Object> attrs = (Map<String, Object>) ((Map<String, Object>) clients.get(2)).get("attributes");
    attrs.put("use.jwks.string", "true");
    attrs.put("jwks.string", "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"" + KEY_ID + "\",\"use\":\"sig\",\"alg\":\"RS256\","
        + "\"n\":\"" + b64url(clientKey.getModulus()) + "\",\"e\":\"" + b64url(clientKey.getPublicExponent())
        + "\"}]}");
    attrs.put("token.endpoint.auth.signing.alg", "RS256");
    clients.add(saml(SAML_ASSERTION, true, false, null));
    clients.add(saml(SAML_RESPONSE, false, true, null));
    clients.add(saml(SAML_ENCRYPTED, true, false, spCert));
    realm.put("clients", clients);
    return realm;
  }

  private static Map<String, Object> user(String name, String first, String last, boolean verified, String group) {
    Map<String, Object> u = new LinkedHashMap<>();
    u.put("username", name);
    u.put("enabled", true);
    u.put("email", name + "@corp.example");
    u.put("emailVerified", verified);
    u.put("firstName", first);
    u.put("lastName", last);
    u.put("groups", List.of(group));
    u.put("credentials", List.of(Map.of("type", "password", "value", password(name), "temporary", false)));
    return u;
  }

  private static Map<String, Object> oidc(String id, boolean publicClient, boolean fullPath,
      Map<String, Object> extra) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("clientId", id);
    c.put("protocol", "openid-connect");
    c.put("enabled", true);
    c.put("publicClient", publicClient);
    c.put("standardFlowEnabled", true);
    c.put("directAccessGrantsEnabled", false);
    c.put("redirectUris", LOOPBACK);
    c.putAll(extra);
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("pkce.code.challenge.method", "S256");
    c.put("attributes", attrs);
    c.put("protocolMappers", List.of(Map.of("name", "groups", "protocol", "openid-connect", "protocolMapper",
        "oidc-group-membership-mapper", "config", Map.of("full.path", String.valueOf(fullPath), "id.token.claim",
            "true", "access.token.claim", "true", "userinfo.token.claim", "true", "claim.name", "groups"))));
    return c;
  }

  private static Map<String, Object> saml(String id, boolean signAssertion, boolean signResponse,
      X509Certificate encryptTo) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("clientId", id);
    c.put("protocol", "saml");
    c.put("enabled", true);
    c.put("redirectUris", LOOPBACK);
    c.put("frontchannelLogout", false);
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("saml.assertion.signature", String.valueOf(signAssertion));
    attrs.put("saml.server.signature", String.valueOf(signResponse));
    attrs.put("saml.client.signature", "false");
    attrs.put("saml.signature.algorithm", "RSA_SHA256");
    attrs.put("saml_signature_canonicalization_method", "http://www.w3.org/2001/10/xml-exc-c14n#");
    attrs.put("saml.force.name.id.format", "true");
    attrs.put("saml_name_id_format", "username");
    attrs.put("saml.authnstatement", "true");
    attrs.put("saml.encrypt", String.valueOf(encryptTo != null));
    if (encryptTo != null) {
      try {
        attrs.put("saml.encryption.certificate", Base64.getEncoder().encodeToString(encryptTo.getEncoded()));
      } catch (CertificateEncodingException e) {
        throw new IllegalArgumentException(e);
      }
    }
    c.put("attributes", attrs);
    c.put("protocolMappers", List.of(
        Map.of("name", "groups", "protocol", "saml", "protocolMapper", "saml-group-membership-mapper", "config",
            Map.of("attribute.name", "groups", "full.path", "false", "single", "false", "attribute.nameformat",
                "Basic")),
        Map.of("name", "email", "protocol", "saml", "protocolMapper", "saml-user-property-mapper", "config",
            Map.of("user.attribute", "email", "attribute.name", "email", "attribute.nameformat", "Basic")),
        Map.of("name", "displayName", "protocol", "saml", "protocolMapper", "saml-user-property-mapper", "config",
            Map.of("user.attribute", "firstName", "attribute.name", "displayName", "attribute.nameformat",
                "Basic"))));
    return c;
  }

  static String b64url(BigInteger v) {
    byte[] b = v.toByteArray();
    if (b.length > 1 && b[0] == 0) {
      b = Arrays.copyOfRange(b, 1, b.length);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
