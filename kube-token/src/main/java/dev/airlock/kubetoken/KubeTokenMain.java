package dev.airlock.kubetoken;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code airlock kube-token --server URL [--ca FILE]}: the exec credential plugin of the kubeconfigs
 * {@code airlock login} writes. Prints a {@code client.authentication.k8s.io/v1} ExecCredential for the session in
 * {@code $AIRLOCK_SESSION}: from the cache while it is fresh, else from the server (one request however many
 * kubectl run at once: they wait on the cache's lock and read what the first one stored).
 *
 * <p>Its own small jar with the JDK only, started by the launcher without the CLI (no Quarkus, CDI, picocli or
 * Jackson), so a cached call costs about what a bare JVM start costs (ADR 18). Exit 0 with the credential on
 * stdout; 1 with the reason and the fix on stderr (kubectl shows them).
 */
public final class KubeTokenMain {

  static final String SESSION_ENV = "AIRLOCK_SESSION";
  static final String CACHE_ENV = "AIRLOCK_KUBE_CACHE_DIR";

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;

  /** Which process runs the plugin, if not its real parent (tests: each call a kubectl of its own); -1 for real. */
  private final long caller;

  public KubeTokenMain(Map<String, String> env, PrintStream out, PrintStream err) {
    this(env, out, err, -1);
  }

  KubeTokenMain(Map<String, String> env, PrintStream out, PrintStream err, long caller) {
    this.env = env;
    this.out = out;
    this.err = err;
    this.caller = caller;
  }

  public static void main(String[] args) {
    int code = new KubeTokenMain(System.getenv(), System.out, System.err).run(args);
    System.out.flush();
    System.exit(code);
  }

  /** A refusal or failure to report: the message and what to do. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    final String fix;

    Failure(String message, String fix) {
      super(message, null, false, false);
      this.fix = fix;
    }
  }

  /** Runs the plugin with these arguments; returns the exit code. */
  public int run(String[] args) {
    try {
      if (args.length == 2 && args[0].equals("--cds-training")) {
        return train(Path.of(args[1]));
      }
      String server = null;
      Path ca = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if ((a.equals("--server") || a.equals("--ca")) && i + 1 < args.length) {
          if (a.equals("--server")) {
            server = args[++i];
          } else {
            ca = Path.of(args[++i]);
          }
        } else if (a.startsWith("--server=")) {
          server = a.substring(9);
        } else if (a.startsWith("--ca=")) {
          ca = Path.of(a.substring(5));
        } else if (a.equals("-h") || a.equals("--help")) {
          out.println("Usage: airlock kube-token --server URL [--ca FILE]\n"
              + "Prints a short-lived Kubernetes token for the session in $AIRLOCK_SESSION as a\n"
              + "client.authentication.k8s.io/v1 ExecCredential. kubectl runs it through the kubeconfig from\n"
              + "'airlock login'. Tokens are cached in ~/.kube/cache/airlock until shortly before they expire\n"
              + "($AIRLOCK_KUBE_CACHE_DIR elsewhere); 'airlock logout' deletes the session's cache.");
          return 0;
        } else {
          throw new Failure("unknown argument '" + a + "'", "the kubeconfig from 'airlock login' runs "
              + "'airlock kube-token --server URL [--ca FILE]'; log in again to rewrite it");
        }
      }
      if (server == null) {
        throw new Failure("--server is missing", "log in again with 'airlock login --server URL' to rewrite the "
            + "kubeconfig");
      }
      String session = env.get(SESSION_ENV);
      if (session == null || session.isBlank()) {
        throw new Failure(SESSION_ENV + " is not set", "kube-token is run by kubectl through the kubeconfig "
            + "'airlock login' writes, which sets it; log in again with 'airlock login --server " + server + "'");
      }
      return credential(serverKey(server), ca, session.strip());
    } catch (Failure f) {
      err.println("airlock kube-token: " + f.getMessage());
      if (f.fix != null) {
        err.println("  fix: " + f.fix);
      }
      return 1;
    }
  }

  /** The process that runs this plugin (kubectl), or 0 when it cannot be told. */
  private long caller() {
    if (caller >= 0) {
      return caller;
    }
    // /proc/self/stat ("PID (COMM) STATE PPID …") on Linux: ProcessHandle's first use starts a thread pool.
    try {
      String stat = new String(Files.readAllBytes(Path.of("/proc/self/stat")), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 3);
      return Long.parseLong(f[1]);
    } catch (IOException | RuntimeException e) {
      java.util.Optional<ProcessHandle> parent = ProcessHandle.current().parent();
      return parent.isPresent() ? parent.get().pid() : 0;
    }
  }

  /** The server URL as the cache names it: without trailing slashes. */
  static String serverKey(String server) {
    String s = server.strip();
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  private int credential(String server, Path ca, String session) throws Failure {
    TokenCache cache = new TokenCache(TokenCache.defaultDir(env.get(CACHE_ENV)), server, session);
    long now = System.currentTimeMillis();
    long caller = caller();
    TokenCache.Entry cached = cache.read();
    if (cached != null && cached.fresh(now) && !cached.servedTo(caller)) {
      cache.served(caller);
      out.println(cached.credential);
      return 0;
    }
    // The same kubectl asking again for a token it was given: the API server refused it. Ask the server.
    String refused = cached != null && cached.fresh(now) ? cached.credential : null;
    debug("cache: " + (cached == null ? cache.why : refused != null ? "process " + caller + " had this token "
        + "already (the API server refused it)" : "the token is due for renewal"));
    boolean usable = true;
    try {
      cache.ensureDir();
    } catch (IOException | UnsupportedOperationException e) {
      usable = false;
      warnOnce("cannot keep a token cache (" + e.getMessage() + "): every kubectl call asks the server");
    }
    if (!usable) {
      TokenCache.Entry f = fetch(server, ca, session, null);
      out.println(f.credential);
      return 0;
    }
    try (FileLock lock = cache.lock()) {
      // Another kube-token may have renewed it while this one waited for the lock.
      cached = cache.read();
      now = System.currentTimeMillis();
      if (cached != null && cached.fresh(now) && !cached.servedTo(caller) && !cached.credential.equals(refused)) {
        cache.served(caller);
        out.println(cached.credential);
        return 0;
      }
      TokenCache.Entry f;
      try {
        f = fetch(server, ca, session, refused != null ? null : cached);
      } catch (Failure no) {
        if (no.fix != null && no.fix.startsWith(LOG_IN_AGAIN)) {
          cache.delete();
        }
        throw no;
      }
      if (f == cached) {
        out.println(f.credential);
        return 0;
      }
      try {
        cache.write(f.credential, f.expires, f.lifetime, caller);
      } catch (IOException e) {
        warnOnce("cannot write the token cache " + cache.file() + " (" + e.getMessage() + ")");
      }
      out.println(f.credential);
      return 0;
    } catch (IOException e) {
      warnOnce("cannot lock the token cache (" + e.getMessage() + "): asking the server");
      TokenCache.Entry f = fetch(server, ca, session, null);
      out.println(f.credential);
      return 0;
    }
  }

  private static final String LOG_IN_AGAIN = "log in again";

  /**
   * A credential from the server; {@code stale} itself (the same object) when the server cannot be reached and the
   * cached token has not expired.
   */
  private TokenCache.Entry fetch(String server, Path ca, String session, TokenCache.Entry stale) throws Failure {
    URI uri;
    try {
      uri = URI.create(server + "/api/v1/kube-token");
      if (uri.getHost() == null || !(uri.getScheme().equals("https") || uri.getScheme().equals("http"))) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw new Failure("--server '" + server + "' is not an http(s) URL", "log in again with 'airlock login "
          + "--server URL' to rewrite the kubeconfig");
    }
    HttpURLConnection c;
    int status;
    String body;
    long sent = System.currentTimeMillis();
    try {
      URL url = uri.toURL();
      c = (HttpURLConnection) url.openConnection();
      if (c instanceof HttpsURLConnection https && ca != null) {
        https.setSSLSocketFactory(tls(ca).getSocketFactory());
      }
      c.setConnectTimeout(10_000);
      c.setReadTimeout(60_000);
      c.setInstanceFollowRedirects(false);
      c.setRequestMethod("POST");
      c.setRequestProperty("Authorization", "Bearer " + session);
      c.setRequestProperty("Accept", "application/json");
      // No body, and no streaming mode: in streaming mode HttpURLConnection hides a 401's body (the reason).
      c.setDoOutput(true);
      c.getOutputStream().close();
      status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      body = in == null ? "" : read(in);
    } catch (IOException e) {
      long now = System.currentTimeMillis();
      String reason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      if (stale != null && stale.valid(now)) {
        err.println("airlock kube-token: cannot reach the airlock server at " + server + " (" + reason + "); using "
            + "the cached token, which expires at " + Instant.ofEpochMilli(stale.expires));
        return stale;
      }
      throw new Failure("cannot reach the airlock server at " + server + " (" + reason + ")" + (stale == null ? ""
          : "; the cached token expired at " + Instant.ofEpochMilli(stale.expires)), "check that the server runs "
          + "and that this machine reaches it; kubectl works again once it answers");
    }
    if (status == 401 || status == 403) {
      String error = Json.string(body, "error");
      throw new Failure("the airlock server refused the session: " + (error == null ? "HTTP " + status : error),
          LOG_IN_AGAIN + ": airlock login --server " + server);
    }
    if (status != 200) {
      String error = Json.string(body, "error");
      String fix = Json.string(body, "fix");
      long now = System.currentTimeMillis();
      if (status >= 500 && stale != null && stale.valid(now)) {
        err.println("airlock kube-token: the airlock server at " + server + " failed (HTTP " + status + "); using "
            + "the cached token, which expires at " + Instant.ofEpochMilli(stale.expires));
        return stale;
      }
      throw new Failure("the airlock server at " + server + " answered HTTP " + status + (error == null ? ""
          : ": " + error), fix != null ? fix : status == 429 ? "wait a moment and run kubectl again"
          : "see the server's log");
    }
    String expiration = Json.string(body, "expirationTimestamp");
    if (expiration == null || !body.strip().startsWith("{")) {
      throw new Failure(server + " did not answer an ExecCredential: is it an airlock server?", "check the "
          + "kubeconfig's --server, or log in again");
    }
    long received = System.currentTimeMillis();
    long expiresAt;
    try {
      expiresAt = Instant.parse(expiration).toEpochMilli();
    } catch (RuntimeException e) {
      throw new Failure(server + " answered an expirationTimestamp that is not a time: " + expiration, null);
    }
    // The lifetime by the server's clock (its Date header), counted from receipt on this one: a skewed clock here
    // neither keeps an expired token nor throws away a fresh one.
    long serverNow = serverDate(c.getHeaderField("Date"), sent);
    long lifetime = Math.max(0, expiresAt - serverNow);
    return new TokenCache.Entry(body.strip(), received + lifetime, Math.max(lifetime, 1), "\n");
  }

  private static long serverDate(String header, long fallback) {
    if (header == null) {
      return fallback;
    }
    try {
      return ZonedDateTime.parse(header, DateTimeFormatter.RFC_1123_DATE_TIME).withZoneSameInstant(ZoneOffset.UTC)
          .toInstant().toEpochMilli();
    } catch (RuntimeException e) {
      return fallback;
    }
  }

  private static String read(InputStream in) throws IOException {
    try (in) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        if (b.size() + n > 1 << 20) {
          throw new IOException("the answer is larger than 1 MiB");
        }
        b.write(buf, 0, n);
      }
      return b.toString(StandardCharsets.UTF_8);
    }
  }

  private static SSLContext tls(Path ca) throws IOException {
    try (InputStream in = Files.newInputStream(ca)) {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        ks.setCertificateEntry("ca-" + i++, cert);
      }
      if (i == 0) {
        throw new IOException(ca + " holds no PEM certificate");
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot use --ca " + ca + ": " + e.getMessage(), e);
    }
  }

  private void debug(String s) {
    if (env.get("AIRLOCK_DEBUG") != null) {
      err.println("airlock kube-token: " + s);
    }
  }

  /** Says it once per user and boot, not at every kubectl call (a marker in the temporary directory). */
  private void warnOnce(String s) {
    Path marker = Path.of(System.getProperty("java.io.tmpdir"), "airlock-kube-token-" + System.getProperty(
        "user.name") + ".warned");
    try {
      Files.createFile(marker);
    } catch (IOException e) {
      if (Files.exists(marker)) {
        return;
      }
    }
    err.println("airlock kube-token: warning: " + s);
  }

  /**
   * Exercises the cached path on a cache of its own in {@code dir}, so that a class-data-sharing archive dumped at
   * package time holds every class the cached path loads.
   */
  private int train(Path dir) throws Failure {
    try {
      String server = "https://airlock.invalid";
      String session = "as1.cds-training";
      TokenCache cache = new TokenCache(dir, server, session);
      cache.ensureDir();
      try (FileLock lock = cache.lock()) {
        cache.write("{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
            + "\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}",
            System.currentTimeMillis() + 3_600_000L, 3_600_000L, 0);
      }
      Json.string("{\"error\":\"x\\\"y\"}", "error");
      PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
      return new KubeTokenMain(Map.of(SESSION_ENV, session, CACHE_ENV, dir.toString()), sink, sink).run(
          new String[] {"--server", server});
    } catch (IOException e) {
      throw new Failure("training failed: " + e, null);
    }
  }
}
