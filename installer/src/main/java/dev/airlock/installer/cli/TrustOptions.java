package dev.airlock.installer.cli;

import dev.airlock.bundle.format.BundleFile;
import dev.airlock.bundle.format.BundleLayout;
import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.RevocationList;
import dev.airlock.keys.TrustedRoots;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The trusted roots: those compiled into this installer plus {@code --trust-root FILE}. */
public class TrustOptions {

  @Option(names = "--trust-root", paramLabel = "FILE",
      description = "also trust this vendor root public key (root.pub); repeatable")
  public List<Path> trustRoots = new ArrayList<>();

  @Option(names = "--revocations", paramLabel = "FILE",
      description = "refuse the signing keys revoked in this root-signed list: a revoked.json, or a bundle that "
          + "ships one; repeatable")
  public List<Path> revocations = new ArrayList<>();

  public TrustedRoots roots() {
    List<Ed25519.PublicKey> keys = new ArrayList<>(compiledIn());
    for (Path p : trustRoots) {
      keys.add(Ed25519.readPublicKey(p));
    }
    TrustedRoots roots = TrustedRoots.of(keys);
    for (Path r : revocations) {
      roots = roots.withRevocations(readRevocations(r));
    }
    return roots;
  }

  private static RevocationList readRevocations(Path file) {
    if (!BundleFile.isBundle(file)) {
      return RevocationList.read(file);
    }
    try (BundleFile bundle = BundleFile.open(file)) {
      return bundle.revocations(bundle.readHead().manifest()).orElseThrow(() -> new AirlockException(
          Kind.BAD_INPUT, "bundle " + file + " ships no revocation list",
          "pass the revoked.json the vendor sent, or a bundle built with 'revocations:' in its spec"));
    }
  }

  public static List<Ed25519.PublicKey> compiledIn() {
    try (InputStream in = TrustOptions.class.getResourceAsStream("/dev/airlock/installer/trusted-roots.pem")) {
      if (in == null) {
        return List.of();
      }
      return Ed25519.parsePublicKeys(new String(in.readAllBytes(), StandardCharsets.US_ASCII),
          "the installer's trusted-roots.pem");
    } catch (IOException e) {
      throw new AirlockException(Kind.IO, "cannot read the installer's trusted roots: " + e.getMessage(), null, e);
    }
  }
}
