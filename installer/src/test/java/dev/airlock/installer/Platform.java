package dev.airlock.installer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.testing.RegistryServer;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/** Vendor-side set-up the cluster scenarios share, done through ./airlock as a vendor would. */
final class Platform {

  private Platform() {}

  /** Root and signing keys, and {@code acme.license} for product platform, in {@code dir}. */
  static void keysAndLicense(Path dir) {
    assertThat(Cli.run(dir, "keys", "create-root", "--out", "root").exit()).isZero();
    assertThat(Cli.run(dir, "keys", "create-signing", "--root-key", "root.key", "--out", "signing").exit()).isZero();
    String until = LocalDate.now().plusYears(1).toString();
    Cli.Run lic = Cli.run(dir, "license", "issue", "--customer", "Acme Corp", "--product", "platform", "--expires",
        until, "--updates-until", until, "--seats", "50", "--key", "signing.key", "--cert", "signing.cert",
        "-o", "acme.license");
    assertThat(lic.exit()).as(lic.toString()).isZero();
  }

  /** Builds {@code out} in {@code dir} from {@code spec}, pulling docker.io images from {@code mirror}. */
  static void build(Path dir, Path spec, String out, RegistryServer mirror, String... extra) {
    List<String> args = new ArrayList<>(List.of("bundle", "build", "-f", spec.toString(), "-o", out, "--key",
        "signing.key", "--cert", "signing.cert", "--mirror", "docker.io=" + mirror.host() + "/hub",
        "--insecure-registry", mirror.host()));
    args.addAll(List.of(extra));
    Cli.Run build = Cli.run(dir, args.toArray(String[]::new));
    assertThat(build.exit()).as(build.toString()).isZero();
  }

  static Path example() {
    return Cli.REPO.resolve("examples/platform/bundle.yaml");
  }
}
