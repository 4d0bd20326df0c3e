package dev.airlock.installer.license;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import dev.airlock.license.Entitlements;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseState;
import dev.airlock.license.LicenseVerifier;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code airlock license verify}. */
@Command(name = "verify", mixinStandardHelpOptions = true, description = {"Check a license: signature and chain to a "
    + "trusted root, this machine's clock, and that it has not expired. Exit 0 if valid (also while expiring or in "
    + "grace, with a warning), 4 if not."})
public class VerifyLicenseCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the license file")
  Path file;

  @Option(names = "--product", paramLabel = "NAME", description = "also require the license to be for this product")
  String product;

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Console console = new Console(output);
    Instant now = Instant.now();
    LicenseVerifier.Verified v = new LicenseVerifier(trust.roots()).verify(LicenseFile.read(file), now);
    Entitlements e = new Entitlements(v.license());
    LicenseState state = e.state(now);
    if (product != null && !product.equals(v.license().product())) {
      throw new AirlockException(Kind.LICENSE, "license " + v.license().id() + " is for product '"
          + v.license().product() + "', not '" + product + "'", "ask the vendor for a license for " + product);
    }
    if (state == LicenseState.EXPIRED) {
      throw new AirlockException(Kind.LICENSE, "license " + v.license().id() + " expired on " + v.license().expires()
          + "; its grace period ended on " + e.graceEnds(), "ask the vendor for a renewed license");
    }
    String note = switch (state) {
      case EXPIRING -> " — expires in " + e.daysLeft(now) + " days";
      case GRACE -> " — EXPIRED on " + v.license().expires() + ", in grace until " + e.graceEnds();
      default -> "";
    };
    if (state != LicenseState.VALID) {
      console.warn("license " + v.license().id() + ": " + note.substring(3));
    }
    console.result(file + ": OK — " + v.license().customer() + ", " + v.license().product() + ", valid until "
        + v.license().expires() + note + "; signed by key " + v.signerKeyId() + " (root " + v.rootKeyId() + ")",
        Console.JSON.createObjectNode().put("valid", true).put("id", v.license().id())
            .put("state", state.name().toLowerCase(java.util.Locale.ROOT)).put("daysLeft", e.daysLeft(now))
            .put("signer", v.signerKeyId()).put("root", v.rootKeyId()));
    return 0;
  }
}
