package dev.airlock.event;

/** What libraries report while they work. The installer renders these as progress bars, lines or JSON. */
public sealed interface Event {

  /** A named phase began; {@code totalBytes} is its work in bytes if known, else -1. */
  record PhaseStarted(String phase, String description, long totalBytes) implements Event {}

  /** A phase ended. */
  record PhaseFinished(String phase, String summary) implements Event {}

  /** {@code delta} more bytes of the current phase are done (may be negative when a transfer restarts). */
  record Progress(String phase, long delta) implements Event {}

  /** A check ran (preflight): pass, warn, fail or skipped, with what to do about it. */
  record Checked(String id, String status, String message, String fix) implements Event {}

  /** A message for people. */
  record Log(Level level, String message) implements Event {}

  /** Severity of a {@link Log}. */
  enum Level {
    DEBUG, INFO, WARN
  }
}
