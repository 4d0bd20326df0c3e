package dev.airlock.deploy;

import dev.airlock.airgap.push.RegistryTarget;
import dev.airlock.bundle.Bundler;
import dev.airlock.bundle.spec.Mirror;
import dev.airlock.bundle.spec.SpecParser;
import dev.airlock.keys.KeyFiles;
import dev.airlock.keys.SigningKey;
import dev.airlock.keys.TrustedRoots;
import dev.airlock.license.LicenseIssuer;
import dev.airlock.oci.CredentialStore;
import dev.airlock.oci.Credentials;
import dev.airlock.oci.RegistryOptions;
import dev.airlock.testing.ExampleImages;
import dev.airlock.testing.RegistryServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What install scenarios share: vendor keys, a license, a mirror with the example images, bundles built from
 * {@code examples/platform}, and the company registry (htpasswd over TLS) on loopback.
 */
final class Fixture implements AutoCloseable {

  static final Path REPO = Path.of(System.getProperty("airlock.repo.root", "..")).toAbsolutePath().normalize();
  static final Path EXAMPLE = REPO.resolve("examples/platform");
  static final String PASSWORD = "corp-pass";

  final Path dir;
  final RegistryServer mirror;
  final RegistryServer company;
  final TrustedRoots roots;
  final SigningKey signing;
  final Path license;

  Fixture(Path dir) throws Exception {
    this.dir = dir;
    KeyFiles.createRoot(dir.resolve("root"));
    KeyFiles.createSigning(dir.resolve("root.key"), dir.resolve("signing"), "t", Duration.ofDays(2), Instant.now());
    signing = SigningKey.load(dir.resolve("signing.key"), dir.resolve("signing.cert"));
    roots = TrustedRoots.of(List.of(dev.airlock.keys.Ed25519.readPublicKey(dir.resolve("root.pub"))));
    license = dir.resolve("license.yaml");
    Files.writeString(license, LicenseIssuer.issue(new LicenseIssuer.Terms("Acme Corp", "platform",
        LocalDate.now().plusDays(365), 30, LocalDate.now().plusDays(365), 100, 1, List.of(), "stable", 1), signing,
        Instant.now()).toYaml());
    mirror = RegistryServer.startPlain();
    ExampleImages.seed(mirror, dir.resolve("images"));
    ExampleImages.seedNext(mirror, dir.resolve("images-next"));
    company = RegistryServer.startSecure("admin", PASSWORD);
  }

  /** A license for {@code customer} whose updates end on {@code updatesUntil}. */
  Path license(String customer, LocalDate updatesUntil, long sequence, String name) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, LicenseIssuer.issue(new LicenseIssuer.Terms(customer, "platform",
        LocalDate.now().plusDays(365), 30, updatesUntil, 100, 1, List.of(), "stable", sequence), signing,
        Instant.now()).toYaml());
    return file;
  }

  /** Builds a bundle from a spec (default: the example platform). */
  Path bundle(Path spec, String name) {
    return bundle(spec, name, null);
  }

  /** Builds a bundle, a delta of {@code base} when given. */
  Path bundle(Path spec, String name, Path base) {
    Bundler b = Bundler.from(SpecParser.parse(spec).withMirrors(List.of(Mirror.parse("docker.io=" + mirror.host()
            + "/hub"))))
        .registries(RegistryOptions.defaults().withInsecureHosts(Set.of(mirror.host())))
        .signWith(signing);
    if (base != null) {
      b = b.deltaFrom(dev.airlock.bundle.DeltaBase.read(base));
    }
    return b.build(dir.resolve(name)).output();
  }

  RegistryTarget target() {
    return RegistryTarget.parse(company.host() + "/platform");
  }

  RegistryOptions registryOptions(String password) {
    return RegistryOptions.defaults().withCaFiles(List.of(company.caFile()))
        .withCredentials(CredentialStore.of(Map.of(company.host(), new Credentials(company.username(), password))));
  }

  @Override
  public void close() {
    company.close();
    mirror.close();
  }
}
