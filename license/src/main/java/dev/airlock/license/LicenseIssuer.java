package dev.airlock.license;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import dev.airlock.keys.SigningKey;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/** Issues signed licenses (vendor side). */
public final class LicenseIssuer {

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * What the vendor grants; the issuer adds the id, the issue time and (unless given) the sequence.
   *
   * @param sequence 0 to use the issue time in seconds, which grows with every license issued
   */
  public record Terms(String customer, String product, LocalDate expires, int graceDays, LocalDate updatesUntil,
      int seats, int clusters, List<String> features, String channel, long sequence) {
    public Terms {
      features = List.copyOf(features);
    }
  }

  private LicenseIssuer() {}

  public static LicenseFile issue(Terms terms, SigningKey key, Instant now) {
    Instant issued = now.truncatedTo(ChronoUnit.SECONDS);
    if (!terms.expires().isAfter(LocalDate.ofInstant(issued, java.time.ZoneOffset.UTC))) {
      throw new AirlockException(Kind.BAD_INPUT, "--expires " + terms.expires() + " is not after today ("
          + LocalDate.ofInstant(issued, java.time.ZoneOffset.UTC) + ")", "choose a later end date");
    }
    if (new TreeSet<>(terms.features()).size() != terms.features().size()) {
      throw new AirlockException(Kind.BAD_INPUT, "--features lists a feature twice: " + terms.features(),
          "list each feature once");
    }
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    License license = new License("lic-" + HexFormat.of().formatHex(id), terms.customer(), terms.product(), issued,
        terms.sequence() > 0 ? terms.sequence() : issued.getEpochSecond(), terms.expires(), terms.graceDays(),
        terms.updatesUntil(), terms.seats(), terms.clusters(), List.copyOf(new TreeSet<>(terms.features())),
        terms.channel()).validated("the new license");
    byte[] sig = key.sign(license.signedBytes(), issued);
    return new LicenseFile(LicenseFile.API_VERSION, LicenseFile.KIND, license, new LicenseFile.Signature("ed25519",
        key.certificate().keyId(), key.certificate(), Base64.getEncoder().encodeToString(sig)));
  }
}
