package dev.airlock.installer.license;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airlock.error.AirlockException;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.TrustOptions;
import dev.airlock.keys.SigningCertificate;
import dev.airlock.license.Entitlements;
import dev.airlock.license.License;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseVerifier;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code airlock license inspect}: every field, validity and the chain, without failing on an invalid license. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show every field of a license, its "
    + "validity, days left, grace state, and its signing key and certificate chain."})
public class InspectLicenseCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the license file")
  Path file;

  @Mixin TrustOptions trust;
  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    Instant now = Instant.now();
    LicenseFile f = LicenseFile.read(file);
    License l = f.license();
    String verdict;
    boolean valid;
    try {
      new LicenseVerifier(trust.roots()).verify(f, now);
      verdict = "valid signature";
      valid = true;
    } catch (AirlockException e) {
      verdict = "NOT VERIFIED: " + e.getMessage();
      valid = false;
    }
    Entitlements e = new Entitlements(l);
    SigningCertificate c = f.signature().certificate();
    String text = String.join("\n",
        "License:       " + l.id(),
        "Customer:      " + l.customer(),
        "Product:       " + l.product() + " (channel " + l.channel() + ")",
        "Issued:        " + l.issued() + " (sequence " + l.sequence() + ")",
        "Expires:       " + l.expires() + " (" + e.daysLeft(now) + " days left), grace " + l.graceDays()
            + " days until " + e.graceEnds(),
        "State:         " + e.state(now).name().toLowerCase(Locale.ROOT),
        "Updates until: " + l.updatesUntil(),
        "Seats:         " + l.seats(),
        "Clusters:      " + l.clusters(),
        "Features:      " + (l.features().isEmpty() ? "(none)" : String.join(", ", l.features())),
        "Signed by:     key " + f.signature().keyId() + " (" + c.subject() + "), certified by root " + c.issuer()
            + " from " + c.notBefore() + " to " + c.notAfter(),
        "Signature:     " + verdict);
    ObjectNode json = Console.JSON.valueToTree(l);
    json.put("state", e.state(now).name().toLowerCase(Locale.ROOT)).put("daysLeft", e.daysLeft(now))
        .put("graceEnds", e.graceEnds().toString()).put("signer", f.signature().keyId())
        .put("root", c.issuer()).put("certificateNotAfter", c.notAfter().toString()).put("verified", valid);
    new Console(output).result(text, json);
    return 0;
  }
}
