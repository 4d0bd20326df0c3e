package dev.airlock.installer.server;

import dev.airlock.airgap.serve.ServeTls;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.ListenAddress;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import dev.airlock.installer.cluster.ClusterOptions;
import dev.airlock.io.AtomicFiles;
import dev.airlock.kube.AuditLog;
import dev.airlock.kube.KubeTarget;
import dev.airlock.kube.Secrets;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseVerifier;
import dev.airlock.rbac.RbacStore;
import dev.airlock.rbac.RoleSet;
import dev.airlock.sso.SecretSources;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock server}: the in-cluster service, or the same thing run locally against a cluster. */
@Command(name = "server", mixinStandardHelpOptions = true, description = {"Run the airlock server: developers log in "
    + "through SSO and get their personal namespace, a kubeconfig with short-lived tokens, and registry access by "
    + "their roles; admins list and revoke users; everything is audited. State lives in the cluster (namespace "
    + "--namespace), so replicas and restarts share it.",
    "--sso-config, --roles and --license seed the configuration kept in the cluster. Plain HTTP only on a loopback "
    + "address; otherwise --tls-cert/--tls-key, or a self-signed certificate kept in the Secret airlock-server-tls. "
    + "Ctrl-C stops it."})
public class ServerCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:8443",
      description = "where to listen (default: ${DEFAULT-VALUE}; port 0 picks a free one)")
  String listen;

  @Option(names = "--public-url", paramLabel = "URL", description = "the address browsers and the CLI reach the "
      + "server at, for IdP redirects and kubeconfigs (default: from --listen)")
  URI publicUrl;

  @Option(names = "--sso-config", paramLabel = "FILE", description = "store this SSO config in the cluster "
      + "(docs/sso.md)")
  Path ssoConfig;

  @Option(names = "--roles", paramLabel = "FILE", description = "store these roles and mappings in the cluster "
      + "(docs/rbac.md)")
  Path roles;

  @Option(names = "--license", paramLabel = "FILE", description = "store this license in the cluster (checked "
      + "against --trust-root first); its seats are enforced at login")
  Path license;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "serve HTTPS with this PEM certificate, with "
      + "--tls-key")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "the PEM private key of --tls-cert")
  Path tlsKey;

  @Option(names = "--kube-api-url", paramLabel = "URL", description = "the Kubernetes API address written into "
      + "developers' kubeconfigs (default: the one this server uses)")
  String kubeApiUrl;

  @Option(names = "--registry-service", paramLabel = "NAME", defaultValue = "airlock-registry",
      description = "the registry's auth.token.service this server issues tokens for (default: ${DEFAULT-VALUE})")
  String registryService;

  @Option(names = "--registry-cert-out", paramLabel = "FILE", description = "write the certificate registry tokens "
      + "are signed with (the registry's auth.token.rootcertbundle)")
  Path registryCertOut;

  @Option(names = "--token-lifetime", paramLabel = "MINUTES", defaultValue = "60",
      description = "lifetime of Kubernetes tokens when no role sets maxCredentialLifetime (default: ${DEFAULT-VALUE}; "
          + "at least 10)")
  int tokenMinutes;

  @Option(names = "--audit-retention", paramLabel = "DAYS", defaultValue = "365",
      description = "delete audit segments whose newest event is older than this (default: ${DEFAULT-VALUE}; the "
          + "newest segment always stays)")
  int auditRetentionDays;

  @Option(names = "--console-upgrades", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "let admins with the upgrade and rollback permissions upgrade (by uploading a bundle) and roll "
          + "back from the console, with this server's Kubernetes credentials (default: on; the in-cluster chart "
          + "turns it off unless its value upgrades is true)")
  boolean consoleUpgrades = true;

  @Option(names = "--upload-dir", paramLabel = "DIR", description = "where bundles uploaded in the console are "
      + "kept until installed (default: airlock-uploads in the temp directory)")
  Path uploadDir;

  @Option(names = "--idp-recheck", paramLabel = "DURATION", defaultValue = "5m",
      converter = dev.airlock.installer.cli.DurationConverter.class,
      description = "ask the IdP again for a session's groups at a token refresh at most this often (OIDC "
          + "refresh token grant; a group removed there takes its roles away within this time; default: "
          + "${DEFAULT-VALUE})")
  java.time.Duration idpRecheck;

  @Option(names = "--secrets-dir", paramLabel = "DIR", description = "the only directory the SSO configuration's "
      + "files ({file: ...} secrets, idpMetadata, spCertificate, caFile) may be read from; relative names are in it "
      + "(default: " + CHART_SECRETS + " when it exists, as the chart mounts the Secret of its value ssoSecret there; "
      + "else the directory of --sso-config; else none, and {file: ...} is refused)")
  Path secretsDir;

  @Option(names = "--secret-env", paramLabel = "NAME", split = ",", description = "environment variables the SSO "
      + "configuration's {env: ...} secrets may name; a * matches any run of characters (default: "
      + "AIRLOCK_OIDC_SECRET, AIRLOCK_SSO_*, *_CLIENT_SECRET)")
  List<String> secretEnv;

  /** Where the chart mounts the Secret its value {@code ssoSecret} names. */
  static final String CHART_SECRETS = "/etc/airlock/sso";

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  record Serving(String url, String namespace, int port, boolean tls, String adminPassword) {}

  @Override
  public Integer call() throws Exception {
    Console console = new Console(output);
    InetSocketAddress address = ListenAddress.parse(listen, "127.0.0.1:8443");
    if (tokenMinutes < 10) {
      throw new AirlockException(Kind.BAD_INPUT, "--token-lifetime must be at least 10 minutes (the Kubernetes "
          + "TokenRequest minimum)", "e.g. --token-lifetime 60");
    }
    if (auditRetentionDays < 1) {
      throw new AirlockException(Kind.BAD_INPUT, "--audit-retention must be at least 1 day",
          "e.g. --audit-retention 365");
    }
    try (KubeTarget target = cluster.connect()) {
      var client = target.client();
      String ns = cluster.namespace;
      if (client.namespaces().withName(ns).get() == null) {
        client.resource(new NamespaceBuilder().withNewMetadata().withName(ns).addToLabels(KubeTarget.LABEL_MANAGED_BY,
            KubeTarget.MANAGER).endMetadata().build()).create();
      }
      AuditLog audit = new AuditLog(client, ns, Clock.systemUTC(), null);
      if (ssoConfig != null) {
        AirlockServer.storeSsoConfig(client, ns, Files.readString(ssoConfig), ssoConfig.toString());
        audit.record(AuditLog.Event.of(target.user(), "sso-config", ssoConfig.toString(), "stored", "cli"));
      }
      if (roles != null) {
        RoleSet set = RoleSet.read(roles);
        RbacStore store = new RbacStore(client, ns);
        store.ensureCrds();
        try {
          if (!store.write(set, true).isEmpty()) {
            audit.record(AuditLog.Event.of(target.user(), "roles", roles.toString(), "stored", "cli"));
          }
          store.storeSource(Files.readString(roles), roles.toString());
        } catch (AirlockException e) {
          // The roles stored before still hold: serve with them rather than not at all.
          console.warn("the roles in " + roles + " were not stored: " + e.getMessage() + ". The server runs with "
              + "the roles stored in the cluster before; fix the file and store it with 'airlock rbac apply -f "
              + roles + "'");
        }
      }
      if (license != null) {
        LicenseFile file = LicenseFile.read(license);
        new LicenseVerifier(trust.roots()).verify(file, Clock.systemUTC().instant());
        Secrets.apply(target, Secrets.opaque(ns, dev.airlock.deploy.Deployer.LICENSE_SECRET, Map.of("license.yaml",
            Files.readString(license))), "store the license");
        audit.record(AuditLog.Event.of(target.user(), "license", file.license().id(), "stored", "cli"));
      }
      SSLContext tls = tls(target, address);
      boolean loopback = address.getAddress() != null && address.getAddress().isLoopbackAddress();
      if (tls == null && !loopback) {
        throw new AirlockException(Kind.BAD_INPUT, "plain HTTP is allowed only on a loopback address, not "
            + listen, "listen on 127.0.0.1, or give --tls-cert and --tls-key");
      }
      // Inside the cluster the password would land in the pod's log: there, `airlock install` makes it.
      String password = target.insideCluster() ? null : AdminPassword.ensure(client, ns);
      if (target.insideCluster() && client.secrets().inNamespace(ns).withName(AirlockServer.ADMIN_SECRET).get()
          == null) {
        console.warn("there is no break-glass admin in " + ns + ": run 'airlock install' again (it makes one and "
            + "shows its password once)");
      }
      var config = client.getConfiguration();
      String caData = config.getCaCertData() != null ? config.getCaCertData()
          : config.getCaCertFile() != null ? java.util.Base64.getEncoder().encodeToString(Files.readAllBytes(
              Path.of(config.getCaCertFile()))) : null;
      AirlockServer.Settings settings = new AirlockServer.Settings(ns, address, tls, null,
          kubeApiUrl != null ? kubeApiUrl : config.getMasterUrl().replaceAll("/+$", ""), caData, registryService,
          Duration.ofMinutes(tokenMinutes), Duration.ofDays(auditRetentionDays), secretSources());
      AirlockServer server = null;
      try {
        server = AirlockServer.start(client, settings, Clock.systemUTC(), System.out);
        URI url = publicUrl != null ? publicUrl : URI.create((tls == null ? "http://" : "https://")
            + (address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString()) + ":"
            + server.port());
        server.publicUrl(url);
        server.idpRecheck(idpRecheck);
        server.trustedRoots(trust.roots());
        if (consoleUpgrades) {
          server.consoleOperations(target, trust.roots(), uploadDir != null ? uploadDir
              : Path.of(System.getProperty("java.io.tmpdir"), "airlock-uploads"));
        }
        if (server.sso().connectors().isEmpty()) {
          console.warn("no SSO connector is configured in " + ns + " yet: only the break-glass admin can log in "
              + "until one is stored (airlock server --sso-config sso.yaml, docs/sso.md)");
        }
        if (registryCertOut != null) {
          // A public certificate exported from the cluster's Secret: replacing it keeps the registry's bundle current.
          AtomicFiles.write(registryCertOut, server.registryCertificatePem(), false, true);
        }
        if (!url.getScheme().equals(tls == null ? "http" : "https")) {
          console.warn("--public-url " + url + " is " + url.getScheme() + ":// but this server serves "
              + (tls == null ? "plain HTTP" : "HTTPS") + ": browsers, the IdP and kubeconfigs get an address that only "
              + "works through a proxy that changes the scheme; set --public-url " + (tls == null ? "http" : "https")
              + "://…");
        }
        console.result(serving(address, server.port(), certificateSource(ns), url) + " (namespace " + ns
            + "; Ctrl-C stops it)"
            + (password == null ? "" : "\nbreak-glass admin password (shown once, keep it safe): " + password),
            new Serving(url.toString(), ns, server.port(), tls != null, password));
        Thread.currentThread().join();
      } finally {
        if (server != null) {
          server.close();
        }
      }
    }
    return 0;
  }

  /** The secrets directory and allowed variables: the flags, or their defaults. */
  SecretSources secretSources() {
    Path dir = secretsDir;
    if (dir == null && Files.isDirectory(Path.of(CHART_SECRETS))) {
      dir = Path.of(CHART_SECRETS);
    } else if (dir == null && ssoConfig != null) {
      dir = ssoConfig.toAbsolutePath().getParent();
    }
    if (dir != null && !Files.isDirectory(dir)) {
      throw new AirlockException(Kind.BAD_INPUT, "--secrets-dir " + dir + " is not a directory",
          "give the directory a Secret is mounted at");
    }
    return new SecretSources(dir, secretEnv == null || secretEnv.isEmpty() ? SecretSources.DEFAULT_ENV : secretEnv);
  }

  /** Where the served certificate comes from; null when plain HTTP is served. */
  private String certificateSource(String ns) {
    if (tlsCert != null) {
      return "from " + tlsCert;
    }
    return servesTls ? "self-signed, kept in Secret " + ns + "/" + ServerTls.SECRET : null;
  }

  /**
   * What is served where: the scheme, the address and port (every interface, or one), the certificate's source, and
   * the address users are given.
   */
  static String serving(InetSocketAddress listen, int port, String certificate, URI publicUrl) {
    String host = listen.getAddress() != null && listen.getAddress().isAnyLocalAddress()
        ? listen.getHostString() + ":" + port + " (every interface)" : listen.getHostString() + ":" + port;
    return "airlock server: " + (certificate == null ? "plain HTTP" : "HTTPS") + " on " + host
        + (certificate == null ? "" : ", certificate " + certificate) + "; users reach it at " + publicUrl;
  }

  private boolean servesTls;

  private SSLContext tls(KubeTarget target, InetSocketAddress address) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-cert and --tls-key go together", "pass both");
    }
    if (tlsCert != null) {
      return ServeTls.fromPem(tlsCert, tlsKey).context();
    }
    if (address.getAddress() != null && address.getAddress().isLoopbackAddress()) {
      return null;
    }
    servesTls = true;
    return ServerTls.fromSecretOrNew(target, cluster.namespace, List.of(address.getHostString())).context();
  }
}
