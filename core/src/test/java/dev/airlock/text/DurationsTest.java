package dev.airlock.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void goAndHelmStyleDurations_parse() {
    assertThat(Durations.parse("20s")).contains(Duration.ofSeconds(20));
    assertThat(Durations.parse("5m")).contains(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h30m")).contains(Duration.ofMinutes(90));
    assertThat(Durations.parse("1m30s")).contains(Duration.ofSeconds(90));
    assertThat(Durations.parse("1.5h")).contains(Duration.ofMinutes(90));
    assertThat(Durations.parse("250ms")).contains(Duration.ofMillis(250));
    assertThat(Durations.parse("7d")).contains(Duration.ofDays(7));
    assertThat(Durations.parse(" 8h ")).contains(Duration.ofHours(8));
  }

  @Test
  void otherText_isNotADuration() {
    assertThat(Durations.parse("300")).as("a bare number is a flag's form only").isEmpty();
    assertThat(Durations.parse("5 m")).isEmpty();
    assertThat(Durations.parse("-5m")).isEmpty();
    assertThat(Durations.parse("5x")).isEmpty();
    assertThat(Durations.parse("")).isEmpty();
    assertThat(Durations.parse(null)).isEmpty();
    assertThat(Durations.parse("m")).isEmpty();
  }

  @Test
  void flags_alsoTakePlainSeconds() {
    assertThat(Durations.parseFlag("300")).contains(Duration.ofSeconds(300));
    assertThat(Durations.parseFlag("20s")).contains(Duration.ofSeconds(20));
    assertThat(Durations.parseFlag("twenty")).isEmpty();
  }

  @Test
  void format_usesTheLargestExactUnit() {
    assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(Durations.format(Duration.ofHours(48))).isEqualTo("48h");
    assertThat(Durations.format(Duration.ofSeconds(61))).isEqualTo("61s");
  }
}
