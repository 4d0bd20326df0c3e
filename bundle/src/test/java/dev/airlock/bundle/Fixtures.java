package dev.airlock.bundle;

import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.Ed25519;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.testing.RegistryServer;
import dev.airlock.testing.TestImages;
import dev.airlock.testing.TestImages.Layer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The example platform's images seeded into a registry under {@code hub/}, and a vendor key chain. */
final class Fixtures {

  static final Path REPO = Path.of(System.getProperty("airlock.repo.root", "..")).toAbsolutePath().normalize();
  static final Path EXAMPLE = REPO.resolve("examples/platform/bundle.yaml");

  static final Layer BASE = new Layer(1, 300_000);
  static final Layer ALPINE = new Layer(2, 120_000);

  private Fixtures() {}

  /** Seeds the five images of examples/platform; BASE is shared by all of them. */
  static void seedExample(RegistryServer registry, Path work) {
    TestImages images = new TestImages(registry, work);
    images.push("hub/library/alpine:3.20", List.of(BASE, ALPINE), "linux/amd64");
    images.push("hub/library/busybox:1.36", List.of(BASE, new Layer(3, 50_000)), "linux/amd64");
    images.pushMultiArch("hub/library/registry", "2.8.3", TestImages.platforms(
        "linux/amd64", List.of(BASE, new Layer(4, 80_000)),
        "linux/arm64", List.of(new Layer(5, 90_000), new Layer(6, 70_000))));
    images.push("hub/moby/buildkit:v0.16.0", List.of(BASE, new Layer(7, 150_000)), "linux/amd64");
    images.push("hub/library/nginx:1.27-alpine", List.of(BASE, ALPINE, new Layer(8, 60_000)), "linux/amd64");
  }

  /** A root key and a signing key certified by it, as files, loaded. */
  record Keys(Path dir, Ed25519.PublicKey root, SigningKey signing, TrustedRoots trust) {}

  static Keys keys(Path dir) {
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "test vendor", Duration.ofDays(365),
        Instant.now().minus(Duration.ofMinutes(1)));
    Ed25519.PublicKey root = Ed25519.readPublicKey(dir.resolve("root.pub"));
    return new Keys(dir, root, SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert")),
        TrustedRoots.of(List.of(root)));
  }
}
