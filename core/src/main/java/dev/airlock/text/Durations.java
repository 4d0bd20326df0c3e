package dev.airlock.text;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people write them in files and flags: a whole number and {@code s}, {@code m}, {@code h} or {@code d}. */
public final class Durations {

  private static final Pattern FORM = Pattern.compile("(\\d{1,9})([smhd])");

  private Durations() {}

  /** {@code 30s}, {@code 10m}, {@code 8h}, {@code 7d}; empty when {@code text} is not of that form. */
  public static Optional<Duration> parse(String text) {
    Matcher m = text == null ? null : FORM.matcher(text.strip());
    if (m == null || !m.matches()) {
      return Optional.empty();
    }
    long n = Long.parseLong(m.group(1));
    return Optional.of(switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    });
  }

  /** {@code d} in whole hours, minutes or seconds, the largest unit that says it exactly ({@code 48h}, {@code 90m}). */
  public static String format(Duration d) {
    long s = d.toSeconds();
    return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
  }
}
