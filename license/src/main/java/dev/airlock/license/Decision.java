package dev.airlock.license;

/**
 * The answer to one license question, with a message that states the date and what to do.
 *
 * @param allowed whether the operation may go ahead
 * @param state the license's state when asked
 * @param message for people: why, with dates, and what to do
 */
public record Decision(boolean allowed, LicenseState state, String message) {

  static Decision allow(LicenseState state, String message) {
    return new Decision(true, state, message);
  }

  static Decision refuse(LicenseState state, String message) {
    return new Decision(false, state, message);
  }

  /** Allowed, but people should be told (expiring soon, in grace). */
  public boolean warning() {
    return allowed && state != LicenseState.VALID;
  }
}
