package dev.airlock.installer.server;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.Secrets;
import dev.airlock.rbac.UserName;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Sessions, each a Secret {@code airlock-session-ID} in the server's namespace: who, their groups at login, how they
 * logged in, until when, and the hash of the session's secret. The credential handed to the user is
 * {@code as1.ID.SECRET}; the server keeps only the hash. Kubernetes tokens are bound to the session's Secret, so
 * deleting it (logout, revocation) invalidates them (the API server caches a good token check for up to 10 s); any replica reads the same sessions.
 */
final class Sessions {

  static final String PREFIX = "airlock-session-";
  static final String LABEL = "airlock.dev/session";
  static final String USER = "airlock.dev/user";
  private static final Pattern CREDENTIAL = Pattern.compile("as1\\.([0-9a-f]{24})\\.([A-Za-z0-9_-]{43})");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One session. {@code uid} is its Secret's, for tokens bound to it. */
  record Session(String id, String username, String userKey, List<String> groups, String connector, Instant created,
      Instant expires, boolean admin, String uid, String subject, String refreshToken) {
    String secretName() {
      return PREFIX + id;
    }
  }

  /** A new session and the credential for it (shown once). */
  record Created(Session session, String credential) {}

  private final KubernetesClient client;
  private final String namespace;
  private final Clock clock;
  /** The session Secrets as a watch keeps them: lookups read here, and GET only what it does not hold (yet). */
  private volatile io.fabric8.kubernetes.client.informers.SharedIndexInformer<Secret> informer;

  Sessions(KubernetesClient client, String namespace, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
  }

  /**
   * Starts the watch of the session Secrets. Until its first list has arrived (and if it cannot start), lookups GET
   * from the API server as before.
   */
  void watch() {
    try {
      informer = client.secrets().inNamespace(namespace).withLabel(LABEL, "true").inform();
    } catch (RuntimeException e) {
      informer = null;
    }
  }

  /** Stops the watch. */
  void close() {
    var i = informer;
    informer = null;
    if (i != null) {
      i.close();
    }
  }

  /**
   * The Secret of session {@code id}: from the watch's store when it holds it; else from the API server (a session
   * made on another replica a moment ago, or one deleted there, whose events are still on their way).
   */
  private Secret secret(String id) {
    var i = informer;
    if (i != null && i.hasSynced()) {
      Secret cached = i.getStore().getByKey(namespace + "/" + PREFIX + id);
      if (cached != null) {
        return cached;
      }
    }
    return client.secrets().inNamespace(namespace).withName(PREFIX + id).get();
  }

  Created create(String username, List<String> groups, String connector, Instant expires, boolean admin) {
    return create(username, groups, connector, expires, admin, null, null);
  }

  /**
   * A new session; {@code subject} and {@code refreshToken} (OIDC, may be null) let the server ask the IdP again
   * for the user's groups at each token refresh.
   */
  Created create(String username, List<String> groups, String connector, Instant expires, boolean admin,
      String subject, String refreshToken) {
    byte[] idBytes = new byte[12];
    RANDOM.nextBytes(idBytes);
    String id = HexFormat.of().formatHex(idBytes);
    byte[] secretBytes = new byte[32];
    RANDOM.nextBytes(secretBytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
    Map<String, String> data = new LinkedHashMap<>();
    data.put("username", username);
    try {
      data.put("groups", Web.JSON.writeValueAsString(groups));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    data.put("connector", connector);
    data.put("created", clock.instant().toString());
    data.put("expires", expires.toString());
    data.put("admin", String.valueOf(admin));
    data.put("secret-sha256", sha256(secret));
    if (subject != null && refreshToken != null) {
      data.put("subject", subject);
      data.put("refresh-token", refreshToken);
    }
    Secret s = Secrets.opaque(namespace, PREFIX + id, data);
    s.getMetadata().getLabels().put(LABEL, "true");
    s.getMetadata().getLabels().put(USER, admin ? "break-glass-admin" : UserName.of(username));
    Secret made = client.secrets().inNamespace(namespace).resource(s).create();
    return new Created(read(made), "as1." + id + "." + secret);
  }

  /** The session of a credential; refused (401) when malformed, unknown (logged out, revoked) or expired. */
  Session find(String credential) {
    if (credential == null) {
      throw refused("no session credential was sent", "log in: airlock login --server URL");
    }
    var m = CREDENTIAL.matcher(credential);
    if (!m.matches()) {
      throw refused("the session credential is malformed", "log in again: airlock login --server URL");
    }
    Secret s = secret(m.group(1));
    if (s == null || !MessageDigest.isEqual(sha256(m.group(2)).getBytes(StandardCharsets.US_ASCII),
        Secrets.value(s, "secret-sha256").orElse("").getBytes(StandardCharsets.US_ASCII))) {
      throw refused("the session has ended (logged out or revoked)", "log in again: airlock login --server URL");
    }
    Session session = read(s);
    if (!session.expires().isAfter(clock.instant())) {
      throw refused("the session expired at " + session.expires(), "log in again: airlock login --server URL");
    }
    return session;
  }

  /** The session with the groups and refresh token the IdP gave at a refresh. */
  Session updateIdentity(Session s, List<String> groups, String refreshToken) {
    Map<String, String> data = new LinkedHashMap<>();
    try {
      data.put("groups", Web.JSON.writeValueAsString(groups));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    data.put("refresh-token", refreshToken);
    Secret patched = client.secrets().inNamespace(namespace).withName(s.secretName()).edit(x -> {
      data.forEach((k, v) -> x.getData().put(k, Base64.getEncoder().encodeToString(v.getBytes(
          StandardCharsets.UTF_8))));
      return x;
    });
    return read(patched);
  }

  void delete(Session s) {
    client.secrets().inNamespace(namespace).withName(s.secretName()).delete();
  }

  /** Ends every session of a user (their Kubernetes tokens stop working with them). */
  int revoke(String userKey) {
    List<Secret> all = client.secrets().inNamespace(namespace).withLabel(LABEL, "true").withLabel(USER, userKey)
        .list().getItems();
    all.forEach(s -> client.secrets().inNamespace(namespace).withName(s.getMetadata().getName()).delete());
    return all.size();
  }

  /** Deletes sessions that expired (their tokens expired with them). */
  int expire() {
    int n = 0;
    for (Secret s : client.secrets().inNamespace(namespace).withLabel(LABEL, "true").list().getItems()) {
      Session session = read(s);
      if (!session.expires().isAfter(clock.instant())) {
        client.secrets().inNamespace(namespace).withName(s.getMetadata().getName()).delete();
        n++;
      }
    }
    return n;
  }

  List<Session> list() {
    return client.secrets().inNamespace(namespace).withLabel(LABEL, "true").list().getItems().stream()
        .map(Sessions::read).toList();
  }

  private static Session read(Secret s) {
    try {
      List<String> groups = Web.JSON.readValue(Secrets.value(s, "groups").orElse("[]"),
          new TypeReference<List<String>>() {});
      String name = s.getMetadata().getName();
      String username = Secrets.value(s, "username").orElseThrow();
      boolean admin = Boolean.parseBoolean(Secrets.value(s, "admin").orElse("false"));
      return new Session(name.substring(PREFIX.length()), username, admin ? "break-glass-admin"
          : UserName.of(username), groups, Secrets.value(s, "connector").orElse(""), Instant.parse(Secrets.value(s,
          "created").orElseThrow()), Instant.parse(Secrets.value(s, "expires").orElseThrow()), admin,
          s.getMetadata().getUid(), Secrets.value(s, "subject").orElse(null),
          Secrets.value(s, "refresh-token").orElse(null));
    } catch (IOException | RuntimeException e) {
      throw new AirlockException(Kind.BAD_INPUT, "session Secret " + s.getMetadata().getName() + " is damaged",
          "delete it", e);
    }
  }

  static AirlockException refused(String what, String fix) {
    return new AirlockException(Kind.DENIED, what, fix).with("status", "401");
  }

  static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(
          StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
