package dev.airlock.license;

import dev.airlock.version.SemVer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * The decisions a verified license makes, for the installer and the console. Dates are whole days in UTC:
 * {@code expires} is the last valid day, the grace days follow it.
 */
public final class Entitlements {

  /** Days before the end date from which the license is {@link LicenseState#EXPIRING}. */
  public static final int EXPIRY_WARNING_DAYS = 30;

  private final License license;

  public Entitlements(License license) {
    this.license = license;
  }

  public License license() {
    return license;
  }

  /** The last day of grace. */
  public LocalDate graceEnds() {
    return license.expires().plusDays(license.graceDays());
  }

  public LicenseState state(Instant now) {
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    if (today.isAfter(graceEnds())) {
      return LicenseState.EXPIRED;
    }
    if (today.isAfter(license.expires())) {
      return LicenseState.GRACE;
    }
    if (!today.isBefore(license.expires().minusDays(EXPIRY_WARNING_DAYS - 1L))) {
      return LicenseState.EXPIRING;
    }
    return LicenseState.VALID;
  }

  /** Days until the end date (0 on the last day, negative after it). */
  public long daysLeft(Instant now) {
    return ChronoUnit.DAYS.between(LocalDate.ofInstant(now, ZoneOffset.UTC), license.expires());
  }

  /** May this bundle (product, version, release date) be installed now? */
  public Decision canInstall(String product, SemVer version, LocalDate released, Instant now) {
    return gate("install " + product + " " + version, product, released, now);
  }

  /** May the installation go from {@code from} to this bundle now? */
  public Decision canUpgrade(String product, SemVer from, SemVer to, LocalDate released, Instant now) {
    return gate("upgrade " + product + " from " + from + " to " + to, product, released, now);
  }

  private Decision gate(String what, String product, LocalDate released, Instant now) {
    LicenseState state = state(now);
    if (!license.product().equals(product)) {
      return Decision.refuse(state, "cannot " + what + ": license " + license.id() + " is for product '"
          + license.product() + "', not '" + product + "'; ask the vendor for a license for " + product);
    }
    if (state == LicenseState.EXPIRED) {
      return Decision.refuse(state, "cannot " + what + ": the license expired on " + license.expires()
          + " and its grace period ended on " + graceEnds() + "; the running platform keeps running. Ask the vendor "
          + "for a renewed license and apply it with 'airlock license update --file NEW.license'");
    }
    if (released.isAfter(license.updatesUntil())) {
      return Decision.refuse(state, "cannot " + what + ": the bundle was released on " + released
          + ", but the license covers releases until " + license.updatesUntil() + "; ask the vendor to extend "
          + "the update window, or use a bundle released on or before " + license.updatesUntil());
    }
    return Decision.allow(state, allowedMessage(what, now));
  }

  private String allowedMessage(String what, Instant now) {
    return switch (state(now)) {
      case VALID -> what + ": licensed until " + license.expires();
      case EXPIRING -> what + ": allowed, but the license expires in " + daysLeft(now) + " days, on "
          + license.expires() + "; ask the vendor for a renewal";
      case GRACE -> what + ": allowed in the grace period, which ends on " + graceEnds() + " (the license expired on "
          + license.expires() + "); renew now: after " + graceEnds() + " installs and upgrades are refused";
      case EXPIRED -> throw new IllegalStateException();
    };
  }

  /** May one more user become active when {@code activeUsers} already are? */
  public Decision seatAvailable(int activeUsers, Instant now) {
    LicenseState state = state(now);
    if (state == LicenseState.EXPIRED || state == LicenseState.GRACE) {
      return Decision.refuse(state, "no new seats: the license expired on " + license.expires()
          + (state == LicenseState.GRACE ? " (grace period until " + graceEnds() + ")" : "")
          + "; users already active keep working. Apply a renewed license with 'airlock license update'");
    }
    if (activeUsers >= license.seats()) {
      return Decision.refuse(state, "all " + license.seats() + " seats are in use (" + activeUsers
          + " active users); free a seat or ask the vendor for more seats");
    }
    return Decision.allow(state, (license.seats() - activeUsers) + " of " + license.seats() + " seats free");
  }

  /** Is feature {@code f} licensed? A running platform keeps its features after expiry. */
  public Decision feature(String f, Instant now) {
    LicenseState state = state(now);
    if (!license.hasFeature(f)) {
      return Decision.refuse(state, "feature '" + f + "' is not in license " + license.id() + " (licensed: "
          + String.join(", ", license.features()) + "); ask the vendor to add it");
    }
    return Decision.allow(state, "feature '" + f + "' is licensed");
  }

  /** How many clusters may run the product. */
  public int clusters() {
    return license.clusters();
  }
}
