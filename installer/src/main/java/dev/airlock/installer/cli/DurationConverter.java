package dev.airlock.installer.cli;

import dev.airlock.text.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Every flag that takes a time: Go/Helm-style durations ({@code 20s}, {@code 5m}, {@code 1h30m}) or plain seconds. */
public final class DurationConverter implements ITypeConverter<Duration> {

  @Override
  public Duration convert(String value) {
    Duration d = Durations.parseFlag(value).orElseThrow(() -> new TypeConversionException("'" + value + "' is not "
        + "a duration: write e.g. 300, 20s, 5m or 1h30m"));
    if (d.isZero() || d.isNegative()) {
      throw new TypeConversionException("'" + value + "' must be longer than zero");
    }
    return d;
  }
}
