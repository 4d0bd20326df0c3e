package dev.airlock.text;

import java.util.regex.Pattern;

/**
 * Shell-style patterns for names: {@code *} matches any run of characters (also none), {@code ?} one character;
 * everything else is literal. A pattern without either is an exact match.
 */
public final class Glob {

  private final String text;
  private final Pattern regex;

  private Glob(String text) {
    this.text = text;
    StringBuilder re = new StringBuilder();
    for (char c : text.toCharArray()) {
      switch (c) {
        case '*' -> re.append(".*");
        case '?' -> re.append('.');
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    this.regex = Pattern.compile(re.toString(), Pattern.DOTALL);
  }

  public static Glob of(String pattern) {
    return new Glob(pattern);
  }

  public boolean matches(String value) {
    return value != null && regex.matcher(value).matches();
  }

  /** Whether the pattern has wildcards (else it names exactly one value). */
  public boolean isLiteral() {
    return text.indexOf('*') < 0 && text.indexOf('?') < 0;
  }

  @Override
  public String toString() {
    return text;
  }

  public static boolean matches(String pattern, String value) {
    return of(pattern).matches(value);
  }
}
