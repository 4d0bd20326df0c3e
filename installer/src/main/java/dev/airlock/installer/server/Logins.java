package dev.airlock.installer.server;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.Secrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Logins in progress, each a Secret {@code airlock-login-ID} (so the IdP's answer may reach any replica): the
 * connector, what the login must remember (sealed with the server's key), the URL that starts it, the hash of the
 * secret the CLI polls with, and, when done, the outcome (sealed). A login lives {@link #LIFETIME}.
 */
final class Logins {

  static final String PREFIX = "airlock-login-";
  static final String LABEL = "airlock.dev/login";
  static final Duration LIFETIME = Duration.ofMinutes(10);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A login record. */
  record Login(String id, String connector, String pending, String url, String pollHash, String state,
      String result, Instant expires, String resourceVersion, boolean console, boolean test) {}

  private final KubernetesClient client;
  private final String namespace;
  private final ServerKeys keys;
  private final Clock clock;

  Logins(KubernetesClient client, String namespace, ServerKeys keys, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.keys = keys;
    this.clock = clock;
  }

  static String newSecret() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** A new login's secrets: the one the CLI polls with, and the code a person types at {@code /device}. */
  record Created(String poll, String userCode) {}

  /** Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V). */
  static final String CODE_ALPHABET = "ACDEFGHJKMNPQRTWXY34679";
  static final String USER_CODE = "airlock.dev/user-code";

  /** A user code: 8 characters from {@link #CODE_ALPHABET} (~36 bits), shown as XXXX-XXXX. */
  static String newUserCode() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      sb.append(CODE_ALPHABET.charAt(RANDOM.nextInt(CODE_ALPHABET.length())));
      if (i == 3) {
        sb.append('-');
      }
    }
    return sb.toString();
  }

  /** A typed code as stored: upper case, without dashes and spaces; null when it cannot be one. */
  static String normalizeCode(String typed) {
    if (typed == null) {
      return null;
    }
    String c = typed.toUpperCase(java.util.Locale.ROOT).replaceAll("[\\s-]", "");
    return c.length() == 8 && c.chars().allMatch(ch -> CODE_ALPHABET.indexOf(ch) >= 0) ? c : null;
  }

  /** Records a new login; returns its poll secret and user code. */
  Created create(String id, String connector, String pendingJson, String url, boolean console, boolean test) {
    String poll = newSecret();
    String code = newUserCode();
    Map<String, String> data = new LinkedHashMap<>();
    data.put("connector", connector);
    data.put("pending", keys.seal("login-pending:" + id, pendingJson.getBytes(StandardCharsets.UTF_8)));
    data.put("url", url);
    data.put("poll-sha256", Sessions.sha256(poll));
    data.put("state", "pending");
    if (console) {
      data.put("console", "true");
    }
    if (test) {
      data.put("test", "true"); // an admin's test of a connector: it shows the identity and makes no session
    }
    data.put("expires", clock.instant().plus(LIFETIME).toString());
    Secret s = Secrets.opaque(namespace, PREFIX + id, data);
    s.getMetadata().getLabels().put(LABEL, "true");
    s.getMetadata().getLabels().put(USER_CODE, Sessions.sha256("user-code:" + normalizeCode(code)).substring(0, 40));
    client.secrets().inNamespace(namespace).resource(s).create();
    return new Created(poll, code);
  }

  /** The id of the pending login whose user code was typed, or a refusal. */
  String idByUserCode(String typed) {
    String code = normalizeCode(typed);
    if (code == null) {
      throw refused("that is not a login code (8 letters and digits, like KMQR-7XTA)");
    }
    List<Secret> found = client.secrets().inNamespace(namespace).withLabel(LABEL, "true").withLabel(USER_CODE,
        Sessions.sha256("user-code:" + code).substring(0, 40)).list().getItems();
    if (found.size() != 1 || !"pending".equals(Secrets.value(found.get(0), "state").orElse(""))) {
      throw refused("no login waits for code " + typed.strip() + " (codes last " + LIFETIME.toMinutes()
          + " minutes and work once)");
    }
    return found.get(0).getMetadata().getName().substring(PREFIX.length());
  }

  /** The login {@code id}, or a refusal when it is unknown or expired. */
  Login get(String id) {
    if (id == null || !id.matches("[0-9a-f]{24}")) {
      throw refused("the login id is malformed");
    }
    Secret s = client.secrets().inNamespace(namespace).withName(PREFIX + id).get();
    if (s == null) {
      throw refused("this login is unknown, finished, or older than " + LIFETIME.toMinutes() + " minutes");
    }
    Login l = new Login(id, Secrets.value(s, "connector").orElse(""), Secrets.value(s, "pending").orElse(""),
        Secrets.value(s, "url").orElse(""), Secrets.value(s, "poll-sha256").orElse(""), Secrets.value(s, "state")
        .orElse("pending"), Secrets.value(s, "result").orElse(null), Instant.parse(Secrets.value(s, "expires")
        .orElseThrow()), s.getMetadata().getResourceVersion(), Boolean.parseBoolean(Secrets.value(s, "console")
        .orElse("false")), Boolean.parseBoolean(Secrets.value(s, "test").orElse("false")));
    if (l.expires().isBefore(clock.instant())) {
      delete(id);
      throw refused("this login took longer than " + LIFETIME.toMinutes() + " minutes");
    }
    return l;
  }

  String pending(Login l) {
    byte[] plain = keys.open("login-pending:" + l.id(), l.pending());
    if (plain == null) {
      throw refused("this login's record was altered");
    }
    return new String(plain, StandardCharsets.UTF_8);
  }

  /**
   * Marks the login finished (once: a second answer for the same login loses the race on the resource version and
   * is refused).
   */
  void finish(Login l, String state, String resultJson) {
    Secret s = client.secrets().inNamespace(namespace).withName(PREFIX + l.id()).get();
    if (s == null || !"pending".equals(Secrets.value(s, "state").orElse(""))) {
      throw refused("this login was already answered");
    }
    Secret next = new SecretBuilder(s).build();
    next.getData().put("state", Base64.getEncoder().encodeToString(state.getBytes(StandardCharsets.UTF_8)));
    next.getData().put("result", Base64.getEncoder().encodeToString(keys.seal("login-result:" + l.id(),
        resultJson.getBytes(StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
    try {
      client.secrets().inNamespace(namespace).resource(next).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw refused("this login was already answered");
      }
      throw e;
    }
  }

  /** The outcome for the poller holding {@code poll}: null while pending. Deleted once read. */
  String collect(Login l, String poll) {
    if (poll == null || !MessageDigest.isEqual(Sessions.sha256(poll).getBytes(StandardCharsets.US_ASCII),
        l.pollHash().getBytes(StandardCharsets.US_ASCII))) {
      throw refused("wrong poll secret for this login");
    }
    if ("pending".equals(l.state())) {
      return null;
    }
    byte[] plain = keys.open("login-result:" + l.id(), l.result());
    delete(l.id());
    if (plain == null) {
      throw refused("this login's record was altered");
    }
    return new String(plain, StandardCharsets.UTF_8);
  }

  void delete(String id) {
    client.secrets().inNamespace(namespace).withName(PREFIX + id).delete();
  }

  /** How many logins (pending or finished but not yet collected) are kept; expired ones are deleted first when asked. */
  int count(boolean sweepExpired) {
    if (sweepExpired) {
      expire();
    }
    return client.secrets().inNamespace(namespace).withLabel(LABEL, "true").list().getItems().size();
  }

  int expire() {
    int n = 0;
    for (Secret s : client.secrets().inNamespace(namespace).withLabel(LABEL, "true").list().getItems()) {
      String e = Secrets.value(s, "expires").orElse(null);
      if (e == null || Instant.parse(e).isBefore(clock.instant())) {
        client.secrets().inNamespace(namespace).withName(s.getMetadata().getName()).delete();
        n++;
      }
    }
    return n;
  }

  static AirlockException refused(String what) {
    return new AirlockException(Kind.DENIED, what, "start the login again: airlock login --server URL")
        .with("status", "404");
  }
}
