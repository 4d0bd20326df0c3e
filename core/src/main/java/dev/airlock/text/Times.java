package dev.airlock.text;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Instants as people read them in tables and messages: UTC to the second ({@code 2026-12-08 01:02:51Z}). */
public final class Times {

  private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
      .withZone(ZoneOffset.UTC);

  private Times() {}

  /** {@code at} to the second, or {@code -} for none. */
  public static String format(Instant at) {
    return at == null ? "-" : FORMAT.format(at.truncatedTo(ChronoUnit.SECONDS));
  }
}
