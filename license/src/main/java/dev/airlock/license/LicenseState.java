package dev.airlock.license;

/** Where a license is in its life. */
public enum LicenseState {
  /** Valid, more than {@link Entitlements#EXPIRY_WARNING_DAYS} days before it expires. */
  VALID,
  /** Valid, but expires within {@link Entitlements#EXPIRY_WARNING_DAYS} days: warn. */
  EXPIRING,
  /** Past its end date, within the grace days: everything keeps running, nothing new is allowed (no new seats). */
  GRACE,
  /** Past the grace days: install and upgrade are refused; a running platform keeps running. */
  EXPIRED
}
