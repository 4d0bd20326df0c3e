package dev.airlock.installer.license;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.installer.cli.Console;
import dev.airlock.installer.cli.OutputOptions;
import dev.airlock.installer.cli.SigningOptions;
import dev.airlock.io.AtomicFiles;
import dev.airlock.license.License;
import dev.airlock.license.LicenseFile;
import dev.airlock.license.LicenseIssuer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code airlock license issue} (vendor side). */
@Command(name = "issue", mixinStandardHelpOptions = true, description = "Issue a signed license file.")
public class IssueCommand implements Callable<Integer> {

  @Option(names = "--customer", required = true, paramLabel = "NAME", description = "who the license is for")
  String customer;

  @Option(names = "--product", required = true, paramLabel = "NAME", description = "the product (a bundle's name)")
  String product;

  @Option(names = "--expires", required = true, paramLabel = "YYYY-MM-DD", description = "last valid day (UTC)")
  String expires;

  @Option(names = "--grace-days", paramLabel = "N", defaultValue = "30",
      description = "days after expiry that keep running without new seats (default: ${DEFAULT-VALUE})")
  int graceDays;

  @Option(names = "--updates-until", paramLabel = "YYYY-MM-DD",
      description = "last release date of bundles it covers (default: the --expires date)")
  String updatesUntil;

  @Option(names = "--seats", required = true, paramLabel = "N", description = "active users allowed")
  int seats;

  @Option(names = "--clusters", paramLabel = "N", defaultValue = "1",
      description = "clusters allowed (default: ${DEFAULT-VALUE})")
  int clusters;

  @Option(names = "--features", paramLabel = "F[,F...]", split = ",", description = "enabled features")
  List<String> features = new ArrayList<>();

  @Option(names = "--channel", paramLabel = "NAME", defaultValue = "stable",
      description = "release channel (default: ${DEFAULT-VALUE})")
  String channel;

  @Option(names = "--sequence", paramLabel = "N", defaultValue = "0",
      description = "order among this customer's licenses (default: the issue time in seconds, always higher)")
  long sequence;

  @Mixin SigningOptions signing;

  @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "the license file to write")
  Path out;

  @Mixin OutputOptions output;

  @Override
  public Integer call() {
    LocalDate end = date(expires, "--expires");
    LicenseFile file;
    try {
      file = LicenseIssuer.issue(new LicenseIssuer.Terms(customer, product, end, graceDays,
          updatesUntil == null ? end : date(updatesUntil, "--updates-until"), seats, clusters, features, channel,
          sequence), signing.load(), Instant.now());
    } catch (AirlockException e) {
      // The vendor is issuing: the fix is a flag of this command, not "ask the vendor".
      String flag = e.get(License.FIELD).map(FLAGS::get).orElse(null);
      if (flag == null) {
        throw e;
      }
      throw new AirlockException(e.kind(), e.getMessage().replaceFirst("^the new license: license field '[^']+'",
          flag), "change " + flag + " and issue again", e);
    }
    AtomicFiles.write(out, file.toYaml(), false, false);
    License l = file.license();
    new Console(output).result("issued license " + l.id() + " for " + l.customer() + " (" + l.product() + ", "
        + l.seats() + " seats, until " + l.expires() + ", sequence " + l.sequence() + ") -> " + out,
        Console.JSON.createObjectNode().put("file", out.toString()).put("id", l.id())
            .put("sequence", l.sequence()));
    return 0;
  }

  /** License fields and the flags that set them. */
  private static final java.util.Map<String, String> FLAGS = java.util.Map.of("customer", "--customer", "product",
      "--product", "graceDays", "--grace-days", "seats", "--seats", "clusters", "--clusters", "features",
      "--features", "channel", "--channel", "sequence", "--sequence", "expires", "--expires", "updatesUntil",
      "--updates-until");

  static LocalDate date(String text, String flag) {
    try {
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw new AirlockException(Kind.BAD_INPUT, flag + " '" + text + "' is not a date", "write dates as YYYY-MM-DD");
    }
  }
}
