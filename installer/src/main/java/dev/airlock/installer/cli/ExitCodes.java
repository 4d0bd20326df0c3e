package dev.airlock.installer.cli;

import dev.airlock.error.AirlockException;

/** The documented exit codes of every airlock command (docs/cli.md). */
public final class ExitCodes {
  public static final int OK = 0;
  /** An unexpected internal error: a bug; the message says where to report it. */
  public static final int INTERNAL = 1;
  /** Bad flags, a bad spec, a malformed input file. */
  public static final int BAD_INPUT = 2;
  /** Preflight checks failed (install and upgrade). */
  public static final int PREFLIGHT = 3;
  /** The license refused the operation. */
  public static final int LICENSE = 4;
  /** Failed and rolled back. */
  public static final int ROLLED_BACK = 5;
  /** Failed and the rollback did not complete. */
  public static final int ROLLBACK_INCOMPLETE = 6;
  /** A signature, certificate, checksum or digest did not verify. */
  public static final int VERIFICATION = 10;
  /** A registry, cluster or other server failed or was unreachable. */
  public static final int REMOTE = 11;
  /** Local I/O failed (disk full, permissions). */
  public static final int IO = 12;
  /** A login, token, session or credential was refused. */
  public static final int DENIED = 13;
  /** Stopped by SIGINT (Ctrl-C), as shells report it: 128 + 2. */
  public static final int INTERRUPTED = 130;
  /** Stopped by SIGTERM: 128 + 15. */
  public static final int TERMINATED = 143;

  private ExitCodes() {}

  public static int of(AirlockException e) {
    return switch (e.kind()) {
      case BAD_INPUT -> BAD_INPUT;
      case VERIFICATION -> VERIFICATION;
      case REMOTE -> REMOTE;
      case IO -> IO;
      case LICENSE -> LICENSE;
      case PREFLIGHT -> PREFLIGHT;
      case ROLLED_BACK -> ROLLED_BACK;
      case ROLLBACK_INCOMPLETE -> ROLLBACK_INCOMPLETE;
      case DENIED -> DENIED;
      case CANCELLED -> "TERM".equals(e.get(AirlockException.SIGNAL).orElse("INT")) ? TERMINATED : INTERRUPTED;
    };
  }
}
