package dev.airlock.installer.server;

import dev.airlock.deploy.Installations;
import dev.airlock.deploy.State;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import dev.airlock.sso.SsoConfig;
import io.quarkus.qute.Engine;
import io.quarkus.qute.HtmlEscaper;
import io.quarkus.qute.ReflectionValueResolver;
import io.quarkus.qute.Template;
import io.quarkus.qute.TemplateLocator;
import io.quarkus.qute.Variant;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The admin console: server-rendered pages under {@code /console} (Qute templates, htmx from its webjar, no
 * Node build), on the server's sessions, platform permissions and audit log. A browser holds its session in an
 * HttpOnly cookie; every form carries a token derived from that session (CSRF), and every request is authorized on
 * the server: a page shows only the actions its user may take, and a post without the permission is refused (403).
 */
final class ConsolePages {

  static final String COOKIE = "airlock_session";
  static final String LOGIN_COOKIE = "airlock_login";
  static final String FINISH = "/console/login/finish/";
  static final String CSRF_HEADER = "X-Airlock-CSRF";
  private static final String HTMX = "META-INF/resources/webjars/htmx.org/2.0.4/dist/htmx.min.js";
  private static final String TEMPLATES = "dev/airlock/installer/server/console/";
  /** Audit events shown on one page; the export has all. */
  static final int AUDIT_PAGE = 200;

  private final AirlockServer server;
  private final Engine engine;
  private final Map<String, Template> templates = new ConcurrentHashMap<>();

  ConsolePages(AirlockServer server) {
    this.server = server;
    this.engine = Engine.builder().addDefaults().addValueResolver(new ReflectionValueResolver())
        .addResultMapper(new HtmlEscaper(List.of(Variant.TEXT_HTML)))
        .addLocator(locator()).build();
  }

  void routes(Web web) {
    web.on("GET", "/console/static/htmx.min.js", r -> asset(HTMX, "text/javascript"));
    web.on("GET", "/console/static/console.css", r -> asset(TEMPLATES + "console.css", "text/css"));
    web.on("GET", "/console/static/console.js", r -> asset(TEMPLATES + "console.js", "text/javascript"));
    web.on("GET", "/console/login", this::loginPage);
    web.on("POST", "/console/login/admin", this::adminLogin);
    web.on("GET", "/console/login/finish/([0-9a-f]{24})", this::finishLogin);
    web.on("POST", "/console/logout", r -> page(r, null, (s, p) -> logout(r, s)));
    web.on("GET", "/console/?", r -> page(r, "view", this::dashboard));
    web.on("GET", "/console/history", r -> page(r, "view", this::history));
    web.on("GET", "/console/users", r -> page(r, "view", this::users));
    web.on("POST", "/console/users/([^/]+)/revoke", r -> page(r, "users", (s, p) -> revoke(r, s)));
    web.on("GET", "/console/audit", r -> page(r, "audit", this::audit));
    web.on("GET", "/console/audit/export", r -> page(r, "audit", (s, p) -> exportAudit(r)));
    web.on("GET", "/console/support", r -> page(r, "support", (v, p) -> html(200, "support", base(v, "support"))));
    web.on("GET", "/console/support/download", r -> page(r, "support", (v, p) -> supportBundle(r, v)));
    web.on("GET", "/console/license", r -> page(r, "view", this::license));
    web.on("POST", "/console/license", r -> page(r, "license", (v, p) -> uploadLicense(r, v)));
    web.on("GET", "/console/roles", r -> page(r, "view", this::roles));
    web.on("POST", "/console/roles", r -> page(r, "roles", (s, p) -> editRoles(r, s, p)));
    new ConsoleUpgrades(server, this).routes(web);
    new ConsoleSso(server, this).routes(web);
  }

  // ---- sessions in the browser

  /** What a page handler gets: the session, its permissions and the form token. */
  record Viewer(Sessions.Session session, Set<String> permissions, String csrf) {
    public String username() {
      return session.admin() ? "break-glass admin" : session.username();
    }

    public boolean mayRevoke() {
      return permissions.contains("users");
    }

    public boolean mayAudit() {
      return permissions.contains("audit");
    }

    public boolean maySupport() {
      return permissions.contains("support");
    }

    public boolean mayEditRoles() {
      return permissions.contains("roles");
    }

    public boolean mayUpgrade() {
      return permissions.contains("upgrade");
    }

    public boolean mayRollback() {
      return permissions.contains("rollback");
    }

    public boolean mayLicense() {
      return permissions.contains("license");
    }

    public boolean maySso() {
      return permissions.contains("sso");
    }
  }

  interface PageHandler {
    Web.Response handle(Viewer v, Map<String, String> params) throws Exception;
  }

  /**
   * Runs a page for a logged-in browser: no or an ended session goes to the login page; a post must carry the
   * session's form token and come from this origin; {@code permission} (null: any session) is checked last.
   */
  Web.Response page(Web.Request r, String permission, PageHandler h) throws Exception {
    String credential = cookie(r, COOKIE);
    Sessions.Session s;
    try {
      s = server.sessions().find(credential);
    } catch (AirlockException e) {
      if (r.exchange.getRequestMethod().equals("GET")) {
        String why = credential == null ? "" : "?expired=1";
        return withCookie(Web.Response.redirect("/console/login" + why), clearCookie(COOKIE));
      }
      throw e;
    }
    String csrf = csrf(credential);
    String method = r.exchange.getRequestMethod();
    // A bundle's chunks (PUT) are raw bytes: their token travels in a header, as the page's script sends it.
    Map<String, String> params = method.equals("POST") ? r.form() : r.query;
    if (!method.equals("GET")) {
      String origin = r.header("Origin");
      if (origin != null && !origin.equals(server.base())) {
        throw forbidden("this form was posted from " + origin + ", not from the console", "use the console's own "
            + "pages", "csrf");
      }
      String sent = r.header(CSRF_HEADER) != null ? r.header(CSRF_HEADER) : params.get("csrf");
      if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.US_ASCII),
          csrf.getBytes(StandardCharsets.US_ASCII))) {
        throw forbidden("the form's token does not match this session (a forged or stale form)", "reload the page "
            + "and submit it again", "csrf");
      }
    }
    Set<String> permissions = server.platformPermissions(s);
    if (permission != null && !permissions.contains(permission)) {
      throw forbidden(s.username() + " lacks the platform permission '" + permission + "'", "an admin's role needs "
          + "platform: [" + permission + "] (docs/rbac.md)", "permission");
    }
    return h.handle(new Viewer(s, permissions, csrf), params);
  }

  private static AirlockException forbidden(String what, String fix, String check) {
    return new AirlockException(Kind.DENIED, what, fix).with("status", "403").with(AirlockException.CHECK, check);
  }

  /** The form token: a hash of the session credential, which only this browser's HttpOnly cookie holds. */
  static String csrf(String credential) {
    return Sessions.sha256("console-csrf:" + credential).substring(0, 43);
  }

  private Web.Response loginPage(Web.Request r) throws IOException {
    String connector = r.query.get("connector");
    if (connector != null) {
      server.limitFailures(r);
      return startLogin(server.beginLogin(connector, true, false, r.remote()));
    }
    Map<String, Object> data = new LinkedHashMap<>();
    List<Map<String, String>> connectors = new ArrayList<>();
    for (SsoConfig.Connector c : server.sso().connectors()) {
      connectors.add(Map.of("name", c.name(), "displayName", c.displayName() == null || c.displayName().isBlank()
          ? c.name() : c.displayName(), "type", c instanceof SsoConfig.Oidc ? "OIDC" : "SAML", "href",
          "/console/login?connector=" + URLEncoder.encode(c.name(), StandardCharsets.UTF_8)));
    }
    data.put("connectors", connectors);
    data.put("expired", r.query.containsKey("expired"));
    data.put("error", flash(r.query, "error"));
    return html(200, "login", data);
  }

  /**
   * Sends the browser to the IdP. The browser that started the login must be the one that finishes it (no login
   * CSRF): it keeps the poll secret in a cookie for the login's 10 minutes.
   */
  Web.Response startLogin(AirlockServer.Begun b) {
    return withCookie(Web.Response.redirect(b.url()), cookie(LOGIN_COOKIE, b.created().poll(), Logins.LIFETIME));
  }

  static String loginCookie(Web.Request r) {
    return cookie(r, LOGIN_COOKIE);
  }

  private Web.Response finishLogin(Web.Request r) throws IOException {
    Logins.Login l = server.logins().get(r.param(0));
    if (!l.console()) {
      throw forbidden("this login was not started by the console", "start it at /console/login", "login");
    }
    String result = server.logins().collect(l, cookie(r, LOGIN_COOKIE));
    if (result == null) {
      return Web.Response.redirect("/console/login");
    }
    var done = Web.JSON.readTree(result);
    if (!"done".equals(done.path("state").asText())) {
      return Web.Response.redirect("/console/login?error=" + flash(done.path("error").asText()));
    }
    Web.Response home = Web.Response.redirect("/console");
    return withCookies(home, List.of(cookie(COOKIE, done.path("session").asText(), null), clearCookie(LOGIN_COOKIE)));
  }

  private Web.Response adminLogin(Web.Request r) throws IOException {
    String origin = r.header("Origin");
    if (origin != null && !origin.equals(server.base())) {
      throw forbidden("this form was posted from " + origin, "use the console's login page", "csrf");
    }
    Sessions.Created c = server.breakGlass(r.form().getOrDefault("password", ""), r.remote());
    return withCookie(Web.Response.redirect("/console"), cookie(COOKIE, c.credential(), null));
  }

  private Web.Response logout(Web.Request r, Viewer v) {
    server.sessions().delete(v.session());
    server.audit().record(AuditLog.Event.of(v.session().username(), "logout", "console", "success", r.remote())
        .with("session", v.session().id()));
    return withCookie(Web.Response.redirect("/console/login"), clearCookie(COOKIE));
  }

  // ---- pages

  private Web.Response dashboard(Viewer v, Map<String, String> params) {
    Map<String, Object> data = base(v, "dashboard");
    Installations.Status status = status();
    data.put("status", status);
    UserDirectory.Listing users = UserDirectory.list(server.client(), server.settings().namespace(), server.clock());
    data.put("seats", users.seats());
    List<String> warnings = new ArrayList<>();
    if (status != null) {
      if (status.license() != null && !"valid".equals(status.license().state())) {
        warnings.add("The license is " + status.license().state() + ".");
      } else if (status.license() != null && status.license().daysLeft() <= 30) {
        warnings.add("The license expires in " + status.license().daysLeft() + " days.");
      }
      if (status.last() != null && status.last().result() != null && !status.last().result().equals("succeeded")
          && !status.last().result().equals("unchanged") && !status.last().result().equals("running")) {
        warnings.add("The last operation (" + status.last().kind() + " to " + status.last().to() + ") ended: "
            + status.last().result() + (status.last().reason() == null ? "" : ", " + status.last().reason()) + ".");
      }
      status.components().stream().filter(c -> !c.ok()).forEach(c -> warnings.add("Component " + c.component()
          + " is not ready."));
      if (status.unfinished() != null) {
        warnings.add("An " + status.unfinished().kind() + " is unfinished: run it again to resume, or roll back.");
      }
    }
    data.put("warnings", warnings);
    return html(200, "dashboard", data);
  }

  Installations.Status status() {
    KubeTarget kube = KubeTarget.reading(server.client(), "airlock-server");
    try {
      Installations.Status s = Installations.status(kube, server.settings().namespace(), server.clock().instant());
      return s.installation() == null ? null : s;
    } catch (AirlockException e) {
      return null;
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      // e.g. a component in a namespace the server's Role does not cover
      throw new AirlockException(Kind.REMOTE, "cannot read the installation's state: " + e.getMessage(),
          "give the server's ServiceAccount read access to the components' namespaces (docs/server.md)", e);
    }
  }

  private Web.Response history(Viewer v, Map<String, String> params) {
    Map<String, Object> data = base(v, "history");
    // One read of the record serves the list, the open operation and the comparison.
    State state = null;
    try {
      state = new dev.airlock.deploy.StateStore(KubeTarget.reading(server.client(), "airlock-server"),
          server.settings().namespace()).load().orElse(null);
    } catch (AirlockException e) {
      // an unreadable record: an empty history
    }
    List<State.Operation> ops = new ArrayList<>();
    if (state != null) {
      ops.addAll(state.history());
      if (state.operation() != null && state.operation().running()) {
        ops.add(state.operation().summary());
      }
    }
    java.util.Collections.reverse(ops);
    data.put("operations", ops);
    String open = params.get("op");
    State.Operation chosen = ops.stream().filter(o -> o.id().equals(open)).findFirst().orElse(null);
    if (chosen != null && state.operation() != null && state.operation().id().equals(chosen.id())) {
      chosen = state.operation(); // the current or last operation, with its plan's text
    }
    data.put("open", chosen);
    data.put("steps", chosen == null ? null : new io.quarkus.qute.RawString(steps(chosen)));
    putDiff(data, params, state);
    return html(200, "history", data);
  }

  /**
   * The diff between two recorded versions (the installed one and the earlier ones kept for rollback): each
   * component's chart version, and each image whose pulled digest changed, was added or was removed.
   */
  private void putDiff(Map<String, Object> data, Map<String, String> params, State st) {
    Map<String, State.Installation> versions = new LinkedHashMap<>();
    if (st != null) {
      if (st.installation() != null) {
        versions.put(st.installation().version(), st.installation());
      }
      for (int i = st.previous().size() - 1; i >= 0; i--) {
        versions.putIfAbsent(st.previous().get(i).version(), st.previous().get(i));
      }
    }
    data.put("versions", new ArrayList<>(versions.keySet()));
    String a = params.getOrDefault("a", "");
    String b = params.getOrDefault("b", "");
    data.put("a", a);
    data.put("b", b);
    State.Installation from = versions.get(a);
    State.Installation to = versions.get(b);
    if (from == null || to == null) {
      data.put("diff", null);
      return;
    }
    List<Map<String, String>> charts = new ArrayList<>();
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    from.components().forEach(c -> names.add(c.name()));
    to.components().forEach(c -> names.add(c.name()));
    for (String n : names) {
      String x = from.component(n).map(c -> c.chart() + " " + c.chartVersion()).orElse("—");
      String y = to.component(n).map(c -> c.chart() + " " + c.chartVersion()).orElse("—");
      charts.add(Map.of("component", n, "from", x, "to", y, "changed", Boolean.toString(!x.equals(y))));
    }
    List<Map<String, String>> images = new ArrayList<>();
    java.util.Set<String> refs = new java.util.TreeSet<>();
    Map<String, String> fi = from.images() == null ? Map.of() : from.images();
    Map<String, String> ti = to.images() == null ? Map.of() : to.images();
    refs.addAll(fi.keySet());
    refs.addAll(ti.keySet());
    for (String ref : refs) {
      String x = fi.getOrDefault(ref, "—");
      String y = ti.getOrDefault(ref, "—");
      if (!x.equals(y)) {
        images.add(Map.of("image", ref, "from", digestOf(x), "to", digestOf(y)));
      }
    }
    Map<String, Object> diff = new LinkedHashMap<>();
    diff.put("charts", charts);
    diff.put("images", images);
    data.put("diff", diff);
  }

  private static String digestOf(String ref) {
    int at = ref.indexOf("@sha256:");
    return at < 0 ? ref : ref.substring(at + 1, Math.min(ref.length(), at + 20)) + "…";
  }

  private Web.Response users(Viewer v, Map<String, String> params) {
    Map<String, Object> data = base(v, "users");
    UserDirectory.Listing l = UserDirectory.list(server.client(), server.settings().namespace(), server.clock());
    data.put("users", l.users());
    data.put("seats", l.seats());
    data.put("done", flash(params, "done"));
    return html(200, "users", data);
  }

  private Web.Response revoke(Web.Request r, Viewer v) {
    String user = java.net.URLDecoder.decode(r.param(0), StandardCharsets.UTF_8);
    int n = server.revoke(v.session().admin() ? "admin" : v.session().username(), user, r.remote());
    return Web.Response.redirect("/console/users?done=" + flash("Revoked " + user + ": " + n
        + " session(s) ended."));
  }

  private Web.Response audit(Viewer v, Map<String, String> params) {
    Map<String, Object> data = base(v, "audit");
    String user = params.getOrDefault("user", "").strip();
    String action = params.getOrDefault("action", "").strip();
    String since = params.getOrDefault("since", "").strip();
    AuditLog.Snapshot snapshot = server.audit().read(since(since));
    List<Map<String, Object>> events = filter(snapshot.events(), user, action);
    data.put("total", events.size());
    List<Map<String, Object>> shown = new ArrayList<>(events.subList(Math.max(0, events.size() - AUDIT_PAGE),
        events.size()));
    java.util.Collections.reverse(shown);
    data.put("events", shown);
    data.put("user", user);
    data.put("action", action);
    data.put("since", since);
    data.put("query", "user=" + enc(user) + "&action=" + enc(action) + "&since=" + enc(since));
    data.put("verification", snapshot.verification());
    return html(200, "audit", data);
  }

  private Instant since(String since) {
    if (since.isEmpty()) {
      return null;
    }
    Duration d = dev.airlock.text.Durations.parse(since).orElseThrow(() -> new AirlockException(Kind.BAD_INPUT,
        "'" + since + "' is not a duration", "write it like 30m, 24h or 7d"));
    return server.clock().instant().minus(d);
  }

  private static List<Map<String, Object>> filter(List<Map<String, Object>> all, String user, String action) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map<String, Object> e : all) {
      if ((user.isEmpty() || user.equals(String.valueOf(e.get("actor"))) || user.equals(String.valueOf(
          e.get("target")))) && (action.isEmpty() || action.equals(String.valueOf(e.get("action"))))) {
        out.add(e);
      }
    }
    return out;
  }

  private Web.Response exportAudit(Web.Request r) throws IOException {
    List<Map<String, Object>> events = filter(server.audit().export(since(r.query.getOrDefault("since", "").strip())),
        r.query.getOrDefault("user", "").strip(), r.query.getOrDefault("action", "").strip());
    StringBuilder lines = new StringBuilder();
    for (Map<String, Object> e : events) {
      lines.append(Web.JSON.writeValueAsString(e)).append('\n');
    }
    return new Web.Response(200, "application/x-ndjson", lines.toString().getBytes(StandardCharsets.UTF_8),
        Map.of("Content-Disposition", "attachment; filename=\"airlock-audit.jsonl\""));
  }

  /**
   * A support bundle collected now with the server's own credentials (what its ServiceAccount may not read is
   * listed in the bundle's errors.json), written to a temporary file and sent as a download, then deleted. Audited.
   */
  private Web.Response supportBundle(Web.Request r, Viewer v) throws IOException {
    java.time.Duration since = dev.airlock.text.Durations.parseFlag(r.query.getOrDefault("since", "24h").strip())
        .orElseThrow(() -> new AirlockException(Kind.BAD_INPUT, "'" + r.query.get("since") + "' is not a duration",
            "e.g. 24h or 7d"));
    java.nio.file.Path file = java.nio.file.Files.createTempFile("airlock-support", ".tar.gz");
    try {
      KubeTarget kube = KubeTarget.reading(server.client(), actor(v));
      String ns = server.settings().namespace();
      java.time.Clock clock = server.clock();
      var result = dev.airlock.deploy.support.SupportBundle.collect(kube, new dev.airlock.deploy.support.SupportBundle
          .Options(ns, clock.instant().minus(since), dev.airlock.deploy.support.SupportBundle.DEFAULT_LOG_CAP,
          dev.airlock.deploy.support.Redactor.builtIn(), dev.airlock.installer.BuildInfo.version()),
          () -> UsageReports.forSupportBundle(kube, ns, clock), file, e -> { }, clock);
      server.audit().record(AuditLog.Event.of(actor(v), "support-bundle", ns, "collected", "console "
          + r.remote()).with("files", result.files()).with("errors", result.errors().size()));
      String name = "airlock-support-" + dev.airlock.text.Times.format(clock.instant()).replace(' ', 'T')
          .replace(":", "") + ".tar.gz";
      return new Web.Response(200, "application/gzip", new byte[0], Map.of("Content-Disposition",
          "attachment; filename=\"" + name + "\""), out -> {
            try {
              java.nio.file.Files.copy(file, out);
            } finally {
              java.nio.file.Files.deleteIfExists(file);
            }
          });
    } catch (RuntimeException e) {
      java.nio.file.Files.deleteIfExists(file);
      throw e;
    }
  }

  private Web.Response license(Viewer v, Map<String, String> params) {
    return licensePage(v, 200, flash(params, "done"), null);
  }

  private Web.Response licensePage(Viewer v, int status, String done, String error) {
    Map<String, Object> data = base(v, "license");
    // Only the license and the seats: the installation's releases and workloads are the dashboard's.
    var license = UserDirectory.license(server.client(), server.settings().namespace());
    data.put("license", license);
    Map<String, Object> summary = null;
    if (license != null) {
      var terms = new dev.airlock.license.Entitlements(license);
      Instant now = server.clock().instant();
      summary = Map.of("state", terms.state(now).name().toLowerCase(Locale.ROOT), "daysLeft", terms.daysLeft(now));
    }
    data.put("summary", summary);
    data.put("seats", UserDirectory.list(server.client(), server.settings().namespace(), server.clock()).seats());
    data.put("done", done);
    data.put("error", error);
    return html(status, "license", data);
  }

  /**
   * A new license from the vendor, with the checks the CLI makes: signed by a trusted root, not expired, for the
   * installed product, and (replacing one) for the same customer with a higher sequence. Then stored and audited.
   */
  private Web.Response uploadLicense(Web.Request r, Viewer v) throws IOException {
    try {
      Web.Part part = r.parts().get("license");
      if (part == null || part.bytes().length == 0) {
        throw new AirlockException(Kind.BAD_INPUT, "no license file was chosen", "choose the .license file the "
            + "vendor sent");
      }
      String source = "uploaded " + (part.filename() == null ? "license" : part.filename());
      dev.airlock.license.LicenseFile file = dev.airlock.license.LicenseFile.parse(part.bytes(), source);
      Instant now = server.clock().instant();
      var verified = new dev.airlock.license.LicenseVerifier(server.trustedRoots()).verify(file, now);
      var candidate = verified.license();
      var state = new dev.airlock.license.Entitlements(candidate).state(now);
      if (state == dev.airlock.license.LicenseState.EXPIRED) {
        throw new AirlockException(Kind.LICENSE, "license " + candidate.id() + " has expired", "ask the vendor for "
            + "a current license");
      }
      Installations.Status status = status();
      if (status != null && !status.installation().product().equals(candidate.product())) {
        throw new AirlockException(Kind.LICENSE, "license " + candidate.id() + " is for product '"
            + candidate.product() + "', but " + status.installation().product() + " is installed",
            "upload the license for " + status.installation().product());
      }
      var stored = UserDirectory.license(server.client(), server.settings().namespace());
      if (candidate.equals(stored)) {
        return Web.Response.redirect("/console/license?done=" + flash("License " + candidate.id() + " ("
            + candidate.customer() + ") is the stored one already: nothing changed."));
      }
      if (stored != null && !stored.id().equals(candidate.id())) {
        var replace = dev.airlock.license.LicenseUpdates.check(stored, candidate, state);
        if (!replace.allowed()) {
          throw new AirlockException(Kind.LICENSE, replace.message(), "upload the current license from the vendor");
        }
      }
      dev.airlock.kube.Secrets.apply(KubeTarget.reading(server.client(), actor(v)), dev.airlock.kube.Secrets.opaque(
          server.settings().namespace(), dev.airlock.deploy.Deployer.LICENSE_SECRET, Map.of("license.yaml",
              file.toYaml())), "store the license");
      server.audit().record(AuditLog.Event.of(actor(v), "license", candidate.id(), "stored", "console "
          + r.remote()).with("customer", candidate.customer()));
      return Web.Response.redirect("/console/license?done=" + flash("Stored license " + candidate.id() + " ("
          + candidate.customer() + ")."));
    } catch (AirlockException e) {
      return licensePage(v, 422, "", e.getMessage() + e.fix().map(f -> " — " + f).orElse(""));
    }
  }

  /** The stored roles and mappings, the explain tool, and (with the 'roles' permission) the roles file to edit. */
  private Web.Response roles(Viewer v, Map<String, String> params) {
    Map<String, Object> data = base(v, "roles");
    data.put("text", server.rbac().source().orElse(""));
    data.put("result", null);
    putRoles(data, params);
    return html(200, "roles", data);
  }

  private void putRoles(Map<String, Object> data, Map<String, String> params) {
    dev.airlock.rbac.RoleSet set;
    data.put("noRoles", null);
    try {
      set = server.roleSet();
    } catch (AirlockException e) {
      // No roles stored yet (a fresh installation): an empty list, and the editor to store the first ones.
      set = new dev.airlock.rbac.RoleSet(List.of(), List.of(), dev.airlock.rbac.RoleSet.DEFAULT_PERSONAL_NAMESPACE);
      data.put("noRoles", e.getMessage());
    }
    List<Map<String, Object>> roles = new ArrayList<>();
    for (dev.airlock.rbac.PlatformRole r : set.roles()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("platform", String.join(", ", dev.airlock.rbac.PlatformRole.PERMISSIONS.stream()
          .filter(r.platform()::contains).toList()));
      m.put("allow", r.allow().size());
      m.put("deny", r.deny().size());
      roles.add(m);
    }
    data.put("roles", roles);
    List<String> mappings = new ArrayList<>();
    for (dev.airlock.sso.RoleMapping m : set.mappings()) {
      String who = m.group() != null ? "group " + m.group() : m.user() != null ? "user " + m.user()
          : m.claim() + " = " + m.value();
      mappings.add(who + " → " + String.join(", ", m.roles()));
    }
    data.put("mappings", mappings);
    // The explain tool: one request decided with the stored roles and said why.
    Map<String, String> ask = new LinkedHashMap<>();
    for (String k : List.of("user", "groups", "verb", "resource", "namespace")) {
      ask.put(k, params.getOrDefault(k, "").strip());
    }
    data.put("ask", ask);
    data.put("decision", null);
    if (!ask.get("user").isEmpty() && !ask.get("verb").isEmpty() && !ask.get("resource").isEmpty()) {
      dev.airlock.rbac.Catalog catalog = server.catalog();
      List<String> groups = ask.get("groups").isEmpty() ? List.of()
          : List.of(ask.get("groups").split("\\s*,\\s*"));
      dev.airlock.rbac.Policy p = new dev.airlock.rbac.Authorizer(set, catalog).policy(
          new dev.airlock.rbac.User(ask.get("user"), groups));
      dev.airlock.rbac.Request req = dev.airlock.rbac.Request.of(catalog, ask.get("verb"), ask.get("resource"),
          ask.get("namespace"), null);
      dev.airlock.rbac.Decision d = p.decide(req, ns -> {
        var n = server.client().namespaces().withName(ns).get();
        return n == null || n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
      });
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("allowed", d.allowed());
      out.put("request", req.describe());
      out.put("roles", d.roles().isEmpty() ? "none (no mapping matches)" : String.join(", ", d.roles()));
      out.put("reason", d.reason());
      out.put("rule", d.ruleText() == null ? "" : d.role() + " " + d.rule() + " " + d.ruleText());
      data.put("decision", out);
    }
  }

  /**
   * The roles file edited in the page: checked, then either previewed (what would change in the cluster, changing
   * nothing) or saved (stored, the cluster's RBAC reconciled, audited).
   */
  private Web.Response editRoles(Web.Request r, Viewer v, Map<String, String> params) {
    Map<String, Object> data = base(v, "roles");
    String text = params.getOrDefault("roles", "");
    data.put("text", text);
    boolean save = "save".equals(params.get("op"));
    Map<String, Object> result = new LinkedHashMap<>();
    try {
      dev.airlock.rbac.RoleSet set = dev.airlock.rbac.RoleSet.parse("roles (console)", text);
      dev.airlock.rbac.Catalog catalog = server.catalog();
      List<String> warnings = set.check(catalog);
      List<String> changes = new ArrayList<>();
      dev.airlock.rbac.RbacStore store = server.rbac();
      if (save) {
        store.ensureCrds();
      }
      store.write(set, save).forEach(c -> changes.add(c.describe()));
      dev.airlock.rbac.Reconciler.Result plan = store.reconcile(new dev.airlock.rbac.Authorizer(set, catalog), save);
      plan.changes().forEach(c -> changes.add(c.describe()));
      if (save) {
        store.storeSource(text, "console");
        server.rolesChanged();
        server.audit().record(AuditLog.Event.of(v.session().admin() ? "admin" : v.session().username(), "roles",
            "console", "stored", r.remote()).with("changes", changes.size()));
      }
      result.put("ok", true);
      result.put("saved", save);
      result.put("changes", changes);
      result.put("warnings", warnings);
    } catch (AirlockException e) {
      result.put("ok", false);
      result.put("error", e.getMessage() + e.fix().map(f -> " — " + f).orElse(""));
    }
    data.put("result", result);
    putRoles(data, Map.of());
    return html(save && Boolean.TRUE.equals(result.get("ok")) ? 200 : Boolean.TRUE.equals(result.get("ok")) ? 200
        : 422, "roles", data);
  }

  // ---- rendering

  Map<String, Object> base(Viewer v, String page) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("viewer", v);
    data.put("page", page);
    data.put("namespace", server.settings().namespace());
    return data;
  }

  Web.Response html(int status, String name, Map<String, Object> data) {
    String body = fragment(name, data);
    return new Web.Response(status, "text/html; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** A template rendered to text: a whole page, or a part the live pages send. */
  String fragment(String name, Map<String, Object> data) {
    Template t = templates.computeIfAbsent(name, n -> engine.getTemplate(n));
    if (t == null) {
      throw new IllegalStateException("console template " + name + " is missing");
    }
    return t.data(data).render();
  }

  private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter
      .ofPattern("HH:mm:ss").withZone(java.time.ZoneOffset.UTC);

  /** An operation's steps as the live pages and the history show them (times in UTC, durations). */
  String steps(State.Operation op) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("op", op);
    List<Map<String, String>> rows = new java.util.ArrayList<>();
    if (op != null) {
      for (State.Phase p : op.phases()) {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("name", p.name());
        row.put("status", p.status());
        row.put("started", p.started() == null ? "" : CLOCK.format(p.started()));
        row.put("took", p.started() == null || p.finished() == null ? "" : String.format(java.util.Locale.ROOT,
            "%.1f s", java.time.Duration.between(p.started(), p.finished()).toMillis() / 1000.0));
        row.put("detail", p.detail() != null ? p.detail() : p.does() == null ? "" : p.does());
        rows.add(row);
      }
    }
    data.put("rows", rows);
    return fragment("steps", data);
  }

  /** Who a console action is recorded as. */
  static String actor(Viewer v) {
    return v.session().admin() ? "admin" : v.session().username();
  }

  private static TemplateLocator locator() {
    return id -> {
      String path = TEMPLATES + (id.endsWith(".html") ? id : id + ".html");
      InputStream in = ConsolePages.class.getClassLoader().getResourceAsStream(path);
      if (in == null) {
        return Optional.empty();
      }
      String text;
      try (in) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return Optional.of(new TemplateLocator.TemplateLocation() {
        @Override
        public Reader read() {
          return new StringReader(text);
        }

        @Override
        public Optional<Variant> getVariant() {
          return Optional.of(new Variant(Locale.ROOT, StandardCharsets.UTF_8, Variant.TEXT_HTML));
        }
      });
    };
  }

  private static Web.Response asset(String resource, String type) throws IOException {
    try (InputStream in = ConsolePages.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new AirlockException(Kind.BAD_INPUT, "no such asset", null).with("status", "404");
      }
      return new Web.Response(200, type + "; charset=utf-8", in.readAllBytes(), Map.of("Cache-Control",
          "public, max-age=86400"));
    }
  }

  /**
   * A message for the page a redirect leads to, sealed with the server's key for the URL: pages show only messages
   * the server wrote, never text a link carries (content spoofing).
   */
  String flash(String message) {
    return server.sealFlash(message);
  }

  /** The message sealed in parameter {@code name}; empty when there is none, or it is not the server's. */
  String flash(Map<String, String> params, String name) {
    String sealed = params.get(name);
    return sealed == null || sealed.isEmpty() ? "" : server.openFlash(sealed);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  // ---- cookies

  private static String cookie(Web.Request r, String name) {
    String header = r.header("Cookie");
    if (header == null) {
      return null;
    }
    for (String part : header.split(";")) {
      String p = part.strip();
      if (p.startsWith(name + "=")) {
        return p.substring(name.length() + 1);
      }
    }
    return null;
  }

  private String cookie(String name, String value, Duration maxAge) {
    return name + "=" + value + "; Path=/; HttpOnly; SameSite=Lax" + (server.tls() ? "; Secure" : "")
        + (maxAge == null ? "" : "; Max-Age=" + maxAge.toSeconds());
  }

  private String clearCookie(String name) {
    return name + "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (server.tls() ? "; Secure" : "");
  }

  private static Web.Response withCookie(Web.Response r, String cookie) {
    return withCookies(r, List.of(cookie));
  }

  private static Web.Response withCookies(Web.Response r, List<String> cookies) {
    Map<String, String> h = new LinkedHashMap<>(r.headers());
    h.put("Set-Cookie", String.join("\n", cookies));
    return new Web.Response(r.status(), r.contentType(), r.body(), h);
  }
}
