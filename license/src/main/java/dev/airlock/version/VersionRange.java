package dev.airlock.version;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semver range in the npm/Helm notation: comparators joined by spaces (and), alternatives by {@code ||} (or).
 * Supported: {@code >=1.2.0 <2.0.0}, {@code ^1.2.0}, {@code ~1.2.0}, {@code 1.2.x}, {@code 1.x}, {@code *},
 * {@code =1.2.3} and a bare version. Partial versions are padded with zeros ({@code >=1.27} is {@code >=1.27.0}).
 */
public final class VersionRange {

  private record Comparator(String op, SemVer version) {
    boolean test(SemVer v) {
      int c = v.compareTo(version);
      return switch (op) {
        case ">" -> c > 0;
        case ">=" -> c >= 0;
        case "<" -> c < 0;
        case "<=" -> c <= 0;
        default -> c == 0;
      };
    }
  }

  private static final Pattern TERM = Pattern.compile("(>=|<=|>|<|=|\\^|~)?\\s*v?([0-9xX*]+(?:\\.[0-9xX*]+){0,2}"
      + "(?:-[0-9A-Za-z.-]+)?)");

  private final String text;
  private final List<List<Comparator>> alternatives;

  private VersionRange(String text, List<List<Comparator>> alternatives) {
    this.text = text;
    this.alternatives = alternatives;
  }

  public static VersionRange parse(String text) {
    if (text == null || text.isBlank()) {
      throw invalid(text, "it is empty");
    }
    List<List<Comparator>> alts = new ArrayList<>();
    for (String alt : text.split("\\|\\|", -1)) {
      List<Comparator> all = new ArrayList<>();
      String rest = alt.strip().replaceAll("(>=|<=|>|<|=|\\^|~)\\s+", "$1");
      if (rest.isEmpty()) {
        throw invalid(text, "an alternative between || is empty");
      }
      for (String term : rest.split("\\s+")) {
        Matcher m = TERM.matcher(term);
        if (!m.matches()) {
          throw invalid(text, "'" + term + "' is not a comparator");
        }
        expand(m.group(1) == null ? "" : m.group(1), m.group(2), all, text);
      }
      alts.add(List.copyOf(all));
    }
    return new VersionRange(text.strip(), List.copyOf(alts));
  }

  private static void expand(String op, String version, List<Comparator> out, String text) {
    String[] pre = version.split("-", 2);
    String[] parts = pre[0].split("\\.");
    int given = 0;
    int[] nums = new int[3];
    for (int i = 0; i < parts.length; i++) {
      if (parts[i].equalsIgnoreCase("x") || parts[i].equals("*")) {
        break;
      }
      try {
        nums[i] = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        throw invalid(text, "'" + version + "' is not a version");
      }
      given++;
    }
    String preRelease = pre.length > 1 ? pre[1] : null;
    SemVer low = new SemVer(nums[0], nums[1], nums[2], given == 3 ? preRelease : null, null);
    switch (op) {
      case "^" -> {
        out.add(new Comparator(">=", low));
        SemVer upper = nums[0] > 0 || given == 1 ? new SemVer(nums[0] + 1, 0, 0, null, null)
            : nums[1] > 0 || given == 2 ? new SemVer(0, nums[1] + 1, 0, null, null)
            : new SemVer(0, 0, nums[2] + 1, null, null);
        out.add(new Comparator("<", upper));
      }
      case "~" -> {
        out.add(new Comparator(">=", low));
        out.add(new Comparator("<", given <= 1 ? new SemVer(nums[0] + 1, 0, 0, null, null)
            : new SemVer(nums[0], nums[1] + 1, 0, null, null)));
      }
      case "", "=" -> {
        if (given == 3) {
          out.add(new Comparator("=", low));
        } else if (given > 0) {
          out.add(new Comparator(">=", low));
          out.add(new Comparator("<", given == 1 ? new SemVer(nums[0] + 1, 0, 0, null, null)
              : new SemVer(nums[0], nums[1] + 1, 0, null, null)));
        }
        // given == 0: "*" matches everything
      }
      case "<=" -> {
        if (given == 3) {
          out.add(new Comparator("<=", low));
        } else {
          out.add(new Comparator("<", given == 1 ? new SemVer(nums[0] + 1, 0, 0, null, null)
              : new SemVer(nums[0], nums[1] + 1, 0, null, null)));
        }
      }
      case ">" -> {
        if (given == 3) {
          out.add(new Comparator(">", low));
        } else {
          out.add(new Comparator(">=", given == 1 ? new SemVer(nums[0] + 1, 0, 0, null, null)
              : new SemVer(nums[0], nums[1] + 1, 0, null, null)));
        }
      }
      default -> out.add(new Comparator(op, low));
    }
  }

  private static AirlockException invalid(String text, String why) {
    return new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a version range: " + why,
        "write ranges like '>=1.2.0 <2.0.0', '^1.2.0', '~1.4' or '1.x'");
  }

  public boolean contains(SemVer v) {
    for (List<Comparator> alt : alternatives) {
      if (alt.stream().allMatch(c -> c.test(v))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return text;
  }
}
