package dev.airlock.bundle.format;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The largest size of one part of a split bundle, parsed from what a user types: {@code 4GiB}, {@code 4.7GB},
 * {@code 25GB}, {@code 3MiB}, a plain byte count, or a medium's name ({@code fat32}, {@code dvd}, ...).
 *
 * @param bytes at most this many bytes per part
 */
public record PartSize(long bytes) {

  /** Smaller parts would only multiply files (tests split small bundles into parts of a few hundred KiB). */
  public static final long MIN = 256 * 1024;

  /**
   * Media by name: the largest file each holds, leaving room for the part list and the file system. FAT32 refuses
   * files of 4 GiB and more, so its size is 4 GiB less one byte.
   */
  public static final Map<String, Long> MEDIA = Map.of(
      "fat32", 4L * 1024 * 1024 * 1024 - 1,
      "dvd", 4_700_000_000L,
      "dvd-dl", 8_500_000_000L,
      "bd", 25_000_000_000L,
      "bd-dl", 50_000_000_000L);

  private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([kKmMgGtT]i?[bB]?|[bB])?");

  public PartSize {
    if (bytes < MIN) {
      throw new AirlockException(Kind.BAD_INPUT, "a part size of " + bytes + " bytes is too small",
          "use at least 256KiB, e.g. --part-size 4GiB");
    }
  }

  public static PartSize parse(String text) {
    String t = text.strip();
    Long medium = MEDIA.get(t.toLowerCase(Locale.ROOT));
    if (medium != null) {
      return new PartSize(medium);
    }
    Matcher m = SIZE.matcher(t);
    if (!m.matches()) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a part size",
          "write a size such as 4GiB, 4.7GB, 25GB, 700MiB or a byte count, or a medium: "
              + String.join(", ", new java.util.TreeSet<>(MEDIA.keySet())));
    }
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    int power = "bkmgt".indexOf(unit.charAt(0));
    long base = unit.contains("i") ? 1024 : 1000;
    BigDecimal value = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(base).pow(power));
    try {
      return new PartSize(value.setScale(0, java.math.RoundingMode.FLOOR).longValueExact());
    } catch (ArithmeticException e) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is too large a part size", "use at most 8EB");
    }
  }

  /** How many parts a bundle of {@code size} bytes needs. */
  public int count(long size) {
    long n = Math.max(1, (size + bytes - 1) / bytes);
    if (n > 9999) {
      throw new AirlockException(Kind.BAD_INPUT, "a part size of " + bytes + " bytes makes " + n + " parts",
          "choose a larger --part-size (at most 9,999 parts)");
    }
    return (int) n;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%,d bytes", bytes);
  }
}
