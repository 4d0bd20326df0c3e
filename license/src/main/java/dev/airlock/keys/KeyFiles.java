package dev.airlock.keys;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.io.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Creates the vendor's key files: {@code NAME.key} (0600), {@code NAME.pub} and, for signing keys, {@code NAME.cert}. */
public final class KeyFiles {

  /** How far back a new certificate's validity starts, to tolerate clock differences between machines. */
  public static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

  private KeyFiles() {}

  /** What was written. */
  public record Written(KeyId keyId, List<Path> files) {
    public Written {
      files = List.copyOf(files);
    }
  }

  public static Written createRoot(Path prefix) {
    Ed25519.PrivateKey key = Ed25519.generate();
    Path priv = sibling(prefix, ".key");
    Path pub = sibling(prefix, ".pub");
    refuseExisting(priv, pub);
    writeAtomically(pub, key.publicKey().toPem(), false);
    writeAtomically(priv, key.toPem(), true);
    return new Written(key.id(), List.of(priv, pub));
  }

  public static Written createSigning(Path rootKeyFile, Path prefix, String subject, Duration validity, Instant now) {
    Ed25519.PrivateKey root = Ed25519.readPrivateKey(rootKeyFile);
    Ed25519.PrivateKey key = Ed25519.generate();
    // Whole seconds, and valid from a few minutes back: machines that sign and verify rarely agree to the second.
    Instant notBefore = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).minus(CLOCK_SKEW);
    SigningCertificate cert = SigningCertificate.issue(root, key.publicKey(), subject, notBefore,
        notBefore.plus(CLOCK_SKEW).plus(validity));
    Path priv = sibling(prefix, ".key");
    Path pub = sibling(prefix, ".pub");
    Path crt = sibling(prefix, ".cert");
    refuseExisting(priv, pub, crt);
    List<Path> files = new ArrayList<>();
    writeAtomically(pub, key.publicKey().toPem(), false);
    files.add(pub);
    writeAtomically(crt, cert.toJson(), false);
    files.add(crt);
    writeAtomically(priv, key.toPem(), true);
    files.add(0, priv);
    return new Written(key.id(), files);
  }

  private static Path sibling(Path prefix, String suffix) {
    return prefix.resolveSibling(prefix.getFileName().toString() + suffix);
  }

  private static void refuseExisting(Path... files) {
    for (Path f : files) {
      if (Files.exists(f)) {
        throw new AirlockException(Kind.BAD_INPUT, f + " already exists; airlock never overwrites a key",
            "choose another --out prefix or move the old files away");
      }
    }
  }

  private static void writeAtomically(Path target, String content, boolean secret) {
    AtomicFiles.write(target, content, secret, false);
  }
}
