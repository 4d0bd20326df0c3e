package dev.airlock.license;

/** Whether a new license may replace the installed one. */
public final class LicenseUpdates {

  private LicenseUpdates() {}

  /** Same customer, same product, and a higher sequence: the vendor issued it later. */
  public static Decision check(License installed, License candidate, LicenseState candidateState) {
    if (!installed.customer().equals(candidate.customer())) {
      return Decision.refuse(candidateState, "license " + candidate.id() + " is for '" + candidate.customer()
          + "', but the installed license is for '" + installed.customer() + "'");
    }
    if (!installed.product().equals(candidate.product())) {
      return Decision.refuse(candidateState, "license " + candidate.id() + " is for product '" + candidate.product()
          + "', but the installed license is for '" + installed.product() + "'");
    }
    if (candidate.sequence() <= installed.sequence()) {
      return Decision.refuse(candidateState, "license " + candidate.id() + " has sequence " + candidate.sequence()
          + ", not higher than the installed license's " + installed.sequence() + " (" + installed.id()
          + "): it is not newer; ask the vendor for the current license");
    }
    return Decision.allow(candidateState, "license " + candidate.id() + " (sequence " + candidate.sequence()
        + ") replaces " + installed.id() + " (sequence " + installed.sequence() + ")");
  }
}
