package dev.airlock.installer.bundle;

import dev.airlock.airgap.serve.BundleRegistry;
import dev.airlock.airgap.serve.BundleRegistryServer;
import dev.airlock.airgap.serve.ServeTls;
import dev.airlock.bundle.BundleVerifier;
import dev.airlock.bundle.format.BundleFile;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.ListenAddress;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import dev.airlock.io.AtomicFiles;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock bundle serve}: the bundle's images as a read-only OCI registry, straight from the file. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = {"Serve a bundle's images as a read-only OCI "
    + "registry (distribution API) straight from the file, without extracting it. Verifies the bundle first.",
    "One port answers both plain HTTP and, with --tls-cert/--tls-key or --tls-self-signed, HTTPS. Without TLS, a "
    + "client that tries HTTPS first is told at once, so it falls back to HTTP without waiting. Ctrl-C stops it."})
public class ServeCommand implements java.util.concurrent.Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the bundle file")
  Path file;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:5000",
      description = "address to listen on (default: ${DEFAULT-VALUE}; port 0 picks a free one)")
  String listen;

  @Option(names = "--skip-verify", description = "serve without verifying checksums first (the signature is "
      + "still checked; clients check blob digests themselves)")
  boolean skipVerify;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "serve HTTPS with this PEM certificate (chain), "
      + "with --tls-key")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "the PEM private key of --tls-cert")
  Path tlsKey;

  @Option(names = "--tls-self-signed", description = "serve HTTPS with a certificate made now for the --listen "
      + "host, localhost and 127.0.0.1 (its fingerprint is printed; clients must skip verification or trust it)")
  boolean selfSigned;

  @Option(names = "--tls-cert-out", paramLabel = "FILE", description = "with --tls-self-signed: also write the "
      + "certificate there, for clients to trust (e.g. skopeo --cert-dir)")
  Path certOut;

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  /** What {@code serve} reports once listening. */
  record Serving(String file, String url, int port, boolean tls, String fingerprint) {}

  @Override
  public Integer call() throws Exception {
    Console console = new Console(output);
    InetSocketAddress address = ListenAddress.parse(listen, "127.0.0.1:5000");
    ServeTls.Material tls = tls(address);
    BundleFile bundle = BundleFile.open(file);
    BundleVerifier verifier = new BundleVerifier(trust.roots(), Clock.systemUTC(), console);
    verifier.verify(bundle, !skipVerify);
    try (BundleRegistryServer server = BundleRegistryServer.start(new BundleRegistry(bundle), address,
        tls == null ? null : tls.context())) {
      String url = (tls == null ? "http://" : "https://") + address.getHostString() + ":" + server.port();
      console.result("serving " + file + " at " + url + " (read-only" + (tls == null ? ""
          : "; also plain HTTP on the same port; certificate SHA-256 " + tls.sha256Fingerprint()) + "; Ctrl-C to "
          + "stop)", new Serving(file.toString(), url, server.port(), tls != null,
          tls == null ? null : tls.sha256Fingerprint()));
      // Runs until Ctrl-C or SIGTERM interrupts this thread.
      Thread.currentThread().join();
    } finally {
      bundle.close();
    }
    return 0;
  }

  private ServeTls.Material tls(InetSocketAddress address) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-cert and --tls-key go together",
          "pass both, or --tls-self-signed, or neither for plain HTTP");
    }
    if (tlsCert != null && selfSigned) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-self-signed and --tls-cert exclude each other",
          "pass one of them");
    }
    if (certOut != null && !selfSigned) {
      throw new AirlockException(Kind.BAD_INPUT, "--tls-cert-out needs --tls-self-signed", "add --tls-self-signed");
    }
    if (tlsCert != null) {
      return ServeTls.fromPem(tlsCert, tlsKey);
    }
    if (!selfSigned) {
      return null;
    }
    List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
    String host = address.getHostString();
    if (!names.contains(host) && !host.equals("0.0.0.0")) {
      names.add(0, host);
    }
    ServeTls.Material m = ServeTls.selfSigned(names);
    if (certOut != null) {
      AtomicFiles.write(certOut, m.certificatePem(), false, true);
    }
    return m;
  }
}
