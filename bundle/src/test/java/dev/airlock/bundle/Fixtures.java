package dev.airlock.bundle;

import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages.Layer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The example platform's images seeded into a registry under {@code hub/}, and a vendor key chain. */
public final class Fixtures {

  static final Path REPO = Path.of(System.getProperty("airlock.repo.root", "..")).toAbsolutePath().normalize();
  public static final Path EXAMPLE = REPO.resolve("examples/platform/bundle.yaml");

  static final Layer BASE = ExampleImages.BASE;

  private Fixtures() {}

  public static void seedExample(RegistryServer registry, Path work) {
    ExampleImages.seed(registry, work);
  }

  /** A root key and a signing key certified by it, as files, loaded. */
  public record Keys(Path dir, Ed25519.PublicKey root, SigningKey signing, TrustedRoots trust) {}

  public static Keys keys(Path dir) {
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "test vendor", Duration.ofDays(365),
        Instant.now().minus(Duration.ofMinutes(1)));
    Ed25519.PublicKey root = Ed25519.readPublicKey(dir.resolve("root.pub"));
    return new Keys(dir, root, SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert")),
        TrustedRoots.of(List.of(root)));
  }
}
