package dev.airlock.text;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them in files and flags, Go and Helm style: numbers with {@code ms}, {@code s},
 * {@code m}, {@code h} or {@code d}, one or several ({@code 30s}, {@code 10m}, {@code 1h30m}, {@code 1.5h},
 * {@code 7d}).
 */
public final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d{1,9}(?:\\.\\d{1,9})?)(ms|s|m|h|d)");
  private static final Pattern FORM = Pattern.compile("(?:\\d{1,9}(?:\\.\\d{1,9})?(?:ms|s|m|h|d))+");

  private Durations() {}

  /** {@code 30s}, {@code 10m}, {@code 1h30m}, {@code 8h}, {@code 7d}; empty when {@code text} is not of that form. */
  public static Optional<Duration> parse(String text) {
    String t = text == null ? "" : text.strip();
    if (!FORM.matcher(t).matches()) {
      return Optional.empty();
    }
    Matcher m = PART.matcher(t);
    java.math.BigDecimal nanos = java.math.BigDecimal.ZERO;
    while (m.find()) {
      long unit = switch (m.group(2)) {
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "h" -> 3_600_000_000_000L;
        default -> 86_400_000_000_000L;
      };
      nanos = nanos.add(new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(unit)));
    }
    return Optional.of(Duration.ofNanos(nanos.longValueExact()));
  }

  /** A flag's duration: {@link #parse}'s forms, or a plain number of seconds ({@code 300}) as older flags took. */
  public static Optional<Duration> parseFlag(String text) {
    String t = text == null ? "" : text.strip();
    if (t.matches("\\d{1,9}")) {
      return Optional.of(Duration.ofSeconds(Long.parseLong(t)));
    }
    return parse(t);
  }

  /** {@code d} in whole hours, minutes or seconds, the largest unit that says it exactly ({@code 48h}, {@code 90m}). */
  public static String format(Duration d) {
    long s = d.toSeconds();
    return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
  }
}
