package dev.airlock.version;

import dev.airlock.error.AirlockException;
import dev.airlock.error.AirlockException.Kind;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A semantic version (2.0.0); build metadata is kept for display and ignored in comparisons. */
public record SemVer(int major, int minor, int patch, String preRelease, String build) implements Comparable<SemVer> {

  private static final Pattern FORM = Pattern.compile(
      "v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?"
          + "(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?");

  public static SemVer parse(String text) {
    Matcher m = text == null ? null : FORM.matcher(text.strip());
    if (m == null || !m.matches()) {
      throw new AirlockException(Kind.BAD_INPUT, "'" + text + "' is not a semantic version",
          "write versions as MAJOR.MINOR.PATCH, e.g. 1.4.0 or 1.4.0-rc.1");
    }
    return new SemVer(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
        m.group(4), m.group(5));
  }

  /** Lenient form for Kubernetes server versions such as {@code v1.29.3+k3s1} or {@code 1.29}. */
  public static SemVer parseLenient(String text) {
    String t = text.strip();
    if (t.startsWith("v")) {
      t = t.substring(1);
    }
    String[] core = t.split("[-+]", 2)[0].split("\\.");
    if (core.length == 2) {
      t = t.replaceFirst("^(\\d+\\.\\d+)", "$1.0");
    }
    return parse(t);
  }

  @Override
  public int compareTo(SemVer o) {
    int c = Integer.compare(major, o.major);
    if (c == 0) {
      c = Integer.compare(minor, o.minor);
    }
    if (c == 0) {
      c = Integer.compare(patch, o.patch);
    }
    if (c != 0) {
      return c;
    }
    if (preRelease == null || o.preRelease == null) {
      return preRelease == null ? (o.preRelease == null ? 0 : 1) : -1;
    }
    String[] a = preRelease.split("\\.");
    String[] b = o.preRelease.split("\\.");
    for (int i = 0; i < Math.min(a.length, b.length); i++) {
      boolean an = a[i].matches("\\d+");
      boolean bn = b[i].matches("\\d+");
      int r = an && bn ? Long.compare(Long.parseLong(a[i]), Long.parseLong(b[i]))
          : an ? -1 : bn ? 1 : a[i].compareTo(b[i]);
      if (r != 0) {
        return r;
      }
    }
    return Integer.compare(a.length, b.length);
  }

  public boolean isAfter(SemVer o) {
    return compareTo(o) > 0;
  }

  public boolean isBefore(SemVer o) {
    return compareTo(o) < 0;
  }

  @Override
  public String toString() {
    return major + "." + minor + "." + patch + (preRelease == null ? "" : "-" + preRelease)
        + (build == null ? "" : "+" + build);
  }
}
