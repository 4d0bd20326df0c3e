package dev.airlock.error;

import java.util.Optional;

/**
 * The one exception family of airlock: every failure a user can cause names the problem and, where there is one,
 * the fix. The CLI prints {@link #getMessage()} and {@link #fix()} and maps {@link #kind()} to an exit code; it never
 * prints a stack trace for these.
 */
public class AirlockException extends RuntimeException {

  /** What sort of failure this is; decides the CLI's exit code. */
  public enum Kind {
    /** Bad flags, a bad spec, a malformed file: the input must be changed. */
    BAD_INPUT,
    /** A signature, certificate, checksum or digest did not verify. */
    VERIFICATION,
    /** A registry, cluster or other server failed or could not be reached. */
    REMOTE,
    /** Local I/O failed (disk full, permissions). */
    IO,
    /** A license decision refused the operation. */
    LICENSE,
    /** Preflight checks failed; nothing was changed. */
    PREFLIGHT,
    /** An operation failed and everything it changed was rolled back. */
    ROLLED_BACK,
    /** An operation failed and rolling it back failed too: the platform needs attention. */
    ROLLBACK_INCOMPLETE
  }

  private final Kind kind;
  private final String fix;

  public AirlockException(Kind kind, String message, String fix) {
    this(kind, message, fix, null);
  }

  public AirlockException(Kind kind, String message, String fix, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.fix = fix;
  }

  public Kind kind() {
    return kind;
  }

  /** What the user can do about it, if anything. */
  public Optional<String> fix() {
    return Optional.ofNullable(fix);
  }
}
