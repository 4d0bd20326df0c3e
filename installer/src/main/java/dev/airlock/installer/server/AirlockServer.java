package dev.airlock.installer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.Secrets;
import dev.airlock.license.Entitlements;
import dev.airlock.license.License;
import dev.airlock.license.LicenseState;
import dev.airlock.rbac.Authorizer;
import dev.airlock.rbac.Catalog;
import dev.airlock.rbac.Compiler;
import dev.airlock.rbac.Policy;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.RegistryRule;
import dev.airlock.rbac.RoleSet;
import dev.airlock.rbac.User;
import dev.airlock.rbac.UserName;
import dev.airlock.sso.Identity;
import dev.airlock.sso.SsoConfig;
import dev.airlock.sso.oidc.OidcRelyingParty;
import dev.airlock.sso.saml.IdpMetadata;
import dev.airlock.sso.saml.SamlServiceProvider;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * {@code airlock server}: developers log in through the company's SSO and get their personal namespace, a
 * kubeconfig whose tokens are short-lived and bound to their session, and registry access by their roles; admins
 * list and revoke users; every step is audited. All state lives in Kubernetes (sessions, logins in progress, replay
 * caches, the audit log, the keys), so replicas serve the same users and a restart loses nothing.
 */
public final class AirlockServer implements AutoCloseable {

  /**
   * What the server needs to know about itself. {@code secrets} says which files and environment variables the SSO
   * configuration may name (files only from a secrets directory, variables only by allowed names).
   */
  public record Settings(String namespace, InetSocketAddress listen, SSLContext tls, URI publicUrl, String kubeApiUrl,
      String kubeCaData, String registryService, Duration defaultTokenLifetime, Duration auditRetention,
      dev.airlock.sso.SecretSources secrets) {

    /** Settings with no secrets directory and the default allowed variables. */
    public Settings(String namespace, InetSocketAddress listen, SSLContext tls, URI publicUrl, String kubeApiUrl,
        String kubeCaData, String registryService, Duration defaultTokenLifetime, Duration auditRetention) {
      this(namespace, listen, tls, publicUrl, kubeApiUrl, kubeCaData, registryService, defaultTokenLifetime,
          auditRetention, new dev.airlock.sso.SecretSources(null, dev.airlock.sso.SecretSources.DEFAULT_ENV));
    }
  }

  static final Duration MIN_TOKEN = Duration.ofMinutes(10);
  /** The Lease whose holder does the background work (expiry sweeps, RBAC reconciliation, audit retention). */
  static final String LEADER_LEASE = "airlock-server-leader";
  /** How long a read of the stored roles serves requests: a role or mapping change reaches tokens within this. */
  static final Duration ROLES_TTL = Duration.ofSeconds(2);
  public static final String ADMIN_SECRET = "airlock-admin";
  static final String SSO_CONFIGMAP = "airlock-sso";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KubernetesClient client;
  private final Settings settings;
  private final Clock clock;
  private final ServerKeys keys;
  private final Sessions sessions;
  private final Logins logins;
  private volatile LoginStarts loginStarts;
  private final KubeReplayCache replays;
  private final RbacStore rbac;
  private final AuditLog audit;
  private final DeveloperNamespaces namespaces;
  private final Ttl<RoleSet> roles;
  private final java.util.concurrent.atomic.AtomicLong reconcileRequests = new java.util.concurrent.atomic.AtomicLong();
  private final Object reconcileLock = new Object();
  private long reconciledUpTo; // guarded by reconcileLock
  private final Ttl<Catalog> catalog;
  private final Web web;
  private final ScheduledExecutorService background;
  private final Map<String, Deque> failures = new ConcurrentHashMap<>();
  private final Ttl<SsoConfig> ssoConfig;
  private final java.util.concurrent.atomic.AtomicBoolean leader = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile java.util.concurrent.CompletableFuture<?> election;
  private volatile boolean closing;
  private volatile URI publicUrl;
  private final ConsoleOperations operations;
  private volatile dev.airlock.keys.TrustedRoots trustedRoots;

  private AirlockServer(KubernetesClient client, Settings settings, Clock clock, PrintStream auditOut)
      throws IOException {
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.keys = ServerKeys.load(client, settings.namespace());
    this.sessions = new Sessions(client, settings.namespace(), clock);
    this.logins = new Logins(client, settings.namespace(), keys, clock);
    this.loginStarts = new LoginStarts(LoginStarts.Limits.DEFAULT, clock, logins::count);
    this.replays = new KubeReplayCache(client, settings.namespace());
    this.rbac = new RbacStore(client, settings.namespace());
    this.audit = new AuditLog(client, settings.namespace(), clock, auditOut);
    this.namespaces = new DeveloperNamespaces(client, rbac, audit, this::reconcileRbac);
    this.roles = new Ttl<>(rbac::read, ROLES_TTL, clock);
    // Changes an admin stores (from the CLI, another replica, the console) reach every replica within seconds.
    this.ssoConfig = new Ttl<>(this::readSsoConfig, Duration.ofSeconds(10), clock);
    this.catalog = new Ttl<>(() -> Catalog.discover(client), Duration.ofMinutes(1), clock);
    this.web = new Web(settings.listen(), settings.tls(), this::refused);
    this.background = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "airlock-server-sweeper");
      t.setDaemon(true);
      return t;
    });
    routes();
    this.operations = new ConsoleOperations(this);
    new ConsolePages(this).routes(web);
  }

  /** Starts the server (the namespace must exist; {@code sso} is read from the cluster when null). */
  public static AirlockServer start(KubernetesClient client, Settings settings, Clock clock, PrintStream auditOut)
      throws IOException {
    AirlockServer s = new AirlockServer(client, settings, clock, auditOut);
    s.sessions.watch();
    s.web.start();
    s.elect();
    s.background.scheduleWithFixedDelay(s::sweep, 1, 5, TimeUnit.MINUTES);
    return s;
  }

  /**
   * Runs for the Lease {@value #LEADER_LEASE}: its holder does the background work, the other replicas only serve.
   * A lost lease (a partition, a pause) ends a term; the next election starts 2 s later.
   */
  private void elect() {
    if (closing) {
      return;
    }
    String identity = hostName() + "/" + ProcessHandle.current().pid() + "/" + HexFormat.of().formatHex(
        RANDOM.generateSeed(3));
    var config = new io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder()
        .withName("airlock-server").withLock(new io.fabric8.kubernetes.client.extended.leaderelection.resourcelock
            .LeaseLock(settings.namespace(), LEADER_LEASE, identity)).withLeaseDuration(Duration.ofSeconds(15))
        .withRenewDeadline(Duration.ofSeconds(10)).withRetryPeriod(Duration.ofSeconds(2)).withReleaseOnCancel()
        .withLeaderCallbacks(new io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks(
            () -> leader.set(true), () -> leader.set(false), who -> { }))
        .build();
    election = client.leaderElector().withConfig(config).build().start();
    election.whenComplete((v, e) -> {
      leader.set(false);
      if (!closing) {
        background.schedule(this::elect, 2, TimeUnit.SECONDS);
      }
    });
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown-host";
    }
  }

  /**
   * Replaces the limits on login starts (default: 10 a minute per client address, 120 a minute in all, 1000 logins in
   * progress): tests and benchmarks set their own.
   */
  public void loginLimits(int perClient, int total, int pending) {
    this.loginStarts = new LoginStarts(new LoginStarts.Limits(perClient, total, LoginStarts.Limits.DEFAULT.clients(),
        pending), clock, logins::count);
  }

  /** Whether this replica holds the lease and does the background work. */
  public boolean leader() {
    return leader.get();
  }

  public int port() {
    return web.port();
  }

  public URI url() {
    return publicUrl;
  }

  /**
   * Lets the console run upgrades and rollbacks: with {@code kube}'s credentials (recorded as the console's user),
   * bundles verified against {@code roots}, uploads kept in {@code uploadDir}.
   */
  public void consoleOperations(dev.airlock.kube.KubeTarget kube, dev.airlock.keys.TrustedRoots roots,
      java.nio.file.Path uploadDir) {
    operations.setUp(new ConsoleOperations.Setup(kube, roots, uploadDir));
  }

  /** The vendor roots licenses uploaded in the console are checked against (default: those compiled in). */
  public void trustedRoots(dev.airlock.keys.TrustedRoots roots) {
    this.trustedRoots = roots;
  }

  dev.airlock.keys.TrustedRoots trustedRoots() {
    dev.airlock.keys.TrustedRoots r = trustedRoots;
    return r != null ? r : dev.airlock.keys.TrustedRoots.of(dev.airlock.installer.cli.TrustOptions.compiledIn());
  }

  ConsoleOperations operations() {
    return operations;
  }

  /** Where browsers and the CLI reach this server (known once the port is). */
  public void publicUrl(URI url) {
    this.publicUrl = url;
  }

  // ---- configuration kept in the cluster

  /** Stores {@code sso.yaml}'s text as the server's SSO configuration (ConfigMap {@value #SSO_CONFIGMAP}). */
  public static void storeSsoConfig(KubernetesClient client, String namespace, String text, String source) {
    SsoConfig.parse(source, text, java.nio.file.Path.of(source).toAbsolutePath().getParent());
    client.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName(SSO_CONFIGMAP)
        .withNamespace(namespace).addToLabels(dev.airlock.kube.KubeTarget.LABEL_MANAGED_BY,
            dev.airlock.kube.KubeTarget.MANAGER).addToAnnotations("airlock.dev/source", source).endMetadata()
        .withData(Map.of("sso.yaml", text)).build()).fieldManager("airlock-server").forceConflicts()
        .serverSideApply();
  }

  /** The SSO configuration as stored in the cluster, read again at most every 10 s. */
  SsoConfig sso() {
    return ssoConfig.get();
  }

  private SsoConfig readSsoConfig() {
    var cm = client.configMaps().inNamespace(settings.namespace()).withName(SSO_CONFIGMAP).get();
    if (cm == null || cm.getData() == null || cm.getData().get("sso.yaml") == null) {
      // A fresh installation: the server starts (and is ready) before an admin stores the configuration.
      return new SsoConfig(List.of(), List.of());
    }
    String source = cm.getMetadata().getAnnotations() == null ? "sso.yaml"
        : cm.getMetadata().getAnnotations().getOrDefault("airlock.dev/source", "sso.yaml");
    // Relative files are in the secrets directory (the only place the server reads them from).
    return SsoConfig.parse(source, cm.getData().get("sso.yaml"), settings.secrets().dir() != null
        ? settings.secrets().dir() : java.nio.file.Path.of(source).toAbsolutePath().getParent());
  }

  /** Where connectors' relative files are: the secrets directory (or, without one, the working directory). */
  java.nio.file.Path secretsBase() {
    return settings.secrets().dir() != null ? settings.secrets().dir() : java.nio.file.Path.of("").toAbsolutePath();
  }

  // ---- routes

  private void routes() {
    web.on("GET", "/healthz", r -> Web.Response.json(Map.of("status", "ok", "leader", leader.get())));
    web.on("POST", "/api/v1/logins", this::startLogin);
    web.on("GET", "/login/([0-9a-f]{24})", r -> Web.Response.redirect(logins.get(r.param(0)).url()));
    web.on("GET", "/api/v1/logins/([0-9a-f]{24})", this::pollLogin);
    web.on("GET", "/device", r -> Web.Response.form("Log in to airlock", "Enter the code your terminal shows. "
        + "Only enter a code from a login you started yourself: whoever started it gets your session.", "/device",
        "code", "KMQR-7XTA"));
    web.on("POST", "/device", r -> {
      String id;
      try {
        id = logins.idByUserCode(r.form().get("code"));
      } catch (AirlockException e) {
        limitFailures(r);
        throw e;
      }
      return Web.Response.redirect(base() + "/login/" + id);
    });
    web.on("GET", "/sso/oidc/([a-z0-9-]+)/callback", this::oidcCallback);
    web.on("POST", "/sso/saml/([a-z0-9-]+)/acs", this::samlAcs);
    // Public, like any SP's metadata: the IdP's admin imports it by URL.
    web.on("GET", "/sso/saml/([a-z0-9-]+)/metadata", r -> new Web.Response(200, "application/samlmetadata+xml",
        spMetadata(r.param(0)).getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of("Content-Disposition",
        "attachment; filename=\"airlock-" + r.param(0) + "-sp-metadata.xml\"")));
    web.on("POST", "/api/v1/kube-token", this::kubeToken);
    web.on("GET", "/api/v1/me", this::whoami);
    web.on("DELETE", "/api/v1/session", this::logout);
    web.on("GET", "/registry/token", this::registryToken);
    web.on("POST", "/api/v1/admin/login", this::adminLogin);
    web.on("GET", "/api/v1/users", this::listUsers);
    web.on("POST", "/api/v1/users/([^/]+)/revoke", this::revokeUser);
    web.on("GET", "/api/v1/namespaces", r -> {
      Sessions.Session s = developer(r);
      return Web.Response.json(namespaces.list(policyOf(s), authorizer()));
    });
    web.on("POST", "/api/v1/namespaces", r -> {
      Sessions.Session s = developer(r);
      return Web.Response.json(201, namespaces.create(policyOf(s), clusterAuthorizer(), r.json().path("name")
          .asText(null), r.remote()));
    });
    web.on("DELETE", "/api/v1/namespaces/([a-z0-9-]+)", r -> Web.Response.json(namespaces.delete(policyOf(
        developer(r)), r.param(0), r.remote())));
  }

  private Web.Response startLogin(Web.Request r) throws IOException {
    limitFailures(r);
    JsonNode body = r.json();
    Begun b = beginLogin(body.path("connector").asText(null), false, false, r.remote());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", b.id());
    out.put("url", base() + "/login/" + b.id());
    out.put("poll", b.created().poll());
    out.put("verificationUrl", base() + "/device");
    out.put("userCode", b.created().userCode());
    out.put("connector", b.connector());
    out.put("expiresAt", clock.instant().plus(Logins.LIFETIME).toString());
    return Web.Response.json(201, out);
  }

  /** A login started: its id, its secrets, the connector and the IdP's URL. */
  record Begun(String id, Logins.Created created, String connector, String url) {}

  /**
   * Starts a login through connector {@code name} (the only one when null) for the client at {@code from}. A
   * {@code console} login ends in the browser (a session cookie) instead of at a polling CLI; a {@code test} login
   * (the console's SSO page) makes no session. Each start stores a Secret, so starts are limited per client and in
   * total, and the logins in progress are capped ({@link LoginStarts}).
   */
  Begun beginLogin(String name, boolean console, boolean test, String from) throws IOException {
    if (name == null && sso().connectors().size() == 1) {
      name = sso().connectors().get(0).name();
    }
    if (sso().connectors().isEmpty()) {
      throw new AirlockException(Kind.BAD_INPUT, "this airlock server has no SSO connector configured yet",
          "an admin stores one: airlock server --sso-config sso.yaml --kubeconfig ADMIN --namespace "
          + settings.namespace() + " (docs/sso.md); until then only the break-glass admin can log in");
    }
    if (name == null) {
      throw new AirlockException(Kind.BAD_INPUT, "which connector? this server has " + sso().connectors().stream()
          .map(SsoConfig.Connector::name).toList(), "pass --connector NAME");
    }
    SsoConfig.Connector c = sso().connector(name);
    loginStarts.take(from); // before any work for it
    String id;
    String pending;
    String url;
    if (c instanceof SsoConfig.Oidc oidc) {
      OidcRelyingParty.Start start = reachIdp(() -> oidc(oidc).begin(callback(oidc.name())), oidc);
      id = loginId(start.pending().state());
      pending = Web.JSON.writeValueAsString(start.pending());
      url = start.authorizationUrl().toString();
    } else {
      SsoConfig.Saml saml = (SsoConfig.Saml) c;
      byte[] b = new byte[12];
      RANDOM.nextBytes(b);
      id = HexFormat.of().formatHex(b);
      SamlServiceProvider.Start start = saml(saml).begin(acs(saml.name()), id);
      pending = Web.JSON.writeValueAsString(start.pending());
      url = start.redirectUrl().toString();
    }
    Logins.Created created = logins.create(id, c.name(), pending, url, console || test, test);
    return new Begun(id, created, c.name(), url);
  }

  static String loginId(String state) {
    return Sessions.sha256("oidc-state:" + state).substring(0, 24);
  }

  private Web.Response pollLogin(Web.Request r) {
    Logins.Login l = logins.get(r.param(0));
    String result = logins.collect(l, r.query.get("poll"));
    if (result == null) {
      return Web.Response.json(202, Map.of("state", "pending"));
    }
    try {
      return Web.Response.json(200, Web.JSON.readTree(result));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private Web.Response oidcCallback(Web.Request r) throws IOException {
    String state = r.query.get("state");
    if (state == null) {
      throw new AirlockException(Kind.DENIED, "the IdP's answer has no state", "start the login again")
          .with(AirlockException.CHECK, OidcRelyingParty.STATE);
    }
    Logins.Login l = logins.get(loginId(state));
    SsoConfig.Oidc c = (SsoConfig.Oidc) sso().connector(r.param(0));
    return finishLogin(r, l, () -> oidc(c).completeLogin(r.query, Web.JSON.readValue(logins.pending(l),
        OidcRelyingParty.Pending.class)));
  }

  private Web.Response samlAcs(Web.Request r) throws IOException {
    Map<String, String> form = r.form();
    Logins.Login l = logins.get(form.get("RelayState"));
    SsoConfig.Saml c = (SsoConfig.Saml) sso().connector(r.param(0));
    return finishLogin(r, l, () -> new OidcRelyingParty.Login(saml(c).complete(form.get("SAMLResponse"),
        Web.JSON.readValue(logins.pending(l), SamlServiceProvider.Pending.class), acs(c.name())), null));
  }

  /** A connector's check of the IdP's answer; SAML logins have no refresh token. */
  interface Completion {
    OidcRelyingParty.Login complete() throws IOException;
  }

  /** Checks the IdP's answer, the user's roles and the seats, sets the user up, and records the outcome. */
  private Web.Response finishLogin(Web.Request r, Logins.Login l, Completion completion) throws IOException {
    Identity id;
    try {
      OidcRelyingParty.Login login = completion.complete();
      id = login.identity();
      if (!id.connector().equals(l.connector())) {
        throw new AirlockException(Kind.DENIED, "the answer is for connector " + id.connector() + ", the login for "
            + l.connector(), "start the login again").with(AirlockException.CHECK, "connector");
      }
      if (l.test()) {
        logins.finish(l, "done", Web.JSON.writeValueAsString(tested(id, r.remote())));
        return new Web.Response(303, null, new byte[0], Map.of("Location", base() + ConsoleSso.TEST_FINISH
            + l.id()));
      }
      Map<String, Object> result = admit(id, login.refreshToken(), r.remote());
      logins.finish(l, "done", Web.JSON.writeValueAsString(result));
      if (l.console()) {
        // Back to the browser that started it, which proves it with its login cookie (ConsolePages).
        return new Web.Response(303, null, new byte[0], Map.of("Location", base() + ConsolePages.FINISH + l.id()));
      }
      return Web.Response.html(200, "Logged in", "Logged in as " + id.username() + " through " + id.connector()
          + ". You can close this tab; the terminal has the rest.");
    } catch (AirlockException e) {
      Map<String, Object> failure = new LinkedHashMap<>();
      failure.put("state", "failed");
      failure.put("error", e.getMessage());
      e.fix().ifPresent(f -> failure.put("fix", f));
      e.get(AirlockException.CHECK).ifPresent(c -> failure.put("check", c));
      try {
        logins.finish(l, "failed", Web.JSON.writeValueAsString(failure));
      } catch (AirlockException already) {
        // a second answer for a finished login: the first outcome stands
      }
      throw e;
    }
  }

  /** A connector's test: what the IdP said and what airlock makes of it, with no session, seat or RBAC change. */
  private Map<String, Object> tested(Identity id, String from) {
    Authorizer auth = clusterAuthorizer();
    Policy policy = auth.policy(User.of(id));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("state", "tested");
    out.put("connector", id.connector());
    out.put("subject", id.subject());
    out.put("username", id.username());
    out.put("email", id.email());
    out.put("displayName", id.displayName());
    out.put("groups", id.groups());
    out.put("roles", policy.roles());
    out.put("namespace", policy.roles().isEmpty() ? null : new Compiler(auth).startNamespace(policy,
        rbac.namespaces()).orElse(null));
    out.put("sessionExpires", id.sessionExpires().toString());
    audit.record(AuditLog.Event.of(id.username(), "sso-test", id.connector(), "success", from)
        .with("groups", id.groups()).with("roles", policy.roles()));
    return out;
  }

  /** A verified identity becomes a session: roles, seat, user record, RBAC, then the session itself. */
  private Map<String, Object> admit(Identity id, String refreshToken, String from) {
    Authorizer auth = clusterAuthorizer();
    User user = User.of(id);
    Policy policy = auth.policy(user);
    if (policy.roles().isEmpty()) {
      throw new AirlockException(Kind.DENIED, "no airlock role maps to " + id.username() + "'s groups "
          + id.groups(), "ask an admin to add a mapping for one of those groups (docs/rbac.md)")
          .with(AirlockException.CHECK, "no-role");
    }
    checkSeat(UserName.of(id.username()));
    Instant now = clock.instant();
    boolean changed = rbac.recordLogin(user, now);
    if (changed || client.namespaces().withName(new Compiler(auth).personalNamespace(policy)).get() == null) {
      reconcileRbac();
    }
    Instant expires = id.sessionExpires().isAfter(now) ? id.sessionExpires() : now.plus(Duration.ofHours(8));
    Sessions.Created s = sessions.create(id.username(), id.groups(), id.connector(), expires, false, id.subject(),
        refreshToken);
    audit.record(AuditLog.Event.of(id.username(), "login", id.connector(), "success", from)
        .with("groups", id.groups()).with("roles", policy.roles()).with("session", s.session().id()));
    return loginResult(s, policy, auth);
  }

  private Map<String, Object> loginResult(Sessions.Created s, Policy policy, Authorizer auth) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("state", "done");
    out.put("session", s.credential());
    out.put("username", s.session().username());
    out.put("groups", s.session().groups());
    out.put("roles", policy == null ? List.of("break-glass-admin") : policy.roles());
    out.put("expiresAt", s.session().expires().toString());
    out.put("server", base());
    if (policy != null) {
      // Where the kubeconfig starts: a namespace the user may list pods in, not one their roles leave empty.
      new Compiler(auth).startNamespace(policy, rbac.namespaces()).ifPresent(ns -> out.put("namespace", ns));
    }
    Map<String, Object> kube = new LinkedHashMap<>();
    kube.put("server", settings.kubeApiUrl());
    if (settings.kubeCaData() != null) {
      kube.put("certificateAuthorityData", settings.kubeCaData());
    }
    out.put("kubernetes", kube);
    return out;
  }

  /** A seat is a distinct user active in the last 30 days; the one after the last seat is refused, audited. */
  private void checkSeat(String userKey) {
    License license = UserDirectory.license(client, settings.namespace());
    if (license == null) {
      return;
    }
    Instant now = clock.instant();
    LicenseState state = new Entitlements(license).state(now);
    Map<String, Instant> last = rbac.lastLogins();
    boolean active = last.containsKey(userKey) && last.get(userKey).isAfter(now.minus(UserDirectory.SEAT_WINDOW));
    if (state == LicenseState.EXPIRED) {
      throw seatRefusal(userKey, "the license " + license.id() + " has expired", "renew the license");
    }
    if (active) {
      return;
    }
    if (state == LicenseState.GRACE) {
      throw seatRefusal(userKey, "the license is in its grace period: no new seats are given",
          "renew the license; users active in the last 30 days can still log in");
    }
    long used = UserDirectory.seatsUsed(last, now);
    if (license.seats() != null && used >= license.seats()) {
      throw seatRefusal(userKey, "all " + license.seats() + " seats are taken (distinct users active in the last "
          + "30 days)", "ask the vendor for more seats, or wait until a user has been inactive for 30 days");
    }
  }

  private AirlockException seatRefusal(String user, String why, String fix) {
    audit.record(AuditLog.Event.of(user, "seat", "login", "refused", null).with("reason", why));
    return new AirlockException(Kind.LICENSE, "login refused: " + why, fix).with(AirlockException.CHECK, "seat");
  }

  // ---- what a session may do

  private Web.Response kubeToken(Web.Request r) {
    Sessions.Session s = sessions.find(r.bearer());
    if (s.admin()) {
      throw new AirlockException(Kind.DENIED, "the break-glass admin has no Kubernetes identity",
          "use an admin kubeconfig for Kubernetes");
    }
    s = recheckAtIdp(s, r.remote());
    Authorizer auth = authorizer();
    Policy p = auth.policy(new User(s.username(), s.groups()));
    if (p.roles().isEmpty()) {
      throw Sessions.refused("no airlock role maps to your groups " + s.groups() + " any more", "ask an admin to "
          + "map one of them to a role, or the IdP's admin to put you in a group that is");
    }
    Duration life = p.limits().maxCredentialLifetime() != null ? p.limits().maxCredentialLifetime()
        : settings.defaultTokenLifetime();
    if (life.compareTo(MIN_TOKEN) < 0) {
      life = MIN_TOKEN;
    }
    TokenRequest req = new TokenRequestBuilder().withNewSpec().withExpirationSeconds(life.toSeconds())
        .withNewBoundObjectRef().withApiVersion("v1").withKind("Secret").withName(s.secretName()).withUid(s.uid())
        .endBoundObjectRef().endSpec().build();
    TokenRequest answer;
    try {
      answer = client.serviceAccounts().inNamespace(settings.namespace()).withName("user-" + s.userKey())
          .tokenRequest(req);
    } catch (KubernetesClientException e) {
      throw new AirlockException(Kind.REMOTE, "cannot mint a Kubernetes token: " + e.getMessage(),
          "the server's ServiceAccount needs create on serviceaccounts/token in " + settings.namespace(), e);
    }
    audit.record(AuditLog.Event.of(s.username(), "kube-token", "user-" + s.userKey(), "issued", r.remote())
        .with("session", s.id()).with("expires", answer.getStatus().getExpirationTimestamp()));
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("token", answer.getStatus().getToken());
    status.put("expirationTimestamp", answer.getStatus().getExpirationTimestamp());
    return Web.Response.json(Map.of("apiVersion", "client.authentication.k8s.io/v1", "kind", "ExecCredential",
        "status", status));
  }

  /** How often a session's groups are asked of the IdP again, at most ({@code --idp-recheck}). */
  private volatile Duration idpRecheck = Duration.ofMinutes(5);
  /** When each session's groups were last asked of the IdP, on this replica. */
  private final Map<String, Instant> rechecked = new ConcurrentHashMap<>();
  /** The IdP rechecks running now, by session: concurrent token requests of one session wait for one. */
  private final Map<String, java.util.concurrent.CompletableFuture<Sessions.Session>> rechecking =
      new ConcurrentHashMap<>();

  /** Sets how often, at most, a session's groups are asked of the IdP again (default 5 minutes). */
  public AirlockServer idpRecheck(Duration every) {
    idpRecheck = every;
    return this;
  }

  /**
   * At a token refresh of an OIDC session, asks the IdP again (refresh token grant) who the user is, at most every
   * {@link #idpRecheck}: a group removed there takes its roles away then, in the session and in the compiled RBAC;
   * a session the IdP ended (logout, disabled user, idle or too old) ends here too. Concurrent requests of one
   * session share one recheck (a refresh token used twice at once is refused by some IdPs). An unreachable IdP
   * leaves the session as it was, so an IdP outage does not lock developers out; it is audited.
   */
  private Sessions.Session recheckAtIdp(Sessions.Session s, String from) {
    if (s.refreshToken() == null || s.subject() == null || s.admin()) {
      return s;
    }
    Instant now = clock.instant();
    Instant last = rechecked.get(s.id());
    if (last != null && last.plus(idpRecheck).isAfter(now)) {
      return s;
    }
    var mine = new java.util.concurrent.CompletableFuture<Sessions.Session>();
    var running = rechecking.putIfAbsent(s.id(), mine);
    if (running != null) {
      try {
        return running.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : e;
      }
    }
    try {
      Sessions.Session result = recheckNow(s, from);
      rechecked.put(s.id(), clock.instant());
      if (rechecked.size() > 10_000) {
        rechecked.values().removeIf(t -> t.plus(idpRecheck).isBefore(now));
      }
      mine.complete(result);
      return result;
    } catch (RuntimeException e) {
      rechecked.remove(s.id());
      mine.completeExceptionally(e);
      throw e;
    } finally {
      rechecking.remove(s.id(), mine);
    }
  }

  private Sessions.Session recheckNow(Sessions.Session s, String from) {
    SsoConfig.Connector c;
    try {
      c = sso().connector(s.connector());
    } catch (AirlockException gone) {
      sessions.delete(s);
      throw Sessions.refused("the connector " + s.connector() + " of your session was removed", "log in again");
    }
    if (!(c instanceof SsoConfig.Oidc oc)) {
      return s;
    }
    OidcRelyingParty.Login fresh;
    try {
      fresh = oidc(oc).refresh(s.refreshToken(), s.subject());
    } catch (AirlockException e) {
      if (e.kind() == Kind.REMOTE) {
        audit.record(AuditLog.Event.of(s.username(), "idp-recheck", s.connector(), "unreachable", from)
            .with("session", s.id()).with("reason", e.getMessage()));
        return s;
      }
      sessions.delete(s);
      audit.record(AuditLog.Event.of(s.username(), "session-end", s.connector(), "idp-refused", from)
          .with("session", s.id()).with("reason", e.getMessage()));
      throw Sessions.refused("the IdP ended your session: " + e.getMessage(), "log in again: airlock login "
          + "--server " + base());
    }
    List<String> before = s.groups();
    List<String> after = fresh.identity().groups();
    Sessions.Session updated = after.equals(before) && fresh.refreshToken().equals(s.refreshToken()) ? s
        : sessions.updateIdentity(s, after, fresh.refreshToken());
    if (!new java.util.HashSet<>(before).equals(new java.util.HashSet<>(after))) {
      audit.record(AuditLog.Event.of(s.username(), "groups-changed", s.connector(), "success", from)
          .with("session", s.id()).with("before", before).with("after", after));
      if (rbac.recordLogin(User.of(fresh.identity()), clock.instant())) {
        reconcileRbac();
      }
    }
    return updated;
  }

  private Web.Response whoami(Web.Request r) {
    Sessions.Session s = sessions.find(r.bearer());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("username", s.username());
    out.put("groups", s.groups());
    out.put("connector", s.connector());
    out.put("expiresAt", s.expires().toString());
    if (s.admin()) {
      out.put("roles", List.of("break-glass-admin"));
      out.put("namespaces", List.of());
      return Web.Response.json(out);
    }
    Authorizer auth = authorizer();
    Policy p = auth.policy(new User(s.username(), s.groups()));
    out.put("roles", p.roles());
    List<String> namespaces = new ArrayList<>();
    String personal = new Compiler(auth).personalNamespace(p);
    namespaces.add(personal);
    List<Compiler.Namespace> all = rbac.namespaces();
    Map<String, Map<String, String>> labels = new java.util.HashMap<>();
    all.forEach(n -> labels.put(n.name(), n.labels()));
    for (Compiler.Namespace n : all) {
      if (!n.name().equals(personal) && p.decide(new dev.airlock.rbac.Request("get", "", "pods", n.name(), null),
          x -> labels.getOrDefault(x, Map.of())).allowed()) {
        namespaces.add(n.name());
      }
    }
    out.put("namespaces", namespaces);
    out.put("platform", p.platformPermissions().stream().sorted().toList());
    Duration life = p.limits().maxCredentialLifetime() != null ? p.limits().maxCredentialLifetime()
        : settings.defaultTokenLifetime();
    out.put("tokenLifetimeSeconds", Math.max(life.toSeconds(), MIN_TOKEN.toSeconds()));
    return Web.Response.json(out);
  }

  /**
   * Reconciles the cluster's RBAC with every recorded user. Concurrent callers share the work: a caller returns once a
   * reconciliation that began after its call has finished, so 100 simultaneous first logins cost a few passes, not
   * 100.
   */
  void reconcileRbac() {
    long mine = reconcileRequests.incrementAndGet();
    synchronized (reconcileLock) {
      if (reconciledUpTo >= mine) {
        return;
      }
      long upTo = reconcileRequests.get();
      rbac.reconcile(clusterAuthorizer(), true);
      reconciledUpTo = upTo;
    }
  }

  /** The session of a developer (the break-glass admin has no namespaces). */
  private Sessions.Session developer(Web.Request r) {
    Sessions.Session s = sessions.find(r.bearer());
    if (s.admin()) {
      throw new AirlockException(Kind.DENIED, "the break-glass admin has no Kubernetes identity",
          "log in through SSO as a developer");
    }
    return s;
  }

  /** The stored roles as of at most 2 s ago. */
  RoleSet roleSet() {
    return roles.get();
  }

  /** The cluster's resources (discovery, CRDs included), as of at most a minute ago. */
  Catalog catalog() {
    return catalog.get();
  }

  RbacStore rbac() {
    return rbac;
  }

  /** After roles were stored here: the next request reads them. */
  void rolesChanged() {
    roles.invalidate();
  }

  /** The SSO configuration's text as stored (empty when none is). */
  String ssoText() {
    var cm = client.configMaps().inNamespace(settings.namespace()).withName(SSO_CONFIGMAP).get();
    return cm == null || cm.getData() == null ? "" : cm.getData().getOrDefault("sso.yaml", "");
  }

  /** Stores a new SSO configuration from the console; this replica uses it at once, the others within 10 s. */
  void storeSso(String text) {
    storeSsoConfig(client, settings.namespace(), text, "console");
    ssoConfig.invalidate();
  }

  /**
   * A check before a connector is stored: every file and variable it names is one this server may read, and holds a
   * secret; the IdP it names answers (OIDC discovery, SAML metadata).
   */
  void probe(SsoConfig.Connector c) {
    settings.secrets().resolveAll(c, System::getenv);
    reachIdp(() -> {
      if (c instanceof SsoConfig.Oidc o) {
        new OidcRelyingParty(o, clock, settings.secrets().environment(System::getenv), replays).metadata();
      } else {
        IdpMetadata.load((SsoConfig.Saml) c);
      }
      return null;
    }, c);
  }

  /**
   * Runs what reaches a connector's IdP. When nothing there answered as an IdP, the refusal says only that: the
   * issuer may be an internal address, and connection-level detail would tell whoever set it which ports answer.
   */
  private <T> T reachIdp(java.util.function.Supplier<T> call, SsoConfig.Connector c) {
    try {
      return call.get();
    } catch (AirlockException e) {
      if (e.get(OidcRelyingParty.NO_PROVIDER).isPresent()) {
        throw new AirlockException(Kind.REMOTE, "the issuer " + ((SsoConfig.Oidc) c).issuer() + " of connector "
            + c.name() + " did not answer as an OpenID provider", "check the issuer URL: this server must reach "
            + "ISSUER/.well-known/openid-configuration and get a discovery document").with("connector", c.name());
      }
      if (e.get(IdpMetadata.NO_METADATA).isPresent()) {
        throw new AirlockException(Kind.REMOTE, "the IdP metadata of connector " + c.name() + " did not answer "
            + "as SAML metadata", "check idpMetadata: this server must reach it and get the IdP's "
            + "EntityDescriptor").with("connector", c.name());
      }
      throw e;
    }
  }

  /** A SAML connector's service-provider metadata, to import into the IdP. */
  String spMetadata(String connector) {
    if (!(sso().connector(connector) instanceof SsoConfig.Saml c)) {
      throw new AirlockException(Kind.BAD_INPUT, connector + " is not a SAML connector", "OIDC connectors have "
          + "no SP metadata: register the redirect URI " + base() + "/sso/oidc/" + connector + "/callback")
          .with("status", "404");
    }
    return saml(c).metadata(acs(c.name()));
  }

  /** The roles with the built-in catalog: enough for decisions and limits. */
  Authorizer authorizer() {
    return new Authorizer(roles.get(), Catalog.builtIn());
  }

  /** The roles with the cluster's discovery (CRDs included): for compiling RBAC. */
  private Authorizer clusterAuthorizer() {
    return new Authorizer(roles.get(), catalog.get());
  }

  private Policy policyOf(Sessions.Session s) {
    return authorizer().policy(new User(s.username(), s.groups()));
  }

  private Web.Response logout(Web.Request r) {
    Sessions.Session s = sessions.find(r.bearer());
    sessions.delete(s);
    audit.record(AuditLog.Event.of(s.username(), "logout", "session " + s.id(), "success", r.remote()));
    return Web.Response.noContent();
  }

  // ---- the registry's token service (distribution token authentication)

  /** A repository name, as the OCI distribution spec's grammar has it. */
  static final java.util.regex.Pattern REPOSITORY_NAME = java.util.regex.Pattern.compile(
      "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*");

  private Web.Response registryToken(Web.Request r) throws JOSEException {
    String service = r.query.get("service");
    if (service != null && !service.equals(settings.registryService())) {
      throw new AirlockException(Kind.BAD_INPUT, "this server issues tokens for service " + settings.registryService()
          + ", not " + service, "configure the registry's auth.token.service as " + settings.registryService());
    }
    String auth = r.header("Authorization");
    String subject = "";
    Policy policy = null;
    if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      String decoded = new String(java.util.Base64.getDecoder().decode(auth.substring(6).strip()),
          StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      String password = colon < 0 ? "" : decoded.substring(colon + 1);
      Sessions.Session s;
      try {
        s = sessions.find(password);
      } catch (AirlockException e) {
        limitFailures(r);
        throw e;
      }
      if (!s.admin()) {
        subject = s.username();
        policy = authorizer().policy(new User(s.username(), s.groups()));
      }
    }
    List<Map<String, Object>> access = new ArrayList<>();
    List<String> scopes = new ArrayList<>();
    for (String scope : r.exchange.getRequestURI().getRawQuery() == null ? new String[0]
        : r.exchange.getRequestURI().getRawQuery().split("&")) {
      if (scope.startsWith("scope=")) {
        scopes.add(java.net.URLDecoder.decode(scope.substring(6), StandardCharsets.UTF_8));
      }
    }
    for (String scope : scopes) {
      String[] parts = scope.split(":");
      if (parts.length != 3 || !parts[0].equals("repository")) {
        continue;
      }
      if (!REPOSITORY_NAME.matcher(parts[1]).matches()) {
        throw new AirlockException(Kind.BAD_INPUT, "scope " + scope + " names '" + parts[1] + "', which is not a "
            + "repository name", "a repository name is lower-case path components of letters and digits joined by "
            + ". _ __ or dashes, separated by / (the OCI distribution grammar): no '..', '*', upper case or empty "
            + "components").with(AirlockException.CHECK, "scope");
      }
      List<String> granted = new ArrayList<>();
      for (String action : parts[2].split(",")) {
        List<String> each = action.equals("*") ? RegistryRule.ACTIONS : List.of(action);
        for (String a : each) {
          if (policy != null && policy.decideRegistry(parts[1], a).allowed() && !granted.contains(a)) {
            granted.add(a);
          }
        }
      }
      access.add(Map.of("type", "repository", "name", parts[1], "actions", granted));
    }
    Instant now = clock.instant();
    JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("airlock").subject(subject).audience(
        settings.registryService()).issueTime(Date.from(now)).notBeforeTime(Date.from(now.minusSeconds(5)))
        .expirationTime(Date.from(now.plus(Duration.ofMinutes(5)))).jwtID(UUID.randomUUID().toString())
        .claim("access", access).build();
    SignedJWT jwt;
    try {
      jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).x509CertChain(List.of(
          Base64.encode(keys.registryCert.getEncoded()))).build(), claims);
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
    jwt.sign(new ECDSASigner(keys.registryKey));
    if (!subject.isEmpty()) {
      // What was granted, not what was asked: a token that grants none of the scopes asked for is audited as
      // refused, one asked for no scope (a registry login's check) as authenticated.
      boolean any = access.stream().anyMatch(a -> !((List<?>) a.get("actions")).isEmpty());
      audit.record(AuditLog.Event.of(subject, "registry-token", String.join(" ", scopes), scopes.isEmpty()
          ? "authenticated" : any ? "issued" : "refused", r.remote()).with("access", access));
    }
    String token = jwt.serialize();
    return Web.Response.json(Map.of("token", token, "access_token", token, "expires_in", 300, "issued_at",
        now.toString()));
  }

  // ---- admins

  /** The break-glass admin: a password whose hash is in the Secret {@value #ADMIN_SECRET}; works without the IdP. */
  private Web.Response adminLogin(Web.Request r) throws IOException {
    limitFailures(r);
    Sessions.Created c = breakGlass(r.json().path("password").asText(""), r.remote());
    return Web.Response.json(201, loginResult(c, null, null));
  }

  /** Checks the break-glass admin's password; a session of one hour. */
  Sessions.Created breakGlass(String password, String from) {
    limitFailures(from);
    var s = client.secrets().inNamespace(settings.namespace()).withName(ADMIN_SECRET).get();
    if (s == null || !AdminPassword.matches(password, Secrets.value(s, "password-hash").orElse(""))) {
      throw new AirlockException(Kind.DENIED, "wrong break-glass admin password", "the password was shown once "
          + "when the server made it; an admin can reset it (docs/server.md)").with("status", "401")
          .with(AirlockException.CHECK, "admin-password");
    }
    Sessions.Created c = sessions.create("admin", List.of(), "break-glass", clock.instant().plus(Duration.ofHours(1)),
        true);
    audit.record(AuditLog.Event.of("admin", "login", "break-glass", "success", from));
    return c;
  }

  private Sessions.Session admin(Web.Request r) {
    Sessions.Session s = sessions.find(r.bearer());
    if (s.admin()) {
      return s;
    }
    Policy p = authorizer().policy(new User(s.username(), s.groups()));
    if (!p.platformPermissions().contains("users")) {
      throw new AirlockException(Kind.DENIED, s.username() + " lacks the platform permission 'users'",
          "an admin's role needs platform: [users]");
    }
    return s;
  }

  private Web.Response listUsers(Web.Request r) {
    admin(r);
    UserDirectory.Listing l = UserDirectory.list(client, settings.namespace(), clock);
    return Web.Response.json(Map.of("users", l.users(), "seats", l.seats()));
  }

  private Web.Response revokeUser(Web.Request r) {
    Sessions.Session admin = admin(r);
    String user = java.net.URLDecoder.decode(r.param(0), StandardCharsets.UTF_8);
    int n = revoke(admin.username(), user, r.remote());
    return Web.Response.json(Map.of("user", user, "sessionsEnded", n));
  }

  /** Ends every session of {@code user}, audited as {@code actor}'s. */
  int revoke(String actor, String user, String from) {
    int n = sessions.revoke(UserName.of(user));
    audit.record(AuditLog.Event.of(actor, "revoke", user, "success", from).with("sessions", n));
    return n;
  }

  /** The platform permissions of a session: all of them for the break-glass admin. */
  java.util.Set<String> platformPermissions(Sessions.Session s) {
    if (s.admin()) {
      return new java.util.LinkedHashSet<>(dev.airlock.rbac.PlatformRole.PERMISSIONS);
    }
    return authorizer().policy(new User(s.username(), s.groups())).platformPermissions();
  }

  Sessions sessions() {
    return sessions;
  }

  Logins logins() {
    return logins;
  }

  KubernetesClient client() {
    return client;
  }

  Settings settings() {
    return settings;
  }

  Clock clock() {
    return clock;
  }

  boolean tls() {
    return settings.tls() != null;
  }

  // ---- protection

  /** Failed logins per client address: more than 20 in a minute are answered 429 for that minute. */
  void limitFailures(Web.Request r) {
    limitFailures(r.remote());
  }

  private void limitFailures(String from) {
    Deque d = failures.get(from);
    if (d != null && d.count(clock.instant()) > 20) {
      throw new AirlockException(Kind.DENIED, "too many failed logins from " + from + "; wait a minute",
          "check the credentials being sent").with("status", "429");
    }
  }

  private void refused(Web.Request r, AirlockException e) {
    if (e.kind() == Kind.DENIED || e.kind() == Kind.LICENSE) {
      if (!"429".equals(e.get("status").orElse(""))) { // a refusal by a limit is not one more failed login
        failures.computeIfAbsent(r.remote(), k -> new Deque()).add(clock.instant());
      }
      String path = r.exchange.getRequestURI().getPath();
      if (path.startsWith("/sso/") || path.equals("/api/v1/admin/login")) {
        audit.record(AuditLog.Event.of(null, "login", path, "refused", r.remote()).with("reason", e.getMessage())
            .with("check", e.get(AirlockException.CHECK).orElse(null)));
      }
    }
  }

  /** Timestamps of the last minute. */
  static final class Deque {
    private final java.util.ArrayDeque<Instant> times = new java.util.ArrayDeque<>();

    synchronized void add(Instant t) {
      times.add(t);
    }

    synchronized int count(Instant now) {
      while (!times.isEmpty() && times.peekFirst().isBefore(now.minusSeconds(60))) {
        times.removeFirst();
      }
      return times.size();
    }
  }

  private void sweep() {
    operations.sweep(); // each replica's own upload directory
    Instant at = clock.instant();
    failures.values().removeIf(d -> d.count(at) == 0); // addresses with no failure in the last minute
    if (!leader.get()) {
      return;
    }
    try {
      Instant now = clock.instant();
      sessions.expire();
      logins.expire();
      replays.expire(now);
      // Namespaces created since, and role changes made elsewhere, get their RBAC without waiting for a login.
      reconcileRbac();
      audit.expire(settings.auditRetention());
    } catch (RuntimeException e) {
      System.err.println("airlock server: sweep failed: " + e.getMessage());
    }
  }

  // ---- helpers

  String base() {
    URI u = publicUrl != null ? publicUrl : settings.publicUrl();
    return u.toString().replaceAll("/+$", "");
  }

  private URI callback(String connector) {
    return URI.create(base() + "/sso/oidc/" + connector + "/callback");
  }

  private URI acs(String connector) {
    return URI.create(base() + "/sso/saml/" + connector + "/acs");
  }

  // By the connector's whole configuration: an edited connector gets a new relying party.
  private final Map<SsoConfig.Oidc, OidcRelyingParty> oidcCache = new ConcurrentHashMap<>();
  private final Map<SsoConfig.Saml, SamlServiceProvider> samlCache = new ConcurrentHashMap<>();

  /** A connector's relying party, once its files and variables are ones this server may read. */
  private OidcRelyingParty oidc(SsoConfig.Oidc c) {
    settings.secrets().check(c);
    return oidcCache.computeIfAbsent(c, n -> new OidcRelyingParty(c, clock, settings.secrets().environment(
        System::getenv), replays));
  }

  private SamlServiceProvider saml(SsoConfig.Saml c) {
    settings.secrets().check(c);
    return samlCache.computeIfAbsent(c, n -> new SamlServiceProvider(c, reachIdp(() -> IdpMetadata.load(c), c),
        replays, clock, settings.secrets().environment(System::getenv)));
  }

  /** A console message sealed for a redirect's URL (only this server's replicas can make or read one). */
  String sealFlash(String message) {
    return keys.seal("console-flash", message.getBytes(StandardCharsets.UTF_8));
  }

  /** A message {@link #sealFlash} made; empty when {@code sealed} was not made by this server. */
  String openFlash(String sealed) {
    byte[] plain = keys.open("console-flash", sealed);
    return plain == null ? "" : new String(plain, StandardCharsets.UTF_8);
  }

  String registryCertificatePem() {
    return keys.registryCertPem;
  }

  AuditLog audit() {
    return audit;
  }

  @Override
  public void close() {
    closing = true;
    if (election != null) {
      election.cancel(true); // releases the lease when this replica holds it
    }
    background.shutdownNow();
    web.close();
    operations.close();
    sessions.close();
  }
}
