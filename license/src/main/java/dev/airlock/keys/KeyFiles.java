package dev.airlock.keys;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.io.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
    Map<Path, String> files = new LinkedHashMap<>();
    files.put(priv, key.toPem());
    files.put(pub, key.publicKey().toPem());
    writeAll(files, priv);
    return new Written(key.id(), List.copyOf(files.keySet()));
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
    Map<Path, String> files = new LinkedHashMap<>();
    files.put(priv, key.toPem());
    files.put(pub, key.publicKey().toPem());
    files.put(crt, cert.toJson());
    writeAll(files, priv);
    return new Written(key.id(), List.copyOf(files.keySet()));
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

  /**
   * Writes a key's files, each atomically; if one fails, removes those already written, so a re-run with the same
   * prefix is not refused by half a key set.
   */
  static void writeAll(Map<Path, String> files, Path secret) {
    List<Path> written = new ArrayList<>();
    try {
      for (Map.Entry<Path, String> f : files.entrySet()) {
        AtomicFiles.write(f.getKey(), f.getValue(), f.getKey().equals(secret), false);
        written.add(f.getKey());
      }
    } catch (AirlockException e) {
      for (Path p : written) {
        try {
          Files.deleteIfExists(p);
        } catch (java.io.IOException ignored) {
          // nothing more can be done; the error below names the problem
        }
      }
      throw e;
    }
  }
}
