package dev.airlock.deploy;

/**
 * The result of one preflight check.
 *
 * @param id stable id, for {@code --skip-check}
 * @param status pass, warn, fail or skipped
 * @param message what was found
 * @param fix what to do about a warning or failure; null on pass
 */
public record Check(String id, Status status, String message, String fix) {

  /** How a check ended. */
  public enum Status {
    PASS, WARN, FAIL, SKIPPED;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  static Check pass(String id, String message) {
    return new Check(id, Status.PASS, message, null);
  }

  static Check warn(String id, String message, String fix) {
    return new Check(id, Status.WARN, message, fix);
  }

  static Check fail(String id, String message, String fix) {
    return new Check(id, Status.FAIL, message, fix);
  }
}
